/**
 * The HTTP rows of the tenant-isolation matrix: owner alice's credentials against owner bob's objects, over
 * every HTTP surface (devices, streams, sequences, gateways, API tokens, functions, white-lists, namespace
 * state, function tokens, schedules, rules, notifications, commands, broadcasts, device tags; composite streams are
 * so-rows.ts). Each
 * row is an attempt that must be refused and, where the
 * surface allows one, the same action on alice's own object, which must succeed: a row that refuses
 * everything fails too. Tenants are set up over the API only, so the rows run against any cloud mode.
 */
import { createHash } from 'node:crypto';
import { KV_WAT } from '@ferry/test-kit/functions';
import { ADMIN_TOKEN, call, type JsonAnswer } from '@ferry/test-kit/http';
import { wat } from '@ferry/test-kit/wat';
import { mintPublicToken } from '../../cloud/src/functions/index.ts';

const KV = wat(KV_WAT); // `incr` adds one to the namespace key "counter" and returns it
export const KV_HASH = createHash('sha256').update(KV).digest('hex');

export interface Tenant {
  readonly id: string;
  readonly priv: string;
  /** API tokens of this owner by role. */
  readonly admin: string;
  readonly viewer: string;
  readonly adminTokenId: string;
  readonly device: string;
  readonly deviceKey: string;
  readonly spare: string;
  readonly gateway: string;
  /** A public token for namespace "home", 1 call/s burst 1 (so a drained bucket shows). */
  readonly pub: string;
  readonly scheduleId: string;
  /** A service object with one simple stream `t` (composite streams), fed once. */
  readonly so: string;
  /** A notification channel (MQTT) with one subscription. */
  readonly notifyChannel: string;
  readonly notifySubscription: string;
}

type Answer = JsonAnswer;
export { call };

const ok = (a: Answer, what: string): Answer => {
  if (a.status >= 300) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
  return a;
};

/** Registers owner `id` with a device, a spare device, a gateway, API tokens, the KV module, a public token and a schedule. */
export async function tenant(api: string, id: string): Promise<Tenant> {
  const priv = (ok(await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id }), 'owner').body as { privateToken: string }).privateToken;
  const admin = ok(await call(api, 'POST', '/api/tokens', priv, { role: 'admin' }), 'admin token').body as { id: string; token: string };
  const viewer = ok(await call(api, 'POST', '/api/tokens', priv, { role: 'viewer' }), 'viewer token').body as { token: string };
  const device = ok(await call(api, 'POST', '/api/devices', admin.token, { id: `${id}-dev`, namespace: 'home' }), 'device').body as { key: string };
  ok(await call(api, 'POST', '/api/devices', admin.token, { id: `${id}-spare`, namespace: 'home' }), 'spare');
  ok(await call(api, 'POST', '/api/gateways', admin.token, { id: `${id}-gw` }), 'gateway');
  ok(await call(api, 'POST', '/api/functions/modules?namespace=home', priv, KV, 'application/wasm'), 'module');
  ok(await call(api, 'POST', '/api/functions/whitelist', priv, { namespace: 'home', hash: KV_HASH, allowed: true }), 'white-list');
  const pub = mintPublicToken(
    priv,
    { subject: `${id}-kiosk`, ttlS: 3600, namespaces: ['home'], rate: { perSecond: 1, burst: 1 }, jti: 'kiosk-0001' },
    Date.now(),
  );
  if (!pub.ok) throw pub.error;
  const schedule = ok(
    await call(api, 'POST', '/api/functions/schedules', priv, {
      namespace: 'home',
      hash: KV_HASH,
      export: 'add',
      args: [1, 2],
      periodS: 3600,
      writeTo: 'tick',
    }),
    'schedule',
  ).body as { id: string };
  const so = (ok(await call(api, 'POST', '/api/v1/sos', priv, SO_DOC), 'service object').body as { id: string }).id;
  ok(await call(api, 'PUT', `/api/v1/sos/${so}/streams/t`, priv, { channels: { a: { 'current-value': 1 } }, lastUpdate: 1 }), 'sensor update');
  const channel = ok(await call(api, 'POST', '/api/v1/notify/channels', admin.token, { kind: 'mqtt', config: { topic: 'events' } }), 'notify channel').body as {
    id: string;
  };
  const sub = ok(await call(api, 'POST', '/api/v1/notify/subscriptions', admin.token, { channelId: channel.id, kinds: ['*'] }), 'notify subscription').body as {
    id: string;
  };
  return {
    id,
    priv,
    admin: admin.token,
    adminTokenId: admin.id,
    viewer: viewer.token,
    device: `${id}-dev`,
    deviceKey: device.key,
    spare: `${id}-spare`,
    gateway: `${id}-gw`,
    pub: pub.value,
    scheduleId: schedule.id,
    so,
    notifyChannel: channel.id,
    notifySubscription: sub.id,
  };
}

export const SO_DOC = { streams: { t: { channels: { a: { type: 'number' } } } } };

export interface Row {
  readonly surface: string;
  readonly attempt: string;
  /** Alice's attempt on bob's object; resolves to a failure description, or undefined when refused as it must be. */
  readonly refused: (api: string, alice: Tenant, bob: Tenant) => Promise<string | undefined>;
  /** The same action on alice's own object; a failure description, or undefined when it worked. */
  readonly own?: (api: string, alice: Tenant, bob: Tenant) => Promise<string | undefined>;
}

/** Undefined when the status is one of `want`, else what came back. */
export const expectStatus = (a: Answer, ...want: number[]): string | undefined =>
  want.includes(a.status) ? undefined : `answered ${a.status} ${JSON.stringify(a.body)}`;
export const ids = (a: Answer): string[] => (Array.isArray(a.body) ? (a.body as { id: string }[]).map((d) => d.id) : []);

export const HTTP_ROWS: readonly Row[] = [
  {
    surface: 'devices',
    attempt: "list shows only one's own devices",
    refused: async (api, a, b) => (ids(await call(api, 'GET', '/api/devices', a.viewer)).includes(b.device) ? "bob's device listed" : undefined),
    own: async (api, a) => (ids(await call(api, 'GET', '/api/devices', a.viewer)).includes(a.device) ? undefined : 'own device missing'),
  },
  {
    surface: 'devices',
    attempt: "read another owner's device",
    refused: async (api, a, b) => expectStatus(await call(api, 'GET', `/api/devices/${b.device}`, a.admin), 404),
    own: async (api, a) => expectStatus(await call(api, 'GET', `/api/devices/${a.device}`, a.viewer), 200),
  },
  {
    surface: 'devices',
    attempt: "remove another owner's device",
    refused: async (api, a, b) => expectStatus(await call(api, 'DELETE', `/api/devices/${b.spare}`, a.admin), 404),
    own: async (api, a) => expectStatus(await call(api, 'DELETE', `/api/devices/${a.spare}`, a.admin), 200),
  },
  {
    surface: 'devices',
    attempt: 'add a device in the name of another owner',
    refused: async (api, a, b) => expectStatus(await call(api, 'POST', '/api/devices', a.admin, { id: `${a.id}-forged`, owner: b.id }), 403),
    own: async (api, a) => expectStatus(await call(api, 'POST', '/api/devices', a.admin, { id: `${a.id}-extra`, owner: a.id }), 201),
  },
  {
    surface: 'streams',
    attempt: "read another owner's device stream",
    refused: async (api, a, b) => expectStatus(await call(api, 'GET', `/api/streams/${b.device}/tel`, a.admin), 404),
    own: async (api, a) => expectStatus(await call(api, 'GET', `/api/streams/${a.device}/tel`, a.viewer), 200),
  },
  {
    surface: 'streams',
    attempt: "reset another owner's device sequence",
    refused: async (api, a, b) => expectStatus(await call(api, 'POST', `/api/devices/${b.device}/reset-sequence`, a.admin), 404),
    own: async (api, a) => expectStatus(await call(api, 'POST', `/api/devices/${a.device}/reset-sequence`, a.admin), 200),
  },
  {
    surface: 'gateways',
    attempt: "drive another owner's gateway through the control channel",
    refused: async (api, a, b) => expectStatus(await call(api, 'POST', `/api/gateways/${b.gateway}/api/stop`, a.admin, { jobId: 'x' }), 404),
    // Alice's own gateway is not connected: the request is let through to the control channel (not 401/403/404).
    own: async (api, a) => {
      const r = await call(api, 'GET', `/api/gateways/${a.gateway}/api/jobs`, a.viewer);
      return [401, 403, 404].includes(r.status) ? `answered ${r.status}` : undefined;
    },
  },
  {
    surface: 'health',
    attempt: "device liveness lists only one's own devices, whatever owner the query names",
    refused: async (api, a, b) => {
      const listed = ids(await call(api, 'GET', `/api/v1/health/devices?owner=${b.id}`, a.viewer));
      return listed.includes(b.device) || listed.includes(b.gateway) ? "bob's device listed" : undefined;
    },
    own: async (api, a) => (ids(await call(api, 'GET', '/api/v1/health/devices', a.viewer)).includes(a.device) ? undefined : 'own device missing'),
  },
  {
    surface: 'health',
    attempt: "read the cloud's health history (global: every owner's credential is refused, a global viewer reads it)",
    refused: async (api, a) =>
      expectStatus(await call(api, 'GET', '/api/v1/health/history', a.viewer), 403) ??
      expectStatus(await call(api, 'GET', '/api/v1/health/history?series=readyz', a.admin), 403) ??
      expectStatus(await call(api, 'GET', '/api/v1/health/history?series=readyz', a.priv), 403),
    own: async (api) => {
      const viewer = (await call(api, 'POST', '/api/tokens', ADMIN_TOKEN, { role: 'viewer' })).body as { token: string };
      return expectStatus(await call(api, 'GET', '/api/v1/health/history', viewer.token), 200);
    },
  },
  {
    surface: 'gateways',
    attempt: "list another owner's gateways",
    refused: async (api, a, b) => (ids(await call(api, 'GET', '/api/gateways', a.admin)).includes(b.gateway) ? "bob's gateway listed" : undefined),
    own: async (api, a) => (ids(await call(api, 'GET', '/api/gateways', a.admin)).includes(a.gateway) ? undefined : 'own gateway missing'),
  },
  {
    surface: 'API tokens',
    attempt: "mint a token for another owner, list or revoke another owner's tokens",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'POST', '/api/tokens', a.admin, { role: 'viewer', owner: b.id }), 403) ??
      expectStatus(await call(api, 'DELETE', `/api/tokens/${b.adminTokenId}`, a.admin), 404) ??
      (ids(await call(api, 'GET', '/api/tokens', a.admin)).includes(b.adminTokenId) ? "bob's token listed" : undefined),
    own: async (api, a) => expectStatus(await call(api, 'POST', '/api/tokens', a.admin, { role: 'viewer' }), 201),
  },
  {
    surface: 'functions',
    attempt: "revoke another owner's public token",
    refused: async (api, a, b) => expectStatus(await call(api, 'POST', '/api/tokens/revoke', a.priv, { token: b.pub }), 401),
  },
  {
    surface: 'functions',
    attempt: "drain another owner's token bucket with a token of the same jti",
    refused: async (api, a, b) => {
      const body = (token: string) => ({ hash: KV_HASH, export: 'add', args: [1, 2], namespace: 'home', token });
      for (let i = 0; i < 3; i++) await call(api, 'POST', '/api/functions/call', undefined, body(a.pub)); // alice's bucket (same jti) runs dry
      return expectStatus(await call(api, 'POST', '/api/functions/call', undefined, body(b.pub)), 200);
    },
  },
  {
    surface: 'namespaces',
    attempt: "read or write another owner's namespace of the same name",
    refused: async (api, a, b) => {
      const incr = async (t: Tenant) =>
        (await call(api, 'POST', '/api/functions/call', t.admin, { hash: KV_HASH, export: 'incr', args: [], namespace: 'home' })).body as { value: number };
      const before = (await incr(b)).value;
      await incr(a);
      await incr(a);
      const after = (await incr(b)).value;
      return after === before + 1 ? undefined : `bob's counter went ${before} -> ${after} while alice counted`;
    },
  },
  {
    surface: 'white-lists',
    attempt: "a hash white-listed by another owner does not run under one's token",
    refused: async (api, a, b) => {
      const other = new Uint8Array(wat(KV_WAT.replace('"add"', '"plus"')));
      const hash = createHash('sha256').update(other).digest('hex');
      await call(api, 'POST', '/api/functions/modules?namespace=home', b.priv, other, 'application/wasm');
      await call(api, 'POST', '/api/functions/whitelist', b.priv, { namespace: 'home', hash, allowed: true });
      const token = mintPublicToken(a.priv, { subject: 'probe', ttlS: 600, namespaces: ['home'], rate: { perSecond: 100, burst: 100 } }, Date.now());
      if (!token.ok) return token.error.message;
      const r = await call(api, 'POST', '/api/functions/call', undefined, { hash, export: 'plus', args: [1, 2], namespace: 'home', token: token.value });
      return r.status === 403 && (r.body as { code: string }).code === 'FERRY_FN_NOT_WHITELISTED'
        ? undefined
        : `answered ${r.status} ${JSON.stringify(r.body)}`;
    },
  },
  {
    surface: 'schedules',
    attempt: "list or delete another owner's schedule",
    refused: async (api, a, b) => {
      const listed = ids(await call(api, 'GET', '/api/functions/schedules', a.priv));
      if (listed.includes(b.scheduleId)) return "bob's schedule listed";
      const r = await call(api, 'DELETE', `/api/functions/schedules/${b.scheduleId}`, a.priv);
      return r.status === 204 ? 'deleted' : undefined;
    },
    own: async (api, a) => (ids(await call(api, 'GET', '/api/functions/schedules', a.priv)).includes(a.scheduleId) ? undefined : 'own schedule missing'),
  },
  {
    surface: 'commands',
    attempt: "command another owner's device, alone or in a batch",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'POST', '/api/v1/commands', a.admin, { device: b.device, command: { reboot: true } }), 404) ??
      ((
        (await call(api, 'POST', '/api/v1/commands/batch', a.admin, { items: [{ device: b.device, command: { n: 1 } }] })).body as {
          results: { code?: string }[];
        }
      ).results[0]?.code === 'FERRY_CMD_DEVICE_NOT_FOUND'
        ? undefined
        : 'batch item not refused'),
    own: async (api, a) => expectStatus(await call(api, 'POST', '/api/v1/commands', a.admin, { device: a.device, command: { reboot: true } }), 202),
  },
  {
    surface: 'commands',
    attempt: "read or cancel another owner's command",
    refused: async (api, a, b) => {
      const id = ((await call(api, 'POST', '/api/v1/commands', b.admin, { device: b.device, command: { n: 1 } })).body as { id: string }).id;
      return (
        expectStatus(await call(api, 'GET', `/api/v1/commands/${id}`, a.admin), 404) ??
        expectStatus(await call(api, 'DELETE', `/api/v1/commands/${id}`, a.admin), 404)
      );
    },
    own: async (api, a) => {
      const id = ((await call(api, 'POST', '/api/v1/commands', a.admin, { device: a.device, command: { n: 1 } })).body as { id: string }).id;
      return expectStatus(await call(api, 'GET', `/api/v1/commands/${id}`, a.viewer), 200);
    },
  },
  {
    surface: 'broadcasts',
    attempt: "broadcast to another owner's device; read or cancel another owner's broadcast; `all` reaches only one's own",
    refused: async (api, a, b) => {
      const listed = expectStatus(await call(api, 'POST', '/api/v1/broadcasts', a.admin, { target: { devices: [b.device] }, command: { n: 1 } }), 404);
      if (listed !== undefined) return listed;
      const theirs = ((await call(api, 'POST', '/api/v1/broadcasts', b.admin, { target: { all: true }, command: { n: 1 } })).body as { id: string }).id;
      const read =
        expectStatus(await call(api, 'GET', `/api/v1/broadcasts/${theirs}`, a.admin), 404) ??
        expectStatus(await call(api, 'DELETE', `/api/v1/broadcasts/${theirs}`, a.admin), 404);
      if (read !== undefined) return read;
      const mine = ((await call(api, 'POST', '/api/v1/broadcasts', a.admin, { target: { all: true }, command: { n: 1 } })).body as { id: string }).id;
      const st = (await call(api, 'GET', `/api/v1/broadcasts/${mine}`, a.viewer)).body as { states: Record<string, string[]> };
      return Object.values(st.states)
        .flat()
        .some((d) => d.startsWith(`${b.id}-`))
        ? "bob's device in alice's broadcast"
        : undefined;
    },
    own: async (api, a) => expectStatus(await call(api, 'POST', '/api/v1/broadcasts', a.admin, { target: { devices: [a.device] }, command: { n: 1 } }), 202),
  },
  {
    surface: 'device tags',
    attempt: "tag or read the tags of another owner's device",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'PUT', `/api/v1/devices/${b.device}/tags`, a.admin, { tags: { x: '1' } }), 404) ??
      expectStatus(await call(api, 'GET', `/api/v1/devices/${b.device}/tags`, a.admin), 404),
    own: async (api, a) => expectStatus(await call(api, 'PUT', `/api/v1/devices/${a.device}/tags`, a.admin, { tags: { x: '1' } }), 200),
  },
  {
    surface: 'rules',
    attempt: "an owner's credential installs, lists or stops the cloud's rules",
    refused: async (api, a) =>
      expectStatus(await call(api, 'POST', '/api/install', a.admin, { id: 'x' }), 403) ??
      expectStatus(await call(api, 'GET', '/api/jobs', a.admin), 403) ??
      expectStatus(await call(api, 'POST', '/api/stop', a.priv, { jobId: 'x' }), 403),
    own: async (api) => expectStatus(await call(api, 'GET', '/api/jobs', ADMIN_TOKEN), 200),
  },
  {
    surface: 'notifications',
    attempt: "read, change, delete or test-send another owner's channel",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'GET', `/api/v1/notify/channels/${b.notifyChannel}`, a.admin), 404) ??
      expectStatus(await call(api, 'PUT', `/api/v1/notify/channels/${b.notifyChannel}`, a.admin, { kind: 'mqtt', config: { topic: 'stolen' } }), 404) ??
      expectStatus(await call(api, 'DELETE', `/api/v1/notify/channels/${b.notifyChannel}`, a.admin), 404) ??
      expectStatus(await call(api, 'POST', '/api/v1/notify/test', a.admin, { channelId: b.notifyChannel }), 404),
    own: async (api, a) =>
      expectStatus(await call(api, 'GET', `/api/v1/notify/channels/${a.notifyChannel}`, a.viewer), 200) ??
      expectStatus(await call(api, 'PUT', `/api/v1/notify/channels/${a.notifyChannel}`, a.admin, { kind: 'mqtt', config: { topic: 'events' } }), 200),
  },
  {
    surface: 'notifications',
    attempt: "list, subscribe to or unsubscribe another owner's channels and subscriptions",
    refused: async (api, a, b) =>
      (ids(await call(api, 'GET', '/api/v1/notify/channels', a.admin)).includes(b.notifyChannel) ? "bob's channel listed" : undefined) ??
      (ids(await call(api, 'GET', '/api/v1/notify/subscriptions', a.admin)).includes(b.notifySubscription) ? "bob's subscription listed" : undefined) ??
      expectStatus(await call(api, 'POST', '/api/v1/notify/subscriptions', a.admin, { channelId: b.notifyChannel, kinds: ['*'] }), 404) ??
      expectStatus(await call(api, 'DELETE', `/api/v1/notify/subscriptions/${b.notifySubscription}`, a.admin), 404),
    own: async (api, a) =>
      (ids(await call(api, 'GET', '/api/v1/notify/channels', a.viewer)).includes(a.notifyChannel) ? undefined : 'own channel missing') ??
      expectStatus(await call(api, 'POST', '/api/v1/notify/subscriptions', a.admin, { channelId: a.notifyChannel, kinds: ['device.*'] }), 201),
  },
  {
    surface: 'notifications',
    attempt: "read or replay another owner's deliveries and dead letters",
    refused: async (api, a, b) => {
      const theirs = await call(api, 'GET', '/api/v1/notify/deliveries', b.viewer);
      const listed = ids(await call(api, 'GET', '/api/v1/notify/deliveries', a.admin));
      const leak = ids(theirs).find((id) => listed.includes(id));
      if (leak !== undefined) return `bob's delivery ${leak} listed`;
      const first = ids(theirs)[0] ?? 'd-none';
      return (
        expectStatus(await call(api, 'GET', `/api/v1/notify/deliveries/${first}`, a.admin), 404) ??
        expectStatus(await call(api, 'POST', `/api/v1/notify/dead-letters/${first}/replay`, a.admin), 404)
      );
    },
    own: async (api, a) => expectStatus(await call(api, 'GET', '/api/v1/notify/dead-letters', a.viewer), 200),
  },
];

/** Each tenant's service object in the rows below: `<tenant id>-so`, with a simple stream `s` (made by the system's host). */
