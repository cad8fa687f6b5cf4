/** @module A delivery's state changes (docs/notifications.md "Deliveries"), the same for every store. */
import type { Delivery, Outcome } from './types.ts';

/** A delivery after an attempt's outcome. */
export function settled(d: Delivery, o: Outcome): Delivery {
  const { lastError: _e, ...rest } = d;
  switch (o.state) {
    case 'acked':
      return { ...rest, ...(d.lastError !== undefined && { lastError: d.lastError }), state: 'acked', ackedAt: o.at, updatedAt: o.at, nextAt: o.at };
    case 'queued':
      return { ...rest, state: 'queued', attempts: d.attempts + (o.failed ? 1 : 0), lastError: o.error, updatedAt: o.at, nextAt: o.nextAt };
    case 'dead':
      return { ...rest, state: 'dead', attempts: d.attempts + 1, lastError: o.error, updatedAt: o.at, nextAt: o.at };
  }
}

/** A dead letter queued again: attempts reset, the last error kept for the record. */
export const replayed = (d: Delivery, now: number): Delivery => ({ ...d, state: 'queued', attempts: 0, nextAt: now, updatedAt: now });
