/**
 * Command delivery in scale-out: two cloud workers on Mosquitto and Redis share each device's queue and
 * its (ep, sq) counter (cloud/src/storage/redis/command-store.ts). Commands sent through either worker
 * reach the device in order, none refused by its replay window although the workers' downlink epochs
 * differ, each applied once, and answered through whichever worker ingest hands the ack to.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoAvailable, mosquittoBroker, type TestBroker } from '@ferry/test-kit/brokers';
import { CommandDevice } from '@ferry/test-kit/command-device';
import { ADMIN_TOKEN, postAs, getAs } from '@ferry/test-kit/http';
import { startRedis, type RedisHarness } from '@ferry/test-kit/redis';
import { CloudService } from '../service/service.ts';
import { until } from './cloud.case.ts';

let redis: RedisHarness | undefined;
let broker: TestBroker | undefined;
const workers: CloudService[] = [];
const apis: string[] = [];
let dev: CommandDevice | undefined;

beforeAll(async () => {
  if (!mosquittoAvailable()) return;
  redis = await startRedis();
  if (!redis.ok) return;
  broker = await mosquittoBroker();
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-cmd-scale-'));
  for (const id of ['w-a', 'w-b']) {
    const w = new CloudService({
      dataDir,
      mqttUrl: broker.url,
      shared: true,
      redisUrl: redis.url,
      clientId: `cmd-${id}`,
      httpPort: 0,
      adminToken: ADMIN_TOKEN,
      functionRunner: 'in-process',
      log: () => undefined,
      commands: { sweepMs: 100 },
    });
    apis.push((await w.start()).httpUrl);
    workers.push(w);
  }
}, 30_000);
afterAll(async () => {
  await dev?.close();
  for (const w of workers) await w.stop();
  await broker?.stop();
  if (redis?.ok === true) await redis.stop();
});

describe('commands, scale-out (two workers, Mosquitto + Redis)', () => {
  it('delivers commands sent through either worker in order, each once, with one growing (ep, sq)', async (ctx) => {
    if (broker === undefined) {
      if (process.env['CI'] === 'true') throw new Error('CI must have mosquitto and redis-server');
      return ctx.skip();
    }
    const key = workers[0]!.devices.add('th-so', 'home', Date.now()).key;
    dev = await CommandDevice.connect({ url: broker.url, id: 'th-so', key });
    await dev.uplink('tel', { t: 21 }); // a sign of life: scale-out presence comes from uplinks
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await postAs(`${apis[i % 2]}/api/v1/commands`, { device: 'th-so', command: { n: i } });
      expect(r.status).toBe(202);
      ids.push(((await r.json()) as { id: string }).id);
    }
    await dev.until(() => dev!.order.length === 10, 20_000);
    expect(dev.order).toEqual(ids);
    expect(dev.refused).toBe(0);
    expect([...dev.applied.values()].every((n) => n === 1)).toBe(true);
    await until(async () => {
      const states = await Promise.all(
        ids.map(async (id, i) => ((await (await getAs(`${apis[(i + 1) % 2]}/api/v1/commands/${id}`)).json()) as { state: string }).state),
      );
      return states.every((s) => s === 'acked');
    }, 'every command acked, read through the other worker');
  });
});
