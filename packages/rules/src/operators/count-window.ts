/**
 * @module Tumbling and sliding count windows, per group: emit over the last `size` records every `slide` records.
 *
 * The first result of a group comes once it has `size` records (a 5-record average is over 5 records),
 * then every `slide` records. Time does not close count windows; windowStart/windowEnd are the timestamps
 * of the first and last record in the window (both inclusive).
 */
import { limitError, type RuleLimits } from '../core/limits.ts';
import type { AggregatePlan } from '../core/plan.ts';
import { expectArray, expectFinite, expectObject, expectTimestamp, field, valueError } from '../core/validate.ts';
import type { AggregateCall, Contribution } from './accumulate.ts';
import { addAll, aggregateCalls, buildPayload, emptyAcc, evaluate, restoreKey } from './accumulate.ts';
import type { Accepted, Emitted, Operator } from './operator.ts';

type Entry = { ts: number; c: readonly Contribution[] };
type Group = { key: string | null; entries: Entry[] };

export class CountWindowOperator implements Operator {
  readonly #plan: AggregatePlan;
  readonly #calls: readonly AggregateCall[];
  readonly #size: number;
  readonly #slide: number;
  /** Groups by key; a Map keeps insertion order, so snapshots list groups as they came. */
  #groups = new Map<string | null, Group>();
  readonly #limits: RuleLimits;

  constructor(plan: AggregatePlan, limits: RuleLimits) {
    this.#plan = plan;
    this.#limits = limits;
    this.#calls = aggregateCalls(plan);
    this.#size = plan.window.size;
    this.#slide = plan.window.slide;
  }

  isLate(): boolean {
    return false;
  }

  advance(): readonly Emitted[] {
    return [];
  }

  accept(_inputs: readonly (0 | 1)[], record: unknown, timestampMs: number): Accepted {
    const evaluated = evaluate(this.#plan, this.#calls, record);
    if (evaluated === null) return { filtered: true, emitted: [] };
    const group = this.#groups.get(evaluated.key);
    if (group === undefined && this.#groups.size >= this.#limits.maxGroups) {
      throw limitError('maxGroups', `a count window would hold more than ${this.#limits.maxGroups} groups`);
    }
    const entries = [...(group?.entries ?? []), { ts: timestampMs, c: evaluated.contributions }];
    const emitted: Emitted[] = [];
    let kept = entries;
    if (entries.length === this.#size) {
      // Fold before committing: an overflow must leave the group unchanged.
      let accs = this.#calls.map(emptyAcc);
      for (const entry of entries) accs = addAll(this.#calls, accs, entry.c);
      const first = entries[0]?.ts ?? timestampMs;
      emitted.push({ payload: buildPayload(this.#plan, accs, evaluated.key, first, timestampMs), eventTimeMs: timestampMs });
      kept = entries.slice(this.#slide);
    }
    if (group === undefined) this.#groups.set(evaluated.key, { key: evaluated.key, entries: kept });
    else group.entries = kept;
    return { filtered: false, emitted };
  }

  snapshot(): unknown {
    return {
      kind: 'count-window',
      groups: [...this.#groups.values()].map((group) => ({ key: group.key, entries: group.entries.map((entry) => ({ ts: entry.ts, c: [...entry.c] })) })),
    };
  }

  restore(state: unknown, path: string): void {
    const object = expectObject(state, path, ['kind', 'groups']);
    if (field(object, 'kind') !== 'count-window') throw valueError(`${path}.kind`, 'must be "count-window"');
    const grouped = this.#plan.groupBy !== null;
    const seen = new Set<string | null>();
    const groups = expectArray(field(object, 'groups'), `${path}.groups`).map((item, index): Group => {
      const at = `${path}.groups[${index}]`;
      const group = expectObject(item, at, ['key', 'entries']);
      const key = restoreKey(field(group, 'key'), `${at}.key`, grouped);
      if (seen.has(key)) throw valueError(`${at}.key`, 'repeats a group key');
      seen.add(key);
      const entries = expectArray(field(group, 'entries'), `${at}.entries`).map((entryItem, entryIndex): Entry => {
        const entryAt = `${at}.entries[${entryIndex}]`;
        const entry = expectObject(entryItem, entryAt, ['ts', 'c']);
        const c = expectArray(field(entry, 'c'), `${entryAt}.c`);
        if (c.length !== this.#calls.length) throw valueError(`${entryAt}.c`, `must hold ${this.#calls.length} contributions`);
        return {
          ts: expectTimestamp(field(entry, 'ts'), `${entryAt}.ts`),
          c: c.map((value, i) => (value === null ? null : expectFinite(value, `${entryAt}.c[${i}]`))),
        };
      });
      if (entries.length >= this.#size) throw valueError(`${at}.entries`, `must hold fewer than ${this.#size} records`);
      return { key, entries };
    });
    this.#groups = new Map(groups.map((g) => [g.key, g]));
  }
}
