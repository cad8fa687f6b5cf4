/**
 * @module The cloud's composite-stream host (docs/composite-streams.md "Hosting"): one ComposeEngine per
 * process over the SQLite store (embedded) or the Redis store (scale-out), the QuickJS runner, the wasm
 * runner on the function service, and grants kept in the record store. Objects and grants persist and are
 * installed again at start, members first. Every change to the engine runs one at a time (a wave must not
 * interleave with another). In scale-out (`shared`) every operation first compares the object's record with
 * what this worker installed, installing, replacing or forgetting it as the record says (reload on miss).
 */
import { randomUUID } from 'node:crypto';
import { TokenBuckets, type Result } from '@ferry/base';
import {
  ComposeEngine,
  type ComposeError,
  type ComposeStore,
  type Counters,
  type ExplainEntry,
  type FnRunner,
  type Grant,
  type JsRunner,
  type PushReport,
  type SOSnapshot,
  type StreamValue,
} from '@ferry/compose';
import type { Caller, HostedOutput, SoHosting } from './hosting.ts';
import { componentOf, dependencyOrder, membersOf } from './order.ts';
import type { OutputRelay, SoRecord, SoRecordStore } from './records.ts';
import { HostEvents } from './host-events.ts';

export type { PushListener } from './host-events.ts';
import { COMPOSE_HOST_LIMITS, type ComposeHostLimits, fail, HostGrants, HostStore, inUse, notFound, owns } from './host-ports.ts';

export { COMPOSE_HOST_LIMITS, type ComposeHostLimits };

export interface ComposeHostOptions {
  readonly store: ComposeStore;
  readonly records: SoRecordStore;
  readonly js?: JsRunner | undefined;
  readonly fn?: FnRunner | undefined;
  /** Scale-out: other workers change the records too. */
  readonly shared?: boolean;
  readonly limits?: Partial<ComposeHostLimits> | undefined;
  readonly now?: () => number;
  readonly log?: (message: string) => void;
  /** Scale-out: carries stored values and access changes to the other workers. */
  readonly relay?: OutputRelay | undefined;
}

type R<T> = Result<T, ComposeError>;

export class ComposeHost implements SoHosting {
  readonly engine: ComposeEngine;
  readonly records: SoRecordStore;
  readonly limits: ComposeHostLimits;
  readonly #store: HostStore;
  readonly #grants: HostGrants;
  readonly #shared: boolean;
  readonly #now: () => number;
  readonly #log: (m: string) => void;
  /** The revision of every object installed here. */
  readonly #installed = new Map<string, SoRecord>();
  readonly #events: HostEvents;
  readonly #buckets = new TokenBuckets({ maxEntries: 100_000 });
  #queue: Promise<unknown> = Promise.resolve();
  /** Scale-out: the last change of the shared records this worker took in. */
  #seen = 0;

  constructor(o: ComposeHostOptions) {
    this.records = o.records;
    this.limits = { ...COMPOSE_HOST_LIMITS, ...o.limits };
    this.#shared = o.shared === true;
    this.#now = o.now ?? Date.now;
    this.#log = o.log ?? (() => undefined);
    this.#store = new HostStore(o.store);
    this.#events = new HostEvents(o.relay, this.#log);
    this.onStored = this.#events.onStored;
    this.onAccessChange = this.#events.onAccessChange;
    this.onPush = this.#events.onPush;
    this.#grants = new HostGrants(o.records, (so) => this.engine.so(so)?.isPublic === true);
    this.engine = new ComposeEngine({
      store: this.#store,
      clock: { now: this.#now },
      grants: this.#grants,
      ...(o.js !== undefined && { js: o.js }),
      ...(o.fn !== undefined && { fn: o.fn }),
      onOutput: (out) => this.#emit(out.so, out.stream, out.value),
    });
  }

  /** Installs every persisted object, members first; one that no longer installs is logged and left out. */
  async start(): Promise<void> {
    await this.#events.start();
    // Scale-out: every record is listed below, so only changes after this point need taking in.
    if (this.#shared && this.records.changedSince !== undefined) this.#seen = (await this.records.changedSince(0)).seq;
    await this.#exclusive(async () => {
      const recs = dependencyOrder(
        await this.records.list(),
        (r) => r.id,
        (r) => membersOf(r.document),
      );
      for (const rec of recs) {
        const r = await this.#install(rec);
        if (!r.ok) this.#log(`compose: object ${rec.id} not installed: ${r.error.message}`);
      }
    });
  }

  /** Objects installed in this process. */
  get installed(): ReadonlyMap<string, SoRecord> {
    return this.#installed;
  }

  onOutput(listener: (output: HostedOutput) => void): () => void {
    return this.#events.onOutput(listener);
  }
  /** Every value any worker stores (scale-out: through the relay), for event streams. */
  readonly onStored: HostEvents['onStored'];
  /** Who may read an object changed (a grant revoked, the object deleted or replaced), on any worker. */
  readonly onAccessChange: HostEvents['onAccessChange'];
  /** Every push, with how long its propagation took. */
  readonly onPush: HostEvents['onPush'];

  async create(caller: Caller, document: unknown, owner = caller.owner): Promise<R<{ id: string; created: number }>> {
    if (owner === undefined) return fail('FERRY_COMPOSE_DOCUMENT', 'a global caller names the owner (?owner=)');
    if (!owns(caller, owner)) return fail('FERRY_COMPOSE_FORBIDDEN', 'a credential of one owner cannot create objects for another');
    if ((await this.records.count(owner)) >= this.limits.objectsPerOwner)
      return fail('FERRY_COMPOSE_QUOTA', `owner ${owner} has ${this.limits.objectsPerOwner} objects, the most allowed`);
    return this.#exclusive(async () => {
      const rec: SoRecord = { id: randomUUID().replaceAll('-', ''), owner, created: this.#now(), rev: 1, document: document as Record<string, unknown> };
      if (this.#shared && typeof document === 'object' && document !== null) for (const m of membersOf(rec.document)) await this.#sync(m);
      const c = await this.engine.create(rec.id, owner, document);
      if (!c.ok) return c;
      await this.#persist({ ...rec, document: c.value.document }, c.value.grants);
      return { ok: true, value: { id: rec.id, created: rec.created } };
    });
  }

  /** The object's record, for its owner or a global caller. */
  async get(caller: Caller, so: string): Promise<R<SoRecord>> {
    const rec = await this.#find(so);
    return rec !== undefined && owns(caller, rec.owner) ? { ok: true, value: rec } : notFound(so);
  }

  /** Replaces the document; the values of the streams it keeps stay. Refused while another object reads it. */
  async replace(caller: Caller, so: string, document: unknown): Promise<R<SoRecord>> {
    return this.#exclusive(async () => {
      const old = await this.#sync(so);
      if (old === undefined || !owns(caller, old.owner)) return notFound(so);
      const readers = this.engine.topology.readersOutside(so);
      if (readers.length > 0) return inUse(so, readers);
      if (this.#shared && typeof document === 'object' && document !== null)
        for (const m of membersOf(document as Record<string, unknown>)) await this.#sync(m);
      await this.#store.keeping(() => this.engine.remove(so));
      const c = await this.engine.create(so, old.owner, document);
      if (!c.ok) {
        await this.#grants.trusting(() => this.engine.create(so, old.owner, old.document));
        return c;
      }
      const gone = Object.keys((old.document['streams'] ?? {}) as Record<string, unknown>).filter((s) => !c.value.streams.has(s));
      for (const s of gone) await this.#store.drop(`${so}/${s}`);
      const rec: SoRecord = { ...old, rev: old.rev + 1, document: c.value.document };
      await this.#persist(rec, c.value.grants);
      this.#changed(so);
      return { ok: true, value: rec };
    });
  }

  async remove(caller: Caller, so: string): Promise<R<void>> {
    return this.#exclusive(async () => {
      const rec = await this.#sync(so);
      if (rec === undefined || !owns(caller, rec.owner)) return notFound(so);
      if (this.#shared) {
        const readers = (await this.records.list()).filter((r) => r.id !== so && membersOf(r.document).includes(so)).map((r) => r.id);
        if (readers.length > 0) return inUse(so, readers);
      }
      const r = await this.engine.remove(so);
      if (!r.ok) return r;
      this.#installed.delete(so);
      await this.records.delete(so);
      this.#changed(so);
      return r;
    });
  }

  async push(caller: Caller, so: string, stream: string, update: unknown): Promise<R<PushReport>> {
    const t0 = performance.now();
    const r = await this.#exclusive(async (): Promise<R<PushReport>> => {
      const rec = await this.#sync(so);
      if (rec === undefined || !owns(caller, rec.owner)) return notFound(so);
      if (!this.#buckets.take(rec.owner, this.limits.updatesPerSecond, this.limits.updateBurst))
        return fail('FERRY_COMPOSE_RATE_LIMITED', `more than ${this.limits.updatesPerSecond} sensor updates per second for owner ${rec.owner}`, so, stream);
      return this.engine.push(so, stream, update);
    });
    const ms = performance.now() - t0;
    this.#events.pushed(so, stream, r, ms);
    return r;
  }

  async mayRead(caller: Caller, so: string, stream: string): Promise<boolean> {
    const rec = await this.#find(so);
    if (rec === undefined) return false;
    if (owns(caller, rec.owner)) return true;
    if (this.engine.so(so)?.streams.has(stream) !== true) return false;
    if (caller.owner === undefined && (caller.tokens ?? []).length === 0) return this.engine.so(so)?.isPublic === true;
    return this.#grants.allows({ owner: caller.owner ?? '', tokens: caller.tokens ?? [] }, { so, stream, owner: rec.owner });
  }

  /** The stream exists and the caller may read it; else not found. */
  async #readable(caller: Caller, so: string, stream: string): Promise<R<void>> {
    if (!(await this.mayRead(caller, so, stream)) || this.engine.so(so)?.streams.has(stream) !== true)
      return fail('FERRY_COMPOSE_NOT_FOUND', 'no such stream', so, stream);
    return { ok: true, value: undefined };
  }

  async latest(caller: Caller, so: string, stream: string): Promise<R<StreamValue | undefined>> {
    const ok = await this.#readable(caller, so, stream);
    return ok.ok ? { ok: true, value: await this.engine.latest(so, stream) } : ok;
  }

  async history(caller: Caller, so: string, stream: string, from: number, to: number, limit: number): Promise<R<readonly StreamValue[]>> {
    const ok = await this.#readable(caller, so, stream);
    return ok.ok ? { ok: true, value: await this.engine.history(so, stream, from, to, limit) } : ok;
  }

  /** Why the last `n` updates of a stream did or did not produce output, with its counters; owner only. */
  async explain(caller: Caller, so: string, stream: string, n: number): Promise<R<{ counters: Counters; entries: readonly ExplainEntry[] }>> {
    const rec = await this.#find(so);
    const counters = this.engine.counters(so, stream);
    if (rec === undefined || !owns(caller, rec.owner) || counters === undefined) return fail('FERRY_COMPOSE_NOT_FOUND', 'no such stream', so, stream);
    return { ok: true, value: { counters, entries: this.engine.explain(so, stream, n) } };
  }

  async grants(caller: Caller, so: string): Promise<R<readonly Grant[]>> {
    const rec = await this.#find(so);
    return rec !== undefined && owns(caller, rec.owner) ? { ok: true, value: await this.records.grants(so) } : notFound(so);
  }

  async grant(caller: Caller, so: string, grant: Grant): Promise<R<boolean>> {
    const rec = await this.#find(so);
    if (rec === undefined || !owns(caller, rec.owner)) return notFound(so);
    if (grant.stream !== '*' && this.engine.so(so)?.streams.has(grant.stream) !== true)
      return fail('FERRY_COMPOSE_NOT_FOUND', 'no such stream', so, grant.stream);
    return { ok: true, value: await this.records.addGrant(so, grant) };
  }

  /** Revokes a grant; the next computation reading through it reads nothing, and event streams through it end. */
  async revoke(caller: Caller, so: string, grant: Grant): Promise<R<void>> {
    const rec = await this.#find(so);
    if (rec === undefined || !owns(caller, rec.owner)) return notFound(so);
    if (!(await this.records.removeGrant(so, grant))) return fail('FERRY_COMPOSE_NOT_FOUND', 'no such grant', so);
    this.#changed(so);
    return { ok: true, value: undefined };
  }

  /** The objects linked to `so` by references, either way, as installed here. */
  #component(so: string): { ids: string[]; deps: (id: string) => readonly string[] | undefined } {
    const deps = (id: string): readonly string[] | undefined => {
      const s = this.engine.so(id);
      return s === undefined ? undefined : [...s.groups.values()].flatMap((g) => g.soIds);
    };
    return { ids: componentOf(so, deps, this.#installed.keys()), deps };
  }

  /**
   * The name of `so`'s connected component, the same on every worker that took in the same changes: its
   * smallest object id (a scale-out lease is taken per component, compose/scale-out/leases.ts).
   */
  async componentName(so: string): Promise<string> {
    return this.#exclusive(async () => {
      await this.#sync(so);
      return this.#component(so).ids.sort()[0] ?? so;
    });
  }

  async moveOut(caller: Caller, so: string): Promise<R<readonly SOSnapshot[]>> {
    return this.#exclusive(async () => {
      const rec = await this.#sync(so);
      if (rec === undefined || !owns(caller, rec.owner)) return notFound(so);
      const { ids: component, deps } = this.#component(so);
      const ids = dependencyOrder(
        component,
        (x) => x,
        (x) => deps(x) ?? [],
      );
      if (ids.some((id) => !owns(caller, this.#installed.get(id)!.owner)))
        return fail('FERRY_COMPOSE_FORBIDDEN', "the object is linked to another owner's objects; a global credential moves them", so);
      const snaps: SOSnapshot[] = [];
      for (const id of ids) {
        const s = await this.engine.snapshot(id);
        if (!s.ok) return s;
        // Grants made after creation travel in the document's own `grants` field.
        snaps.push({ ...s.value, document: { ...s.value.document, grants: await this.records.grants(id) } });
      }
      for (const id of [...ids].reverse()) {
        // The history stays: the values computed where it goes are added to it as they come up (service/compose.ts).
        const r = await this.#store.keeping(() => this.engine.remove(id));
        if (!r.ok) return r;
        this.#installed.delete(id);
        await this.records.delete(id);
        this.#changed(id);
      }
      return { ok: true, value: snaps };
    });
  }

  async moveIn(caller: Caller, snapshots: readonly unknown[]): Promise<R<void>> {
    const heads = snapshots.map((s) => s as Partial<SOSnapshot> | null);
    for (const s of heads) {
      if (typeof s !== 'object' || s === null || typeof s.so !== 'string' || typeof s.owner !== 'string' || typeof s.document !== 'object')
        return fail('FERRY_COMPOSE_SNAPSHOT', 'a snapshot has so, owner, document and streams');
      if (!owns(caller, s.owner)) return fail('FERRY_COMPOSE_FORBIDDEN', `a credential of one owner cannot move in objects of ${s.owner}`, s.so);
    }
    return this.#exclusive(async () => {
      for (const s of dependencyOrder(
        heads as SOSnapshot[],
        (x) => x.so,
        (x) => membersOf(x.document),
      )) {
        const known = this.#installed.get(s.so) ?? (await this.records.get(s.so));
        if (known !== undefined && known.owner !== s.owner) return fail('FERRY_COMPOSE_EXISTS', 'an object with this id belongs to another owner', s.so);
        if (this.#shared) await this.#sync(s.so);
        const r = await this.engine.restore(s);
        if (!r.ok) return r;
        if (!this.#installed.has(s.so))
          await this.#persist({ id: s.so, owner: s.owner, created: this.#now(), rev: 1, document: r.value.document }, r.value.grants);
      }
      return { ok: true, value: undefined };
    });
  }

  /** Runs `f` after every change queued before it (in scale-out, after taking in other workers' changes). */
  #exclusive<T>(f: () => Promise<T>): Promise<T> {
    const g = async (): Promise<T> => {
      await this.#catchUp();
      return f();
    };
    const run = this.#queue.then(g, g);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #persist(rec: SoRecord, grants: readonly Grant[]): Promise<void> {
    await this.records.put(rec);
    for (const g of grants) await this.records.addGrant(rec.id, g);
    this.#installed.set(rec.id, rec);
  }

  /** Installs a persisted object (grants were checked when it was made; each computation checks them again). */
  async #install(rec: SoRecord): Promise<R<void>> {
    const c = await this.#grants.trusting(() => this.engine.create(rec.id, rec.owner, rec.document));
    if (!c.ok) return c;
    this.#installed.set(rec.id, rec);
    return { ok: true, value: undefined };
  }

  /** Scale-out: brings this worker's copies of the objects other workers changed up to date. */
  async #catchUp(): Promise<void> {
    if (!this.#shared || this.records.changedSince === undefined) return;
    const c = await this.records.changedSince(this.#seen);
    for (const id of c.ids) await this.#sync(id);
    this.#seen = c.seq;
  }

  /** The object's record: this worker's copy, or in scale-out the shared one. */
  async #find(so: string): Promise<SoRecord | undefined> {
    return this.#shared ? await this.#exclusive(() => this.#sync(so)) : this.#installed.get(so);
  }

  /**
   * Scale-out: makes this worker's copy of `so` what the shared record says (installed, replaced or
   * forgotten; members first). Its values stay in the shared store. Embedded: this worker's copy.
   */
  async #sync(so: string, depth = 0): Promise<SoRecord | undefined> {
    const mine = this.#installed.get(so);
    if (!this.#shared) return mine;
    const rec = await this.records.get(so);
    if (rec?.rev === mine?.rev && rec?.owner === mine?.owner) return mine;
    if (mine !== undefined) {
      const gone = await this.#store.keeping(() => this.engine.remove(so));
      if (!gone.ok) return mine;
      this.#installed.delete(so);
    }
    if (rec === undefined) return undefined;
    if (depth < 8) for (const m of membersOf(rec.document)) if (!this.#installed.has(m)) await this.#sync(m, depth + 1);
    const r = await this.#install(rec);
    if (!r.ok) this.#log(`compose: object ${so} not installed: ${r.error.message}`);
    return r.ok ? rec : undefined;
  }

  #emit(so: string, stream: string, value: StreamValue): void {
    const s = this.engine.so(so);
    if (s !== undefined) this.#events.stored({ owner: s.owner, so, stream, kind: s.streams.get(stream)?.composite === true ? 'output' : 'update', value });
  }

  #changed(so: string): void {
    this.#events.accessChanged(so);
  }
}
