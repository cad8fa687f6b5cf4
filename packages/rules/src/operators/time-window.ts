/**
 * @module Tumbling and sliding time windows with per-group accumulators, closed as the job's time passes their end.
 *
 * Windows are aligned to the epoch: [k*slide, k*slide + size). A record joins every window that contains
 * it and is still open (end > time); a record whose windows have all closed is late. Each window keeps
 * one accumulator per aggregate and group, so memory does not grow with the record rate.
 */
import { limitError, type RuleLimits } from '../core/limits.ts';
import type { AggregatePlan } from '../core/plan.ts';
import { expectArray, expectObject, expectTimestamp, field, valueError } from '../core/validate.ts';
import type { Acc, AggregateCall } from './accumulate.ts';
import { addAll, aggregateCalls, buildPayload, emptyAcc, evaluate, restoreAccs, restoreKey } from './accumulate.ts';
import type { Accepted, Emitted, Operator } from './operator.ts';

type Group = { key: string | null; accs: Acc[] };
/** Groups by key: a Map keeps insertion order (snapshots list groups as they came) and finds a key in O(1). */
type Window = { start: number; groups: Map<string | null, Group> };

export class TimeWindowOperator implements Operator {
  readonly #plan: AggregatePlan;
  readonly #calls: readonly AggregateCall[];
  readonly #size: number;
  readonly #slide: number;
  /** Open windows, ascending by start (all share one size, so also by end). */
  #windows: Window[] = [];
  /** The same windows by start. */
  #byStart = new Map<number, Window>();
  readonly #limits: RuleLimits;

  constructor(plan: AggregatePlan, limits: RuleLimits) {
    this.#plan = plan;
    this.#limits = limits;
    this.#calls = aggregateCalls(plan);
    this.#size = plan.window.size;
    this.#slide = plan.window.slide;
  }

  /** The newest window holding the record ends at floor(ts/slide)*slide + size; if that one closed, all did. */
  isLate(timestampMs: number, timeMs: number | null): boolean {
    return timeMs !== null && Math.floor(timestampMs / this.#slide) * this.#slide + this.#size <= timeMs;
  }

  advance(timeMs: number): readonly Emitted[] {
    const emitted: Emitted[] = [];
    while (this.#windows.length > 0) {
      const window = this.#windows[0];
      if (window === undefined || window.start + this.#size > timeMs) break;
      this.#windows.shift();
      this.#byStart.delete(window.start);
      const end = window.start + this.#size;
      for (const group of window.groups.values()) {
        emitted.push({ payload: buildPayload(this.#plan, group.accs, group.key, window.start, end), eventTimeMs: end });
      }
    }
    return emitted;
  }

  accept(_inputs: readonly (0 | 1)[], record: unknown, timestampMs: number, timeMs: number): Accepted {
    const evaluated = evaluate(this.#plan, this.#calls, record);
    if (evaluated === null) return { filtered: true, emitted: [] };
    // Compute every updated accumulator first: an overflow in any window must leave all windows unchanged.
    const updates: { start: number; accs: Acc[] }[] = [];
    for (let k = Math.floor(timestampMs / this.#slide); k * this.#slide + this.#size > timeMs; k--) {
      const start = k * this.#slide;
      const window = this.#byStart.get(start);
      const found = window?.groups.get(evaluated.key);
      if (found === undefined && (window?.groups.size ?? 0) >= this.#limits.maxGroups) {
        throw limitError('maxGroups', `a time window would hold more than ${this.#limits.maxGroups} groups`);
      }
      const current = found?.accs ?? this.#calls.map(emptyAcc);
      updates.push({ start, accs: addAll(this.#calls, current, evaluated.contributions) });
    }
    for (const update of updates) this.#commit(update.start, evaluated.key, update.accs);
    return { filtered: false, emitted: [] };
  }

  #commit(start: number, key: string | null, accs: Acc[]): void {
    let window = this.#byStart.get(start);
    if (window === undefined) {
      window = { start, groups: new Map() };
      let index = this.#windows.findIndex((w) => w.start > start); // at most size/slide open windows
      if (index === -1) index = this.#windows.length;
      this.#windows.splice(index, 0, window);
      this.#byStart.set(start, window);
    }
    const group = window.groups.get(key);
    if (group === undefined) window.groups.set(key, { key, accs });
    else group.accs = accs;
  }

  snapshot(): unknown {
    return {
      kind: 'time-window',
      windows: this.#windows.map((window) => ({
        start: window.start,
        groups: [...window.groups.values()].map((group) => ({ key: group.key, accs: group.accs.map((acc) => [...acc]) })),
      })),
    };
  }

  restore(state: unknown, path: string): void {
    const object = expectObject(state, path, ['kind', 'windows']);
    if (field(object, 'kind') !== 'time-window') throw valueError(`${path}.kind`, 'must be "time-window"');
    const grouped = this.#plan.groupBy !== null;
    let previous = -Infinity;
    const windows = expectArray(field(object, 'windows'), `${path}.windows`).map((item, index): Window => {
      const at = `${path}.windows[${index}]`;
      const window = expectObject(item, at, ['start', 'groups']);
      const start = expectTimestamp(field(window, 'start'), `${at}.start`);
      if (start <= previous || !Number.isInteger(start / this.#slide)) throw valueError(`${at}.start`, 'must ascend in multiples of the slide');
      previous = start;
      const seen = new Set<string | null>();
      const groups = expectArray(field(window, 'groups'), `${at}.groups`).map((groupItem, groupIndex): Group => {
        const groupAt = `${at}.groups[${groupIndex}]`;
        const group = expectObject(groupItem, groupAt, ['key', 'accs']);
        const key = restoreKey(field(group, 'key'), `${groupAt}.key`, grouped);
        if (seen.has(key)) throw valueError(`${groupAt}.key`, 'repeats a group key');
        seen.add(key);
        return { key, accs: restoreAccs(field(group, 'accs'), `${groupAt}.accs`, this.#calls.length) };
      });
      return { start, groups: new Map(groups.map((g) => [g.key, g])) };
    });
    this.#windows = windows;
    this.#byStart = new Map(windows.map((w) => [w.start, w]));
  }
}
