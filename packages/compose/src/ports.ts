/**
 * @module The ports the engine is given, and in-memory implementations. The engine does no I/O: a host
 * (the cloud, the gateway) gives it a store (latest values, last outputs, output history), a grant check,
 * and runners for JavaScript functions (a sandbox) and wasm functions (the function runner). A port may
 * answer synchronously or with a promise.
 */
import type { Result } from '@ferry/base';
import type { ComposeError } from './errors.ts';
import type { Grant, Principal } from './document.ts';
import type { StreamValue, Value } from './values.ts';

type MaybePromise<T> = T | Promise<T>;

/** A stream as ServIoTicy hands it to user code: `{channels: {<ch>: {"current-value": v}}, lastUpdate}`, or null. */
export type InputDocument = { readonly channels: Readonly<Record<string, { readonly 'current-value': Value }>>; readonly lastUpdate: number } | null;

/**
 * Runs a 0.2.0 `function(A, group){ ... }` unchanged: `args` are the inputs in parameter order; `globals`
 * are free variables the function may read (its own stream's previous output under the stream's name,
 * and `$input`, the update that triggered it). The sandbox bounds memory and time; a failure is a
 * FERRY_COMPOSE_RUNNER error.
 */
/** Who a runner runs for: the owner of the service object (its sandbox, quotas and white-lists are that owner's). */
export interface RunContext {
  readonly owner: string;
  readonly so: string;
  readonly stream: string;
}

export interface JsRunner {
  run(
    source: string,
    args: readonly InputDocument[],
    globals: Readonly<Record<string, InputDocument>>,
    ctx: RunContext,
  ): MaybePromise<Result<unknown, ComposeError>>;
  /** Checks a function's syntax when its object is created; without it, syntax errors show at run time. */
  check?(source: string): Result<void, ComposeError>;
}

/** Calls a wasm function by content hash under the function runner's white-lists and quotas. */
export interface FnRunner {
  call(hash: string, exportName: string, args: readonly InputDocument[], ctx: RunContext): MaybePromise<Result<unknown, ComposeError>>;
}

/** Latest values (a composite's latest value is its last output) and output history, by stream key `<so>/<stream>`. */
export interface ComposeStore {
  latest(key: string): MaybePromise<StreamValue | undefined>;
  /** Makes `value` the stream's latest value. */
  setLatest(key: string, value: StreamValue): MaybePromise<void>;
  /** Adds an output (or accepted sensor update) to the stream's history. */
  append(key: string, value: StreamValue): MaybePromise<void>;
  /** History with from <= lastUpdate <= to, oldest first, at most `limit`. */
  range(key: string, from: number, to: number, limit?: number): MaybePromise<readonly StreamValue[]>;
  /** Forgets the stream (its object was deleted). */
  drop(key: string): MaybePromise<void>;
}

/** Who reads: a composite's owner and the public token ids its object presents. */
export interface Reader {
  readonly owner: string;
  readonly tokens: readonly string[];
}
export interface Target {
  readonly so: string;
  readonly stream: string;
  readonly owner: string;
}

/** Whether a reader may read another owner's stream; asked at creation and at every computation, so a revocation acts at once. */
export interface GrantPort {
  allows(reader: Reader, target: Target): MaybePromise<boolean>;
}

export class MemoryStore implements ComposeStore {
  readonly #latest = new Map<string, StreamValue>();
  readonly #history = new Map<string, StreamValue[]>();
  readonly #historyCap: number;

  /** `historyCap`: outputs kept per stream (the oldest go first). */
  constructor(historyCap = 1000) {
    this.#historyCap = historyCap;
  }

  latest(key: string): StreamValue | undefined {
    return this.#latest.get(key);
  }
  setLatest(key: string, value: StreamValue): void {
    this.#latest.set(key, value);
  }
  append(key: string, value: StreamValue): void {
    if (this.#historyCap === 0) return;
    const h = this.#history.get(key) ?? [];
    this.#history.set(key, h);
    h.push(value);
    if (h.length > this.#historyCap) h.splice(0, h.length - this.#historyCap);
  }
  range(key: string, from: number, to: number, limit = Number.POSITIVE_INFINITY): readonly StreamValue[] {
    return (this.#history.get(key) ?? []).filter((v) => v.lastUpdate >= from && v.lastUpdate <= to).slice(0, limit);
  }
  drop(key: string): void {
    this.#latest.delete(key);
    this.#history.delete(key);
  }
}

const samePrincipal = (a: Principal, b: Principal): boolean => ('owner' in a ? 'owner' in b && a.owner === b.owner : 'token' in b && a.token === b.token);

/** Grants held in memory: what an object's document declares, plus grants made and revoked later. */
export class MemoryGrants implements GrantPort {
  readonly #grants = new Map<string, { owner: string; isPublic: boolean; grants: Grant[] }>();

  /** Sets an object's grants (from its document). */
  set(so: string, owner: string, grants: readonly Grant[], isPublic = false): void {
    this.#grants.set(so, { owner, isPublic, grants: [...grants] });
  }
  forget(so: string): void {
    this.#grants.delete(so);
  }
  grant(so: string, grant: Grant): void {
    const g = this.#grants.get(so);
    if (g !== undefined && !g.grants.some((x) => x.stream === grant.stream && samePrincipal(x.to, grant.to))) g.grants.push(grant);
  }
  /** Removes a grant; the next computation that would read through it reads nothing. */
  revoke(so: string, grant: Grant): void {
    const g = this.#grants.get(so);
    if (g !== undefined) g.grants = g.grants.filter((x) => !(x.stream === grant.stream && samePrincipal(x.to, grant.to)));
  }
  allows(reader: Reader, target: Target): boolean {
    if (reader.owner === target.owner) return true;
    const g = this.#grants.get(target.so);
    if (g === undefined) return false;
    if (g.isPublic) return true;
    return g.grants.some(
      (x) => (x.stream === '*' || x.stream === target.stream) && ('owner' in x.to ? x.to.owner === reader.owner : reader.tokens.includes(x.to.token)),
    );
  }
}
