/** @module The sandbox's limits and their defaults (docs/js-sandbox.md explains each). */

/** Limits fixed per owner's runtime, for the life of the pool. */
export interface JsRuntimeLimits {
  /** Heap of one owner's runtime (QuickJS's allocator limit), bytes. */
  readonly memoryBytes: number;
  /** Stack one call may use (QuickJS's own check), bytes; kept small because the engine's frames also use the host's stack. */
  readonly stackBytes: number;
  /** Compiled functions kept per owner (least recently used dropped first). */
  readonly maxFunctions: number;
  /** Longest source accepted, UTF-8 bytes. */
  readonly maxSourceBytes: number;
  /** Longest arguments accepted, bytes of their JSON text. */
  readonly maxArgsBytes: number;
  /** Deepest nesting of arrays and objects, in the arguments and in the result. */
  readonly maxDepth: number;
}

/** Limits that a call may set for itself. */
export interface JsCallLimits {
  /** Deadline of a call (and of the compilation that precedes a first call), milliseconds. */
  readonly timeoutMs: number;
  /** Longest result accepted, characters of its JSON text. */
  readonly maxResultBytes: number;
}

export type JsLimits = JsRuntimeLimits & JsCallLimits;

export const DEFAULT_LIMITS: JsLimits = {
  memoryBytes: 8 * 1024 * 1024,
  stackBytes: 24 * 1024,
  maxFunctions: 64,
  maxSourceBytes: 64 * 1024,
  maxArgsBytes: 1024 * 1024,
  maxDepth: 64,
  timeoutMs: 50,
  maxResultBytes: 1024 * 1024,
};

/** The limits with `given` applied; a value that is not a positive number keeps the default. */
export function limitsWith<T extends object>(base: T, given: Partial<T> | undefined): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(given ?? {})) if (k in base && typeof v === 'number' && v > 0 && !Number.isNaN(v)) out[k] = v;
  return out as T;
}
