/**
 * @module Group assembly inside the sequencing step: parts of a multi-part event (header grp/part/parts,
 * docs/message-format.md) arrive here already in (ep, sq) order and leave as one `group` release, complete
 * or with its missing parts listed. It lives in the per-source state, not in a worker's memory, so N
 * cloud workers sharing a Redis or SQLite store assemble one group, not N halves.
 */
import type { Group } from '@ferry/message';
import type { Draft, GroupMember, GroupReason, OpenGroup, ReorderConfig } from './reorder-types.ts';

/** Releases `g` (removing it from the open list) with the parts it lacks. */
export function closeGroup<R>(d: Draft<R>, g: OpenGroup<R>, reason: GroupReason): void {
  const i = d.groups.indexOf(g);
  if (i >= 0) d.groups.splice(i, 1);
  const have = new Set(g.members.map((m) => m.part));
  const missing: number[] = [];
  for (let p = 0; p < g.parts; p++) if (!have.has(p)) missing.push(p);
  d.out.push({ type: 'group', ep: d.ep, id: g.id, parts: g.parts, members: g.members, missing, complete: missing.length === 0, reason });
}

/**
 * Adds a released part to its group. A part that contradicts the open group (another `parts`, or a part
 * index already held) means the source reused a group id within an epoch, which the format forbids; the
 * open group is released as it stands ('conflict') and the part starts a new one, so nothing is lost.
 */
export function addPart<R>(d: Draft<R>, group: Group, member: GroupMember<R>, now: number, cfg: ReorderConfig): void {
  let g = d.groups.find((x) => x.id === group.id);
  if (g !== undefined && (g.parts !== group.parts || g.members.some((m) => m.part === group.part))) {
    closeGroup(d, g, 'conflict');
    g = undefined;
  }
  if (g === undefined) {
    if (d.groups.length >= cfg.maxOpenGroups) closeGroup(d, d.groups[0]!, 'overflow');
    g = { id: group.id, parts: group.parts, since: now, members: [] };
    d.groups.push(g);
  }
  const members = [...g.members, member].sort((a, b) => a.part - b.part);
  const updated: OpenGroup<R> = { ...g, members };
  d.groups[d.groups.indexOf(g)] = updated;
  if (members.length === updated.parts) closeGroup(d, updated, 'complete');
}

/** Releases the groups whose timeout has passed at `now`, oldest first. */
export function expireGroups<R>(d: Draft<R>, now: number, cfg: ReorderConfig): void {
  for (const g of d.groups.filter((x) => x.since + cfg.groupTimeoutMs <= now)) closeGroup(d, g, 'timeout');
}

/** Releases every open group, e.g. when their epoch closes (their missing parts can only come late now). */
export function closeAllGroups<R>(d: Draft<R>, reason: GroupReason): void {
  for (const g of [...d.groups]) closeGroup(d, g, reason);
}
