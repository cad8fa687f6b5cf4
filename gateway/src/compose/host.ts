/**
 * @module The gateway's composite-stream host (docs/composite-streams.md, "On the gateway"): one ComposeEngine
 * over the gateway's SQLite store. It has the shape of the cloud's host seam (push, mayRead, onOutput, moveOut,
 * moveIn), so a move speaks the same language on both ends. Every operation runs alone and as one store
 * transaction: a wave's outputs are handed to `beforeCommit` (the outbox) before the wave commits, so nothing
 * the gateway computed is lost on its way up, and a kill -9 mid-wave leaves the store as before the update.
 * Objects are kept in the store and installed again when the gateway restarts.
 */
import type { Result } from '@ferry/base';
import { ComposeEngine, type ComposeError, type EngineOptions, type PushReport, type SOSnapshot, type StreamValue, composeError } from '@ferry/compose';
import type { ComposeStore } from '@ferry/compose';

/**
 * The store a host runs over. The gateway's (GatewayComposeStore) also keeps the objects, so they are
 * installed again after a restart, and makes every operation one transaction; a store without those parts
 * (a stand-in, a buffer a lease commits) leaves them to its owner.
 */
export interface HostStore extends ComposeStore {
  wave?<T>(f: () => Promise<T>): Promise<T>;
  objects?(): { id: string; owner: string; document: unknown }[];
  putObject?(id: string, owner: string, document: unknown): void;
  deleteObject?(id: string, snapshots?: readonly unknown[]): void;
  movedOut?(id: string): readonly unknown[] | undefined;
}

/** Who acts on an object: its owner, or a global caller (the gateway's own API, the cloud over the control channel). */
export interface HostCaller {
  readonly owner?: string | undefined;
  readonly global?: boolean | undefined;
  readonly tokens?: readonly string[] | undefined;
}

export interface HostedValue {
  readonly owner: string;
  readonly so: string;
  readonly stream: string;
  readonly kind: 'update' | 'output';
  readonly value: StreamValue;
}

export interface ComposeHostOptions extends Omit<EngineOptions, 'store' | 'onOutput'> {
  readonly store: HostStore;
  /** Takes a wave's values before it commits (the outbox); throwing undoes the wave. */
  readonly beforeCommit?: (values: readonly HostedValue[]) => void;
}

type R<T> = Result<T, ComposeError>;
const notFound = (so: string): { ok: false; error: ComposeError } => ({ ok: false, error: composeError('FERRY_COMPOSE_NOT_FOUND', 'no such object', { so }) });

/** Thrown inside a transaction to roll it back and answer `result`. */
class Undo {
  readonly result: { ok: false; error: ComposeError };
  constructor(result: { ok: false; error: ComposeError }) {
    this.result = result;
  }
}

export class ComposeHost {
  readonly engine: ComposeEngine;
  readonly #store: HostStore;
  readonly #opts: ComposeHostOptions;
  readonly #listeners = new Set<(v: HostedValue) => void>();
  /** Installed ids in install order: a group's members come before the objects reading them. */
  readonly #order = new Set<string>();
  #turn: Promise<unknown> = Promise.resolve();

  constructor(opts: ComposeHostOptions) {
    this.#opts = opts;
    this.#store = opts.store;
    this.engine = new ComposeEngine({ ...opts, store: opts.store });
  }

  /** Installs the objects the store holds (after a restart). Answers the ids that no longer install, with why. */
  async load(): Promise<string[]> {
    const refused: string[] = [];
    for (const o of this.#store.objects?.() ?? []) {
      const c = await this.engine.create(o.id, o.owner, o.document);
      if (c.ok) this.#order.add(o.id);
      else refused.push(`${o.id}: ${c.error.message}`);
    }
    return refused;
  }

  /** Runs `f` after every operation before it, as one store transaction; an Undo rolls it back and answers its error. */
  #serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.#turn
      .then(() => (this.#store.wave === undefined ? f() : this.#store.wave(f)))
      .catch((e: unknown) => {
        if (e instanceof Undo) return e.result as T;
        throw e;
      });
    this.#turn = run.catch(() => undefined);
    return run;
  }

  #may(caller: HostCaller, so: string): boolean {
    const o = this.engine.so(so);
    return o !== undefined && (caller.global === true || caller.owner === o.owner);
  }

  list(caller: HostCaller): { id: string; owner: string }[] {
    return [...this.#order].flatMap((id) => {
      const o = this.engine.so(id)!;
      return caller.global === true || caller.owner === o.owner ? [{ id, owner: o.owner }] : [];
    });
  }

  async create(caller: HostCaller, id: string, owner: string, document: unknown): Promise<R<void>> {
    if (caller.global !== true && caller.owner !== owner) return notFound(id);
    return await this.#serial(async () => {
      const c = await this.engine.create(id, owner, document);
      if (!c.ok) return c;
      this.#store.putObject?.(id, owner, document);
      this.#order.add(id);
      return { ok: true, value: undefined };
    });
  }

  async push(caller: HostCaller, so: string, stream: string, update: unknown): Promise<R<PushReport>> {
    const r = await this.#serial(async () => {
      if (!this.#may(caller, so)) return { r: notFound(so), values: [] };
      const r = await this.engine.push(so, stream, update);
      const owner = this.engine.so(so)!.owner;
      const values: HostedValue[] = !r.ok
        ? []
        : r.value.outputs.map((o, i) => ({
            owner: this.engine.so(o.so)?.owner ?? owner,
            so: o.so,
            stream: o.stream,
            kind: i === 0 && r.value.outcome === 'accepted' ? 'update' : 'output',
            value: o.value,
          }));
      if (values.length > 0) this.#opts.beforeCommit?.(values);
      return { r, values };
    });
    for (const v of r.values) for (const l of this.#listeners) l(v);
    return r.r;
  }

  async mayRead(caller: HostCaller, so: string, stream: string): Promise<boolean> {
    const o = this.engine.so(so);
    if (o === undefined || !o.streams.has(stream)) return false;
    if (caller.global === true || caller.owner === o.owner) return true;
    if (caller.owner === undefined) return false;
    return await this.engine.grants.allows({ owner: caller.owner, tokens: caller.tokens ?? [] }, { so, stream, owner: o.owner });
  }

  onOutput(listener: (output: HostedValue) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The objects connected to `so` through the streams they read (either way), in install order. */
  component(so: string): string[] {
    const links = new Map<string, Set<string>>();
    const link = (a: string, b: string): void => {
      if (a === b) return;
      for (const [x, y] of [
        [a, b],
        [b, a],
      ] as const) {
        const s = links.get(x) ?? new Set<string>();
        links.set(x, s);
        s.add(y);
      }
    };
    for (const n of this.engine.topology.nodes.values()) for (const d of n.deps) link(n.so.id, this.engine.topology.nodes.get(d)?.so.id ?? n.so.id);
    const seen = new Set([so]);
    for (const x of seen) for (const y of links.get(x) ?? []) seen.add(y);
    return [...this.#order].filter((id) => seen.has(id));
  }

  /**
   * Takes `so`'s connected component out: one snapshot per object (in install order), then the objects go,
   * readers first. The snapshots are kept, so asking again (a reply lost on the way) answers the same ones.
   */
  async moveOut(caller: HostCaller, so: string): Promise<R<readonly SOSnapshot[]>> {
    return await this.#serial(async () => {
      if (!this.#may(caller, so)) {
        const parked = this.#store.movedOut?.(so) as SOSnapshot[] | undefined;
        const mine = parked?.find((s) => s.so === so);
        return parked !== undefined && mine !== undefined && (caller.global === true || caller.owner === mine.owner)
          ? { ok: true, value: parked }
          : notFound(so);
      }
      const ids = this.component(so);
      const snapshots: SOSnapshot[] = [];
      for (const id of ids) {
        const s = await this.engine.snapshot(id);
        if (!s.ok) return s;
        snapshots.push(s.value);
      }
      for (const id of [...ids].reverse()) {
        const r = await this.engine.remove(id);
        if (!r.ok) throw new Error(`moving ${so} out: ${r.error.message}`); // the transaction undoes the store; the engine is rebuilt on restart
        this.#order.delete(id);
        this.#store.deleteObject?.(id, snapshots);
      }
      return { ok: true, value: snapshots };
    });
  }

  /** Installs snapshots taken by a moveOut (here or at the cloud); a replay changes nothing and emits nothing. */
  async moveIn(caller: HostCaller, snapshots: readonly unknown[]): Promise<R<void>> {
    return await this.#serial(async () => {
      const added: string[] = [];
      const undo = async (r: { ok: false; error: ComposeError }): Promise<never> => {
        // All or nothing: the objects this call installed go again; the transaction takes back the values.
        for (const id of added.reverse()) {
          await this.engine.remove(id);
          this.#order.delete(id);
        }
        throw new Undo(r);
      };
      for (const raw of snapshots) {
        const owner = (raw as { owner?: unknown } | null)?.owner;
        const id = (raw as { so?: unknown } | null)?.so;
        if (caller.global !== true && owner !== caller.owner) await undo(notFound(typeof id === 'string' ? id : ''));
        const r = await this.engine.restore(raw);
        if (!r.ok) return await undo(r);
        if (!this.#order.has(r.value.id)) {
          this.#store.putObject?.(r.value.id, r.value.owner, r.value.document);
          added.push(r.value.id);
        }
        this.#order.add(r.value.id);
      }
      return { ok: true, value: undefined };
    });
  }
}
