/** The pipeline end to end over real signed tokens, with spies on each port. */
import { describe, expect, it } from 'vitest';
import { MemoryReorderStore } from './memory-reorder-store.ts';
import { MemoryTimeSeries } from './memory-time-series.ts';
import { Ingest } from './pipeline.ts';
import type { ApplyResult, Arrival, Point, ReorderStore, TimeSeriesStore } from './ports.ts';
import type { IngestEvent, IngestOutcome } from './steps.ts';
import { FakeClock } from '@ferry/test-kit/clock';
import { keyOf, token } from '@ferry/test-kit/ingest';

const keys = (kid: string) => (kid.startsWith('unknown') ? undefined : keyOf(kid));
const cfg = { window: 16, timeoutMs: 100, groupTimeoutMs: 1_000, maxOpenGroups: 4 };

function setup(extra: { reorder?: ReorderStore<Arrival>; series?: TimeSeriesStore } = {}) {
  const clock = new FakeClock(0);
  const series = new MemoryTimeSeries();
  const ing = new Ingest({ keys, clock, reorderConfig: cfg, series, ...extra });
  const events: IngestEvent[] = [];
  ing.subscribe((e) => {
    events.push(e);
  });
  return { clock, series, ing, events };
}
const sync = (o: IngestOutcome | Promise<IngestOutcome>): IngestOutcome => {
  if (o instanceof Promise) throw new Error('expected a synchronous outcome');
  return o;
};
const tamper = (t: string): string => `${t.slice(0, -3)}${t.at(-3) === 'A' ? 'B' : 'A'}${t.slice(-2)}`;

describe('Ingest pipeline', () => {
  it('names its steps in order', () => {
    expect(setup().ing.steps).toEqual(['verify', 'limit', 'sequence', 'events', 'store', 'confirm', 'dispatch']);
  });
  it('accepts, re-orders, stores per stream and dispatches; synchronously with in-memory ports', () => {
    const { ing, series, events, clock } = setup();
    clock.set(5);
    expect(sync(ing.ingest(token('th-01', 1, 1)))).toEqual({ status: 'accepted', kid: 'th-01', ep: 1, sq: 1, released: 0 });
    clock.set(7);
    const o = sync(ing.ingest(new TextEncoder().encode(token('th-01', 1, 0))));
    expect(o).toMatchObject({ status: 'accepted', sq: 0, released: 2 });
    expect(events.map((e) => e.type === 'message' && [e.stream, e.sq, e.at])).toEqual([
      ['th-01/tel', 0, 7],
      ['th-01/tel', 1, 5],
    ]);
    expect(series.query('th-01/tel', 0, 100)).toEqual<Point[]>([
      { ts: 5, kid: 'th-01', ep: 1, sq: 1, value: { sq: 1 } },
      { ts: 7, kid: 'th-01', ep: 1, sq: 0, value: { sq: 0 } },
    ]);
    expect(ing.counters()).toMatchObject({ accepted: 2, released: 2 });
  });
  it('a late arrival (its seq already released as a gap) is stored once, but never released out of order', () => {
    const { ing, series, events, clock } = setup();
    ing.ingest(token('th-01', 1, 1)); // waits for 0
    clock.set(100);
    expect(ing.tick()).toBe(2); // the gap [0, 1), then 1
    clock.set(150);
    expect(sync(ing.ingest(token('th-01', 1, 0)))).toMatchObject({ status: 'late', error: { code: 'FERRY_INGEST_LATE' }, released: 0 });
    expect(sync(ing.ingest(token('th-01', 1, 0)))).toMatchObject({ status: 'late' }); // again: stored once
    expect(events.map((e) => (e.type === 'gap' ? `gap ${e.from}-${e.to}` : e.type === 'message' ? `msg ${e.sq}` : e.type))).toEqual(['gap 0-1', 'msg 1']);
    expect(series.query('th-01/tel', 0, 1000).map((p) => [p.sq, p.ts])).toEqual([
      [1, 0],
      [0, 150],
    ]);
    expect(ing.counters()).toMatchObject({ late: 2, late_stored: 2, gap: 1, released: 1 });
  });
  // Regression: a verified message that the window had passed before it arrived (its sender was held back
  // behind the rest of its stream) was dropped as a replay, and acknowledged: lost.
  it('a verified message below the window is kept in the series, never released; a true replay changes nothing', () => {
    const { ing, series, events } = setup();
    for (const sq of [0, 1]) ing.ingest(token('th-01', 1, sq));
    ing.ingest(token('th-01', 1, 40)); // slides the window: 2..24 become a gap
    expect(sync(ing.ingest(token('th-01', 1, 3)))).toMatchObject({ status: 'replay', error: { code: 'FERRY_INGEST_REPLAY' } });
    expect(sync(ing.ingest(token('th-01', 1, 0)))).toMatchObject({ status: 'replay' }); // a real replay
    expect(
      series
        .query('th-01/tel', 0, 1000)
        .map((p) => p.sq)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 3]);
    expect(events.filter((e) => e.type === 'message').map((e) => e.type === 'message' && e.sq)).toEqual([0, 1]);
    expect(ing.counters()).toMatchObject({ replay: 2, replay_stored: 2 });
  });
  it('a flood from one device is rate limited after the MAC; other devices, and the same one later, go on', () => {
    const clock = new FakeClock(0);
    const ing = new Ingest({ keys, clock, reorderConfig: cfg, deviceRate: { perSecond: 2, burst: 3 } });
    const status = (kid: string, sq: number) => sync(ing.ingest(token(kid, 1, sq))).status;
    expect([0, 1, 2, 3, 4].map((sq) => status('flood', sq))).toEqual(['accepted', 'accepted', 'accepted', 'rate_limited', 'rate_limited']);
    expect(sync(ing.ingest(token('flood', 1, 5))).error?.code).toBe('FERRY_INGEST_RATE_LIMITED');
    expect(status('calm', 0)).toBe('accepted');
    // A forged message naming the flooding device's victim spends nothing: the MAC is checked first.
    for (let i = 0; i < 10; i++) expect(sync(ing.ingest(tamper(token('victim', 1, i)))).status).toBe('rejected');
    expect(status('victim', 0)).toBe('accepted');
    clock.set(1000); // two tokens back
    expect([6, 7, 8].map((sq) => status('flood', sq))).toEqual(['accepted', 'accepted', 'rate_limited']);
    expect(ing.counters()).toMatchObject({ rate_limited: 4, accepted: 7 });
    expect(() => new Ingest({ keys, deviceRate: { perSecond: 0, burst: 1 } })).toThrow(expect.objectContaining({ code: 'FERRY_INGEST_CONFIG' }));
  });
  it('a tampered token is rejected before sequencing: the store is never called and no window moves', () => {
    const calls: string[] = [];
    const inner = new MemoryReorderStore<Arrival>(cfg);
    const spy: ReorderStore<Arrival> = {
      config: cfg,
      apply: (k, m, n) => {
        calls.push(k);
        return inner.apply(k, m, n);
      },
      tick: (n) => inner.tick(n),
      flush: (n) => inner.flush(n),
      forget: (k, n) => inner.forget(k, n),
    };
    const { ing } = setup({ reorder: spy });
    const o = sync(ing.ingest(tamper(token('th-01', 1, 0))));
    expect(o.status).toBe('rejected');
    expect(o.error?.code).toBe('FERRY_INGEST_REJECTED');
    expect(o.error?.messageCode).toBe('FERRY_MSG_BAD_SIGNATURE');
    expect(calls).toEqual([]);
    expect(sync(ing.ingest(token('th-01', 1, 0))).status).toBe('accepted');
    expect(ing.counters()).toMatchObject({ rejected: 1, bad_signature: 1, rejected_by_code: { FERRY_MSG_BAD_SIGNATURE: 1 }, accepted: 1 });
  });
  it('counts every verification failure by its message code', () => {
    const { ing } = setup();
    ing.ingest('not a token');
    ing.ingest(token('unknown-1', 0, 0)); // signed, but the lookup knows no key for this kid
    ing.ingest(new Uint8Array(3000));
    expect(ing.counters().rejected_by_code).toEqual({ FERRY_MSG_SEGMENTS: 1, FERRY_MSG_UNKNOWN_KEY: 1, FERRY_MSG_TOO_LARGE: 1 });
  });
  it('drops duplicates, replays and late messages with typed errors, and counts them', () => {
    const { ing } = setup();
    for (let sq = 0; sq < 40; sq++) ing.ingest(token('a', 1, sq));
    expect(sync(ing.ingest(token('a', 1, 39))).error?.code).toBe('FERRY_INGEST_DUPLICATE');
    expect(sync(ing.ingest(token('a', 1, 3))).error?.code).toBe('FERRY_INGEST_REPLAY');
    ing.ingest(token('a', 2, 0));
    expect(sync(ing.ingest(token('a', 1, 40))).error?.num).toBe(4505);
    expect(ing.counters()).toMatchObject({ accepted: 41, duplicate: 1, replay: 1, late: 1, released: 41 });
  });
  it('tick releases timed-out gaps by the injected clock; gaps are dispatched and counted, not stored', () => {
    const { ing, events, clock, series } = setup();
    ing.ingest(token('a', 1, 0));
    ing.ingest(token('a', 1, 3));
    clock.set(99);
    expect(ing.tick()).toBe(0);
    clock.set(100);
    expect(ing.tick()).toBe(2);
    expect(events.map((e) => e.type)).toEqual(['message', 'gap', 'message']);
    expect(series.query('a/tel', 0, 1_000)).toHaveLength(2);
    expect(ing.counters()).toMatchObject({ gap: 2, gap_ranges: 1 });
  });
  it('a group is stored as one point and dispatched as one event; flush releases incomplete ones', () => {
    const { ing, events, series } = setup();
    ing.ingest(token('a', 1, 0, { id: 4, part: 0, parts: 2 }, 1.5));
    ing.ingest(token('a', 1, 1, { id: 4, part: 1, parts: 2 }, 2.5));
    ing.ingest(token('a', 1, 2, { id: 5, part: 1, parts: 2 }, 9));
    expect(ing.flush()).toBe(1);
    expect(events.map((e) => e.type === 'group' && [e.id, e.complete, e.missing])).toEqual([
      [4, true, []],
      [5, false, [0]],
    ]);
    expect(series.query('a/tel', 0, 1).map((p) => p.value)).toEqual([
      { group: 4, parts: 2, missing: [], values: [1.5, 2.5] },
      { group: 5, parts: 2, missing: [0], values: [null, 9] },
    ]);
    expect(ing.counters()).toMatchObject({ group_complete: 1, group_timeout: 1, released: 0 });
  });
  it('a failing subscriber or time-series store is counted and stops nothing', () => {
    const series: TimeSeriesStore = {
      append: () => {
        throw new Error('disk full');
      },
      query: () => [],
    };
    const errors: string[] = [];
    const ing = new Ingest({ keys, series, clock: new FakeClock(0), onError: (e) => errors.push(e.code) });
    const events: IngestEvent[] = [];
    ing.subscribe(() => {
      throw new Error('bad subscriber');
    });
    ing.subscribe((e) => {
      events.push(e);
    });
    expect(sync(ing.ingest(token('a', 1, 0))).status).toBe('accepted');
    expect(events).toHaveLength(1);
    expect(ing.counters()).toMatchObject({ store_error: 1, subscriber_error: 1 });
    expect(errors).toEqual(['FERRY_INGEST_STORE', 'FERRY_INGEST_SUBSCRIBER']);
  });
  it('a failing reorder store fails the message (not acknowledged) and counts it', () => {
    const broken: ReorderStore<Arrival> = {
      config: cfg,
      apply: () => {
        throw new Error('down');
      },
      tick: () => {
        throw new Error('down');
      },
      flush: () => [],
      forget: () => [],
    };
    const { ing } = setup({ reorder: broken });
    const o = sync(ing.ingest(token('a', 1, 0)));
    expect(o.status).toBe('failed');
    expect(o.error?.code).toBe('FERRY_INGEST_REORDER_STORE');
    expect(ing.tick()).toBe(0);
    expect(ing.counters().reorder_store_error).toBe(2);
  });
  it('async ports make ingest return a promise with the same results', async () => {
    const inner = new MemoryReorderStore<Arrival>(cfg);
    const mem = new MemoryTimeSeries();
    const reorder: ReorderStore<Arrival> = {
      config: cfg,
      apply: async (k, m, n): Promise<ApplyResult<Arrival>> => inner.apply(k, m, n),
      tick: async (n) => inner.tick(n),
      flush: async (n) => inner.flush(n),
      forget: async (k, n) => inner.forget(k, n),
    };
    const series: TimeSeriesStore = { append: async (s, p) => mem.append(s, p), query: async (s, f, t) => mem.query(s, f, t) };
    const { ing, events } = setup({ reorder, series });
    const first = ing.ingest(token('a', 1, 1));
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ status: 'accepted', released: 0 });
    expect(await ing.ingest(token('a', 1, 0))).toMatchObject({ status: 'accepted', released: 2 });
    expect(await ing.ingest(token('a', 1, 0))).toMatchObject({ status: 'duplicate' });
    expect(events).toHaveLength(2);
    expect(await series.query('a/tel', 0, Infinity)).toHaveLength(2);
    const broken: ReorderStore<Arrival> = {
      ...reorder,
      apply: async () => {
        throw new Error('down');
      },
    };
    expect(await setup({ reorder: broken }).ing.ingest(token('a', 1, 0))).toMatchObject({ status: 'failed' });
  });
  it('a custom streamOf names streams; if it throws, the default stream is used', () => {
    const series = new MemoryTimeSeries();
    const ing = new Ingest({
      keys,
      series,
      clock: new FakeClock(0),
      streamOf: (m) => {
        if (m.header.sq === 1) throw new Error('x');
        return `room/${m.header.kid}`;
      },
    });
    ing.ingest(token('a', 1, 0));
    ing.ingest(token('a', 1, 1));
    expect(series.streams()).toEqual(['a/tel', 'room/a']);
  });
  it('unsubscribe stops delivery', () => {
    const { ing } = setup();
    const seen: number[] = [];
    const off = ing.subscribe((e) => {
      if (e.type === 'message') seen.push(e.sq);
    });
    ing.ingest(token('a', 1, 0));
    off();
    ing.ingest(token('a', 1, 1));
    expect(seen).toEqual([0]);
  });
});
