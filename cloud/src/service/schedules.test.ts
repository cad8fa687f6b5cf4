/**
 * Scheduled functions through the running cloud service: created over HTTP, run every period
 * into the namespace key `writeTo`, kept across a restart (SQLite), run once per period by two workers
 * sharing Redis, and refused with typed errors. Periods are counted on a manual clock shared by the
 * workers; the real timers only drive the passes, so nothing here asserts on elapsed time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FunctionService,
  generatePrivateToken,
  MemoryScheduleStore,
  mintPublicToken,
  Scheduler,
  type MintSpec,
  type ScheduleStore,
} from '../functions/index.ts';
import { wat } from '@ferry/test-kit/wat';
import { KV_WAT, ManualClock, unwrap } from '@ferry/test-kit/functions';
import { StoreError } from '../storage/errors.ts';
import { startRedis, type RedisHarness } from '@ferry/test-kit/redis';
import { startSchedules } from '../functions/schedules/timer.ts';
import type { CloudOptions, CloudService } from './service.ts';
import { startTestCloud } from './test-cloud.case.ts';
import { bearer, getAs } from '@ferry/test-kit/http';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const KV = wat(KV_WAT); // `incr` adds one to the namespace key "counter" and returns it: one more per run
const HASH = createHash('sha256').update(KV).digest('hex');
const PERIOD_S = 60;

const json = async (r: Response): Promise<{ status: number; body: Record<string, unknown> & { code?: string } }> => {
  const text = await r.text();
  return { status: r.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
};
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(), ...headers }, body: JSON.stringify(body) });

/** Waits for a condition the service's own timer brings about; the deadline only bounds a failing test. */
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (const end = Date.now() + 10_000; !(await cond()); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function startCloud(opts: Partial<CloudOptions> & { dataDir: string }): Promise<{ svc: CloudService; url: string }> {
  const { svc, httpUrl } = await startTestCloud({ functionRunner: 'in-process', scheduleTickMs: 10, ...opts });
  return { svc, url: httpUrl };
}

/** An owner with the KV module uploaded and white-listed in `home` (shared by scale-out workers through Redis). */
async function prepare(url: string, priv: string): Promise<void> {
  expect((await post(`${url}/api/owners`, { privateToken: priv })).status).toBe(201);
  const up = await fetch(`${url}/api/functions/modules?namespace=home`, {
    method: 'POST',
    headers: { 'content-type': 'application/wasm', authorization: `Bearer ${priv}` },
    body: new Uint8Array(KV),
  });
  expect(up.status).toBe(201);
  expect((await post(`${url}/api/functions/whitelist`, { privateToken: priv, namespace: 'home', hash: HASH })).status).toBe(200);
}

/** A public token for `home`; by default it may schedule every PERIOD_S or slower. */
function mint(priv: string, over: Partial<MintSpec> = { schedule: { minPeriodS: PERIOD_S } }): string {
  const t = mintPublicToken(priv, { subject: 'scheduler-test', ttlS: 3600, namespaces: ['home'], rate: { perSecond: 100, burst: 100 }, ...over }, Date.now());
  if (!t.ok) throw t.error;
  return t.value;
}

const owner = (): { name: string; priv: string } => {
  const name = `alice-${randomBytes(4).toString('hex')}`; // unique: a shared REDIS_URL may hold other runs' schedules
  return { name, priv: generatePrivateToken(name) };
};
const request = (token: string, over: Record<string, unknown> = {}) => ({
  token,
  namespace: 'home',
  hash: HASH,
  export: 'incr',
  args: [],
  periodS: PERIOD_S,
  writeTo: 'incr.last',
  ...over,
});
const stateOf = (svc: CloudService, who: string, key: string): string | undefined => {
  const v = svc.functions.namespaces.state(who, 'home').get(key);
  return v === undefined ? undefined : new TextDecoder().decode(v);
};
/** KV_WAT keeps "counter" as a little-endian i32: how many times `incr` ran on this worker. */
const runsOn = (svc: CloudService, who: string): number => {
  const v = svc.functions.namespaces.state(who, 'home').get('counter');
  return v === undefined ? 0 : new DataView(v.buffer, v.byteOffset, v.byteLength).getInt32(0, true);
};

describe('scheduled functions in the cloud service (embedded, SQLite)', () => {
  it('a schedule made over HTTP runs once per period into write_to, and survives a restart without re-running a period', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-sched-'));
    const clock = new ManualClock();
    const a = owner();
    const first = await startCloud({ dataDir, scheduleClock: clock });
    cleanups.push(() => first.svc.stop());
    await prepare(first.url, a.priv);
    const pub = mint(a.priv);

    const made = await json(await post(`${first.url}/api/functions/schedules`, request(pub)));
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      owner: a.name,
      namespace: 'home',
      hash: HASH,
      export: 'incr',
      periodS: PERIOD_S,
      writeTo: 'incr.last',
      runsAs: 'public-token',
    });
    expect(made.body).not.toHaveProperty('token'); // a public token is a credential: never shown back
    const id = made.body['id'] as string;

    // Period 0 runs at once; half a period later nothing is due; the next period runs once.
    await until('period 0', () => stateOf(first.svc, a.name, 'incr.last') === '1');
    clock.advance(PERIOD_S * 500);
    expect(await first.svc.schedules.runDue()).toEqual([]);
    clock.advance(PERIOD_S * 500);
    await until('period 1', () => stateOf(first.svc, a.name, 'incr.last') === '2');
    expect(await first.svc.schedules.runDue()).toEqual([]);
    const listed = await json(await getAs(`${first.url}/api/functions/schedules?token=${encodeURIComponent(pub)}`));
    expect([listed.status, (listed.body as unknown as { id: string }[]).map((s) => s.id)]).toEqual([200, [id]]);
    await first.svc.stop();
    cleanups.pop();

    // A new process on the same data dir: the schedule and the lease of period 1 come back from cloud.db.
    const second = await startCloud({ dataDir, scheduleClock: clock });
    cleanups.push(() => second.svc.stop());
    expect((await second.svc.schedules.store.list()).map((s) => s.id)).toEqual([id]);
    expect(await second.svc.schedules.runDue()).toEqual([]); // period 1 already ran before the restart
    // Owners, modules, the white-list and namespace state are in cloud.db too (storage/sqlite/function-stores.ts): no
    // registration or upload again, and the same public token works again.
    expect((await post(`${second.url}/api/owners`, { privateToken: a.priv })).status).toBe(409);
    const again = await json(await fetch(`${second.url}/api/functions/schedules`, { headers: { authorization: `Bearer ${pub}` } }));
    expect((again.body as unknown as { id: string }[]).map((s) => s.id)).toEqual([id]);
    clock.advance(PERIOD_S * 1000);
    expect(stateOf(second.svc, a.name, 'incr.last')).toBe('2'); // written before the restart, kept
    await until('period 2 after the restart', () => stateOf(second.svc, a.name, 'incr.last') === '3');
    const leases = second.svc.db.prepare('SELECT period, worker FROM schedule_lease WHERE schedule_id = ? ORDER BY period').all(id) as {
      period: number;
      worker: string;
    }[];
    expect(leases.map((l) => l.period)).toEqual([1, 2]);
    expect(leases[0]!.worker).not.toBe(leases[1]!.worker); // period 1 by the first process, period 2 by the second

    const del = await fetch(`${second.url}/api/functions/schedules/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${a.priv}` } });
    expect(del.status).toBe(204);
    expect(await second.svc.schedules.store.list()).toEqual([]);
  }, 30_000);

  it('refuses bad schedules with typed errors and their HTTP statuses; lists only what the token may see', async () => {
    const a = owner();
    const { svc, url } = await startCloud({ dataDir: mkdtempSync(join(tmpdir(), 'ferry-sched-')), scheduleClock: new ManualClock() });
    cleanups.push(() => svc.stop());
    await prepare(url, a.priv);
    const create = async (body: unknown, headers?: Record<string, string>) => {
      const r = await json(await post(`${url}/api/functions/schedules`, body, headers));
      return [r.status, r.body.code];
    };
    const every5min = mint(a.priv, { schedule: { minPeriodS: 300 } });
    expect(await create(request(every5min, { periodS: 60 }))).toEqual([403, 'FERRY_FN_SCHEDULE_FORBIDDEN']); // below the token's minimum
    expect(await create(request(mint(a.priv, {})))).toEqual([403, 'FERRY_FN_SCHEDULE_FORBIDDEN']); // no `sch` at all
    expect(await create(request(every5min, { periodS: 300, namespace: 'garage' }))).toEqual([403, 'FERRY_FN_FORBIDDEN_NAMESPACE']);
    const unknown = createHash('sha256').update('never uploaded').digest('hex');
    expect(await create(request(every5min, { periodS: 300, hash: unknown }))).toEqual([403, 'FERRY_FN_NOT_WHITELISTED']);
    expect(await create(request(a.priv, { hash: unknown }))).toEqual([404, 'FERRY_FN_MODULE_NEEDED']);
    expect(await create(request(a.priv, { hash: 'x' }))).toEqual([400, 'FERRY_FN_BAD_REQUEST']);
    for (const writeTo of ['', 'a b', 'k'.repeat(65), 7]) expect(await create(request(a.priv, { writeTo }))).toEqual([400, 'FERRY_FN_SCHEDULE_INVALID']);
    for (const periodS of [0, 1.5, '60', -60]) expect(await create(request(a.priv, { periodS }))).toEqual([400, 'FERRY_FN_SCHEDULE_INVALID']);
    expect(await create(request('not-a-token'))).toEqual([401, 'FERRY_FN_BAD_TOKEN']);
    expect(await create({})).toEqual([400, 'FERRY_FN_BAD_REQUEST']);
    expect(await svc.schedules.store.list()).toEqual([]);

    // The token may come as a Bearer header; the owner may schedule in any namespace of theirs, below any `sch`.
    expect(await create({ ...request(''), token: undefined, periodS: 300 }, { authorization: `Bearer ${every5min}` })).toEqual([201, undefined]);
    expect(await create(request(a.priv, { namespace: 'garage', periodS: 1 }))).toEqual([201, undefined]);
    const list = async (token: string) => {
      const r = await json(await getAs(`${url}/api/functions/schedules?token=${encodeURIComponent(token)}`));
      return r.status === 200
        ? (r.body as unknown as { namespace: string; runsAs: string }[]).map((s) => `${s.namespace}/${s.runsAs}`).sort()
        : [r.status, r.body.code];
    };
    expect(await list(a.priv)).toEqual(['garage/owner', 'home/public-token']);
    expect(await list(every5min)).toEqual(['home/public-token']); // a public token sees its namespaces only
    expect(await list('nope')).toEqual([401, 'FERRY_FN_BAD_TOKEN']);
    expect(await list(owner().priv)).toEqual([401, 'FERRY_FN_BAD_TOKEN']); // an owner never registered here

    const remove = async (id: string, token: string) =>
      (
        await json(
          await fetch(`${url}/api/functions/schedules/${id}`, {
            method: 'DELETE',
            headers: { 'content-type': 'application/json', ...bearer() },
            body: JSON.stringify({ token }),
          }),
        )
      ).body.code ?? 'deleted';
    const [s] = await svc.schedules.store.list();
    const b = owner();
    await prepare(url, b.priv);
    expect(await remove(s!.id, b.priv)).toBe('FERRY_FN_NO_SUCH_SCHEDULE'); // another owner's schedule does not exist for them
    expect(await remove('no-such-id', a.priv)).toBe('FERRY_FN_NO_SUCH_SCHEDULE');
    expect(await remove(s!.id, 'nope')).toBe('FERRY_FN_BAD_TOKEN');
    expect(await remove(s!.id, a.priv)).toBe('deleted');
    expect(await svc.schedules.store.list()).toHaveLength(1);
  }, 30_000);
});

describe('scheduled functions on two workers sharing Redis (scale-out)', () => {
  let redis: RedisHarness | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  }); // throws under CI=true when there is no Redis
  afterAll(async () => {
    if (redis?.ok === true) await redis.stop();
  });

  it('exactly one run per period across both workers, over many periods', async (ctx) => {
    if (redis === undefined || !redis.ok) ctx.skip(`needs Redis: ${redis?.ok === false ? redis.reason : 'not started'}`);
    const clock = new ManualClock();
    const a = owner();
    // Separate data dirs: the schedule, the owner, the module, the white-list and the namespace state reach the
    // second worker only through Redis. One master key (it seals owners' signing secrets) for both.
    const masterKey = randomBytes(32).toString('hex');
    const workers: { svc: CloudService; url: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'ferry-sched-'));
      writeFileSync(join(dataDir, 'master.key'), `${masterKey}\n`, { mode: 0o600 });
      const w = await startCloud({ dataDir, redisUrl: redis!.ok ? redis!.url : '', scheduleClock: clock });
      cleanups.push(() => w.svc.stop());
      workers.push(w);
    }
    await prepare(workers[0]!.url, a.priv);
    await until('the white-list reaches the second worker', () => workers[1]!.svc.functions.whitelist.has(a.name, 'home', HASH));
    // The namespace state is shared, so its "counter" counts every run: count each worker's runs where they execute.
    const runs = workers.map((w) => {
      let n = 0;
      const f = w.svc.functions;
      const execute = f.execute.bind(f);
      f.execute = (...args) => {
        n++;
        return execute(...args);
      };
      return () => n;
    });
    const made = await json(await post(`${workers[0]!.url}/api/functions/schedules`, request(a.priv)));
    expect(made.status).toBe(201);
    const id = made.body['id'] as string;
    const seen = await json(await fetch(`${workers[1]!.url}/api/functions/schedules`, { headers: { authorization: `Bearer ${a.priv}` } }));
    expect((seen.body as unknown as { id: string }[]).map((s) => s.id)).toEqual([id]);

    const total = (): number => runs.reduce((n, r) => n + r(), 0);
    const PERIODS = 12;
    for (let period = 0; period < PERIODS; period++) {
      if (period > 0) clock.advance(PERIOD_S * 1000);
      // Both timers (every 10 ms) and an explicit pass on each worker race for the period.
      const explicit = await Promise.all(workers.map((w) => w.svc.schedules.runDue()));
      expect(explicit.flat().length).toBeLessThanOrEqual(1);
      await until(`the run of period ${period}`, () => total() >= period + 1);
      expect(total()).toBe(period + 1);
      // Once the period ran, no worker runs it again, however often it looks.
      expect((await Promise.all(workers.map((w) => w.svc.schedules.runDue()))).flat()).toEqual([]);
      // The run's write reaches the other worker before the next period (the next run may read it there).
      await until(`the state of period ${period} on both workers`, () => workers.every((w) => runsOn(w.svc, a.name) === period + 1));
    }
    // Each run wrote its result into write_to: both workers see the last one.
    for (const w of workers) await until('incr.last on both workers', () => stateOf(w.svc, a.name, 'incr.last') === String(PERIODS));
    for (const w of workers) await w.svc.stop(); // waits for any pass in flight, so the counts are final
    cleanups.splice(0);
    expect(total()).toBe(PERIODS);
    const c = redis!.ok ? redis!.connect() : undefined;
    await c?.hdel('ferry:schedules', id); // a shared REDIS_URL keeps no schedule of this test
  }, 60_000);
});

describe('startSchedules (the timer)', () => {
  it('logs a failing store or run once per change, retries on the next tick, and stop() waits for the pass in flight', async () => {
    const clock = new ManualClock();
    const fns = new FunctionService({ clock });
    const a = owner();
    unwrap(fns.register(a.priv));
    unwrap(await fns.upload({ bytes: KV, token: a.priv, namespace: 'home' }));
    const memory = new MemoryScheduleStore();
    let down = false;
    const store: ScheduleStore = {
      put: (s) => memory.put(s),
      get: (id) => memory.get(id),
      delete: (id) => memory.delete(id),
      list: async () => {
        if (down) throw new StoreError('FERRY_STORE_UNAVAILABLE', 'redis: connection lost');
        return memory.list();
      },
    };
    const sch = new Scheduler({ service: fns, clock, workerId: 'w1', store });
    unwrap(await sch.create(request(a.priv)));
    const trap = unwrap(await sch.create(request(a.priv, { export: 'trap', writeTo: 'never' })));
    const logs: string[] = [];
    let tick: (() => void) | undefined;
    const timer = startSchedules(sch, {
      log: (m) => logs.push(m),
      timers: {
        set: (f) => (tick = f),
        clear: () => {
          tick = undefined;
        },
      },
    });
    const pass = async (): Promise<void> => {
      tick!();
      await timer.idle();
    };
    await timer.idle(); // the first pass runs at start
    const value = () => fns.namespaces.state(a.name, 'home').get('incr.last');
    expect(new TextDecoder().decode(value())).toBe('1');
    expect(logs).toEqual([expect.stringMatching(new RegExp(`^schedule ${trap.id} period 0: FERRY_FN_`))]);

    down = true;
    clock.advance(PERIOD_S * 1000);
    await pass();
    await pass();
    expect(logs.slice(1)).toEqual(['schedules: FERRY_STORE_UNAVAILABLE: redis: connection lost']); // once, not every tick
    down = false;
    await pass();
    expect(logs.slice(2)).toEqual(['schedules: the store answers again']); // and the trapping run, failing as before, is not logged again
    expect(new TextDecoder().decode(value())).toBe('2');
    expect(fns.namespaces.state(a.name, 'home').get('never')).toBeUndefined();
    await timer.stop();
    expect(tick).toBeUndefined();
  });
});
