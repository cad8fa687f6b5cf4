/**
 * @module The Redis ReorderStore for N cloud workers (docs/architecture.md, "Running modes"): `apply` is ONE call of
 * reorder.lua (EVALSHA, EVAL fallback) on the device's own key `<prefix>{<kid>}:reorder`, so the whole
 * step (anti-replay, re-order, groups) is atomic per device and cluster-safe; the script is a port of the
 * pure reorderStep, proven equal to it by reorder-store.case.ts and a differential property test. A global
 * due index (`<prefix>{due}:index`, one sorted set) lets `tick`/`flush` visit only sources with something
 * waiting; it is updated by a second, version-ordered call (due-index.lua) only when a source's deadline
 * changed. Releases go through a per-source outbox in the same script (leaseMs > 0, the default): the
 * pipeline confirms them once stored, and a worker killed in between has them released again after the
 * lease (ports.ts `confirm`), so with the idempotent time series nothing released is lost or stored twice.
 * docs/storage.md: layout and arguments.
 */
import type { ApplyResult, ReorderStore, SourceRelease } from '../../ingest/ports.ts';
import { checkReorderConfig, DEFAULT_REORDER_CONFIG } from '../../ingest/reorder.ts';
import type { GroupMember, Pending, OpenGroup, Released, ReorderConfig, ReorderState, SeqMessage, SeqOutcome } from '../../ingest/reorder-types.ts';
import { StoreError, wrap } from '../errors.ts';
import { command, loadScript, runScript, type RedisClient } from './script.ts';
import { decodeRef, decodeReleased, encodeRef, jsonCodec, type RefCodec } from '../ref-codec.ts';

const REORDER = loadScript('reorder.lua');
const DUE = loadScript('due-index.lua');

export interface RedisReorderOptions<R> {
  /** An ioredis client (Redis or Cluster); the caller owns it. Workers sharing state share `prefix`. */
  readonly redis: RedisClient;
  readonly config?: Partial<ReorderConfig>;
  readonly codec?: RefCodec<R>;
  /** Key prefix; default `ferry:`. No braces: the hash tag is the kid's. */
  readonly prefix?: string;
  /**
   * Told when a due-index update fails after the step itself was committed. That must not fail `apply`: its
   * releases are already taken from the state, and a redelivery would only be a duplicate. The index is a
   * hint; `reindex()` repairs it. Default: ignore.
   */
  readonly onIndexError?: (error: StoreError) => void;
  /**
   * How long a release waits for its taker's confirmation before it is released again (ms, on the callers'
   * clock); 0 turns the outbox off (a worker dying between the script and its store then loses those
   * releases). Default 5000: longer than any store should take, short enough to recover a killed worker.
   */
  readonly leaseMs?: number;
}

interface ScriptReply {
  outcome: string;
  released: Released<string>[];
  before: number;
  deadline: number;
  v: number;
  ob: number[];
  rec: number;
  dropped: number;
}

const OUTCOMES: ReadonlySet<string> = new Set(['accepted', 'duplicate', 'replay', 'late', 'jump']);
/** cjson writes an empty Lua table as {} (Redis' cjson has no empty-array marker). */
const arr = <T>(x: unknown): T[] => (Array.isArray(x) ? (x as T[]) : []);

function parseReply(raw: unknown): ScriptReply {
  if (typeof raw !== 'string') throw new StoreError('FERRY_STORE_SCRIPT', `reorder.lua answered ${typeof raw}, not JSON text`);
  const r = wrap('FERRY_STORE_SCRIPT', 'reorder.lua reply', () => JSON.parse(raw) as Partial<ScriptReply>);
  if (typeof r.before !== 'number' || typeof r.deadline !== 'number' || typeof r.v !== 'number' || typeof r.outcome !== 'string') {
    throw new StoreError('FERRY_STORE_SCRIPT', `reorder.lua reply has the wrong shape: ${raw.slice(0, 200)}`);
  }
  const released = arr<Released<string>>(r.released).map((x) =>
    x.type === 'group' ? { ...x, members: arr<GroupMember<string>>(x.members), missing: arr<number>(x.missing) } : x,
  );
  return {
    outcome: r.outcome,
    released,
    before: r.before,
    deadline: r.deadline,
    v: r.v,
    ob: arr<number>(r.ob),
    rec: typeof r.rec === 'number' ? r.rec : 0,
    dropped: typeof r.dropped === 'number' ? r.dropped : 0,
  };
}

/**
 * Redis' cjson keeps 14 significant digits (reorder.lua header): an integer ms timestamp below 10^13 round-trips,
 * a fractional one may not, and the stored `at` would then differ from what reorderStep computes. Refuse it.
 */
function checkNow(now: number): void {
  if (!Number.isInteger(now) || now < 0 || now >= 1e13) throw new StoreError('FERRY_STORE_RANGE', `now must be an integer ms in 0..10^13, got ${now}`);
}

export class RedisReorderStore<R> implements ReorderStore<R> {
  readonly config: ReorderConfig;
  readonly #redis: RedisClient;
  readonly #codec: RefCodec<R>;
  readonly #prefix: string;
  readonly #cfgArgs: readonly number[];
  readonly #onIndexError: (error: StoreError) => void;
  /**
   * Index updates and confirmations in flight: apply does not await its index update (updates are ordered by
   * `v`, so their order of arrival does not matter); tick and flush wait for them, so they see the outbox
   * as confirmed.
   */
  readonly #indexing = new Set<Promise<void>>();
  /** Outbox entries dropped over the per-source bound (their taker never confirmed; stores failing). */
  dropped = 0;

  constructor(opts: RedisReorderOptions<R>) {
    this.config = wrap('FERRY_STORE_CONFIG', 'reorder config', () => checkReorderConfig({ ...DEFAULT_REORDER_CONFIG, ...opts.config }));
    const prefix = opts.prefix ?? 'ferry:';
    if (/[{}]/.test(prefix)) throw new StoreError('FERRY_STORE_CONFIG', 'prefix must not contain { or }: the hash tag is the kid');
    this.#redis = opts.redis;
    this.#codec = opts.codec ?? jsonCodec<R>();
    this.#prefix = prefix;
    this.#onIndexError = opts.onIndexError ?? (() => {});
    const c = this.config;
    const lease = opts.leaseMs ?? 5000;
    if (!Number.isInteger(lease) || lease < 0) throw new StoreError('FERRY_STORE_CONFIG', `leaseMs must be an integer >= 0, got ${lease}`);
    this.#cfgArgs = [c.window, c.timeoutMs, c.groupTimeoutMs, c.maxOpenGroups, lease];
  }

  /** The key of a source's state: hash-tagged by kid, so every key of one device is in one cluster slot. */
  stateKey(kid: string): string {
    return `${this.#prefix}{${kid}}:reorder`;
  }

  /** The due index (sorted set) and its version hash: one slot, shared by every source. */
  dueKeys(): readonly [string, string] {
    return [`${this.#prefix}{due}:index`, `${this.#prefix}{due}:ver`];
  }

  async apply(kid: string, msg: SeqMessage<R>, now: number): Promise<ApplyResult<R>> {
    checkNow(now);
    const ref = encodeRef(this.#codec, msg.ref);
    const g = msg.group;
    const args = ['apply', ...this.#cfgArgs, now, msg.ep, msg.sq, g === undefined ? '' : g.id, g?.part ?? '', g?.parts ?? '', ref];
    const r = await this.#run(kid, args);
    if (!OUTCOMES.has(r.outcome)) throw new StoreError('FERRY_STORE_SCRIPT', `reorder.lua answered outcome ${JSON.stringify(r.outcome)}`);
    const out = { outcome: r.outcome as SeqOutcome, released: decodeReleased(this.#codec, r.released) };
    return r.ob.length === 0 ? out : { ...out, outbox: r.ob, recovered: r.rec };
  }

  /** Removes confirmed entries from the source's outbox (their releases are stored). */
  confirm(kid: string, outbox: readonly number[]): Promise<void> {
    if (outbox.length === 0) return Promise.resolve();
    const p = this.#run(kid, ['ack', ...this.#cfgArgs, 0, ...outbox]).then(() => undefined);
    const tracked: Promise<void> = p.catch(() => undefined).finally(() => this.#indexing.delete(tracked));
    this.#indexing.add(tracked);
    return p;
  }

  /** Waits for the due-index updates and confirmations in flight (tests; tick and flush do it themselves). */
  async settled(): Promise<void> {
    while (this.#indexing.size > 0) await Promise.all([...this.#indexing]);
  }

  /** Visits the sources the due index says are due at `now`, in kid order. */
  async tick(now: number): Promise<SourceRelease<R>[]> {
    await this.settled();
    const [index] = this.dueKeys();
    const kids = await command('due index', () => this.#redis.zrangebyscore(index, '-inf', now));
    return this.#each(kids, 'tick', now);
  }

  /** Visits every source the due index holds (everything with something waiting). */
  async flush(now: number): Promise<SourceRelease<R>[]> {
    await this.settled();
    const [index] = this.dueKeys();
    const kids = await command('due index', () => this.#redis.zrange(index, 0, -1));
    return this.#each(kids, 'flush', now);
  }

  /** Flushes one source, then deletes its state and its due-index entry (an operator's reset). */
  async forget(kid: string, now: number): Promise<SourceRelease<R>[]> {
    const out = await this.#each([kid], 'flush', now);
    await command('forget', () => this.#redis.del(this.stateKey(kid)));
    const [index] = this.dueKeys();
    await command('due index', () => this.#redis.zrem(index, kid));
    return out;
  }

  /** The stored state of one source, refs decoded (tests and inspection). */
  async state(kid: string): Promise<(ReorderState<R> & { readonly v: number }) | undefined> {
    const raw = await command('get state', () => this.#redis.get(this.stateKey(kid)));
    if (raw === null) return undefined;
    const s = wrap('FERRY_STORE_CORRUPT', `state of ${kid}`, () => JSON.parse(raw) as ReorderState<string> & { v: number });
    return {
      ep: s.ep,
      next: s.next,
      seen: arr(s.seen),
      v: s.v,
      pending: arr<Pending<string>>(s.pending).map((p) => ({ ...p, ref: decodeRef(this.#codec, p.ref) })),
      groups: arr<OpenGroup<string>>(s.groups).map((x) => ({
        ...x,
        members: arr<GroupMember<string>>(x.members).map((m) => ({ ...m, ref: decodeRef(this.#codec, m.ref) })),
      })),
    };
  }

  /**
   * Rebuilds the due index from the states themselves (SCAN over every master). The index can only miss a
   * source if a worker died between reorder.lua and its index update; run this at worker start and now and
   * then (e.g. every few minutes). Version-ordered like every update, so it is safe under live traffic.
   * Returns the number of states visited.
   */
  async reindex(): Promise<number> {
    const nodes = 'nodes' in this.#redis ? this.#redis.nodes('master') : [this.#redis];
    const glob = this.#prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
    const head = this.#prefix.length + 1;
    const tail = '}:reorder'.length;
    let n = 0;
    for (const node of nodes) {
      const stream = node.scanStream({ match: `${glob}{*}:reorder`, count: 500 }) as AsyncIterable<string[]>;
      for await (const keys of stream) {
        for (const key of keys) {
          const raw = await command('reindex get', () => node.get(key));
          if (raw === null) continue;
          const s = wrap('FERRY_STORE_CORRUPT', `state ${key}`, () => JSON.parse(raw) as { v?: unknown; dl?: unknown });
          if (typeof s.v !== 'number' || typeof s.dl !== 'number') continue; // written before `dl` existed: its next step re-indexes it
          await runScript(this.#redis, DUE, this.dueKeys(), [key.slice(head, key.length - tail), s.v, s.dl]);
          n++;
        }
      }
    }
    return n;
  }

  async #each(kids: readonly string[], op: 'tick' | 'flush', now: number): Promise<SourceRelease<R>[]> {
    checkNow(now);
    const out: SourceRelease<R>[] = [];
    // Sequential and in kid order: the same order as the in-memory store and the conformance model.
    for (const kid of [...kids].sort()) {
      // Always re-index here: this also removes stale extra entries (a source idle before and after).
      const r = await this.#run(kid, [op, ...this.#cfgArgs, now], true);
      if (r.released.length === 0) continue;
      const rel = { kid, released: decodeReleased(this.#codec, r.released) };
      out.push(r.ob.length === 0 ? rel : { ...rel, outbox: r.ob, recovered: r.rec });
    }
    await this.settled();
    return out;
  }

  async #run(kid: string, args: readonly (string | number)[], reindex = false): Promise<ScriptReply> {
    const r = parseReply(await runScript(this.#redis, REORDER, [this.stateKey(kid)], args));
    this.dropped += r.dropped;
    // Only a changed deadline needs the index. Not awaited: the caller goes on storing while it runs (the
    // updates are ordered by `v`, so their order of arrival does not matter).
    if (r.v > 0 && (reindex || r.deadline !== r.before)) {
      const p: Promise<void> = runScript(this.#redis, DUE, this.dueKeys(), [kid, r.v, r.deadline])
        .then(
          () => undefined,
          (e: unknown) => this.#onIndexError(e instanceof StoreError ? e : new StoreError('FERRY_STORE_UNAVAILABLE', String(e), e)),
        )
        .finally(() => this.#indexing.delete(p));
      this.#indexing.add(p);
    }
    return r;
  }
}
