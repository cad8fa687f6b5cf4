/**
 * @module Scale-out on Mosquitto: the cloud keeps Mosquitto's dynamic-security plugin (mosquitto 2.0,
 * `plugin .../mosquitto_dynamic_security.so`) in step with the device registry. Each device or gateway is a
 * dynsec client (user name = its id, password derived from its key, client id pinned to its id) with one role
 * of its own, `ferry-id-<id>`, whose ACLs are the policy's grants (acl.ts `rulesFor`): the same table the
 * embedded broker enforces. Commands are JSON on `$CONTROL/dynamic-security/v1`, answered on
 * `$CONTROL/dynamic-security/v1/response`; the connection uses the plugin's admin credential.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceInfo } from '../devices/registry.ts';
import { type Identity, rulesFor } from './acl.ts';
import type { MqttCredential } from './directory.ts';

const TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE = `${TOPIC}/response`;

type Command = Record<string, unknown> & { readonly command: string };
interface Response {
  readonly command: string;
  readonly error?: string;
  readonly correlationData?: string;
  readonly data?: unknown;
}

/** The role holding one identity's grants. */
export const roleOf = (id: string): string => `ferry-id-${id}`;

/** Dynsec ACL entries for `who`: publish grants as publishClientSend, subscriptions as subscribePattern. */
export function dynsecAcls(who: Identity, prefix: string): { acltype: string; topic: string; allow: true; priority: number }[] {
  const acls = rulesFor(who, prefix).map((r) => ({
    acltype: r.access === 'publish' ? 'publishClientSend' : 'subscribePattern',
    topic: r.filter,
    allow: true as const,
    priority: 0,
  }));
  // A worker splits the uplink through a shared subscription; Mosquitto checks its ACL on the whole filter.
  if (who.kind === 'worker') acls.push({ acltype: 'subscribePattern', topic: `$share/+/${prefix}/#`, allow: true, priority: 0 });
  return acls;
}

export class DynsecSync {
  readonly #client: MqttClient;
  readonly #prefix: string;
  readonly #identityOf: (id: string) => Identity | undefined;
  readonly #log: (m: string) => void;
  readonly #waiting = new Map<string, (r: Response) => void>();

  private constructor(client: MqttClient, prefix: string, identityOf: (id: string) => Identity | undefined, log: (m: string) => void) {
    this.#client = client;
    this.#prefix = prefix;
    this.#identityOf = identityOf;
    this.#log = log;
    client.on('message', (topic, payload) => {
      if (topic !== RESPONSE) return;
      let body: { responses?: Response[] };
      try {
        body = JSON.parse(payload.toString()) as { responses?: Response[] };
      } catch {
        return;
      }
      for (const r of body.responses ?? []) {
        const w = r.correlationData === undefined ? undefined : this.#waiting.get(r.correlationData);
        if (w === undefined) continue;
        this.#waiting.delete(r.correlationData!);
        w(r);
      }
    });
  }

  /**
   * Connects with the plugin's admin credential. `identityOf` answers an id's current identity (a gateway's
   * boards as the registry has them).
   */
  static async connect(o: {
    readonly url: string;
    readonly admin: MqttCredential;
    readonly prefix: string;
    readonly identityOf: (id: string) => Identity | undefined;
    readonly log?: (m: string) => void;
  }): Promise<DynsecSync> {
    const client = await mqtt.connectAsync(o.url, {
      username: o.admin.username,
      password: o.admin.password,
      clientId: `${o.admin.username}-ferry-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 1000,
    });
    const s = new DynsecSync(client, o.prefix, o.identityOf, o.log ?? (() => undefined));
    await client.subscribeAsync(RESPONSE, { qos: 1 });
    return s;
  }

  /** Sends commands in one message; resolves with their responses in order (an `error` field: refused). */
  async command(cmds: readonly Command[]): Promise<Response[]> {
    const tagged = cmds.map((c) => ({ ...c, correlationData: randomBytes(8).toString('hex') }));
    const answers = tagged.map(
      (c) =>
        new Promise<Response>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.#waiting.delete(c.correlationData);
            reject(new Error(`no answer from Mosquitto's dynamic-security plugin to ${c.command} within 5 s`));
          }, 5000);
          this.#waiting.set(c.correlationData, (r) => {
            clearTimeout(timer);
            resolve(r);
          });
        }),
    );
    await this.#client.publishAsync(TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
    return Promise.all(answers);
  }

  /**
   * Makes (or re-makes) the client and role of `who` with `password`; a live client keeps its connection. The
   * role is rewritten whole: its grants are exactly the policy's.
   */
  async upsert(who: Identity, password: string): Promise<void> {
    const role = roleOf(who.id);
    const pinned = who.kind === 'worker' ? {} : { clientid: who.id };
    const [, created] = await this.command([
      { command: 'deleteRole', rolename: role },
      { command: 'createRole', rolename: role, acls: dynsecAcls(who, this.#prefix) },
    ]);
    if (created?.error !== undefined) throw new Error(`dynsec createRole ${role}: ${created.error}`);
    const [c] = await this.command([{ command: 'createClient', username: who.id, password, ...pinned, roles: [{ rolename: role }] }]);
    if (c?.error === undefined) return;
    const [m] = await this.command([{ command: 'modifyClient', username: who.id, password, ...pinned, roles: [{ rolename: role }] }]);
    if (m?.error !== undefined) throw new Error(`dynsec modifyClient ${who.id}: ${m.error}`);
  }

  /** Rewrites the role of `id` only (a gateway whose boards changed). */
  async #refreshRole(id: string): Promise<void> {
    const who = this.#identityOf(id);
    if (who === undefined) return;
    await this.command([
      { command: 'deleteRole', rolename: roleOf(id) },
      { command: 'createRole', rolename: roleOf(id), acls: dynsecAcls(who, this.#prefix) },
      { command: 'addClientRole', username: id, rolename: roleOf(id) },
    ]);
  }

  /** A device or gateway was added to the registry with this MQTT password. */
  async deviceAdded(rec: DeviceInfo, password: string): Promise<void> {
    const who = this.#identityOf(rec.id);
    if (who === undefined) return;
    await this.upsert(who, password);
    if (rec.gateway !== undefined) await this.#refreshRole(rec.gateway);
  }

  /** A device or gateway was removed: its client goes (Mosquitto disconnects it), and its gateway's grant. */
  async deviceRemoved(id: string, gateway?: string): Promise<void> {
    await this.command([
      { command: 'deleteClient', username: id },
      { command: 'deleteRole', rolename: roleOf(id) },
    ]);
    if (gateway !== undefined) await this.#refreshRole(gateway);
  }

  /** Every identity of the registry and the workers, at start (idempotent). */
  async syncAll(devices: readonly { readonly id: string; readonly password: string | undefined }[], workers: readonly MqttCredential[]): Promise<void> {
    for (const w of workers) await this.upsert({ kind: 'worker', id: w.username }, w.password);
    for (const d of devices) {
      const who = this.#identityOf(d.id);
      if (who === undefined || d.password === undefined) {
        this.#log(`dynsec: ${d.id} has no usable key; not synced`);
        continue;
      }
      await this.upsert(who, d.password);
    }
  }

  async close(): Promise<void> {
    await this.#client.endAsync().catch(() => undefined);
  }
}
