/** @module The notifier's limits (docs/limits.md) and the check of an event before it is accepted (docs/notifications.md "Events"). */
import { NotifyError } from './errors.ts';
import { PRIORITIES, type NotifyEvent, type StoredEvent } from './types.ts';

/** docs/limits.md. */
export const NOTIFY_LIMITS = {
  channelsPerOwner: 50,
  subscriptionsPerOwner: 200,
  /** Queued and in-flight deliveries per owner; past it an event's deliveries for that owner are dropped and counted. */
  pendingPerOwner: 10_000,
  /** An event's `data`, as JSON. */
  eventBytes: 16 * 1024,
  kindChars: 64,
  sourceChars: 256,
  /** Deliveries in flight per channel, and in all. */
  inFlightPerChannel: 8,
  inFlight: 256,
} as const;

/** An event checked against the limits, with its id; a malformed one is FERRY_NOTIFY_BAD_REQUEST or _TOO_LARGE. */
export function checkEvent(e: NotifyEvent, id: string): StoredEvent {
  const bad = (path: string, what: string): never => {
    throw new NotifyError('FERRY_NOTIFY_BAD_REQUEST', `${path}: ${what}`, { path });
  };
  if (typeof e !== 'object' || e === null) return bad('event', 'must be an object');
  if (e.owner !== undefined && (typeof e.owner !== 'string' || e.owner.length === 0)) bad('owner', 'must be an owner id');
  if (typeof e.kind !== 'string' || e.kind.length === 0 || e.kind.length > NOTIFY_LIMITS.kindChars) bad('kind', `1..${NOTIFY_LIMITS.kindChars} characters`);
  if (typeof e.source !== 'string' || e.source.length > NOTIFY_LIMITS.sourceChars) bad('source', `at most ${NOTIFY_LIMITS.sourceChars} characters`);
  if (typeof e.at !== 'number' || !Number.isFinite(e.at)) bad('at', 'Unix milliseconds');
  if (e.priority !== undefined && !(PRIORITIES as readonly string[]).includes(e.priority)) bad('priority', 'high, normal or low');
  if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) bad('data', 'must be an object');
  const json = JSON.stringify(e.data);
  if (Buffer.byteLength(json) > NOTIFY_LIMITS.eventBytes)
    throw new NotifyError('FERRY_NOTIFY_TOO_LARGE', `data is larger than ${NOTIFY_LIMITS.eventBytes} bytes as JSON`, { path: 'data' });
  return {
    id,
    ...(e.owner !== undefined && { owner: e.owner }),
    kind: e.kind,
    source: e.source,
    at: Math.trunc(e.at),
    ...(e.priority !== undefined && { priority: e.priority }),
    data: JSON.parse(json) as Record<string, unknown>,
  };
}
