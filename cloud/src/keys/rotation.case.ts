/**
 * @module A cloud with something sealed of every kind, for the master key rotation tests (embedded and Redis):
 * devices, owners with a public token, schedules that run under a public token (its token sealed) or as their
 * owner (no token stored), a webhook notification channel (its signing secret sealed) and a composite stream's
 * HTTP callback subscription (its secret sealed). `check` proves, on a running cloud, that each still works:
 * every device's old key signs a message ingest accepts, every public token verifies, every schedule runs in
 * the next period, the channel signs a test message with its secret, the callback subscription is listed (one
 * whose secret no longer opens is left out). `sealedUnder` lists what a master key still opens in cloud.db.
 */
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { wat } from '@ferry/test-kit/wat';
import { KV_WAT, type ManualClock, unwrap } from '@ferry/test-kit/functions';
import { bodyOf, call } from '@ferry/test-kit/http';
import { openDeviceKey } from '../devices/registry.ts';
import { generatePrivateToken, mintPublicToken } from '../functions/index.ts';
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { CloudService, type CloudOptions } from '../service/service.ts';
import { scheduleSealer } from '../storage/codecs.ts';
import { callbackSealer } from '../compose/callback-store.ts';
import { SIGNATURE_HEADER, verifyWebhook } from '../notify/channel-webhook.ts';
import { notifySealer } from '../notify/config.ts';
import { httpSink } from '../notify/test-sinks.case.ts';

const KV = wat(KV_WAT); // `incr` adds one to the namespace key "counter" and returns it
const HASH = createHash('sha256').update(KV).digest('hex');
const PERIOD_S = 60;

export interface Populated {
  readonly devices: { readonly id: string; readonly key: string; sq: number }[];
  readonly owners: { readonly name: string; readonly priv: string; readonly pub: string; readonly schedules: number }[];
  readonly clock: ManualClock;
  /** A webhook channel and the secret it signs with (answered once, at creation). */
  readonly channel: { readonly id: string; readonly secret: string };
  /** A composite stream's HTTP callback subscription. */
  readonly callback: { readonly so: string; readonly id: string };
}

const httpUrls = new WeakMap<CloudService, string>();

/** The cloud's HTTP API as its admin. */
const api = async (svc: CloudService, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
  const url = httpUrls.get(svc);
  if (url === undefined) throw new Error('the cloud was not started by startCloud');
  return bodyOf<Record<string, unknown>>(await call(url, method, path, svc.adminToken, body), `${method} ${path}`);
};

export async function startCloud(dataDir: string, clock: ManualClock, extra: Partial<CloudOptions> = {}): Promise<CloudService> {
  // The timer passes once at start; the tests run the other periods themselves.
  const svc = new CloudService({
    dataDir,
    mqttPort: 0,
    httpPort: 0,
    functionRunner: 'in-process',
    notify: { allowPrivateAddresses: true }, // the check's webhook sink is on loopback
    scheduleClock: clock,
    scheduleTickMs: 3_600_000,
    log: () => undefined,
    ...extra,
  });
  httpUrls.set(svc, (await svc.start()).httpUrl);
  return svc;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (const end = Date.now() + 10_000; !cond(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** How many times `incr` ran in the owner's `home` namespace (KV_WAT keeps "counter" as a little-endian i32). */
const runs = (svc: CloudService, owner: string): number => {
  const v = svc.functions.namespaces.state(owner, 'home').get('counter');
  return v === undefined ? 0 : new DataView(v.buffer, v.byteOffset, v.byteLength).getInt32(0, true);
};

/** `suffix` keeps owners apart on a shared Redis. */
export async function populate(svc: CloudService, clock: ManualClock, o: { devices?: number; suffix?: string } = {}): Promise<Populated> {
  const devices = Array.from({ length: o.devices ?? 5 }, (_, i) => ({ ...svc.devices.add(`dev-${i}`, 'home'), sq: 0 }));
  const owners: Populated['owners'][number][] = [];
  for (const [name, privateSchedule] of [
    [`alice${o.suffix ?? ''}`, true],
    [`bob${o.suffix ?? ''}`, false],
  ] as const) {
    const priv = generatePrivateToken(name);
    unwrap(svc.functions.register(priv));
    unwrap(await svc.functions.upload({ bytes: KV, token: priv, namespace: 'home' }));
    unwrap(svc.functions.setWhitelisted(priv, 'home', HASH, true));
    const pub = unwrap(
      mintPublicToken(
        priv,
        { subject: 'rotation', ttlS: 3600, namespaces: ['home'], rate: { perSecond: 100, burst: 100 }, schedule: { minPeriodS: PERIOD_S } },
        Date.now(),
      ),
    );
    const req = { namespace: 'home', hash: HASH, export: 'incr', args: [], periodS: PERIOD_S, writeTo: 'incr.last' };
    unwrap(await svc.schedules.create({ ...req, token: pub }));
    if (privateSchedule) unwrap(await svc.schedules.create({ ...req, token: priv }));
    owners.push({ name, priv, pub, schedules: privateSchedule ? 2 : 1 });
  }
  await svc.schedules.runDue();
  for (const w of owners) await until(`period 0 of ${w.name}`, () => runs(svc, w.name) === w.schedules);
  const ch = await api(svc, 'POST', '/api/v1/notify/channels', { kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook' } });
  const so = await api(svc, 'POST', `/api/v1/sos?owner=${owners[0]!.name}`, { streams: { t: { channels: { a: { type: 'number' } } } } });
  const sub = await api(svc, 'POST', `/api/v1/sos/${String(so['id'])}/streams/t/subscriptions`, {
    url: 'http://127.0.0.1:9/cb',
    secret: 'a callback secret of the test',
  });
  return {
    devices,
    owners,
    clock,
    channel: { id: String(ch['id']), secret: String(ch['secret']) },
    callback: { so: String(so['id']), id: String(sub['id']) },
  };
}

/** Everything in `p` works on `svc`: devices verify, public tokens verify, schedules run one more period. */
export async function check(svc: CloudService, p: Populated): Promise<void> {
  for (const d of p.devices) {
    const t = encode(
      { header: { kid: d.id, ep: 1, sq: d.sq++ }, claims: { iss: d.id, iat: 1_767_225_600, ev: 'tel', d: { t: 21 } } },
      hmacKey(Buffer.from(d.key, 'hex')),
    );
    if (!t.ok) throw t.error;
    expect((await svc.ingest.ingest(t.value, Date.now())).status, `device ${d.id}`).toBe('accepted');
  }
  for (const w of p.owners) {
    expect(unwrap(svc.functions.authenticate(w.pub)).owner).toBe(w.name);
    expect(unwrap(svc.functions.authenticate(w.priv)).owner).toBe(w.name);
  }
  const before = p.owners.map((w) => runs(svc, w.name));
  p.clock.advance(PERIOD_S * 1000);
  await svc.schedules.runDue();
  for (const [i, w] of p.owners.entries()) await until(`a period of ${w.name}`, () => runs(svc, w.name) === before[i]! + w.schedules);
  // The channel opens its secret and signs with it (a test message to a loopback sink).
  const sink = await httpSink();
  try {
    await api(svc, 'PUT', `/api/v1/notify/channels/${p.channel.id}`, { kind: 'webhook', config: { url: sink.url } });
    await api(svc, 'POST', '/api/v1/notify/test', { channelId: p.channel.id });
    const [got] = sink.received;
    expect(verifyWebhook(p.channel.secret, got!.body, got!.headers[SIGNATURE_HEADER] as string | undefined, Math.floor(Date.now() / 1000))).toBe(true);
  } finally {
    await sink.close();
  }
  const subs = (await api(svc, 'GET', `/api/v1/sos/${p.callback.so}/streams/t/subscriptions`)) as unknown as { id: string }[];
  expect(subs.map((s) => s.id)).toEqual([p.callback.id]);
}

/** Every sealed value of cloud.db, as stored (BLOBs, and schedule tokens as their base64 text). */
export function sealedValues(dataDir: string): {
  devices: [string, Buffer][];
  owners: [string, Buffer][];
  schedules: [string, string][];
  channels: [string, string][];
  callbacks: [string, string][];
} {
  const db = new Database(join(dataDir, 'cloud.db'), { readonly: true });
  try {
    const has = (t: string): boolean => db.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(t) !== undefined;
    return {
      devices: (db.prepare('SELECT id, sealed_key AS v FROM devices').all() as { id: string; v: Buffer }[]).map((r) => [r.id, r.v]),
      owners: has('fn_owner')
        ? (db.prepare('SELECT owner AS id, sealed_secret AS v FROM fn_owner').all() as { id: string; v: Buffer }[]).map((r) => [r.id, r.v])
        : [],
      schedules: has('schedule')
        ? (db.prepare('SELECT id, body FROM schedule').all() as { id: string; body: string }[]).flatMap((r) => {
            const s = (JSON.parse(r.body) as { sealedToken?: string }).sealedToken;
            return s === undefined ? [] : [[r.id, s] as [string, string]];
          })
        : [],
      // The channel's aad is `<owner>/<id>`; the callback's is its id.
      channels: has('notify_channels')
        ? (db.prepare('SELECT body FROM notify_channels').all() as { body: string }[]).flatMap((r) => {
            const c = JSON.parse(r.body) as { id: string; owner?: string; sealedSecret?: string };
            return c.sealedSecret === undefined ? [] : [[`${c.owner ?? ''}/${c.id}`, c.sealedSecret] as [string, string]];
          })
        : [],
      callbacks: has('so_subscriptions')
        ? (db.prepare("SELECT id, secret FROM so_subscriptions WHERE secret LIKE 'sealed:%'").all() as { id: string; secret: string }[]).map(
            (r) => [r.id, r.secret.slice('sealed:'.length)] as [string, string],
          )
        : [],
    };
  } finally {
    db.close();
  }
}

/** The rows of cloud.db that `key` opens, as `<table> <id>`. */
export function sealedUnder(dataDir: string, key: Uint8Array): string[] {
  const v = sealedValues(dataDir);
  const owner = new SecretSealer(key);
  const schedule = scheduleSealer(key);
  const channel = notifySealer(key);
  const callback = callbackSealer(key);
  return [
    ...v.devices.filter(([id, b]) => openDeviceKey(key, id, b) !== undefined).map(([id]) => `devices ${id}`),
    ...v.owners.filter(([id, b]) => owner.open(id, b) !== undefined).map(([id]) => `fn_owner ${id}`),
    ...v.schedules.filter(([id, s]) => schedule.open(`schedule:${id}`, Buffer.from(s, 'base64')) !== undefined).map(([id]) => `schedule ${id}`),
    ...v.channels.filter(([aad, s]) => channel.open(aad, Buffer.from(s, 'base64')) !== undefined).map(([aad]) => `notify_channels ${aad}`),
    ...v.callbacks.filter(([id, s]) => callback.open(id, Buffer.from(s, 'base64')) !== undefined).map(([id]) => `so_subscriptions ${id}`),
  ];
}

/** The bytes of cloud.db and its WAL as they are on disk (what a copy of the directory would hold). */
export function rawFiles(dataDir: string): Buffer {
  const parts = ['cloud.db', 'cloud.db-wal'].map((f) => join(dataDir, f)).filter((f) => existsSync(f));
  return Buffer.concat(parts.map((f) => readFileSync(f)));
}
