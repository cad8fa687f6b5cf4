/**
 * Online/offline: the emulated board calls the real cloud service (embedded aedes, HTTP,
 * in-process runner, loopback only) by hash, uploads the module when asked, decides with the cloud's
 * answer, falls back to running the same bytes locally when the cloud is gone or silent, surfaces the
 * cloud's refusals, and gives the same decision for the same inputs in both places.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CloudService } from '@ferry/cloud';
import { noDelay } from '@ferry/mqtt-rest';
import {
  centiText,
  EmulatedBoard,
  LOCAL_FN_ERRORS,
  MIN_TEMPERATURE_WASM,
  NamespaceMinimum,
  NO_READING,
  RemoteFunction,
  THERMOSTAT_WASM,
} from '@ferry/firmware';
import { decode } from '@ferry/message';
import { compile, FN_ERRORS, type CompiledModule, type FnResult } from '@ferry/wasm-host';
import { generatePrivateToken, mintPublicToken } from '../cloud/src/functions/index.ts';
import { nextDownlinkEpoch } from '../cloud/src/service/downlink.ts';
import { SqliteDeviceStore } from '../cloud/src/storage/sqlite/device-store.ts';
import { buildFixture } from '@ferry/test-kit/function-fixtures';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';

const MODULE = new Uint8Array(readFileSync(MIN_TEMPERATURE_WASM));
const HASH = createHash('sha256').update(MODULE).digest('hex');
const OWNER = 'alice';
const PRIV = generatePrivateToken(OWNER);
/** The board's key: the one the cloud registered th-01 with (its replies are signed for that board). */
let key = new Uint8Array(32);
const enc = new TextEncoder();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const unwrap = <T>(r: FnResult<T>): T => {
  if (!r.ok) throw r.error;
  return r.value;
};

let thermostat: CompiledModule;
beforeAll(async () => {
  const c = await compile(readFileSync(THERMOSTAT_WASM));
  if (!c.ok) throw c.errors[0];
  thermostat = c.value;
});

/**
 * A started cloud with th-01 registered, the owner registered and the module white-listed in `flat` (not
 * uploaded). `seed` prepares its data directory (a restart: see kept()).
 */
async function startCloud(ports: { mqttPort: number; httpPort: number } = { mqttPort: 0, httpPort: 0 }, seed?: (dataDir: string) => void) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-remote-'));
  seed?.(dataDir);
  const svc = new CloudService({ adminToken: ADMIN_TOKEN, dataDir, ...ports, functionRunner: 'in-process', log: () => undefined, ...WORKER });
  if (seed === undefined) key = Buffer.from(svc.devices.add('th-01', 'flat').key, 'hex');
  const urls = await svc.start();
  unwrap(svc.functions.register(PRIV));
  unwrap(svc.functions.setWhitelisted(PRIV, 'flat', HASH, true));
  return { svc, ...urls };
}

/**
 * What a cloud keeps across a restart besides its function state: the device registry (sealed under the same
 * master key) and its downlink epoch; seeds a new data directory with them.
 */
function kept(old: CloudService): (dataDir: string) => void {
  const records = new SqliteDeviceStore(old.db).list();
  const master = readFileSync(join(old.opts.dataDir, 'master.key'));
  const epoch = old.downlink.epoch;
  return (dataDir) => {
    writeFileSync(join(dataDir, 'master.key'), master, { mode: 0o600 });
    const db = new Database(join(dataDir, 'cloud.db'));
    const store = new SqliteDeviceStore(db);
    for (const r of records) store.put(r);
    nextDownlinkEpoch(db, epoch * 1000);
    db.close();
  };
}

/** The board's public token: its id as subject, the namespace, only this function. */
const boardToken = (namespaces: string[] = ['flat'], subject = 'th-01'): string =>
  unwrap(mintPublicToken(PRIV, { subject, ttlS: 3600, namespaces, functions: [HASH], rate: { perSecond: 1000, burst: 1000 } }, Date.now()));

/**
 * The board's calls travel on a connection with a configured worker credential: it outlives a restart of the
 * cloud onto a fresh data folder (which knows no device), and its reply topic need not be a registered id's.
 */
const WORKER = { mqttUsername: 'ferry-worker-remote', mqttPassword: 'remote-test-secret' };

async function boardClient(mqttUrl: string): Promise<MqttClient> {
  const c = noDelay(
    await mqtt.connectAsync(mqttUrl, { ...workerLogin({ username: WORKER.mqttUsername, password: WORKER.mqttPassword }), reconnectPeriod: 100 }),
  );
  cleanups.push(() => c.endAsync(true));
  return c;
}

/** A booted thermostat whose wall clock is the cloud's (a real board syncs it over SNTP). */
async function board(sensorCenti: number, o: { startMs?: number; maxAgeS?: number } = {}): Promise<EmulatedBoard> {
  const b = await EmulatedBoard.create({ key, wasm: thermostat, startMs: o.startMs ?? Date.now(), room: { noiseC: 0 } });
  b.sensorOverride = sensorCenti;
  b.state.setText('cfg.min_on_s', '0'); // decide on the first tick: the guard against short cycling is not under test
  b.state.setText('cfg.min_off_s', '0');
  if (o.maxAgeS !== undefined) b.state.setText('cfg.max_age_s', String(o.maxAgeS));
  await b.boot();
  return b;
}

const lastTel = (b: EmulatedBoard): Record<string, unknown> => {
  const tel = b.messages
    .map((t) => {
      const r = decode(t);
      if (!r.ok) throw r.error;
      return r.value;
    })
    .filter((m) => m.claims['ev'] === 'tel');
  return tel.at(-1)!.claims['d'] as Record<string, unknown>;
};

describe('the board calls the cloud by hash, and falls back to itself', () => {
  it('the cloud test fixture and the board build are the same bytes, hence the same hash', async () => {
    expect(Buffer.from(await buildFixture('min-temperature')).equals(Buffer.from(MODULE))).toBe(true);
    for (const [code, num] of Object.entries(LOCAL_FN_ERRORS)) expect(FN_ERRORS[code as keyof typeof FN_ERRORS].num).toBe(num);
  }, 60_000);

  it('first call: module needed, uploaded, then the cloud answers with readers only it has; the thermostat heats on that answer', async () => {
    const { svc, mqttUrl, httpUrl } = await startCloud();
    cleanups.push(() => svc.stop());
    const ns = svc.functions.namespaces.state(OWNER, 'flat');
    ns.set('temp.kitchen', enc.encode(`21.50 ${Date.now()}`));
    ns.set('temp.bedroom', enc.encode(`18.75 ${Date.now()}`));
    const client = await boardClient(mqttUrl);
    const b = await board(2100);
    expect(await svc.functions.registry.get(HASH)).toBe(undefined);

    const nm = await NamespaceMinimum.create(b, { namespace: 'flat', token: boardToken(), transport: client, httpUrl, timeoutMs: 5000 });
    expect(nm.fn.hash).toBe(HASH);
    const r = await nm.tick();
    expect(r.min).toMatchObject({ ok: true, where: 'cloud', value: 1875 });
    expect(nm.fn.stats).toMatchObject({ cloud: 1, uploads: 1, local: 0 });
    expect((await svc.functions.registry.get(HASH))?.hash).toBe(HASH);
    expect(b.furnaceOn).toBe(true); // its own sensor says 21.00; the cloud's bedroom 18.75
    expect(lastTel(b)).toMatchObject({ t: 21, tmin: 18.75, heat: true });

    // The same board on its own: it knows no other reader, the answer is "none", the furnace goes off.
    const alone = await NamespaceMinimum.create(b, { namespace: 'flat', token: boardToken() });
    expect(await alone.refresh()).toMatchObject({ ok: true, where: 'local', reason: 'offline', value: NO_READING });
    b.tick(0);
    expect(lastTel(b)).toMatchObject({ tmin: 21, heat: false });
    expect([nm.fn.pending, nm.fn.stats.uploads]).toEqual([0, 1]);
    expect((await nm.tick()).min).toMatchObject({ where: 'cloud', value: 1875 }); // known now: no second upload
    expect(nm.fn.stats.uploads).toBe(1);
  });

  it('same inputs, same answer and same decision: cloud namespace vs board state (property)', async () => {
    const { svc, mqttUrl, httpUrl } = await startCloud();
    cleanups.push(() => svc.stop());
    const client = await boardClient(mqttUrl);
    // Stamps sit 5 s off the 10 s grid of freshness bounds: the board's and the cloud's clocks may differ by
    // the time a call takes without any reading crossing a bound.
    const entry = fc.record({
      value: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: -6000, max: 10000 }).map(centiText) },
        { weight: 1, arbitrary: fc.constantFrom('x', '12.345') },
      ),
      ageS: fc.integer({ min: -3, max: 70 }).map((k) => k * 10 + 5),
    });
    const rooms = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/), entry, { maxKeys: 30 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(rooms, fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1000, max: 3000 }), async (rs, maxAge10, own) => {
        const nsName = `prop-${run++}`;
        unwrap(svc.functions.setWhitelisted(PRIV, nsName, HASH, true));
        const cloudNs = svc.functions.namespaces.state(OWNER, nsName);
        const now = Date.now();
        const [withCloud, alone] = [await board(own, { startMs: now, maxAgeS: maxAge10 * 10 }), await board(own, { startMs: now, maxAgeS: maxAge10 * 10 })];
        for (const [room, e] of Object.entries(rs)) {
          const v = enc.encode(`${e.value} ${now - e.ageS * 1000}`);
          cloudNs.set(`temp.${room}`, v);
          alone.state.set(`temp.${room}`, v);
        }
        const token = boardToken([nsName]);
        // The answer: the cloud over its namespace, the board over its own state (offline: no transport).
        const nm = await NamespaceMinimum.create(withCloud, { namespace: nsName, token, transport: client, httpUrl, timeoutMs: 5000 });
        const local = await (await NamespaceMinimum.create(alone, { namespace: nsName, token })).refresh();
        const r = await nm.tick(0);
        expect(r.min).toMatchObject({ ok: true, where: 'cloud' });
        expect(local).toMatchObject({ ok: true, where: 'local' });
        expect(r.min.ok && r.min.value).toBe(local.ok && local.value);
        // The decision: the firmware fed the cloud's answer vs the firmware alone over the same readings.
        alone.tick(0);
        const [a, b] = [lastTel(withCloud), lastTel(alone)];
        expect({ tmin: a['tmin'], heat: a['heat'] }).toEqual({ tmin: b['tmin'], heat: b['heat'] });
        nm.fn.close();
      }),
      { numRuns: 25 },
    );
  }, 60_000);

  it("a refusal that is the board's to fix is surfaced, not masked by a local answer", async () => {
    const { svc, mqttUrl, httpUrl } = await startCloud();
    cleanups.push(() => svc.stop());
    const client = await boardClient(mqttUrl);
    const b = await board(2100);
    const fn = await RemoteFunction.create({ module: MODULE, host: b, namespace: 'flat', token: boardToken(), transport: client, httpUrl, timeoutMs: 5000 });
    expect(await fn.call('min_temperature', ['-1'])).toMatchObject({ ok: true, where: 'cloud' });
    unwrap(svc.functions.setWhitelisted(PRIV, 'flat', HASH, false));
    const r = await fn.call('min_temperature', ['-1']);
    expect(r.ok === false && r.error).toMatchObject({ code: 'FERRY_FN_NOT_WHITELISTED', num: 4105, where: 'cloud' });
    const elsewhere = await RemoteFunction.create({
      module: MODULE,
      host: b,
      namespace: 'other',
      token: boardToken(),
      transport: client,
      httpUrl,
      timeoutMs: 5000,
    });
    const r2 = await elsewhere.call('min_temperature', ['-1']);
    expect(r2.ok === false && r2.error.code).toBe('FERRY_FN_FORBIDDEN_NAMESPACE');
    const badArgs = await fn.call('min_temperature', []);
    expect(badArgs.ok === false && badArgs.error.code).toBe('FERRY_FN_NOT_WHITELISTED'); // authorization comes first
    unwrap(svc.functions.setWhitelisted(PRIV, 'flat', HASH, true));
    const badArgs2 = await fn.call('min_temperature', []);
    expect(badArgs2.ok === false && badArgs2.error).toMatchObject({ code: 'FERRY_FN_BAD_ARGS', where: 'cloud' });
    expect(fn.stats.local + elsewhere.stats.local).toBe(0);
  });

  it('a reply that comes after the timeout is ignored; no pending call remains', async () => {
    const { svc, mqttUrl, httpUrl } = await startCloud();
    cleanups.push(() => svc.stop());
    svc.functions.namespaces.state(OWNER, 'flat').set('temp.bedroom', enc.encode(`18.75 ${Date.now()}`));
    const client = await boardClient(mqttUrl);
    const b = await board(2100);
    b.state.setText('temp.hall', `20.10 ${b.clock.nowMs()}`);
    const fn = await RemoteFunction.create({ module: MODULE, host: b, namespace: 'flat', token: boardToken(), transport: client, httpUrl, timeoutMs: 5000 });
    expect(await fn.call('min_temperature', ['300000'])).toMatchObject({ where: 'cloud', value: 1875 }); // uploads
    // The cloud holds the next call until the board has given up on it.
    const handle = svc.functions.handleCall.bind(svc.functions);
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const spy = vi.spyOn(svc.functions, 'handleCall').mockImplementationOnce(async (req) => {
      await held;
      return handle(req);
    });
    const r = await fn.call('min_temperature', ['300000'], { timeoutMs: 100 });
    expect(r).toMatchObject({ ok: true, where: 'local', reason: 'timeout', value: 2010 });
    expect(fn.pending).toBe(0);
    release();
    await vi.waitFor(() => expect(fn.stats.lateReplies).toBe(1), { timeout: 10_000 });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(fn.pending).toBe(0);
    spy.mockRestore();
    expect(await fn.call('min_temperature', ['300000'])).toMatchObject({ where: 'cloud', value: 1875 });
    expect(fn.stats).toEqual({ cloud: 2, local: 1, uploads: 1, lateReplies: 1, forgedDownlink: 0 });
  });

  it('cloud stopped: the board answers locally; cloud back (it lost its modules): uploaded again and used again', async () => {
    let cloud = await startCloud();
    const ports = { mqttPort: Number(new URL(cloud.mqttUrl).port), httpPort: Number(new URL(cloud.httpUrl).port) };
    cleanups.push(() => cloud.svc.stop());
    cloud.svc.functions.namespaces.state(OWNER, 'flat').set('temp.bedroom', enc.encode(`18.75 ${Date.now()}`));
    const client = await boardClient(cloud.mqttUrl);
    const b = await board(2100);
    b.state.setText('temp.hall', `20.10 ${b.clock.nowMs()}`);
    const fn = await RemoteFunction.create({
      module: MODULE,
      host: b,
      namespace: 'flat',
      token: boardToken(),
      transport: client,
      httpUrl: cloud.httpUrl,
      timeoutMs: 5000,
    });
    expect(await fn.call('min_temperature', ['-1'])).toMatchObject({ where: 'cloud', value: 1875 });

    const keep = kept(cloud.svc);
    await cloud.svc.stop();
    const offline = await fn.call('min_temperature', ['-1'], { timeoutMs: 200 });
    expect(offline).toMatchObject({ ok: true, where: 'local', value: 2010 });
    expect(['offline', 'timeout']).toContain(offline.ok && offline.reason);
    expect(fn.pending).toBe(0);

    // Same ports, a new process: its memory (owners, white-list, modules, namespaces) starts empty.
    cloud = await startCloud(ports, keep);
    cloud.svc.functions.namespaces.state(OWNER, 'flat').set('temp.bedroom', enc.encode(`17.00 ${Date.now()}`));
    await vi.waitFor(() => expect(client.connected).toBe(true), { timeout: 15_000, interval: 50 });
    expect(await fn.call('min_temperature', ['-1'])).toMatchObject({ ok: true, where: 'cloud', value: 1700 });
    expect(fn.stats).toMatchObject({ cloud: 2, local: 1, uploads: 2 });
  }, 30_000);
});
