/**
 * @module Two-stream interval join: a left and a right record with equal keys and timestamps at most
 * `withinMs` apart are merged into one output.
 *
 * Each side buffers its records. A record more than `withinMs` behind the job's time is late; buffered
 * records are kept for 2 x `withinMs` behind it, exactly long enough that every record that is not late
 * still meets all of its partners, whatever order the two streams interleave in.
 *
 * Each side is kept by key, so a record looks only at its own key's partners, and is capped: a side holds at
 * most `maxJoinBuffer` records and one record may meet at most `maxOutputsPerInput` partners (a self-join on
 * a constant key would otherwise emit n² records). Passing a cap stops the job (FERRY_RULES_LIMIT).
 */
import { RuleError } from '../core/errors.ts';
import { limitError, type RuleLimits } from '../core/limits.ts';
import { evalPredicate, readKey } from '../core/expr.ts';
import type { JoinPlan } from '../core/plan.ts';
import { expectArray, expectObject, expectTimestamp, expectString, field, isJsonValue, isPlainObject, valueError } from '../core/validate.ts';
import type { Accepted, Emitted, Operator } from './operator.ts';
import { project } from './stream.ts';

/** `seq` orders entries as they arrived (snapshots list them so); it is not part of the snapshot. */
type Entry = { readonly ts: number; readonly key: string; readonly record: Record<string, unknown>; readonly seq: number };
type Pair = { readonly left: Entry; readonly right: Entry };

/** One side's records by key, with a count of all of them. */
class Side {
  readonly byKey = new Map<string, Entry[]>();
  size = 0;

  partners(key: string): readonly Entry[] {
    return this.byKey.get(key) ?? [];
  }

  add(entry: Entry): void {
    const list = this.byKey.get(entry.key);
    if (list === undefined) this.byKey.set(entry.key, [entry]);
    else list.push(entry);
    this.size += 1;
  }

  evict(cutoff: number): void {
    for (const [key, list] of this.byKey) {
      const kept = list.filter((entry) => entry.ts >= cutoff);
      this.size -= list.length - kept.length;
      if (kept.length === 0) this.byKey.delete(key);
      else if (kept.length !== list.length) this.byKey.set(key, kept);
    }
  }

  entries(): Entry[] {
    return [...this.byKey.values()].flat().sort((a, b) => a.seq - b.seq);
  }

  static of(entries: readonly Entry[]): Side {
    const side = new Side();
    for (const entry of entries) side.add(entry);
    return side;
  }
}

export class JoinOperator implements Operator {
  readonly #plan: JoinPlan;
  readonly #limits: RuleLimits;
  #left = new Side();
  #right = new Side();
  #seq = 0;

  constructor(plan: JoinPlan, limits: RuleLimits) {
    this.#plan = plan;
    this.#limits = limits;
  }

  isLate(timestampMs: number, timeMs: number | null): boolean {
    return timeMs !== null && timestampMs < timeMs - this.#plan.withinMs;
  }

  advance(timeMs: number): readonly Emitted[] {
    const cutoff = timeMs - 2 * this.#plan.withinMs;
    this.#left.evict(cutoff);
    this.#right.evict(cutoff);
    return [];
  }

  accept(inputs: readonly (0 | 1)[], record: unknown, timestampMs: number): Accepted {
    if (!isPlainObject(record) || !isJsonValue(record)) {
      throw new RuleError('FERRY_RULES_EVAL_INPUT', 'a joined record must be a plain JSON object');
    }
    // Buffer a private copy: the caller may reuse its object, and the snapshot must equal what is held.
    const copy = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
    const within = this.#plan.withinMs;
    const near = (a: Entry, b: Entry): boolean => Math.abs(a.ts - b.ts) <= within;
    const pairs: Pair[] = [];
    const added: { side: Side; entry: Entry }[] = [];
    const max = this.#limits.maxOutputsPerInput;
    // Left first, so a record on both sides (overlapping topic filters, self-join) meets itself once.
    for (const input of [...inputs].sort()) {
      const side = input === 0 ? this.#left : this.#right;
      if (side.size >= this.#limits.maxJoinBuffer) {
        throw limitError('maxJoinBuffer', `a join side would hold more than ${this.#limits.maxJoinBuffer} records`);
      }
      if (input === 0) {
        const entry = { ts: timestampMs, key: readKey(this.#plan.on.left, [copy]), record: copy, seq: this.#seq + added.length };
        for (const partner of this.#right.partners(entry.key)) if (near(entry, partner)) pairs.push({ left: entry, right: partner });
        added.push({ side: this.#left, entry });
      } else {
        const entry = { ts: timestampMs, key: readKey(this.#plan.on.right, [undefined, copy]), record: copy, seq: this.#seq + added.length };
        // The left entry this same record just made (self-join) is not in the side yet: meet it here.
        const pending = added.filter((a) => a.side === this.#left && a.entry.key === entry.key).map((a) => a.entry);
        for (const partner of [...this.#left.partners(entry.key), ...pending]) if (near(partner, entry)) pairs.push({ left: partner, right: entry });
        added.push({ side: this.#right, entry });
      }
      if (pairs.length > max) throw limitError('maxOutputsPerInput', `one record would meet more than ${max} join partners`);
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
    for (const a of added) a.side.add(a.entry);
    this.#seq += added.length;
    return { filtered: false, emitted };
  }

  snapshot(): unknown {
    const entries = (side: Side): unknown => side.entries().map((entry) => ({ ts: entry.ts, key: entry.key, record: entry.record }));
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
        return { ts: expectTimestamp(field(entry, 'ts'), `${at}.ts`), key: expectString(field(entry, 'key'), `${at}.key`), record, seq: 0 };
      });
    const left = side('left');
    const right = side('right');
    // Arrival order across both sides is not in the snapshot; number each side in its listed order.
    let seq = 0;
    const numbered = (list: Entry[]): Entry[] => list.map((entry) => ({ ...entry, seq: seq++ }));
    this.#left = Side.of(numbered(left));
    this.#right = Side.of(numbered(right));
    this.#seq = seq;
  }
}
