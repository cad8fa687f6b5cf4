/**
 * @module Ingest counters: one number per outcome, exposed as a plain snapshot object for metrics
 * (ops/ turns it into Prometheus text or a dashboard). Counting is the only side effect here.
 */
import type { MessageErrorCode } from '@ferry/message';
import type { Released } from './reorder-types.ts';

export interface IngestCounters {
  /** Messages accepted by anti-replay (new (kid, ep, sq)); buffered or released. */
  accepted: number;
  /** Verification failures, all codes; `rejected_by_code` splits them. */
  rejected: number;
  /** The FERRY_MSG_BAD_SIGNATURE share of `rejected` (altered or wrongly keyed tokens). */
  bad_signature: number;
  /** Verified messages refused because the transport named another source (an uplink topic of another kid). */
  topic_mismatch: number;
  rejected_by_code: Partial<Record<MessageErrorCode, number>>;
  /** Below the anti-replay window of the current epoch. */
  replay: number;
  /** Same (kid, ep, sq) again: dropped idempotently. */
  duplicate: number;
  /** Older epoch, or a seq already recorded as a gap. */
  late: number;
  /** Implausible leaps forward (a glitched seq or epoch): stored, not applied, not released. */
  jump: number;
  /** Times a verified message was held back by the per-device rate (IngestOptions.deviceRate); it is offered again, never dropped. */
  rate_limited: number;
  /** Late arrivals whose point was stored (not released: a series point, no event). */
  late_stored: number;
  /**
   * Verified messages below the window whose point was offered to the series (not released). The series is
   * idempotent on (kid, ep, sq): a true replay of a stored message changes nothing; an authentic message that
   * fell below the window before it arrived is kept, never dropped.
   */
  replay_stored: number;
  /** Seqs recorded as missing (summed over gap ranges). */
  gap: number;
  /** Gap ranges released. */
  gap_ranges: number;
  /** Messages released on their own (not as a group part). */
  released: number;
  /** Groups released with every part. */
  group_complete: number;
  /** Groups released incomplete: timeout, epoch change, overflow, conflict or flush. */
  group_timeout: number;
  /** Reorder store failures (message not acknowledged). */
  reorder_store_error: number;
  /** Time-series appends that failed. */
  store_error: number;
  /** Subscribers that threw or rejected. */
  subscriber_error: number;
  /** Releases taken again from an outbox because their first taker never confirmed them (it died). */
  recovered: number;
  /** Outbox confirmations that failed (the releases come again after the lease; nothing is lost). */
  confirm_error: number;
}

export function newCounters(): IngestCounters {
  return {
    accepted: 0,
    rejected: 0,
    bad_signature: 0,
    topic_mismatch: 0,
    rejected_by_code: {},
    replay: 0,
    duplicate: 0,
    late: 0,
    jump: 0,
    late_stored: 0,
    replay_stored: 0,
    rate_limited: 0,
    gap: 0,
    gap_ranges: 0,
    released: 0,
    group_complete: 0,
    group_timeout: 0,
    reorder_store_error: 0,
    store_error: 0,
    subscriber_error: 0,
    recovered: 0,
    confirm_error: 0,
  };
}

export function countRejected(c: IngestCounters, code: MessageErrorCode): void {
  c.rejected++;
  if (code === 'FERRY_MSG_BAD_SIGNATURE') c.bad_signature++;
  c.rejected_by_code[code] = (c.rejected_by_code[code] ?? 0) + 1;
}

export function countReleased<R>(c: IngestCounters, released: readonly Released<R>[]): void {
  for (const r of released) {
    if (r.type === 'message') c.released++;
    else if (r.type === 'gap') {
      c.gap += r.to - r.from;
      c.gap_ranges++;
    } else if (r.complete) c.group_complete++;
    else c.group_timeout++;
  }
}

/** A deep copy, so a metrics reader never sees later increments mid-read. */
export const snapshot = (c: IngestCounters): IngestCounters => ({ ...c, rejected_by_code: { ...c.rejected_by_code } });
