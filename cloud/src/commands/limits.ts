/** @module The command limits and defaults (docs/actions.md "Limits"; docs/limits.md). */
import type { Overflow } from './model.ts';

/** Largest command body, JSON bytes: its signed token must fit a Ferry message (MAX_TOKEN_BYTES, 2 KiB). */
export const MAX_COMMAND_BYTES = 1024;
export const DEFAULT_TTL_S = 3600;
export const MAX_TTL_S = 7 * 24 * 3600;
/** SQS's batch limits (SendMessageBatch): 10 entries, 1 MiB of request. */
export const MAX_BATCH_ITEMS = 10;
export const MAX_BATCH_BYTES = 1024 * 1024;
/** Devices one broadcast may reach. */
export const MAX_BROADCAST_DEVICES = 20_000;
/** Devices an explicit broadcast list may name. */
export const MAX_TARGET_LIST = 1000;

export interface CommandLimits {
  /** Live commands per device (queued or in flight). */
  readonly depth: number;
  readonly overflow: Overflow;
  /** How long a sent command waits for its answer before it is sent again. */
  readonly visibilityMs: number;
  /** Deliveries per command, the first included; after the last times out the command fails. */
  readonly maxAttempts: number;
  /** Commands per second per owner (single, batch items, rule outputs of no owner aside), and the burst. */
  readonly perSecond: number;
  readonly burst: number;
  /** Broadcasts per minute per owner (a token bucket of that burst). */
  readonly broadcastsPerMinute: number;
  /** Scale-out: a device is taken as online this long after its last uplink. */
  readonly presenceMs: number;
  /** How often due queues are swept (expiry, visibility timeouts). */
  readonly sweepMs: number;
}

export const COMMAND_LIMITS: CommandLimits = {
  depth: 64,
  overflow: 'reject-new',
  visibilityMs: 30_000,
  maxAttempts: 5,
  perSecond: 100,
  burst: 1000,
  broadcastsPerMinute: 10,
  presenceMs: 10 * 60_000,
  sweepMs: 500,
};
