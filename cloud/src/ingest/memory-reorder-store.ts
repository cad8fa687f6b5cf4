/**
 * @module The in-memory ReorderStore: a Map of per-source states run through the pure `reorderStep`.
 * Synchronous, for tests, benchmarks and a single process; it forgets every window on restart, so a
 * restarted process would accept replays of old messages. Production keeps the state in SQLite or Redis.
 */
import type { ApplyResult, ReorderStore, SourceRelease } from './ports.ts';
import { checkReorderConfig, DEFAULT_REORDER_CONFIG, isIdle, reorderFlush, reorderStep, reorderTick } from './reorder.ts';
import type { ReorderConfig, ReorderState, SeqMessage, TickResult } from './reorder-types.ts';

export class MemoryReorderStore<R> implements ReorderStore<R> {
  readonly config: ReorderConfig;
  readonly #states = new Map<string, ReorderState<R>>();
  /** Sources holding something a timeout could release, so tick() does not scan idle sources. */
  readonly #busy = new Set<string>();

  constructor(config: Partial<ReorderConfig> = {}) {
    this.config = checkReorderConfig({ ...DEFAULT_REORDER_CONFIG, ...config });
  }

  apply(kid: string, msg: SeqMessage<R>, now: number): ApplyResult<R> {
    const r = reorderStep(this.#states.get(kid), msg, now, this.config);
    this.#save(kid, r.state);
    return { outcome: r.outcome, released: r.released };
  }

  tick(now: number): SourceRelease<R>[] {
    return this.#each((s) => reorderTick(s, now, this.config));
  }

  flush(now: number): SourceRelease<R>[] {
    return this.#each((s) => reorderFlush(s, now, this.config));
  }

  forget(kid: string, now: number): SourceRelease<R>[] {
    const s = this.#states.get(kid);
    if (s === undefined) return [];
    const r = reorderFlush(s, now, this.config);
    this.#states.delete(kid);
    this.#busy.delete(kid);
    return r.released.length > 0 ? [{ kid, released: r.released }] : [];
  }

  /** The state of one source (for tests and inspection). */
  state(kid: string): ReorderState<R> | undefined {
    return this.#states.get(kid);
  }

  #each(f: (s: ReorderState<R>) => TickResult<R>): SourceRelease<R>[] {
    const out: SourceRelease<R>[] = [];
    for (const kid of [...this.#busy].sort()) {
      const r = f(this.#states.get(kid)!);
      this.#save(kid, r.state);
      if (r.released.length > 0) out.push({ kid, released: r.released });
    }
    return out;
  }

  #save(kid: string, s: ReorderState<R>): void {
    this.#states.set(kid, s);
    if (isIdle(s)) this.#busy.delete(kid);
    else this.#busy.add(kid);
  }
}
