/**
 * @module The engine's store and grant ports as the host gives them. HostStore lets the host remove an
 * object from the engine while keeping its values (a replaced document keeps the streams it still has; a
 * scale-out worker forgetting its copy leaves the shared values to the others). HostGrants answers from the
 * persisted grants at every computation, so a revocation (on any worker) stops the flow at once; objects
 * that were checked when made are installed again at start without asking, since each computation asks.
 * Also the host's bounds per owner and the failures it answers.
 */
import { type ComposeError, type ComposeStore, composeError, type GrantPort, type Reader, type StreamValue, type Target } from '@ferry/compose';
import type { Caller } from './hosting.ts';
import type { SoRecordStore } from './records.ts';

/** Runs `f` with a flag set, cleared however it ends. */
async function flagged<T>(set: (on: boolean) => void, f: () => Promise<T>): Promise<T> {
  set(true);
  try {
    return await f();
  } finally {
    set(false);
  }
}

export class HostStore implements ComposeStore {
  readonly #inner: ComposeStore;
  #keep = false;

  constructor(inner: ComposeStore) {
    this.#inner = inner;
  }

  /** Runs `f` with drop turned off. */
  keeping<T>(f: () => Promise<T>): Promise<T> {
    return flagged((on) => {
      this.#keep = on;
    }, f);
  }

  latest(key: string): StreamValue | undefined | Promise<StreamValue | undefined> {
    return this.#inner.latest(key);
  }
  setLatest(key: string, value: StreamValue): void | Promise<void> {
    return this.#inner.setLatest(key, value);
  }
  append(key: string, value: StreamValue): void | Promise<void> {
    return this.#inner.append(key, value);
  }
  range(key: string, from: number, to: number, limit?: number): readonly StreamValue[] | Promise<readonly StreamValue[]> {
    return this.#inner.range(key, from, to, limit);
  }
  async drop(key: string): Promise<void> {
    if (!this.#keep) await this.#inner.drop(key);
  }
}

export class HostGrants implements GrantPort {
  readonly #records: SoRecordStore;
  readonly #isPublic: (so: string) => boolean;
  #trust = false;

  constructor(records: SoRecordStore, isPublic: (so: string) => boolean) {
    this.#records = records;
    this.#isPublic = isPublic;
  }

  /** Runs `f` (an install of an object checked when it was made) with every read allowed. */
  trusting<T>(f: () => Promise<T>): Promise<T> {
    return flagged((on) => {
      this.#trust = on;
    }, f);
  }

  async allows(reader: Reader, target: Target): Promise<boolean> {
    if (this.#trust || reader.owner === target.owner || this.#isPublic(target.so)) return true;
    return (await this.#records.grants(target.so)).some(
      (g) => (g.stream === '*' || g.stream === target.stream) && ('owner' in g.to ? g.to.owner === reader.owner : reader.tokens.includes(g.to.token)),
    );
  }
}

/** Bounds per owner (docs/limits.md). */
export interface ComposeHostLimits {
  readonly objectsPerOwner: number;
  /** Sensor updates per second per owner, and the burst. */
  readonly updatesPerSecond: number;
  readonly updateBurst: number;
}
export const COMPOSE_HOST_LIMITS: ComposeHostLimits = { objectsPerOwner: 1000, updatesPerSecond: 200, updateBurst: 400 };

/** Failures the host answers, and who acts on an object: its owner or a global caller. */
export const fail = (code: Parameters<typeof composeError>[0], detail: string, so?: string, stream?: string): { ok: false; error: ComposeError } => ({
  ok: false,
  error: composeError(code, detail, { ...(so !== undefined && { so }), ...(stream !== undefined && { stream }) }),
});
export const notFound = (so: string): { ok: false; error: ComposeError } => fail('FERRY_COMPOSE_NOT_FOUND', 'no such object', so);
export const inUse = (so: string, readers: readonly string[]) =>
  fail('FERRY_COMPOSE_IN_USE', `read by ${readers.slice(0, 5).join(', ')}; delete those first`, so);
export const owns = (c: Caller, owner: string): boolean => c.global === true || (c.owner !== undefined && c.owner === owner);
