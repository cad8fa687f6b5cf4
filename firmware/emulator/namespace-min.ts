/**
 * @module The thermostat deciding with its namespace (docs/functions.md, "Online/offline"). Before each tick the
 * board's host asks `min_temperature(maxAge)` (firmware/assembly/fn/min-temperature.ts) through a
 * RemoteFunction: the cloud when online, whose namespace holds every room reader; the board itself when
 * offline. The answer goes into the board's state as `temp.ns-min` = "<celsius> <unix ms>", the firmware's
 * reading format, so the unchanged firmware decides on the minimum of it, its own sensor and whatever else
 * its state holds. maxAge is the firmware's own (`cfg.max_age_s`, default 300 s), and the function filters
 * readings exactly as the firmware does, so the same entries give the same decision in both places.
 *
 * The local run does not see `temp.ns-min` nor the board's own `temp.<id>`: the first is this host's own
 * output (read back, an old cloud answer restamped every tick would never go stale), the second the
 * firmware replaces with the reading of the tick. Offline the answer is thus the minimum over the other
 * readers in the board's state, which the firmware counts anyway: the decision is the one it makes alone.
 */
import { readFileSync } from 'node:fs';
import { STATUS } from '@ferry/abi';
import type { CallResult, KeyValueState } from '@ferry/wasm-host';
import { MIN_TEMPERATURE_WASM } from '../paths.ts';
import type { EmulatedBoard } from './board.ts';
import { RemoteFunction, type RemoteFunctionOptions, type RemoteResult } from './remote.ts';

/** The state key the host writes the namespace minimum to. */
export const NS_MIN_KEY = 'temp.ns-min';
/** min_temperature's answer when no reading qualifies. */
export const NO_READING = -(2 ** 31);
/** The firmware's default tick period and freshness bound (thermostat.ts, board.ts). */
const DEFAULT_TICK_MS = 10_000;
const DEFAULT_MAX_AGE_S = 300;

/** Hundredths as the firmware writes them: "-1.05", "18.75". */
export function centiText(centi: number): string {
  const a = Math.abs(centi);
  return `${centi < 0 ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** A view of a state without some keys (the local run's view, see the module comment). */
export class StateWithout implements KeyValueState {
  private readonly inner: KeyValueState;
  private readonly hidden: ReadonlySet<string>;
  constructor(inner: KeyValueState, hidden: Iterable<string>) {
    this.inner = inner;
    this.hidden = new Set(hidden);
  }
  get(key: string): Uint8Array | undefined {
    return this.hidden.has(key) ? undefined : this.inner.get(key);
  }
  set(key: string, value: Uint8Array): number {
    return this.hidden.has(key) ? STATUS.BAD_ARGUMENT.value : this.inner.set(key, value);
  }
  keyAt(prefix: string, index: number): string | undefined {
    // Walks the inner keys from the start: a handful of hidden keys, and namespaces of a few dozen readers.
    let seen = 0;
    for (let i = 0; ; i++) {
      const k = this.inner.keyAt(prefix, i);
      if (k === undefined) return undefined;
      if (this.hidden.has(k)) continue;
      if (seen++ === index) return k;
    }
  }
}

export interface NamespaceMinimumOptions extends Omit<RemoteFunctionOptions, 'host' | 'module'> {
  /** The module (default the firmware build's min-temperature.wasm). */
  readonly module?: Uint8Array;
  /** Simulated time per tick (default 10 s, the board's default). */
  readonly tickMs?: number;
}

export class NamespaceMinimum {
  readonly fn: RemoteFunction;
  private readonly board: EmulatedBoard;
  private readonly tickMs: number;

  private constructor(board: EmulatedBoard, fn: RemoteFunction, tickMs: number) {
    this.board = board;
    this.fn = fn;
    this.tickMs = tickMs;
  }

  static async create(board: EmulatedBoard, opts: NamespaceMinimumOptions): Promise<NamespaceMinimum> {
    const host = { deviceId: board.deviceId, clock: board.clock, state: new StateWithout(board.state, [NS_MIN_KEY, `temp.${board.deviceId}`]) };
    const fn = await RemoteFunction.create({ downlink: board.downlink, ...opts, host, module: opts.module ?? readFileSync(MIN_TEMPERATURE_WASM) });
    return new NamespaceMinimum(board, fn, opts.tickMs ?? DEFAULT_TICK_MS);
  }

  /** The firmware's freshness bound: `cfg.max_age_s` when it is an unsigned integer, else 300 s (thermostat.ts tick). */
  maxAgeMs(): number {
    const s = this.board.state.getText('cfg.max_age_s');
    return (s !== undefined && /^[0-9]{1,15}$/.test(s) ? Number(s) : DEFAULT_MAX_AGE_S) * 1000;
  }

  /** Asks for the namespace minimum now and writes it (or removes a stale one) under temp.ns-min. */
  async refresh(): Promise<RemoteResult> {
    const r = await this.fn.call('min_temperature', [String(this.maxAgeMs())]);
    const state = this.board.state;
    if (r.ok && typeof r.value === 'number' && r.value !== NO_READING) state.setText(NS_MIN_KEY, `${centiText(r.value)} ${this.board.clock.nowMs()}`);
    else state.delete(NS_MIN_KEY); // no reading, or a refusal: the firmware decides on what it has
    return r;
  }

  /**
   * One control period: time passes, the namespace minimum is asked for and written, the firmware ticks.
   * The firmware ticks whatever the answer: a refusal is returned in `min`, the furnace is still controlled.
   */
  async tick(ms: number = this.tickMs): Promise<{ readonly tick: CallResult; readonly min: RemoteResult }> {
    this.board.advance(ms);
    const min = await this.refresh();
    return { tick: this.board.tick(0), min };
  }
}
