/**
 * @module The namespace projection (docs/cloud.md "Namespace projection"): readings of released messages
 * become keys of the device's namespace state, by a list of rules. A rule takes one numeric field of the
 * data (`d`) of one event (`ev`) and writes it under a key made from a template, as the value alone or as
 * "<value> <unix ms of iat>". The key is published retained on `<prefix>/ns/<namespace>/state/<key>` for
 * consumers that are not boards, and the namespace is marked changed: its devices then get one signed
 * snapshot of the whole state on their own downlink topic (downlink.ts), which is what boards online
 * mirror, since anyone on the broker could publish the plain topics. A device of a function owner also feeds that
 * owner's function namespace state, where the owner's functions read it through the device ABI. The default
 * rule is the thermostat's: `tel`.`t` -> `temp.<kid>` = "<celsius> <unix ms>".
 */
import type { KeyValueState } from '@ferry/wasm-host';
import type { IngestEvent } from '../ingest/index.ts';

export interface ProjectionRule {
  /** The event (`ev` claim) the rule reads. */
  readonly event: string;
  /** The field of the message's data (`d`) it projects; only a number is projected. */
  readonly field: string;
  /** The state key: `{kid}` becomes the device id, `{event}` and `{field}` the rule's own. */
  readonly key: string;
  /** 'value-time' (default): "<value> <iat in unix ms>", a reading and when it was taken; 'value': the value alone. */
  readonly form?: 'value-time' | 'value';
}

/** The thermostat's reading: `temp.<kid>` = "<celsius> <unix ms>", the form its firmware reads. */
export const DEFAULT_PROJECTIONS: readonly ProjectionRule[] = [{ event: 'tel', field: 't', key: 'temp.{kid}', form: 'value-time' }];

export interface ProjectionPorts {
  /** The device's namespace and its function owner, if any (undefined: an unknown device). */
  placeOf(kid: string): { readonly namespace: string; readonly owner: string | undefined } | undefined;
  /** The owner's function namespace state. */
  ownerState(owner: string, namespace: string): Pick<KeyValueState, 'set'>;
  /** A retained publish. */
  publish(topic: string, value: string): void;
  /** The namespace's state changed (the signed snapshots for its devices are due); must be cheap. */
  changed?(namespace: string): void;
}

/** A state key (docs/abi.md: printable ASCII, at most stateKeyMax = 64) that is also one MQTT topic level. */
const KEY = /^[\x21-\x7e]{1,64}$/;
const LONGEST_KID = 'k'.repeat(32);

const keyOf = (r: ProjectionRule, kid: string): string => r.key.replaceAll('{kid}', kid).replaceAll('{event}', r.event).replaceAll('{field}', r.field);

/** Checks the rules once, at construction: every key they can make must be a state key and a topic level. */
function checkRules(rules: readonly ProjectionRule[]): readonly ProjectionRule[] {
  rules.forEach((r, i) => {
    const where = `projections[${i}]`;
    if (typeof r.event !== 'string' || r.event === '' || typeof r.field !== 'string' || r.field === '')
      throw new TypeError(`${where}: event and field must be non-empty strings`);
    if (r.form !== undefined && r.form !== 'value-time' && r.form !== 'value') throw new TypeError(`${where}: form must be 'value-time' or 'value'`);
    const longest = typeof r.key === 'string' ? keyOf(r, LONGEST_KID) : '';
    if (!KEY.test(longest) || /[+#/]/.test(longest))
      throw new TypeError(
        `${where}: key must make state keys of 1..64 printable ASCII characters without + # / (with a 32-character kid: ${JSON.stringify(longest)})`,
      );
  });
  return rules;
}

const utf8 = new TextEncoder();

/**
 * Where projected state lives: an owner's namespace. Namespaces belong to owners and only their names are
 * shared, so state is kept by `<owner>/<namespace>` (owner ids never hold a '/'; a device without an owner
 * has the empty one).
 */
export const placeKey = (owner: string | undefined, ns: string): string => `${owner ?? ''}/${ns}`;

/** The namespace name of a place key. */
export const namespaceOfPlace = (place: string): string => place.slice(place.indexOf('/') + 1);

export class Projection {
  readonly rules: readonly ProjectionRule[];
  /**
   * Projected values by place (placeKey: owner and namespace), then key: the last value published for each,
   * in order of change (oldest first).
   */
  readonly state = new Map<string, Map<string, string>>();
  readonly #ports: ProjectionPorts;
  readonly #prefix: string;

  constructor(rules: readonly ProjectionRule[], ports: ProjectionPorts, prefix: string) {
    this.rules = checkRules(rules);
    this.#ports = ports;
    this.#prefix = prefix;
  }

  /** Applies every rule that matches a released message. */
  apply(e: IngestEvent): void {
    if (e.type !== 'message') return;
    const claims = e.message.claims;
    const d = claims['d'] as Record<string, unknown> | undefined;
    for (const r of this.rules) {
      const v = d?.[r.field];
      if (claims['ev'] !== r.event || typeof v !== 'number') continue;
      const at = this.#ports.placeOf(e.kid);
      if (at === undefined) return;
      const ns = at.namespace;
      const key = keyOf(r, e.kid);
      const value = r.form === 'value' ? `${v}` : `${v} ${claims.iat * 1000}`;
      const place = placeKey(at.owner, ns);
      let m = this.state.get(place);
      if (m === undefined) {
        m = new Map();
        this.state.set(place, m);
      }
      m.delete(key); // re-inserted: the map stays in order of change, which bounds the snapshots (downlink.ts)
      m.set(key, value);
      if (at.owner !== undefined) this.#ports.ownerState(at.owner, ns).set(key, utf8.encode(value));
      this.#ports.publish(`${this.#prefix}/ns/${ns}/state/${key}`, value);
      this.#ports.changed?.(place);
    }
  }
}
