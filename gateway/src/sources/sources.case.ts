/**
 * @module The `Source` contract (types.ts) as one set of cases, run against every source over its own test
 * double: each implementation's `*.contract.test.ts` calls sourceContract() with a subject that builds the
 * source on its double. The cases hold what the daemon relies on: start and stop may be repeated, stop
 * needs no start, health() has its shape at any time, problems come through `sink.problem` and never as an
 * exception, and inputs come through the sink with the fields the daemon signs and publishes (a Reading's
 * device, kind, atMs, values and meta; a board's token, byte for byte). Not part of the contract: whether a
 * stopped source can be started again (BleSource and BoardSource can, SerialSensorSource cannot).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Reading, ReadingValue, Source, SourceProblem, SourceSink } from './types.ts';

/** One source over its test double. */
export interface SourceRig {
  /** Built, not started. */
  readonly source: Source;
  /**
   * Has the double send one valid input, unlike the previous one (a BTHome advert, a sensor frame, a signed
   * board message), and lets the source handle it. Resolves to the token sent when the source forwards
   * signed messages.
   */
  input(): Promise<Uint8Array | undefined>;
  /** The double fails under a started source (adapter off, port unplugged, board gone) and the source sees it. */
  fault(): Promise<void>;
  /** Lets the double's pending work run (I/O callbacks, HCI exchanges), as time would. */
  settle(): Promise<void>;
  /** Handles this source holds open on the double: ports, HCI sockets, board connections. */
  openHandles(): number;
}

export const SOURCE_CASES = [
  'health before start',
  'stop without start',
  'start twice',
  'stop twice',
  'health after start',
  'inputs through the sink',
  'problems through the sink',
  'a start that fails',
  'a throwing sink',
] as const;
export type SourceCase = (typeof SOURCE_CASES)[number];

export interface SourceSubject {
  /** What the source hands the daemon: decoded readings, or board-signed messages to forward unchanged. */
  readonly delivers: 'reading' | 'signed';
  /** A source over a fresh double; with `failing`, the double refuses the start (no adapter, no port). */
  rig(o?: { readonly failing?: boolean }): Promise<SourceRig>;
  /** Cases that cannot run on this double, each with why. */
  readonly skip?: Partial<Record<SourceCase, string>>;
}

/** A sink that records everything; `throws` makes every call throw after recording it. */
export class ContractSink implements SourceSink {
  readonly readings: Reading[] = [];
  readonly signedTokens: { token: Uint8Array; from: string }[] = [];
  readonly problems: SourceProblem[] = [];
  readonly #throws: boolean;
  constructor(throws = false) {
    this.#throws = throws;
  }
  reading(r: Reading): void {
    this.readings.push(r);
    this.#maybeThrow('reading');
  }
  signed(token: Uint8Array, from: string): void {
    this.signedTokens.push({ token: Uint8Array.from(token), from });
    this.#maybeThrow('signed');
  }
  problem(p: SourceProblem): void {
    this.problems.push(p);
    this.#maybeThrow('problem');
  }
  get inputs(): number {
    return this.readings.length + this.signedTokens.length;
  }
  #maybeThrow(what: string): void {
    if (this.#throws) throw new Error(`the sink refuses ${what}`);
  }
}

const isValue = (v: unknown): v is ReadingValue => (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string' || typeof v === 'boolean';

/** What the daemon needs of a reading: it signs {device, kind, ...values, meta} and publishes on .../<kind>/<device>. */
function expectUplinkFields(r: Reading): void {
  expect(typeof r.device === 'string' && r.device.length > 0, `device ${JSON.stringify(r.device)}`).toBe(true);
  expect(typeof r.kind === 'string' && /^[a-z0-9_-]+$/.test(r.kind), `kind ${JSON.stringify(r.kind)} is one topic segment`).toBe(true);
  expect(Number.isFinite(r.atMs)).toBe(true);
  expect(Object.keys(r.values).length).toBeGreaterThan(0);
  for (const [k, v] of Object.entries({ ...r.values, ...r.meta })) expect(isValue(v), `${k}: ${String(v)}`).toBe(true);
  expect(JSON.parse(JSON.stringify(r))).toEqual(r); // it travels as JSON
}

function expectHealthShape(s: Source): void {
  const h = s.health();
  expect(h.name).toBe(s.name);
  expect(typeof h.name === 'string' && h.name.length > 0).toBe(true);
  expect(typeof h.up).toBe('boolean');
  expect(h.lastInputMs === undefined || Number.isFinite(h.lastInputMs)).toBe(true);
  for (const [k, v] of Object.entries(h.counters)) expect(Number.isInteger(v) && v >= 0, `counter ${k} = ${v}`).toBe(true);
  expect(JSON.parse(JSON.stringify(h))).toEqual(h); // served as JSON by /health
}

function expectProblemShape(p: SourceProblem): void {
  expect(p.code).toMatch(/^FERRY_[A-Z0-9_]+$/);
  expect(typeof p.message === 'string' && p.message.length > 0).toBe(true);
  expect(p.device === undefined || typeof p.device === 'string').toBe(true);
}

/** Registers the contract cases for one implementation under `describe(name)`. */
export function sourceContract(name: string, subject: SourceSubject): void {
  describe(`${name}: the Source contract`, () => {
    const started: Source[] = [];
    afterEach(async () => {
      for (const s of started.splice(0)) await s.stop();
    });
    const rig = async (o?: { readonly failing?: boolean }): Promise<SourceRig> => {
      const r = await subject.rig(o);
      started.push(r.source);
      return r;
    };
    const start = async (r: SourceRig, sink: SourceSink): Promise<void> => {
      await r.source.start(sink);
      await r.settle();
    };
    const delivered = (sink: ContractSink): number => (subject.delivers === 'reading' ? sink.readings.length : sink.signedTokens.length);

    const cases: Record<SourceCase, () => Promise<void>> = {
      'health before start': async () => {
        const r = await rig();
        expectHealthShape(r.source);
        expect(r.source.health()).toMatchObject({ up: false, lastInputMs: undefined });
        expect(r.openHandles()).toBe(0);
      },

      'stop without start': async () => {
        const r = await rig();
        await r.source.stop();
        await r.source.stop();
        expect(r.source.health().up).toBe(false);
        expect(r.openHandles()).toBe(0);
      },

      'start twice': async () => {
        const r = await rig();
        const sink = new ContractSink();
        await Promise.all([r.source.start(sink), r.source.start(sink)]);
        await r.source.start(sink);
        await r.settle();
        expect(r.source.health().up).toBe(true);
        expect(r.openHandles()).toBe(1);
        await r.input();
        expect(delivered(sink)).toBe(1); // one subscription, not one per start
        await r.source.stop();
        expect(r.openHandles()).toBe(0);
      },

      'stop twice': async () => {
        const r = await rig();
        const sink = new ContractSink();
        await start(r, sink);
        await Promise.all([r.source.stop(), r.source.stop()]);
        await r.source.stop();
        await r.settle();
        expect(r.source.health().up).toBe(false);
        expect(r.openHandles()).toBe(0);
        await r.input();
        expect(sink.inputs).toBe(0); // nothing arrives after stop
        expectHealthShape(r.source);
      },

      'health after start': async () => {
        const r = await rig();
        const sink = new ContractSink();
        await start(r, sink);
        expectHealthShape(r.source);
        expect(r.source.health()).toMatchObject({ up: true, lastInputMs: undefined });
        await r.input();
        expectHealthShape(r.source);
        expect(Number.isFinite(r.source.health().lastInputMs)).toBe(true);
        expect(sink.problems).toEqual([]);
      },

      'inputs through the sink': async () => {
        const r = await rig();
        const sink = new ContractSink();
        await start(r, sink);
        const sent = [await r.input(), await r.input()];
        expect(sink.problems).toEqual([]);
        if (subject.delivers === 'reading') {
          expect(sink.signedTokens).toEqual([]);
          expect(sink.readings).toHaveLength(2);
          for (const reading of sink.readings) expectUplinkFields(reading);
          expect(r.source.health().lastInputMs).toBe(sink.readings[1]!.atMs);
        } else {
          expect(sink.readings).toEqual([]);
          expect(sink.signedTokens.map((s) => s.token)).toEqual(sent); // forwarded byte for byte
          for (const s of sink.signedTokens) expect(typeof s.from === 'string' && s.from.length > 0).toBe(true);
        }
      },

      'problems through the sink': async () => {
        const r = await rig();
        const sink = new ContractSink();
        await start(r, sink);
        await r.fault();
        expect(sink.problems.length).toBeGreaterThan(0);
        for (const p of sink.problems) expectProblemShape(p);
        expect(r.source.health().up).toBe(false);
        expectHealthShape(r.source);
      },

      'a start that fails': async () => {
        const r = await rig({ failing: true });
        const sink = new ContractSink();
        await start(r, sink); // resolves: a missing adapter or port is a problem, not a rejection
        expect(sink.problems.length).toBeGreaterThan(0);
        for (const p of sink.problems) expectProblemShape(p);
        expect(r.source.health().up).toBe(false);
        expectHealthShape(r.source);
        await r.source.stop();
        expect(r.openHandles()).toBe(0);
      },

      'a throwing sink': async () => {
        const r = await rig();
        const sink = new ContractSink(true);
        await start(r, sink);
        await r.input(); // the sink throws on it: the source must not pass that on
        await r.input();
        expect(delivered(sink)).toBe(2);
        expect(r.source.health().up).toBe(true);
        await r.fault(); // problems too reach a throwing sink without escaping
        expect(sink.problems.length).toBeGreaterThan(0);
        expectHealthShape(r.source);
      },
    };

    for (const c of SOURCE_CASES) {
      const why = subject.skip?.[c];
      if (why === undefined) it(c, cases[c]);
      else it.skip(`${c} (skipped: ${why})`, cases[c]);
    }
  });
}
