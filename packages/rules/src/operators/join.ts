/**
 * @module Two-stream interval join: a left and a right record with equal keys and timestamps at most
 * `withinMs` apart are merged into one output.
 *
 * Each side buffers its records. A record more than `withinMs` behind the job's time is late; buffered
 * records are kept for 2 x `withinMs` behind it, exactly long enough that every record that is not late
 * still meets all of its partners, whatever order the two streams interleave in.
 */
import { RuleError } from '../errors.ts';
import { evalPredicate, readKey } from '../expr.ts';
import type { JoinPlan } from '../plan.ts';
import { expectArray, expectObject, expectTimestamp, expectString, field, isJsonValue, isPlainObject, valueError } from '../validate.ts';
import type { Accepted, Emitted, Operator } from './operator.ts';
import { project } from './stream.ts';

type Entry = { readonly ts: number; readonly key: string; readonly record: Record<string, unknown> };
type Pair = { readonly left: Entry; readonly right: Entry };

export class JoinOperator implements Operator {
  readonly #plan: JoinPlan;
  #left: Entry[] = [];
  #right: Entry[] = [];

  constructor(plan: JoinPlan) {
    this.#plan = plan;
  }

  isLate(timestampMs: number, timeMs: number | null): boolean {
    return timeMs !== null && timestampMs < timeMs - this.#plan.withinMs;
  }

  advance(timeMs: number): readonly Emitted[] {
    const cutoff = timeMs - 2 * this.#plan.withinMs;
    this.#left = this.#left.filter((entry) => entry.ts >= cutoff);
    this.#right = this.#right.filter((entry) => entry.ts >= cutoff);
    return [];
  }

  accept(inputs: readonly (0 | 1)[], record: unknown, timestampMs: number): Accepted {
    if (!isPlainObject(record) || !isJsonValue(record)) {
      throw new RuleError('FERRY_RULES_EVAL_INPUT', 'a joined record must be a plain JSON object');
    }
    // Buffer a private copy: the caller may reuse its object, and the snapshot must equal what is held.
    const copy = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
    const within = this.#plan.withinMs;
    const matches = (a: Entry, b: Entry): boolean => a.key === b.key && Math.abs(a.ts - b.ts) <= within;
    let left = this.#left;
    let right = this.#right;
    const pairs: Pair[] = [];
    // Left first, so a record on both sides (overlapping topic filters, self-join) meets itself once.
    for (const input of [...inputs].sort()) {
      if (input === 0) {
        const entry = { ts: timestampMs, key: readKey(this.#plan.on.left, [copy]), record: copy };
        for (const partner of right) if (matches(entry, partner)) pairs.push({ left: entry, right: partner });
        left = [...left, entry];
      } else {
        const entry = { ts: timestampMs, key: readKey(this.#plan.on.right, [undefined, copy]), record: copy };
        for (const partner of left) if (matches(partner, entry)) pairs.push({ left: partner, right: entry });
        right = [...right, entry];
      }
    }
    const emitted: Emitted[] = [];
    for (const pair of pairs) {
      const records = [pair.left.record, pair.right.record];
      if (this.#plan.filter !== null && !evalPredicate(this.#plan.filter, records)) continue;
      const payload = project(this.#plan.project, records, () => ({ ...pair.left.record, ...pair.right.record }));
      // Deep copy: a payload must not alias buffered records, which a host could otherwise mutate.
      emitted.push({ payload: JSON.parse(JSON.stringify(payload)) as unknown, eventTimeMs: Math.max(pair.left.ts, pair.right.ts) });
    }
    // Nothing above changed state; commit only now that no evaluation threw.
    this.#left = left;
    this.#right = right;
    return { filtered: false, emitted };
  }

  snapshot(): unknown {
    const entries = (side: readonly Entry[]): unknown => side.map((entry) => ({ ts: entry.ts, key: entry.key, record: entry.record }));
    return JSON.parse(JSON.stringify({ kind: 'join', left: entries(this.#left), right: entries(this.#right) }));
  }

  restore(state: unknown, path: string): void {
    const object = expectObject(state, path, ['kind', 'left', 'right']);
    if (field(object, 'kind') !== 'join') throw valueError(`${path}.kind`, 'must be "join"');
    const side = (name: 'left' | 'right'): Entry[] =>
      expectArray(field(object, name), `${path}.${name}`).map((item, index): Entry => {
        const at = `${path}.${name}[${index}]`;
        const entry = expectObject(item, at, ['ts', 'key', 'record']);
        const record = field(entry, 'record');
        if (!isPlainObject(record) || !isJsonValue(record)) throw valueError(`${at}.record`, 'must be a plain JSON object');
        return { ts: expectTimestamp(field(entry, 'ts'), `${at}.ts`), key: expectString(field(entry, 'key'), `${at}.key`), record };
      });
    const left = side('left');
    this.#right = side('right');
    this.#left = left;
  }
}
