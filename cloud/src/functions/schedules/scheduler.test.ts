import { beforeEach, describe, expect, it } from 'vitest';
import { FunctionService } from '../service.ts';
import { wat } from '@ferry/test-kit/wat';
import { codeOf, KV_WAT, ManualClock, owner, unwrap } from '@ferry/test-kit/functions';
import { Scheduler } from './scheduler.ts';
import { MemoryLeaseStore, MemoryScheduleStore } from './stores.ts';

const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : new TextDecoder().decode(v));

describe('Scheduler', () => {
  let clock: ManualClock;
  let svc: FunctionService;
  let alice: ReturnType<typeof owner>;
  let hash: string;
  const store = () => new MemoryScheduleStore();
  const req = (token: string, over: Record<string, unknown> = {}) => ({
    token,
    namespace: 'home',
    hash,
    export: 'incr',
    args: [],
    periodS: 60,
    writeTo: 'incr.last',
    ...over,
  });
  const counter = () => text(svc.namespaces.state('alice', 'home').get('incr.last'));

  beforeEach(async () => {
    clock = new ManualClock();
    svc = new FunctionService({ clock });
    alice = owner('alice');
    unwrap(svc.register(alice.token));
    hash = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' })).hash;
    unwrap(svc.setWhitelisted(alice.token, 'home', hash, true));
  });

  it('runs once per period and writes the result into the namespace key', async () => {
    const sch = new Scheduler({ service: svc, clock, workerId: 'w1' });
    const s = unwrap(await sch.create(req(alice.token)));
    expect((await sch.runDue()).map((r) => [r.periodIndex, codeOf(r.result)])).toEqual([[0, 'ok']]);
    expect(counter()).toBe('1');
    clock.advance(30_000);
    expect(await sch.runDue()).toEqual([]);
    clock.advance(30_000);
    expect((await sch.runDue()).map((r) => r.periodIndex)).toEqual([1]);
    expect(counter()).toBe('2');
    // After downtime, only the current period runs: no catch-up burst.
    clock.advance(10 * 60_000);
    expect((await sch.runDue()).map((r) => r.periodIndex)).toEqual([11]);
    expect(counter()).toBe('3');
    unwrap(await sch.remove(alice.token, s.id));
    clock.advance(60_000);
    expect(await sch.runDue()).toEqual([]);
  });

  it('at most one run per period across several scheduler instances sharing the stores', async () => {
    const schedules = store();
    const leases = new MemoryLeaseStore();
    const workers = ['w1', 'w2', 'w3', 'w4'].map((workerId) => new Scheduler({ service: svc, clock, workerId, store: schedules, leases }));
    unwrap(await workers[0]!.create(req(alice.token, { periodS: 10 })));
    const winners: string[] = [];
    for (let period = 0; period < 20; period++) {
      // All workers wake at once (the worst case), in a different order each period.
      const order = workers.map((w, i) => ({ w, i })).sort((a, b) => ((a.i * 7 + period) % 4) - ((b.i * 7 + period) % 4));
      const reports = await Promise.all(order.map(async ({ w, i }) => ((await w.runDue()).length > 0 ? `w${i + 1}` : undefined)));
      winners.push(...reports.filter((x): x is string => x !== undefined));
      clock.advance(10_000);
    }
    expect(winners).toHaveLength(20);
    expect(new Set(winners).size).toBeGreaterThan(1);
    expect(counter()).toBe('20');
  });

  it('survives a restart: a new scheduler over the same store picks the schedule up, without re-running the period', async () => {
    const schedules = store();
    const leases = new MemoryLeaseStore();
    const before = new Scheduler({ service: svc, clock, workerId: 'old', store: schedules, leases });
    unwrap(await before.create(req(alice.token)));
    expect(await before.runDue()).toHaveLength(1);
    const after = new Scheduler({ service: svc, clock, workerId: 'new', store: schedules, leases });
    expect(await after.runDue()).toEqual([]);
    clock.advance(60_000);
    expect(await after.runDue()).toHaveLength(1);
    expect(counter()).toBe('2');
  });

  it("enforces the token's schedule permission and minimum period", async () => {
    const sch = new Scheduler({ service: svc, clock, workerId: 'w1' });
    const none = alice.mint({}, clock.nowMs());
    expect(codeOf(await sch.create(req(none)))).toBe('FERRY_FN_SCHEDULE_FORBIDDEN');
    const every5min = alice.mint({ schedule: { minPeriodS: 300 } }, clock.nowMs());
    expect(codeOf(await sch.create(req(every5min, { periodS: 60 })))).toBe('FERRY_FN_SCHEDULE_FORBIDDEN');
    expect(codeOf(await sch.create(req(every5min, { periodS: 300 })))).toBe('ok');
    expect(codeOf(await sch.create(req(every5min, { namespace: 'garage', periodS: 300 })))).toBe('FERRY_FN_FORBIDDEN_NAMESPACE');
    const other = owner('mallory');
    unwrap(svc.register(other.token));
    expect(codeOf(await sch.create(req(other.mint({ schedule: { minPeriodS: 1 } }, clock.nowMs()), { periodS: 300 })))).toBe('FERRY_FN_NOT_WHITELISTED');
  });

  it('refuses malformed schedules', async () => {
    const sch = new Scheduler({ service: svc, clock, workerId: 'w1', floorS: 5 });
    for (const bad of [{ periodS: 0 }, { periodS: 4 }, { periodS: 1.5 }, { writeTo: '' }, { writeTo: 'a b' }, { writeTo: 'k'.repeat(65) }]) {
      expect(codeOf(await sch.create(req(alice.token, bad)))).toBe('FERRY_FN_SCHEDULE_INVALID');
    }
    expect(codeOf(await sch.create(req(alice.token, { hash: 'x' })))).toBe('FERRY_FN_BAD_REQUEST');
    expect(codeOf(await sch.remove(alice.token, 'nope'))).toBe('FERRY_FN_NO_SUCH_SCHEDULE');
  });

  it('a schedule under a public token stops when the token expires or is revoked, or the hash leaves the white-list', async () => {
    const sch = new Scheduler({ service: svc, clock, workerId: 'w1' });
    const t = alice.mint({ schedule: { minPeriodS: 60 }, ttlS: 150 }, clock.nowMs());
    unwrap(await sch.create(req(t)));
    expect(codeOf((await sch.runDue())[0]!.result)).toBe('ok');
    unwrap(svc.setWhitelisted(alice.token, 'home', hash, false));
    clock.advance(60_000);
    expect(codeOf((await sch.runDue())[0]!.result)).toBe('FERRY_FN_NOT_WHITELISTED');
    unwrap(svc.setWhitelisted(alice.token, 'home', hash, true));
    clock.advance(120_000);
    expect(codeOf((await sch.runDue())[0]!.result)).toBe('FERRY_FN_TOKEN_EXPIRED');
    const r = alice.mint({ schedule: { minPeriodS: 60 } }, clock.nowMs());
    unwrap(await sch.create(req(r)));
    unwrap(svc.revoke(alice.token, r));
    // (The expired one already had its period 3 above.)
    expect((await sch.runDue()).map((x) => codeOf(x.result))).toEqual(['FERRY_FN_TOKEN_REVOKED']);
    expect(counter()).toBe('1');
  });

  it('start/stop drive runDue with injected timers', async () => {
    const sch = new Scheduler({ service: svc, clock, workerId: 'w1' });
    unwrap(await sch.create(req(alice.token)));
    let tick: (() => void) | undefined;
    let cleared = false;
    sch.start(1000, {
      set: (f) => (tick = f),
      clear: () => {
        cleared = true;
      },
    });
    tick!();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(counter()).toBe('1');
    sch.stop();
    expect(cleared).toBe(true);
  });
});

describe('MemoryLeaseStore', () => {
  it('grants one claim per (schedule, period), and none for a period older than one claimed', async () => {
    const l = new MemoryLeaseStore();
    expect(await Promise.all([l.claim('s', 0, 'a'), l.claim('s', 0, 'b')])).toEqual([true, false]);
    expect(l.holder('s', 0)).toBe('a');
    expect(await l.claim('t', 0, 'b')).toBe(true);
    expect(await l.claim('s', 2, 'b')).toBe(true);
    expect(await l.claim('s', 1, 'c')).toBe(false);
  });
});
