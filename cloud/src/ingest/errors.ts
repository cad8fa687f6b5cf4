/**
 * @module The ingest error catalog (4500-4599): every way the ingest pipeline refuses or fails a message has
 * one code (FERRY_INGEST_*), one number and one HTTP status (the one a route would answer: ingest runs behind
 * MQTT). docs/errors.md lists every catalog. Verification failures keep their FERRY_MSG_* code as `cause`.
 */
import { defineErrors } from '@ferry/base';
import type { MessageError, MessageErrorCode } from '@ferry/message';

const INGEST = defineErrors(
  'FERRY_INGEST_',
  [4500, 4599],
  {
    FERRY_INGEST_CONFIG: { num: 4501, status: 500, doc: 'an ingest option is invalid (window, timeouts, limits); thrown at construction, never per message' },
    FERRY_INGEST_REJECTED: {
      num: 4502,
      status: 401,
      doc: 'the token failed verification (size, shape, alg, key, MAC, claims); `cause` carries the FERRY_MSG_* code',
    },
    FERRY_INGEST_REPLAY: {
      num: 4503,
      status: 409,
      doc: 'sq is below the anti-replay window of the current epoch: too old to tell from a replay; not released, its point offered to the series (idempotent)',
    },
    FERRY_INGEST_DUPLICATE: { num: 4504, status: 409, doc: '(kid, ep, sq) was already accepted (buffered or released); dropped idempotently' },
    FERRY_INGEST_LATE: { num: 4505, status: 409, doc: 'the message came after its place was closed: an older epoch, or a seq already recorded as a gap' },
    FERRY_INGEST_REORDER_STORE: {
      num: 4506,
      status: 503,
      doc: 'the reorder store failed; nothing was acknowledged, so the transport redelivers (at-least-once)',
    },
    FERRY_INGEST_STORE: { num: 4507, status: 503, doc: 'the time-series store failed to append a released event' },
    FERRY_INGEST_SUBSCRIBER: { num: 4508, status: 500, doc: 'a subscriber threw or rejected; the other subscribers still ran' },
    FERRY_INGEST_RATE_LIMITED: {
      num: 4509,
      status: 429,
      doc: 'the device sent more than its rate (token bucket per kid, checked after the MAC); the message is held back (its acknowledgement waits) and offered again when the bucket refills, so the sender is paced and nothing is lost',
    },
    FERRY_INGEST_SEQ_JUMP: {
      num: 4510,
      status: 409,
      doc: 'an implausible leap forward (a seq thousands of windows ahead, or an epoch a million ahead: a glitched counter); stored, not applied to the window, counted as jump; POST /api/devices/<kid>/reset-sequence if the device really moved on',
    },
    FERRY_INGEST_TOPIC_MISMATCH: {
      num: 4511,
      status: 403,
      doc: 'a verified message arrived on the uplink topic of another source (its kid is not the one the topic names); refused, so rules and subscribers never see it as that source',
    },
  },
  { package: '@ferry/cloud', errorName: 'IngestError' },
);

export const INGEST_ERRORS = INGEST.codes;
export type IngestErrorCode = keyof typeof INGEST_ERRORS;

/** The only error type the ingest pipeline produces; `cause` is the underlying MessageError or port error. */
export class IngestError extends INGEST.Error {
  /** For FERRY_INGEST_REJECTED: the message codec's code (FERRY_MSG_BAD_SIGNATURE, ...). */
  readonly messageCode: MessageErrorCode | undefined;

  constructor(code: IngestErrorCode, detail: string, cause?: unknown) {
    super(code, detail, cause === undefined ? undefined : { cause });
    this.messageCode = isMessageError(cause) ? cause.code : undefined;
  }

  /** Plain JSON for logs and REST bodies: `{code, num, message}`, and `messageCode` when there is one. */
  override toJSON(): { code: IngestErrorCode; num: number; message: string; messageCode?: MessageErrorCode } {
    return { code: this.code, num: this.num, message: this.message, ...(this.messageCode === undefined ? {} : { messageCode: this.messageCode }) };
  }
}

function isMessageError(e: unknown): e is MessageError {
  return e instanceof Error && e.name === 'MessageError' && typeof (e as { code?: unknown }).code === 'string';
}

export function isIngestError(value: unknown): value is IngestError {
  return value instanceof IngestError;
}
