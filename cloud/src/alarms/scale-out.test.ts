/**
 * Scale-out: two alarm services (two workers) on one Redis store and one notifier store. The same transitions
 * applied by both (a gateway's outbox seen twice, a retry) make one alarm, counted once each; a raise on each
 * worker for different samples is counted twice; each notification reaches the notifier once.
 */
import type { AlarmTransition } from '@ferry/rules';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis } from '@ferry/test-kit/redis';
import { RedisNotifyStore } from '../storage/redis/notify-store.ts';
import { RedisAlarmStore } from './redis-store.ts';
import { AlarmService } from './service.ts';

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});

const t = (kind: 'raise' | 'clear', atMs: number): AlarmTransition => ({ kind, type: 'hot', source: 'd1', severity: 'major', atMs, rule: 'ar-x', reason: 'r' });

if (!redis.ok) describe.skip(`alarm scale-out: skipped, ${redis.reason}`, () => undefined);
else {
  const harness = redis;
  describe('alarm service scale-out on Redis', () => {
    it('applies each transition once across workers and hands each note to the notifier once', async () => {
      const prefix = harness.prefix();
      const notify = new RedisNotifyStore({ redis: harness.connect(), prefix });
      const worker = (): AlarmService =>
        new AlarmService({
          store: new RedisAlarmStore({ redis: harness.connect(), prefix }),
          notifier: { store: notify, kick: () => undefined },
          enqueue: async () => undefined,
          rule: async () => undefined,
          log: () => undefined,
        });
      const [a, b] = [worker(), worker()];
      const both = (x: AlarmTransition): Promise<unknown> => Promise.all([a.transition('alice', x), b.transition('alice', x)]);
      await both(t('raise', 100));
      await both(t('raise', 100));
      await Promise.all([a.transition('alice', t('raise', 200)), b.transition('alice', t('raise', 201))]);
      const open = await a.store.openAlarm('alice', 'hot', 'd1');
      expect([open?.count, open?.status]).toEqual([3, 'active']);
      await Promise.all([a.ack(open!.id, 'op-a'), b.ack(open!.id, 'op-b')]);
      await both(t('clear', 300));
      await both(t('raise', 400));
      const all = await a.store.listAlarms({ owner: 'alice' }, {}, 10);
      expect(all.map((x) => [x.status, x.count, x.acknowledged])).toEqual([
        ['active', 1, false],
        ['cleared', 3, true],
      ]);
      expect(all[1]!.history.map((h) => h.what)).toEqual(['raised', 'repeated', 'repeated', 'acknowledged', 'cleared']);
      const events = (await notify.inbox(100)).map((e) => `${e.kind} ${e.id}`);
      expect(events.sort()).toEqual(
        [
          `alarm.raised alarm-${all[1]!.id}-1`,
          `alarm.acknowledged alarm-${all[1]!.id}-2`,
          `alarm.cleared alarm-${all[1]!.id}-3`,
          `alarm.raised alarm-${all[0]!.id}-1`,
        ].sort(),
      );
      expect(all.every((x) => x.pending.length === 0)).toBe(true);
    });
  });
}
