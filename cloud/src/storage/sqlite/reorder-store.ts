/**
 * @module The SQLite ReorderStore: the pure `reorderStep` / `reorderTick` / `reorderFlush` (ingest/reorder.ts)
 * run inside ONE immediate transaction per call and source, over a state row per source (`reorder_source`)
 * and one row per buffered message (`reorder_pending`). Windows survive a restart, so replays of old
 * messages are still refused after it. Refs stay encoded (RefCodec) while they wait; only releases are
 * decoded. Synchronous, like better-sqlite3, so the pipeline runs without a microtask per message.
 */
import type { ApplyResult, ReorderStore, SourceRelease } from '../../ingest/ports.ts';
import { checkReorderConfig, DEFAULT_REORDER_CONFIG, nextDeadline, reorderFlush, reorderStep, reorderTick } from '../../ingest/reorder.ts';
import type { OpenGroup, Pending, ReorderConfig, ReorderState, SeqMessage, TickResult } from '../../ingest/reorder-types.ts';
import { StoreError, wrap } from '../errors.ts';
import { decodeReleased, decodeRef, encodeRef, jsonCodec, type RefCodec } from '../ref-codec.ts';
import type { SqliteDb } from './db.ts';

export interface SqliteReorderOptions<R> {
  /** From `openSqlite`; the caller owns it (closes it). */
  readonly db: SqliteDb;
  readonly config?: Partial<ReorderConfig>;
  /** How refs are kept; default JSON (the pipeline's refs are decoded Messages). */
  readonly codec?: RefCodec<R>;
}

interface SourceRow {
  ep: number;
  next: number;
  seen: string;
  groups: string;
}
interface PendingRow {
  sq: number;
  at: number;
  grp: string | null;
  ref: string;
}

const parse = (text: string, what: string): unknown => wrap('FERRY_STORE_CORRUPT', what, () => JSON.parse(text) as unknown);

export class SqliteReorderStore<R> implements ReorderStore<R> {
  readonly config: ReorderConfig;
  readonly #db: SqliteDb;
  readonly #codec: RefCodec<R>;
  readonly #q;

  constructor(opts: SqliteReorderOptions<R>) {
    this.config = wrap('FERRY_STORE_CONFIG', 'reorder config', () => checkReorderConfig({ ...DEFAULT_REORDER_CONFIG, ...opts.config }));
    this.#db = opts.db;
    this.#codec = opts.codec ?? jsonCodec<R>();
    const db = opts.db;
    this.#q = wrap('FERRY_STORE_OPEN', 'preparing statements (was the schema created by openSqlite?)', () => ({
      source: db.prepare('SELECT ep, next, seen, groups FROM reorder_source WHERE kid = ?'),
      pending: db.prepare('SELECT sq, at, grp, ref FROM reorder_pending WHERE kid = ? AND ep = ? ORDER BY sq'),
      putSource: db.prepare(
        'INSERT INTO reorder_source (kid, ep, next, seen, groups, deadline) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kid) DO UPDATE SET ep = excluded.ep, next = excluded.next, seen = excluded.seen, groups = excluded.groups, deadline = excluded.deadline',
      ),
      putPending: db.prepare('INSERT INTO reorder_pending (kid, ep, sq, at, grp, ref) VALUES (?, ?, ?, ?, ?, ?)'),
      dropPending: db.prepare('DELETE FROM reorder_pending WHERE kid = ? AND ep = ? AND sq = ?'),
      due: db.prepare('SELECT kid FROM reorder_source WHERE deadline <= ? ORDER BY kid'),
      busy: db.prepare('SELECT kid FROM reorder_source WHERE deadline IS NOT NULL ORDER BY kid'),
      dropSource: db.prepare('DELETE FROM reorder_source WHERE kid = ?'),
      dropAllPending: db.prepare('DELETE FROM reorder_pending WHERE kid = ?'),
    }));
  }

  apply(kid: string, msg: SeqMessage<R>, now: number): ApplyResult<R> {
    const ref = encodeRef(this.#codec, msg.ref);
    const m: SeqMessage<string> = msg.group === undefined ? { ep: msg.ep, sq: msg.sq, ref } : { ep: msg.ep, sq: msg.sq, group: msg.group, ref };
    return this.#tx(() => {
      const before = this.#load(kid);
      const r = reorderStep(before, m, now, this.config);
      this.#save(kid, before, r.state);
      return { outcome: r.outcome, released: decodeReleased(this.#codec, r.released) };
    });
  }

  tick(now: number): SourceRelease<R>[] {
    return this.#each(
      () => this.#q.due.all(now) as { kid: string }[],
      (s) => reorderTick(s, now, this.config),
    );
  }

  flush(now: number): SourceRelease<R>[] {
    return this.#each(
      () => this.#q.busy.all() as { kid: string }[],
      (s) => reorderFlush(s, now, this.config),
    );
  }

  forget(kid: string, now: number): SourceRelease<R>[] {
    return this.#tx(() => {
      const out = this.#each(
        () => (this.#load(kid) === undefined ? [] : [{ kid }]),
        (s) => reorderFlush(s, now, this.config),
      );
      this.#q.dropAllPending.run(kid);
      this.#q.dropSource.run(kid);
      return out;
    });
  }

  /** The state of one source, refs decoded (for tests and inspection). */
  state(kid: string): ReorderState<R> | undefined {
    const s = this.#tx(() => this.#load(kid));
    if (s === undefined) return undefined;
    const dec = (t: string): R => decodeRef(this.#codec, t);
    return {
      ...s,
      pending: s.pending.map((p) => ({ ...p, ref: dec(p.ref) })),
      groups: s.groups.map((g) => ({ ...g, members: g.members.map((x) => ({ ...x, ref: dec(x.ref) })) })),
    };
  }

  /** One immediate transaction: takes the write lock at BEGIN, so two processes on one file cannot interleave a read-modify-write. */
  #tx<T>(f: () => T): T {
    if (!this.#db.open) throw new StoreError('FERRY_STORE_CLOSED', 'the SQLite database is closed');
    // Inside the caller's transaction (IngestOptions.transaction) its commit covers this step too.
    if (this.#db.inTransaction) return wrap('FERRY_STORE_UNAVAILABLE', 'sqlite step', f);
    return wrap('FERRY_STORE_UNAVAILABLE', 'sqlite transaction', () => this.#db.transaction(f).immediate());
  }

  #each(kids: () => { kid: string }[], f: (s: ReorderState<string>) => TickResult<string>): SourceRelease<R>[] {
    return this.#tx(() => {
      const out: SourceRelease<R>[] = [];
      for (const { kid } of kids()) {
        const before = this.#load(kid)!;
        const r = f(before);
        this.#save(kid, before, r.state);
        if (r.released.length > 0) out.push({ kid, released: decodeReleased(this.#codec, r.released) });
      }
      return out;
    });
  }

  #load(kid: string): ReorderState<string> | undefined {
    const row = this.#q.source.get(kid) as SourceRow | undefined;
    if (row === undefined) return undefined;
    const seen = parse(row.seen, `seen of ${kid}`);
    const groups = parse(row.groups, `groups of ${kid}`);
    if (!Array.isArray(seen) || !Array.isArray(groups) || typeof row.ep !== 'number' || typeof row.next !== 'number') {
      throw new StoreError('FERRY_STORE_CORRUPT', `state row of ${kid} has the wrong shape`);
    }
    const pending = (this.#q.pending.all(kid, row.ep) as PendingRow[]).map((p): Pending<string> => {
      if (p.grp === null) return { sq: p.sq, at: p.at, ref: p.ref };
      return { sq: p.sq, at: p.at, group: parse(p.grp, `group of ${kid} sq ${p.sq}`) as Pending<string>['group'], ref: p.ref };
    });
    return { ep: row.ep, next: row.next, seen: seen as number[], pending, groups: groups as OpenGroup<string>[] };
  }

  /**
   * Writes the new state: the source row, then the pending rows as a diff keyed by (ep, sq) — a buffered
   * message is immutable while it waits, so only releases (deletes) and the new arrival (insert) touch rows.
   */
  #save(kid: string, before: ReorderState<string> | undefined, after: ReorderState<string>): void {
    const deadline = nextDeadline(after, this.config) ?? null;
    this.#q.putSource.run(kid, after.ep, after.next, JSON.stringify(after.seen), JSON.stringify(after.groups), deadline);
    const had = new Set((before?.pending ?? []).map((p) => `${before!.ep}:${p.sq}`));
    const has = new Set(after.pending.map((p) => `${after.ep}:${p.sq}`));
    for (const p of before?.pending ?? []) if (!has.has(`${before!.ep}:${p.sq}`)) this.#q.dropPending.run(kid, before!.ep, p.sq);
    for (const p of after.pending) {
      if (!had.has(`${after.ep}:${p.sq}`)) this.#q.putPending.run(kid, after.ep, p.sq, p.at, p.group === undefined ? null : JSON.stringify(p.group), p.ref);
    }
  }
}
