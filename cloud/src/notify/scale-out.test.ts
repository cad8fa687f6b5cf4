/**
 * Scale-out: two notifiers (two workers) on one Redis store share the inbox and the deliveries. Every event
 * accepted by either is fanned out once and every delivery is sent once and acknowledged: no two workers lease
 * the same delivery.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis } from '@ferry/test-kit/redis';
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { RedisNotifyStore } from '../storage/redis/notify-store.ts';
import { DELIVERY_HEADER } from './channel-webhook.ts';
import { channelFrom, subscriptionFrom } from './config.ts';
import { Notifier } from './notifier.ts';
import { httpSink, until } from './test-sinks.case.ts';

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});

if (!redis.ok) describe.skip(`notifier scale-out: skipped, ${redis.reason}`, () => undefined);
else {
  const harness = redis;
  describe('notifier scale-out on Redis', () => {
    it('delivers each event once when two workers share the store', async () => {
      const sink = await httpSink();
      const prefix = harness.prefix();
      const sealer = new SecretSealer(randomBytes(32), 'ferry notify channel secret');
      const worker = (): Notifier =>
        new Notifier({
          store: new RedisNotifyStore({ redis: harness.connect(), prefix }),
          sealer,
          prefix: 'ferry',
          mqtt: () => undefined,
          allowPrivateAddresses: true,
          tickMs: 20,
        });
      const [a, b] = [worker(), worker()];
      const { channel } = channelFrom({ kind: 'webhook', config: { url: sink.url } }, { owner: 'alice', sealer, allowPrivate: true, now: 1 });
      await a.store.putChannel(channel);
      await a.store.putSubscription(subscriptionFrom({ channelId: channel.id, kinds: ['*'] }, { owner: 'alice', now: 1 }));
      a.start();
      b.start();
      const n = 120;
      for (let i = 0; i < n; i++) await (i % 2 === 0 ? a : b).accept({ owner: 'alice', kind: 'k', source: `s${i}`, at: Date.now(), data: { i } });
      await until(async () => (await a.store.listDeliveries({ owner: 'alice' }, 'acked', 500)).length === n, 'every delivery acked', 20_000);
      await Promise.all([a.stop(), b.stop()]);
      await sink.close();
      const ids = sink.received.map((r) => r.headers[DELIVERY_HEADER]);
      expect([ids.length, new Set(ids).size]).toEqual([n, n]);
      expect(a.counters.acked + b.counters.acked).toBe(n);
    });
  });
}
