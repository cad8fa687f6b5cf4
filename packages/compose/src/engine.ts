/**
 * @module The composite-stream engine: installs service objects, takes sensor updates for simple streams
 * and propagates them. Glitch-free propagation (the default) processes one source update as a wave, level
 * by level (a topological order): every reachable stream computes once, after all its updated inputs,
 * reading the latest stored values of its other inputs. The `fifo` mode is ServIoTicy's dispatcher, kept
 * as the baseline: each output triggers its readers first-in-first-out, so a stream fed by two paths of
 * different length computes on the first arrival and drops the second (same lastUpdate), keeping a stale
 * input. docs/composite-streams.md describes both.
 */
import type { Clock, Result } from '@ferry/base';
import { type Computation, type ComputeContext, type Outcome, compute, run } from './compute.ts';
import { type CompiledSO, type Grant, compileSO } from './document.ts';
import { type ComposeError, composeError } from './errors.ts';
import { DEFAULT_BUDGET } from './eval.ts';
import { type ComposeStore, type FnRunner, type GrantPort, type JsRunner, MemoryGrants } from './ports.ts';
import { Restorer, type SOSnapshot, takeSnapshot } from './snapshot.ts';
import { LIMITS, type Limits, type Node, Topology, keyOf } from './topology.ts';
import { type StreamValue, parseSensorUpdate } from './values.ts';

export interface EngineOptions {
  readonly store: ComposeStore;
  readonly clock: Pick<Clock, 'now'>;
  /** Default: grants held in memory, from the documents (MemoryGrants). */
  readonly grants?: GrantPort;
  readonly js?: JsRunner;
  readonly fn?: FnRunner;
  /** Called for every output and every accepted sensor update, in propagation order. */
  readonly onOutput?: (output: Output) => void;
  readonly propagation?: 'glitch-free' | 'fifo';
  readonly limits?: Partial<Limits>;
  /** Steps one template evaluation may take. */
  readonly budget?: number;
  /** Explain entries kept per stream. */
  readonly explainDepth?: number;
}

export interface Output {
  readonly so: string;
  readonly stream: string;
  readonly value: StreamValue;
}

export interface Counters {
  computed: number;
  droppedNotNewer: number;
  filtered: number;
  nulls: number;
  errors: number;
  forbidden: number;
  duplicates: number;
}

export interface ExplainEntry {
  readonly at: number;
  readonly triggers: readonly string[];
  readonly outcome: Outcome | 'accepted' | 'invalid';
  readonly lastUpdate?: number | undefined;
  readonly detail?: string | undefined;
}

export interface PushReport {
  readonly outcome: Outcome | 'accepted';
  /** Every output of the wave, the update itself first when accepted. */
  readonly outputs: readonly Output[];
}

/** A stream's counters and explain entries in one object (made on its first update): 100 000 streams each carry one. */
interface StreamState extends Counters {
  explain: ExplainEntry[] | undefined;
}

/** The trigger of a sensor update, shared by every explain entry that names it. */
const UPDATE: readonly string[] = ['update'];
const zero = (): Counters => ({ computed: 0, droppedNotNewer: 0, filtered: 0, nulls: 0, errors: 0, forbidden: 0, duplicates: 0 });

export class ComposeEngine {
  readonly topology: Topology;
  readonly #sos = new Map<string, CompiledSO>();
  readonly #state = new Map<string, StreamState>();
  readonly #opts: EngineOptions;
  readonly #grants: GrantPort;
  readonly #ctx: ComputeContext;
  readonly #explainDepth: number;

  constructor(opts: EngineOptions) {
    this.#opts = opts;
    this.topology = new Topology({ ...LIMITS, ...opts.limits });
    this.#grants = opts.grants ?? new MemoryGrants();
    this.#explainDepth = opts.explainDepth ?? 64;
    this.#ctx = {
      store: opts.store,
      grants: this.#grants,
      js: opts.js,
      fn: opts.fn,
      budget: opts.budget ?? DEFAULT_BUDGET,
      ownerOf: (key) => this.topology.nodes.get(key)?.so.owner,
    };
  }

  /** The grant port in use; MemoryGrants (the default) also makes and revokes grants. */
  get grants(): GrantPort {
    return this.#grants;
  }

  so(id: string): CompiledSO | undefined {
    return this.#sos.get(id);
  }

  /** Installs a service object; refused with a typed error naming the stream, the channel and the position. */
  async create(id: string, owner: string, document: unknown): Promise<Result<CompiledSO, ComposeError>> {
    if (this.#sos.has(id)) return { ok: false, error: composeError('FERRY_COMPOSE_EXISTS', 'an object with this id is installed', { so: id }) };
    const c = compileSO(id, document, owner);
    if (!c.ok) return c;
    const so = c.value;
    for (const s of so.streams.values()) {
      for (const ch of [
        ...[...s.channels.values()].map((x) => ({ name: x.name, code: x.code })),
        { name: 'pre-filter', code: s.pre },
        { name: 'post-filter', code: s.post },
      ]) {
        const where = { so: id, stream: s.name, channel: ch.name };
        if (ch.code?.kind === 'js') {
          if (this.#opts.js === undefined)
            return { ok: false, error: composeError('FERRY_COMPOSE_NO_RUNNER', 'a JavaScript function needs a sandbox this host was not given', where) };
          const chk = this.#opts.js.check?.(ch.code.js.source);
          if (chk !== undefined && !chk.ok) return { ok: false, error: composeError('FERRY_COMPOSE_SYNTAX', chk.error.message, where) };
        }
        if (ch.code?.kind === 'fn' && this.#opts.fn === undefined)
          return { ok: false, error: composeError('FERRY_COMPOSE_NO_RUNNER', 'a wasm function needs a function runner this host was not given', where) };
      }
    }
    if (this.#grants instanceof MemoryGrants) this.#grants.set(id, owner, so.grants, so.isPublic);
    const plan = this.topology.plan(so, (x) => this.#sos.get(x));
    if (!plan.ok) return this.#unset(id, plan);
    const reader = { owner, tokens: so.tokens };
    for (const n of plan.value) {
      for (const d of n.deps) {
        const target = this.topology.nodes.get(d)?.so ?? (d.startsWith(`${id}/`) ? so : undefined);
        if (target === undefined || target.owner === owner) continue;
        const stream = d.slice(target.id.length + 1);
        if (!(await this.#grants.allows(reader, { so: target.id, stream, owner: target.owner })))
          return this.#unset(id, {
            ok: false,
            error: composeError('FERRY_COMPOSE_FORBIDDEN', `no grant from ${target.owner} to read ${d}`, { so: id, stream: n.stream.name }),
          });
      }
    }
    this.topology.add(plan.value);
    this.#sos.set(id, so);
    return { ok: true, value: so };
  }

  #unset<T>(id: string, r: { ok: false; error: ComposeError }): Result<T, ComposeError> {
    if (this.#grants instanceof MemoryGrants && !this.#sos.has(id)) this.#grants.forget(id);
    return r;
  }

  /** Removes an object and its stored values; refused while another object's composite reads it. */
  async remove(id: string): Promise<Result<void, ComposeError>> {
    if (!this.#sos.has(id)) return { ok: false, error: composeError('FERRY_COMPOSE_NOT_FOUND', 'no such object', { so: id }) };
    const readers = this.topology.readersOutside(id);
    if (readers.length > 0) return { ok: false, error: composeError('FERRY_COMPOSE_IN_USE', `read by ${readers.slice(0, 5).join(', ')}`, { so: id }) };
    for (const s of this.#sos.get(id)!.streams.keys()) {
      await this.#opts.store.drop(keyOf(id, s));
      this.#state.delete(keyOf(id, s));
    }
    this.topology.remove(id);
    this.#sos.delete(id);
    if (this.#grants instanceof MemoryGrants) this.#grants.forget(id);
    return { ok: true, value: undefined };
  }

  /** Makes a grant on one of `so`'s streams (MemoryGrants only; a host's own port has its own API). */
  grant(so: string, grant: Grant): void {
    if (this.#grants instanceof MemoryGrants) this.#grants.grant(so, grant);
  }
  /** Revokes a grant: the next computation reading through it reads nothing, so the flow stops at once. */
  revoke(so: string, grant: Grant): void {
    if (this.#grants instanceof MemoryGrants) this.#grants.revoke(so, grant);
  }

  /** Feeds a simple stream and propagates. A redelivered update (not newer than the stream's latest) emits nothing. */
  async push(soId: string, streamName: string, raw: unknown): Promise<Result<PushReport, ComposeError>> {
    const key = keyOf(soId, streamName);
    const node = this.topology.nodes.get(key);
    if (node === undefined) return { ok: false, error: composeError('FERRY_COMPOSE_NOT_FOUND', 'no such stream', { so: soId, stream: streamName }) };
    if (node.stream.composite)
      return { ok: false, error: composeError('FERRY_COMPOSE_NOT_SIMPLE', 'a composite stream is computed, not fed', { so: soId, stream: streamName }) };
    const su = parseSensorUpdate(raw, node.stream.types, { so: soId, stream: streamName });
    if (!su.ok) {
      this.#note(key, { triggers: [], outcome: 'invalid', detail: su.error.message }, 'errors');
      return su;
    }
    const { lastUpdate } = su.value;
    const previous = await this.#opts.store.latest(key);
    if (previous !== undefined && lastUpdate <= previous.lastUpdate) {
      this.#note(key, { triggers: UPDATE, outcome: 'not-newer', lastUpdate }, 'droppedNotNewer');
      return { ok: true, value: { outcome: 'not-newer', outputs: [] } };
    }
    const channels: Record<string, StreamValue['channels'][string]> = {};
    for (const [ch, c] of Object.entries(su.value.channels)) channels[ch] = c['current-value'];
    const value: StreamValue = { channels, lastUpdate, id: `src:${lastUpdate}` };
    const filtered = await this.#sourceFilters(node, value, previous ?? null);
    if (filtered !== undefined) return { ok: true, value: { outcome: filtered, outputs: [] } };
    const outputs: Output[] = [];
    await this.#store(node, value, outputs);
    this.#note(key, { triggers: UPDATE, outcome: 'accepted', lastUpdate }, 'computed');
    if (this.#opts.propagation === 'fifo') await this.#fifo(key, outputs);
    else await this.#wave(key, outputs);
    return { ok: true, value: { outcome: 'accepted', outputs } };
  }

  /** A simple stream's filters see the update as `$`, as `result` and under the stream's name its previous value. */
  async #sourceFilters(node: Node, value: StreamValue, previous: StreamValue | null): Promise<Outcome | undefined> {
    const scope = new Map<string, StreamValue | null>([
      ['', value],
      ['result', value],
      [node.stream.name, previous],
    ]);
    for (const [name, keys] of node.members) if (!scope.has(name)) scope.set(name, (await this.#opts.store.latest(keys[0]!)) ?? null);
    for (const [which, code] of [
      ['pre-filter', node.stream.pre],
      ['post-filter', node.stream.post],
    ] as const) {
      if (code === undefined) continue;
      try {
        if (!(await run(code, scope, node, this.#ctx, which))) {
          this.#note(node.key, { triggers: UPDATE, outcome: which, lastUpdate: value.lastUpdate }, 'filtered');
          return which;
        }
      } catch (e) {
        this.#note(node.key, { triggers: UPDATE, outcome: 'error', lastUpdate: value.lastUpdate, detail: (e as Error).message }, 'errors');
        return 'error';
      }
    }
    return undefined;
  }

  async #store(node: Node, value: StreamValue, outputs: Output[]): Promise<void> {
    await this.#opts.store.setLatest(node.key, value);
    await this.#opts.store.append(node.key, value);
    const out = { so: node.so.id, stream: node.stream.name, value };
    outputs.push(out);
    this.#opts.onOutput?.(out);
  }

  /** Glitch-free: level by level from the updated source; each reachable stream computes once. */
  async #wave(source: string, outputs: Output[]): Promise<void> {
    const updated = new Set<string>([source]);
    const buckets: string[][] = [];
    const scheduled = new Set<string>();
    const schedule = (from: string): void => {
      for (const k of this.topology.downstream.get(from) ?? []) {
        if (scheduled.has(k)) continue;
        scheduled.add(k);
        const lv = this.topology.nodes.get(k)!.level;
        const bucket = buckets[lv] ?? [];
        buckets[lv] = bucket;
        bucket.push(k);
      }
    };
    schedule(source);
    for (let lv = 1; lv < buckets.length; lv++) {
      for (const k of buckets[lv] ?? []) {
        const node = this.topology.nodes.get(k)!;
        const triggers = node.deps.filter((d) => updated.has(d));
        if (await this.#computeAndStore(node, triggers, outputs)) {
          updated.add(k);
          schedule(k);
        }
      }
    }
  }

  /** ServIoTicy's dispatcher: each output triggers its readers, first in, first out. */
  async #fifo(source: string, outputs: Output[]): Promise<void> {
    const queue = [source];
    for (let i = 0; i < queue.length; i++) {
      for (const k of this.topology.downstream.get(queue[i]!) ?? []) {
        if (await this.#computeAndStore(this.topology.nodes.get(k)!, [queue[i]!], outputs)) queue.push(k);
      }
    }
  }

  async #computeAndStore(node: Node, triggers: readonly string[], outputs: Output[]): Promise<boolean> {
    const c: Computation = await compute(node, triggers, this.#ctx);
    const entry = {
      triggers,
      outcome: c.outcome,
      ...(c.lastUpdate !== undefined && { lastUpdate: c.lastUpdate }),
      ...(c.error && { detail: c.error.message }),
    };
    const counter: Record<Outcome, keyof Counters> = {
      emitted: 'computed',
      'not-newer': 'droppedNotNewer',
      'pre-filter': 'filtered',
      'post-filter': 'filtered',
      null: 'nulls',
      error: 'errors',
      forbidden: 'forbidden',
      duplicate: 'duplicates',
    };
    this.#note(node.key, entry, counter[c.outcome]);
    if (c.outcome !== 'emitted' || c.value === undefined) return false;
    await this.#store(node, c.value, outputs);
    return true;
  }

  #note(key: string, e: Omit<ExplainEntry, 'at'>, counter: keyof Counters): void {
    let s = this.#state.get(key);
    if (s === undefined) {
      // Made on a stream's first update, not at creation: an idle stream costs no memory here.
      if (!this.topology.nodes.has(key)) return;
      s = { computed: 0, droppedNotNewer: 0, filtered: 0, nulls: 0, errors: 0, forbidden: 0, duplicates: 0, explain: undefined };
      this.#state.set(key, s);
    }
    s[counter]++;
    const entry: ExplainEntry = { at: this.#opts.clock.now(), triggers: e.triggers, outcome: e.outcome, lastUpdate: e.lastUpdate, detail: e.detail };
    if (s.explain === undefined) s.explain = [entry];
    else {
      s.explain.push(entry);
      if (s.explain.length > this.#explainDepth) s.explain.shift();
    }
  }

  counters(so: string, stream: string): Counters | undefined {
    const key = keyOf(so, stream);
    const s = this.#state.get(key);
    if (s === undefined) return this.topology.nodes.has(key) ? zero() : undefined;
    const { explain: _, ...counters } = s;
    return counters;
  }

  /** Why the last `n` updates reaching the stream did or did not produce an output, oldest first. */
  explain(so: string, stream: string, n = 10): readonly ExplainEntry[] {
    return this.#state.get(keyOf(so, stream))?.explain?.slice(-n) ?? [];
  }

  async latest(so: string, stream: string): Promise<StreamValue | undefined> {
    return await this.#opts.store.latest(keyOf(so, stream));
  }

  async history(so: string, stream: string, from: number, to: number, limit?: number): Promise<readonly StreamValue[]> {
    return await this.#opts.store.range(keyOf(so, stream), from, to, limit);
  }

  /** An object's document, latest values and last outputs: what a move between gateway and cloud carries. */
  async snapshot(id: string): Promise<Result<SOSnapshot, ComposeError>> {
    const so = this.#sos.get(id);
    if (so === undefined) return { ok: false, error: composeError('FERRY_COMPOSE_NOT_FOUND', 'no such object', { so: id }) };
    return { ok: true, value: await takeSnapshot(so, this.#opts.store) };
  }

  /** Installs the snapshot's object when absent, then takes each stream's value unless the engine has a newer one. */
  async restore(snapshot: unknown): Promise<Result<CompiledSO, ComposeError>> {
    return await new Restorer(
      this.#opts.store,
      (id, owner, doc) => this.create(id, owner, doc),
      (id) => this.#sos.get(id),
    ).restore(snapshot);
  }
}
