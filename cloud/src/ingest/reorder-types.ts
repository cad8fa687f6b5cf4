/**
 * @module The data of the per-source sequencing step: its configuration, its state (plain JSON, so the
 * SQLite store can keep it in one row and the Redis Lua script in one key), the message it takes and what
 * it releases. The semantics live in reorder.ts (`reorderStep`); docs/ingest.md explains them.
 */
import type { Group } from '@ferry/message';

export interface ReorderConfig {
  /**
   * W, in sequence numbers. A message may be buffered at most W-1 ahead of the next expected seq (a message
   * further ahead slides the window and releases the gaps it jumps over), and duplicates are recognised up
   * to W behind it (older ones are refused as replays). Bounds the buffer and the bitmap to W entries.
   */
  readonly window: number;
  /** A buffered message waits at most this long (ms, injected clock) for the gaps before it. */
  readonly timeoutMs: number;
  /** An incomplete group is released this long (ms) after its first part was released. */
  readonly groupTimeoutMs: number;
  /** Open groups per source; beyond it the oldest is released incomplete (bounds memory per source). */
  readonly maxOpenGroups: number;
}

/** What the sequencing step needs from a verified message: its place, its group, and an opaque reference. */
export interface SeqMessage<R> {
  readonly ep: number;
  readonly sq: number;
  readonly group?: Group | undefined;
  /** The payload (or a reference to it) handed back on release; must be JSON for persistent stores. */
  readonly ref: R;
}

/** A buffered message: arrived at `at` (ms), waiting for the seqs before it. */
export interface Pending<R> {
  readonly sq: number;
  readonly at: number;
  readonly group?: Group | undefined;
  readonly ref: R;
}

export interface GroupMember<R> {
  readonly part: number;
  readonly sq: number;
  readonly at: number;
  readonly ref: R;
}

/** A group whose first part has been released in order and which waits for its other parts. */
export interface OpenGroup<R> {
  readonly id: number;
  readonly parts: number;
  /** When its first part was released (ms); the group timeout counts from here. */
  readonly since: number;
  /** Sorted by part. */
  readonly members: readonly GroupMember<R>[];
}

/** Per-source state. JSON-serialisable when R is. */
export interface ReorderState<R> {
  /** The current (highest seen) epoch; older epochs are closed. */
  readonly ep: number;
  /** The next seq to release in `ep`; every seq below it was released or recorded as a gap. */
  readonly next: number;
  /**
   * Ring bitmap of ceil(W/32) int32 words: bit (sq mod W) says whether sq in [next-W, next) was released (1)
   * or recorded as a gap (0), so a repeat is told apart as a duplicate or a late arrival.
   */
  readonly seen: readonly number[];
  /** Buffered messages, sorted by sq, all in [next+1, next+W). */
  readonly pending: readonly Pending<R>[];
  /** Open groups of epoch `ep`, oldest first. */
  readonly groups: readonly OpenGroup<R>[];
}

/** Why a group was released. Only 'complete' has every part. */
export type GroupReason = 'complete' | 'timeout' | 'epoch' | 'overflow' | 'conflict' | 'flush';

export type Released<R> =
  | { readonly type: 'message'; readonly ep: number; readonly sq: number; readonly at: number; readonly ref: R }
  /** Seqs [from, to) of epoch ep will never be released: lost, or to arrive too late. */
  | { readonly type: 'gap'; readonly ep: number; readonly from: number; readonly to: number }
  | {
      readonly type: 'group';
      readonly ep: number;
      readonly id: number;
      readonly parts: number;
      readonly members: readonly GroupMember<R>[];
      /** Part indices never received (empty when complete). */
      readonly missing: readonly number[];
      readonly complete: boolean;
      readonly reason: GroupReason;
    };

/**
 * What became of the message given to the step. 'accepted': new, buffered or released (possibly inside a
 * group); the others leave the order untouched: 'duplicate' (already accepted), 'replay' (below the window,
 * too old to tell), 'late' (older epoch, or its seq was already recorded as a gap), 'jump' (an implausible
 * leap forward: a seq more than JUMP_WINDOWS windows ahead, or an epoch more than MAX_EPOCH_JUMP ahead, as a
 * glitched counter would send; applying it would make every later message of the source a replay).
 */
export type SeqOutcome = 'accepted' | 'duplicate' | 'replay' | 'late' | 'jump';

export interface StepResult<R> {
  readonly state: ReorderState<R>;
  /** In release order; for one source this is (ep, sq) order. */
  readonly released: readonly Released<R>[];
  readonly outcome: SeqOutcome;
}

export interface TickResult<R> {
  readonly state: ReorderState<R>;
  readonly released: readonly Released<R>[];
}

/** The mutable working copy a step edits; never the caller's state. */
export interface Draft<R> {
  ep: number;
  next: number;
  seen: number[];
  pending: Pending<R>[];
  groups: OpenGroup<R>[];
  readonly out: Released<R>[];
}
