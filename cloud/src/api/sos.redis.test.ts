/**
 * The composite-stream REST routes in scale-out: two cloud workers on one Redis, with separate data dirs (one
 * master key). Objects are created on the first worker and fed and read on the second, which installs them
 * from the shared records when it first meets them (docs/composite-streams.md "Hosting").
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '@ferry/test-kit/redis';
import { afterAll, beforeAll, it } from 'vitest';
import type { CloudService } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';
import { soRouteSuite } from './sos.case.ts';

const redis = await startRedis(); // throws under CI=true when there is no Redis

if (redis.ok) {
  const workers: CloudService[] = [];
  const apis: string[] = [];
  beforeAll(async () => {
    const masterKey = randomBytes(32).toString('hex');
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'ferry-sos-redis-'));
      writeFileSync(join(dataDir, 'master.key'), `${masterKey}\n`, { mode: 0o600 });
      const w = await startTestCloud({ dataDir, redisUrl: redis.url, functionRunner: 'in-process' });
      workers.push(w.svc);
      apis.push(w.httpUrl);
    }
  }, 30_000);
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await redis.stop();
  });
  soRouteSuite('scale-out, two workers on one Redis', () => ({ a: apis[0]!, b: apis[1]! }));
} else it.skip(`needs Redis: ${redis.reason}`, () => undefined);
