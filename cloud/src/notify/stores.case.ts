/**
 * @module The NotifyStore contract (types.ts), run by each backend's own test against the real thing:
 * SQLite (storage/sqlite/notify-store.test.ts) and Redis (storage/redis/notify-store.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Channel, Delivery, NotifyStore, PlannedDelivery, Priority, StoredEvent, Subscription } from './types.ts';

const channel = (id: string, owner: string | undefined): Channel => ({
  id,
  owner,
  name: id,
  kind: 'mqtt',
  config: { topic: 'events' },
  createdAt: 1,
});
const subscription = (id: string, owner: string | undefined): Subscription => ({
  id,
  owner,
  channelId: 'c1',
  kinds: ['*'],
  source: '*',
  minPriority: 'low',
  template: { subject: '', body: '{{kind}}' },
  repeatS: 0,
  createdAt: 1,
});
const event = (id: string, at: number, owner: string | undefined = 'alice'): StoredEvent => ({
  id,
  owner,
  kind: 'device.offline',
  source: 'd1',
  at,
  data: { n: [] },
});
const delivery = (id: string, e: StoredEvent, priority: Priority = 'normal'): Delivery => ({
  id,
  owner: e.owner,
  channelId: 'c1',
  subscriptionId: 's1',
  eventId: e.id,
  priority,
  state: 'queued',
  attempts: 0,
  createdAt: e.at,
  updatedAt: e.at,
  nextAt: e.at,
  message: { subject: 's', body: `b ${id}`, event: e },
});
const plan = (d: Delivery, dedup?: { key: string; repeatMs: number }): PlannedDelivery => ({ delivery: d, ...(dedup !== undefined && { dedup }) });

/** Accepts `e` and fans it out into `planned`; returns the ids queued. */
async function queue(s: NotifyStore, e: StoredEvent, ...planned: PlannedDelivery[]): Promise<readonly string[]> {
  await s.accept(e);
  return s.fanOut(e.id, planned);
}

export function notifyStoreContract(name: string, make: () => NotifyStore | Promise<NotifyStore>): void {
  describe(`NotifyStore contract: ${name}`, () => {
    it('keeps channels and subscriptions per owner, the global ones apart, and forgets deleted ones', async () => {
      const s = await make();
      await s.putChannel(channel('c1', 'alice'));
      await s.putChannel(channel('c2', 'bob'));
      await s.putChannel(channel('c3', undefined));
      await s.putSubscription(subscription('s1', 'alice'));
      await s.putSubscription(subscription('s2', undefined));
      expect((await s.listChannels({ owner: 'alice' })).map((c) => c.id)).toEqual(['c1']);
      expect((await s.listChannels({ owner: undefined })).map((c) => c.id)).toEqual(['c3']);
      expect((await s.listChannels('all')).map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
      expect((await s.listSubscriptions({ owner: undefined })).map((x) => x.id)).toEqual(['s2']);
      expect(await s.getChannel('c2')).toEqual(channel('c2', 'bob'));
      await s.deleteChannel('c2');
      await s.deleteSubscription('s1');
      expect(await s.getChannel('c2')).toBeUndefined();
      expect(await s.getSubscription('s1')).toBeUndefined();
      expect((await s.listSubscriptions('all')).map((x) => x.id)).toEqual(['s2']);
    });

    it('holds an accepted event in the inbox until it is fanned out, once, whoever asks twice', async () => {
      const s = await make();
      const e1 = event('e1', 10);
      await s.accept(event('e2', 20));
      await s.accept(e1);
      await s.accept(e1);
      expect((await s.inbox(10)).map((e) => e.id)).toEqual(['e1', 'e2']);
      expect(await s.fanOut('e1', [plan(delivery('d1', e1))])).toEqual(['d1']);
      expect(await s.fanOut('e1', [plan(delivery('d1', e1))])).toEqual([]);
      expect((await s.inbox(10)).map((e) => e.id)).toEqual(['e2']);
      const d = await s.getDelivery('d1');
      expect(d?.message.event).toEqual(e1); // an empty array in the data comes back as an array
      expect([d?.state, d?.attempts]).toEqual(['queued', 0]);
    });

    it('sends one event per de-duplication key inside the quiet interval, and the next one after it', async () => {
      const s = await make();
      const key = { key: 'd1-offline', repeatMs: 100 };
      expect(await queue(s, event('e1', 1000), plan(delivery('a', event('e1', 1000)), key))).toEqual(['a']);
      expect(await queue(s, event('e2', 1050), plan(delivery('b', event('e2', 1050)), key))).toEqual([]);
      expect(await queue(s, event('e3', 1060), plan(delivery('c', event('e3', 1060)), { key: 'other', repeatMs: 100 }))).toEqual(['c']);
      expect(await queue(s, event('e4', 1100), plan(delivery('d', event('e4', 1100)), key))).toEqual(['d']);
      expect(await queue(s, event('e5', 1150), plan(delivery('e', event('e5', 1150)), key))).toEqual([]);
    });

    it('leases due deliveries high priority first, none twice during the lease, and again once it ran out', async () => {
      const s = await make();
      const e = event('e1', 100);
      await queue(s, e, plan(delivery('low', e, 'low')), plan(delivery('high', e, 'high')), plan(delivery('normal', e, 'normal')));
      expect(await s.claim(99, 1000, 10)).toEqual([]);
      const first = await s.claim(100, 1000, 2);
      expect(first.map((d) => [d.id, d.state, d.nextAt])).toEqual([
        ['high', 'sending', 1100],
        ['normal', 'sending', 1100],
      ]);
      expect((await s.claim(200, 1000, 10)).map((d) => d.id)).toEqual(['low']);
      expect(await s.claim(500, 1000, 10)).toEqual([]);
      // The worker holding them died: the lease runs out and they are due again.
      expect((await s.claim(1100, 1000, 10)).map((d) => d.id).sort()).toEqual(['high', 'normal']);
    });

    it('renews the leases of deliveries still sending, so a live worker keeps them; a lapsed or settled one is not renewed', async () => {
      const s = await make();
      const e = event('e1', 100);
      await queue(s, e, plan(delivery('a', e)), plan(delivery('b', e)), plan(delivery('c', e)));
      await s.claim(100, 1000, 10);
      await s.settle('c', { state: 'acked', at: 150 });
      expect([...(await s.renew(['a', 'b', 'c', 'unknown'], 900, 2000))].sort()).toEqual(['a', 'b']);
      const a = await s.getDelivery('a');
      expect([a?.state, a?.nextAt]).toEqual(['sending', 2900]);
      // Not due at the old lease's end; due again at the renewed one's.
      expect(await s.claim(1100, 1000, 10)).toEqual([]);
      expect((await s.claim(2900, 1000, 10)).map((d) => d.id).sort()).toEqual(['a', 'b']);
      // A lease that ran out before the renewal is not renewed: another worker may hold it by now.
      expect(await s.renew(['a'], 4000, 2000)).toEqual([]);
      expect((await s.getDelivery('c'))?.state).toBe('acked');
    });

    it('takes no more of one channel than the room the caller gives it, so a backlog on one channel leaves room for the others', async () => {
      const s = await make();
      const e = event('e1', 100);
      const on = (id: string, channelId: string): Delivery => ({ ...delivery(id, e), channelId });
      await queue(s, e, ...['a1', 'a2', 'a3', 'a4'].map((id) => plan(on(id, 'busy'))), plan(on('b1', 'quiet')), plan(on('b2', 'quiet')));
      const first = await s.claim(100, 1000, 10, { max: 3, held: new Map([['busy', 1]]) });
      expect(first.map((d) => d.id).sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
      expect((await s.claim(100, 1000, 10, { max: 3, held: new Map([['busy', 3]]) })).map((d) => d.id)).toEqual([]);
      expect((await s.claim(100, 1000, 10, { max: 3, held: new Map() })).map((d) => d.id).sort()).toEqual(['a3', 'a4']);
    });

    it('records acknowledgements, retries and dead letters, and replays a dead letter only', async () => {
      const s = await make();
      const e = event('e1', 100);
      await queue(s, e, plan(delivery('ok', e)), plan(delivery('retry', e)), plan(delivery('dead', e)));
      await s.claim(100, 1000, 10);
      await s.settle('ok', { state: 'acked', at: 150 });
      await s.settle('retry', { state: 'queued', at: 150, nextAt: 400, error: 'HTTP 500', failed: true });
      await s.settle('dead', { state: 'dead', at: 150, error: 'HTTP 410' });
      await s.settle('ok', { state: 'dead', at: 160, error: 'late' }); // acked stays acked
      const ok = await s.getDelivery('ok');
      expect([ok?.state, ok?.ackedAt]).toEqual(['acked', 150]);
      const retry = await s.getDelivery('retry');
      expect([retry?.state, retry?.attempts, retry?.lastError, retry?.nextAt]).toEqual(['queued', 1, 'HTTP 500', 400]);
      expect((await s.claim(399, 1000, 10)).map((d) => d.id)).toEqual([]);
      expect((await s.claim(400, 1000, 10)).map((d) => d.id)).toEqual(['retry']);
      expect((await s.listDeliveries({ owner: 'alice' }, 'dead', 10)).map((d) => [d.id, d.attempts, d.lastError])).toEqual([['dead', 1, 'HTTP 410']]);
      expect(await s.replay('ok', 500)).toBe(false);
      expect(await s.replay('dead', 500)).toBe(true);
      expect(await s.replay('dead', 500)).toBe(false);
      const back = await s.getDelivery('dead');
      expect([back?.state, back?.attempts, back?.nextAt]).toEqual(['queued', 0, 500]);
      expect((await s.claim(500, 1000, 10)).map((d) => d.id)).toEqual(['dead']);
    });

    it('lists deliveries newest first by owner and state, counts what is pending, and prunes old acknowledged ones', async () => {
      const s = await make();
      const a1 = event('a1', 100);
      const a2 = event('a2', 200);
      const b1 = event('b1', 150, 'bob');
      await queue(s, a1, plan(delivery('x1', a1)));
      await queue(s, a2, plan(delivery('x2', a2)));
      await queue(s, b1, plan(delivery('y1', b1)));
      expect((await s.listDeliveries({ owner: 'alice' }, undefined, 10)).map((d) => d.id)).toEqual(['x2', 'x1']);
      expect((await s.listDeliveries({ owner: 'alice' }, undefined, 1)).map((d) => d.id)).toEqual(['x2']);
      expect((await s.listDeliveries('all', 'queued', 10)).map((d) => d.id)).toEqual(['x2', 'y1', 'x1']);
      expect(await s.pendingCount('alice')).toBe(2);
      await s.claim(1000, 10, 10);
      await s.settle('x1', { state: 'acked', at: 1000 });
      await s.settle('x2', { state: 'acked', at: 3000 });
      expect(await s.pendingCount('alice')).toBe(0);
      expect(await s.prune(2000)).toBe(1);
      expect((await s.listDeliveries({ owner: 'alice' }, 'acked', 10)).map((d) => d.id)).toEqual(['x2']);
      expect(await s.getDelivery('x1')).toBeUndefined();
    });
  });
}
