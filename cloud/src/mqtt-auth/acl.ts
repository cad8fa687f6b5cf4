/**
 * @module The one MQTT access policy (docs/cloud.md, "MQTT"): which topics an identity may publish on and
 * subscribe to. The embedded broker asks `allowed` (broker.ts); the Mosquitto sync writes `rulesFor` as
 * dynamic-security ACLs (dynsec.ts). Both read the same rule list, so the two brokers cannot drift apart.
 *
 * A device's private spaces are `<p>/up/<id>/#` (it publishes its uplink there), `<p>/fn/<id>/call|res` (its
 * function calls and their replies) and `<p>/dn/<id>/#` (what the cloud sends it, its namespace state
 * included). A gateway also speaks for
 * the boards attached to it in the registry. Cloud workers may do everything under the prefix.
 */

export type Identity =
  | { readonly kind: 'device'; readonly id: string; readonly namespace: string; readonly gateway?: string | undefined }
  | { readonly kind: 'gateway'; readonly id: string; readonly boards: readonly string[] }
  | { readonly kind: 'worker'; readonly id: string };

export type Access = 'publish' | 'subscribe';

/** One grant: `filter` is an MQTT topic filter (`+` and `#` as in MQTT 3.1.1 §4.7). */
export interface Rule {
  readonly access: Access;
  readonly filter: string;
}

/** The grants of one identity. Everything not granted is refused (there is no deny rule). */
export function rulesFor(who: Identity, p: string): Rule[] {
  const pub = (filter: string): Rule => ({ access: 'publish', filter });
  const sub = (filter: string): Rule => ({ access: 'subscribe', filter });
  switch (who.kind) {
    case 'worker':
      return [pub(`${p}/#`), sub(`${p}/#`)];
    case 'device':
      return [
        pub(`${p}/up/${who.id}/#`),
        pub(`${p}/fn/${who.id}/call`),
        sub(`${p}/fn/${who.id}/res`),
        // Its namespace's state comes signed on its own dn topic. The per-namespace state topics are not
        // granted: namespaces belong to owners, their names do not, so another owner's may share the name.
        sub(`${p}/dn/${who.id}/#`),
      ];
    case 'gateway':
      return [
        pub(`${p}/up/${who.id}/#`),
        ...who.boards.map((b) => pub(`${p}/up/${b}/#`)),
        pub(`${p}/gw/${who.id}/status`),
        pub(`${p}/ctl/${who.id}/res`),
        pub(`${p}/fn/${who.id}/call`),
        sub(`${p}/ctl/${who.id}/req`),
        sub(`${p}/fn/${who.id}/res`),
        sub(`${p}/dn/${who.id}/#`),
        ...who.boards.map((b) => sub(`${p}/dn/${b}/#`)),
      ];
  }
}

/**
 * May `who` publish on `topic` (a topic name), or subscribe to `topic` (a filter)? A subscription is allowed
 * only if every topic it can match is granted: here, if one grant's filter covers it. (A filter covered only
 * by a union of grants is refused; no identity's grants make such a union useful.) A shared subscription
 * (`$share/<group>/<filter>`, MQTT 5 §4.8.2) is judged by its filter.
 */
export function allowed(who: Identity, access: Access, topic: string, prefix: string): boolean {
  const t = access === 'subscribe' ? unshare(topic) : topic;
  if (t === undefined || t.length === 0) return false;
  if (access === 'publish' && /[+#]/.test(t)) return false;
  const levels = t.split('/');
  for (const r of rulesFor(who, prefix)) if (r.access === access && covers(r.filter.split('/'), levels)) return true;
  return false;
}

/** `$share/<group>/<filter>` -> `<filter>`; undefined for a malformed one; any other topic unchanged. */
function unshare(topic: string): string | undefined {
  if (!topic.startsWith('$share/')) return topic;
  const rest = topic.slice('$share/'.length);
  const slash = rest.indexOf('/');
  return slash <= 0 ? undefined : rest.slice(slash + 1);
}

/**
 * Does grant filter `g` match every topic that filter (or topic name) `f` matches? Level by level: `#` in `g`
 * covers the rest (and the parent level, MQTT 3.1.1 §4.7.1.2); `+` in `g` covers any one level of `f` but
 * `#`; a literal level of `g` covers only the same literal.
 */
export function covers(g: readonly string[], f: readonly string[]): boolean {
  for (let i = 0; i < g.length; i++) {
    const gl = g[i]!;
    if (gl === '#') return true;
    if (i >= f.length) return false;
    const fl = f[i]!;
    if (fl === '#') return false;
    if (gl === '+') continue;
    if (fl !== gl) return false;
  }
  return f.length === g.length;
}

/**
 * A service object's streams on MQTT (docs/composite-streams.md, "MQTT"): `<p>/so/<so>/<stream>` carries the
 * stream's stored values out, `<p>/so/<so>/<stream>/in` takes sensor updates in. Who may use them depends on
 * the objects and grants the cloud holds, so no static rule grants them to a device or gateway: the embedded
 * broker asks an ObjectTopics port per SUBSCRIBE, per PUBLISH and per delivery. Mosquitto has no such port,
 * so there only workers use them (the dynamic-security roles carry no rule for them).
 */
export interface SoTopic {
  readonly so: string;
  readonly stream: string;
  /** 'out': the stream's values; 'in': sensor updates into it. */
  readonly dir: 'out' | 'in';
}

/** `<p>/so/<so>/<stream>[/in]` with literal ids (no wildcard, no empty level), or undefined. */
export function soTopic(prefix: string, topic: string): SoTopic | undefined {
  if (!topic.startsWith(`${prefix}/so/`)) return undefined;
  const l = topic.slice(prefix.length + 4).split('/');
  if (l.length < 2 || l.length > 3 || l.some((x) => x === '' || x === '+' || x === '#')) return undefined;
  if (l.length === 3 && l[2] !== 'in') return undefined;
  return { so: l[0]!, stream: l[1]!, dir: l.length === 3 ? 'in' : 'out' };
}

/** The port the embedded broker asks about the topics of soTopic (cloud/src/compose/mqtt-gate.ts implements it). */
export interface ObjectTopics {
  /** Does this port decide `topic` (a stream's topic, for that access)? Otherwise the static policy does. */
  owns(access: Access, topic: string): boolean;
  /** SUBSCRIBE to a stream's values: may `who` read it now? */
  subscribe(who: Identity, topic: string): Promise<boolean>;
  /** PUBLISH on a stream's input: takes it as `who`; the PUBACK waits; 'drop': acknowledged, delivered to nobody. */
  take(who: Identity, topic: string, payload: Buffer | string): Promise<'drop' | undefined>;
  /** Each delivery of a stream's value: may `who` still receive it (a revoked grant stops it at once)? */
  deliverable(who: Identity, topic: string): boolean;
}
