/**
 * The dashboard's live telemetry in scale-out (docs/operations.md "Dashboard"): a viewer's live stream is
 * served by one worker, while the device's messages may be ingested by any other. Two clouds share a real
 * Redis (the time series); a message ingested by one reaches a live stream opened on the other, once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { ADMIN_TOKEN, readSse } from '@ferry/test-kit/http';
import { startRedis } from '@ferry/test-kit/redis';
import type { CloudService } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';

const redis = await startRedis();
const clouds: CloudService[] = [];
afterAll(async () => {
  for (const c of clouds) await c.stop();
  if (redis.ok) await redis.stop();
});

async function worker(): Promise<{ svc: CloudService; api: string }> {
  if (!redis.ok) throw new Error(redis.reason);
  const c = await startTestCloud({ name: 'live-shared', redisUrl: redis.url });
  clouds.push(c.svc);
  return { svc: c.svc, api: c.httpUrl };
}

if (!redis.ok) describe.skip(`live telemetry across workers: skipped, ${redis.reason}`, () => undefined);
else
  describe('live telemetry across workers', () => {
    it('a message another worker ingests reaches the live stream, once', async () => {
      const a = await worker();
      const b = await worker();
      const device = `lv-${Date.now().toString(36)}`;
      const { key } = b.svc.devices.add(device, 'home');
      const ingest = async (): Promise<void> => {
        for (const [sq, t] of [
          [0, 21.5],
          [1, 22],
        ] as const) {
          const claims = { iss: device, iat: Math.floor(Date.now() / 1000), ev: 'tel', d: { t } };
          const token = encode({ header: { kid: device, ep: 1, sq }, claims }, hmacKey(Buffer.from(key, 'hex')));
          if (!token.ok) throw token.error;
          expect((await b.svc.ingest.ingest(token.value, Date.now())).status).toBe('accepted');
        }
      };
      // A moment more after both came: a point sent twice (pushed and polled, or polled twice) would show.
      const points = await readSse<{ sq: number; value: { t: number } }>(`${a.api}/api/v1/live?device=${device}&event=tel`, ADMIN_TOKEN, {
        event: 'point',
        want: 2,
        whileOpen: ingest,
        afterMs: 2500,
      });
      expect(points.map((p) => [p.sq, p.value.t])).toEqual([
        [0, 21.5],
        [1, 22],
      ]);
    }, 30_000);
  });
