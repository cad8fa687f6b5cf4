/**
 * @module The notifier's fan-out (docs/notifications.md): each accepted event in the inbox becomes one delivery
 * per matching subscription of its owner, rendered from the subscription's template, de-duplicated by its key
 * inside the repeat interval, and bounded by the owner's pending deliveries; the event leaves the inbox in the
 * same store step that queues them.
 */
import { createHash } from 'node:crypto';
import { NOTIFY_LIMITS } from './event.ts';
import { wants } from './match.ts';
import { renderText } from './template.ts';
import type { Delivery, NotifyCounters, NotifyStore, PlannedDelivery, StoredEvent, Subscription } from './types.ts';

export const sha = (s: string): string => createHash('sha256').update(s).digest('base64url').slice(0, 24);

interface FanOutBatch {
  readonly subs: Map<string, readonly Subscription[]>;
  readonly pending: Map<string, number>;
  readonly channels: Map<string, boolean>;
}

export async function fanOutInbox(store: NotifyStore, counters: NotifyCounters, log: (m: string) => void): Promise<void> {
  for (;;) {
    const events = await store.inbox(64);
    // What one batch reads once: each owner's subscriptions and pending count, each channel's existence.
    const batch: FanOutBatch = { subs: new Map(), pending: new Map(), channels: new Map() };
    for (const e of events) await fanOutOne(store, counters, log, e, batch);
    if (events.length < 64) return;
  }
}

async function fanOutOne(store: NotifyStore, counters: NotifyCounters, log: (m: string) => void, e: StoredEvent, batch: FanOutBatch): Promise<void> {
  const owner = e.owner ?? '';
  let all = batch.subs.get(owner);
  if (all === undefined) {
    all = await store.listSubscriptions({ owner: e.owner });
    batch.subs.set(owner, all);
  }
  const subs = all.filter((s) => wants(s, e));
  const planned: PlannedDelivery[] = [];
  let pending = batch.pending.get(owner);
  if (subs.length > 0 && pending === undefined) {
    pending = await store.pendingCount(e.owner);
    batch.pending.set(owner, pending);
  }
  const full = subs.length > 0 && (pending ?? 0) >= NOTIFY_LIMITS.pendingPerOwner;
  if (full) {
    counters.dropped += subs.length;
    log(`notify: ${e.owner ?? 'global'} has ${NOTIFY_LIMITS.pendingPerOwner} deliveries pending; event ${e.id} (${e.kind}) is not delivered`);
  }
  const ctx = { ...e, priority: e.priority ?? 'normal', time: new Date(e.at).toISOString() };
  for (const s of full ? [] : subs) {
    let exists = batch.channels.get(s.channelId);
    if (exists === undefined) {
      exists = (await store.getChannel(s.channelId)) !== undefined;
      batch.channels.set(s.channelId, exists);
    }
    if (!exists) continue;
    let rendered: { subject: string; body: string; key: string | undefined };
    try {
      rendered = {
        subject: renderText(s.template.subject, ctx),
        body: renderText(s.template.body, ctx),
        key: s.dedupKey === undefined ? undefined : renderText(s.dedupKey, ctx),
      };
    } catch (err) {
      // Checked when the subscription was made; a stored one that no longer parses skips only itself.
      log(`notify: subscription ${s.id}: ${String(err)}`);
      continue;
    }
    const d: Delivery = {
      id: `d-${sha(`${e.id}/${s.id}`)}`,
      owner: e.owner,
      channelId: s.channelId,
      subscriptionId: s.id,
      eventId: e.id,
      priority: s.priority ?? e.priority ?? 'normal',
      state: 'queued',
      attempts: 0,
      createdAt: e.at,
      updatedAt: e.at,
      nextAt: 0, // due at once, whatever the event's own time
      message: { subject: rendered.subject, body: rendered.body, event: e },
    };
    const dedup = rendered.key === undefined ? undefined : { key: rendered.key, repeatMs: s.repeatS * 1000 };
    planned.push({ delivery: d, dedup });
  }
  const queued = await store.fanOut(e.id, planned);
  if (pending !== undefined) batch.pending.set(owner, pending + queued.length);
  counters.queued += queued.length;
  counters.suppressed += planned.length - queued.length;
}
