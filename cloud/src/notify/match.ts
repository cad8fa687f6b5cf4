/** @module Which subscriptions an event goes to (docs/notifications.md "Subscriptions"). */
import { priorityRank, type NotifyEvent, type Subscription } from './types.ts';

/** `*` any run of characters; everything else literal. */
export function globMatches(pattern: string, text: string): boolean {
  if (pattern === '*') return true;
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === text;
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (!text.startsWith(first) || !text.endsWith(last) || text.length < first.length + last.length) return false;
  let at = first.length;
  const end = text.length - last.length;
  for (const mid of parts.slice(1, -1)) {
    const k = text.indexOf(mid, at);
    if (k < 0 || k + mid.length > end) return false;
    at = k + mid.length;
  }
  return true;
}

/** A kind filter: exact, a family `device.*`, or `*`. */
export const kindMatches = (filter: string, kind: string): boolean =>
  filter === '*' || filter === kind || (filter.endsWith('.*') && kind.startsWith(filter.slice(0, -1)));

/** Whether `s` wants `e`: same owner (global with global), a kind, the source pattern, at least its priority. */
export function wants(s: Subscription, e: NotifyEvent): boolean {
  return (
    s.owner === e.owner &&
    s.kinds.some((k) => kindMatches(k, e.kind)) &&
    globMatches(s.source, e.source) &&
    priorityRank(e.priority ?? 'normal') >= priorityRank(s.minPriority)
  );
}
