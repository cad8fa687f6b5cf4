/**
 * @module Alarm operator (plan kind `alarm`): evaluates an alarm rule per source and emits `AlarmTransition`
 * edges, `raise` once when a source starts breaching and `clear` once when it stops.
 *
 * A source's condition holds from the sample that starts a breach (after M of N) until a sample that does not
 * breach; it is raised once it has held for `forMs`. Each source has one next deadline (its `forMs` running
 * out, or its data going missing) in a queue, and the job's time passing a deadline fires it at the deadline's
 * own time, whether time moved by a record or by the host's tick: the same inputs give the same transitions,
 * however often the host ticks. docs/rules.md, "Alarm rules (jobType alarm)", states the semantics.
 */
import type { AlarmTransition } from '../core/alarm-types.ts';
import type { AlarmSpec } from '../core/alarm-spec.ts';
import { breaches, describeCondition, isSample } from '../core/alarm-spec.ts';
import { MISSING, readPath } from '../core/json-path.ts';
import { ALARM_LIMITS, limitError, type RuleLimits } from '../core/limits.ts';
import type { AlarmPlan } from '../core/plan.ts';
import { expectObject, field, valueError } from '../core/validate.ts';
import { newSource, parseSources, type Sample, type SourceState, sourceSnapshot } from './alarm-source.ts';
import { DeadlineQueue } from './deadlines.ts';
import type { Accepted, Emitted, Operator } from './operator.ts';

export class AlarmOperator implements Operator {
  readonly #spec: AlarmSpec;
  readonly #rule: string;
  readonly #maxSources: number;
  readonly #condition: string;
  /** Sources, least recently sampled first (a sample re-inserts its source): the eviction order. */
  #sources = new Map<string, SourceState>();
  readonly #due = new DeadlineQueue();

  constructor(plan: AlarmPlan, limits: RuleLimits, rule: string) {
    this.#spec = plan.alarm;
    this.#rule = rule;
    this.#maxSources = limits.maxAlarmSources;
    this.#condition = describeCondition(plan.alarm);
  }

  /** Samples are ordered per source (accept drops one older than its source's last), never against the job's time. */
  isLate(): boolean {
    return false;
  }

  advance(timeMs: number): readonly Emitted[] {
    const out: Emitted[] = [];
    for (let due = this.#due.popDue(timeMs); due !== undefined; due = this.#due.popDue(timeMs)) {
      const source = this.#sources.get(due.key);
      if (source === undefined) continue;
      this.#fire(source, due.at, out);
      this.#schedule(source);
    }
    return out;
  }

  /**
   * A record is a sample when its value suits the condition (isSample) and it names a source; anything else,
   * and a sample older than its source's last, is consumed as `filtered`: it neither breaches nor clears.
   */
  accept(_inputs: readonly (0 | 1)[], record: unknown, timestampMs: number, timeMs: number, topic: string): Accepted {
    const value = readPath(record, this.#spec.value);
    const name = this.#sourceName(record, topic);
    if (value === MISSING || !isSample(this.#spec.condition, value) || name === null) return { filtered: true, emitted: [] };
    let source = this.#sources.get(name);
    if (source !== undefined && timestampMs < source.lastMs) return { filtered: true, emitted: [] };
    if (source === undefined) {
      this.#makeRoom();
      source = newSource(name, timestampMs, value);
    } else this.#sources.delete(name);
    this.#sources.set(name, source);
    const out: Emitted[] = [];
    const atMs = Math.max(timestampMs, source.evalMs);
    source.lastMs = atMs;
    source.evalMs = atMs;
    source.value = value;
    source.heldMs = null;
    source.silent = false;
    this.#observe(source, breaches(this.#spec.condition, value), atMs, out);
    // A sample behind the job's time may start a streak whose forMs has already run out, or be followed by a
    // silence already longer than missing.afterMs: fire what is due for this source now.
    for (let at = this.#deadline(source); at !== null && at <= timeMs; at = this.#deadline(source)) this.#fire(source, at, out);
    this.#schedule(source);
    return { filtered: false, emitted: out };
  }

  #sourceName(record: unknown, topic: string): string | null {
    const raw = this.#spec.source === null ? topic : readPath(record, this.#spec.source);
    const name = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
    return typeof name === 'string' && name.length > 0 && name.length <= ALARM_LIMITS.maxSourceLength ? name : null;
  }

  /** Evicts the least recently sampled source that is not raised; with every source raised the cap stops the job. */
  #makeRoom(): void {
    if (this.#sources.size < this.#maxSources) return;
    for (const source of this.#sources.values()) {
      if (source.raised) continue;
      this.#sources.delete(source.name);
      this.#due.delete(source.name);
      return;
    }
    throw limitError('maxAlarmSources', `an alarm job would track more than ${this.#maxSources} sources, all of them raised`);
  }

  /** One outcome: feeds M of N, starts or breaks the streak, clears at once when the condition stops holding. */
  #observe(source: SourceState, breach: boolean, atMs: number, out: Emitted[]): void {
    let holds = breach;
    const mOfN = this.#spec.mOfN;
    if (mOfN !== null) {
      source.bits += breach ? '1' : '0';
      if (breach) source.ones += 1;
      if (source.bits.length > mOfN.n) {
        if (source.bits.startsWith('1')) source.ones -= 1;
        source.bits = source.bits.slice(1);
      }
      holds = source.ones >= mOfN.m;
    }
    if (holds) {
      source.streakMs ??= atMs;
      return;
    }
    source.streakMs = null;
    if (source.raised) {
      source.raised = false;
      out.push(this.#edge('clear', source, atMs, `${this.#condition} no longer holds`, source.value));
    }
  }

  /** The source's next deadline: its streak reaching forMs (while not raised), or its silence reaching afterMs. */
  #deadline(source: SourceState): number | null {
    const streak = source.streakMs !== null && !source.raised ? source.streakMs + this.#spec.forMs : null;
    const missing = this.#spec.missing;
    if (missing === null || missing.policy === 'ignore' || source.silent) return streak;
    const quiet = (source.heldMs ?? source.lastMs) + missing.afterMs;
    return streak === null || quiet < streak ? quiet : streak;
  }

  #schedule(source: SourceState): void {
    const at = this.#deadline(source);
    if (at === null) this.#due.delete(source.name);
    else this.#due.set(source.name, at);
  }

  /** Fires the source's deadline at `atMs` (the earliest it has): the streak first when both fall due together. */
  #fire(source: SourceState, atMs: number, out: Emitted[]): void {
    source.evalMs = Math.max(source.evalMs, atMs);
    if (source.streakMs !== null && !source.raised && source.streakMs + this.#spec.forMs <= atMs) {
      source.raised = true;
      const held = this.#spec.forMs > 0 ? ` for ${this.#spec.forMs} ms` : '';
      out.push(this.#edge('raise', source, atMs, `${this.#condition}${held}`, source.value));
      return;
    }
    const missing = this.#spec.missing;
    if (missing === null) return;
    const silence = `no data for ${missing.afterMs} ms`;
    switch (missing.policy) {
      case 'ignore':
        return;
      case 'breaching':
        source.silent = true;
        if (!source.raised) {
          source.raised = true;
          out.push(this.#edge('raise', source, atMs, silence));
        }
        return;
      case 'not-breaching':
        source.silent = true;
        source.streakMs = null;
        source.bits = '';
        source.ones = 0;
        if (source.raised) {
          source.raised = false;
          out.push(this.#edge('clear', source, atMs, `${silence} (treated as not breaching)`));
        }
        return;
      case 'last': {
        source.heldMs = atMs;
        this.#observe(source, breaches(this.#spec.condition, source.value), atMs, out);
        // Repeating changes nothing more once the M-of-N ring is full of the repeated outcome (at once without
        // M of N): stop, so a long silence costs at most n repetitions.
        const n = this.#spec.mOfN?.n ?? 0;
        source.silent = source.ones === 0 || (source.bits.length === n && source.ones === n);
      }
    }
  }

  #edge(kind: AlarmTransition['kind'], source: SourceState, atMs: number, reason: string, value?: Sample): Emitted {
    const payload: AlarmTransition = {
      kind,
      type: this.#spec.type,
      source: source.name,
      severity: this.#spec.severity,
      ...(value === undefined ? {} : { value }),
      atMs,
      rule: this.#rule,
      reason,
    };
    return { payload, eventTimeMs: atMs };
  }

  /**
   * Raised sources `match` picks are no longer raised, their streak and M-of-N ring emptied, as if the condition
   * had never held (an alarm cleared by hand): the next breaching sample starts a new streak and raises again
   * after `forMs`; a silence already treated stays treated until a new sample. Emits nothing.
   */
  reset(match: (key: string) => boolean): number {
    let n = 0;
    for (const source of this.#sources.values()) {
      if (!source.raised || !match(source.name)) continue;
      source.raised = false;
      source.streakMs = null;
      source.bits = '';
      source.ones = 0;
      this.#schedule(source);
      n++;
    }
    return n;
  }

  snapshot(): unknown {
    return { kind: 'alarm', sources: [...this.#sources.values()].map(sourceSnapshot) };
  }

  restore(state: unknown, path: string): void {
    const object = expectObject(state, path, ['kind', 'sources']);
    if (field(object, 'kind') !== 'alarm') throw valueError(`${path}.kind`, 'must be "alarm"');
    const sources = parseSources(field(object, 'sources'), `${path}.sources`, this.#spec, this.#maxSources);
    this.#sources = new Map(sources.map((source) => [source.name, source]));
    this.#due.clear();
    for (const source of sources) this.#schedule(source);
  }
}
