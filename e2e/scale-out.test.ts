/**
 * Scale-out mode: two cloud workers on Mosquitto (MQTT 5 shared subscription) and Redis (re-order state and
 * time series shared, one Lua script per message). A stream from many sources, published with redeliveries,
 * is split between the workers; every message is stored exactly once and in sequence order per source.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { CloudService } from '@ferry/cloud';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { useScaleOutParts } from './scale-out-parts.ts';
import { ADMIN_TOKEN, getAs } from '@ferry/test-kit/http';

const parts = useScaleOutParts();

const SOURCES = 12;
const PER_SOURCE = 60;

describe('cloud scale-out (Mosquitto + Redis, two workers)', () => {
  it('splits the stream between workers; every message stored once, in order per source', async (ctx) => {
    const p = parts(ctx);
    if (p === undefined) return;
    const { broker } = p;
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-scale-')); // devices shared through one SQLite file
    const workers = [0, 1].map(
      () =>
        new CloudService({
          adminToken: ADMIN_TOKEN,
          dataDir,
          mqttUrl: broker.url,
          shared: true,
          redisUrl: p.redisUrl,
          httpPort: 0,
          functionRunner: 'in-process',
          log: () => undefined,
        }),
    );
    const urls = [];
    for (const w of workers) urls.push(await w.start());
    try {
      const keys = new Map<string, ReturnType<typeof hmacKey>>();
      for (let s = 0; s < SOURCES; s++) {
        const { key } = workers[0]!.devices.add(`src-${s}`);
        keys.set(`src-${s}`, hmacKey(Buffer.from(key, 'hex')));
      }
      const pub = await mqtt.connectAsync(broker.url);
      let published = 0;
      for (let sq = 0; sq < PER_SOURCE; sq++) {
        for (let s = 0; s < SOURCES; s++) {
          const kid = `src-${s}`;
          const t = encode({ header: { kid, ep: 1, sq }, claims: { iss: kid, iat: 1767225600 + sq, ev: 'tel', d: { t: 20 + sq / 100 } } }, keys.get(kid)!);
          if (!t.ok) throw t.error;
          await pub.publishAsync(`ferry/up/${kid}/msg`, t.value, { qos: 1 });
          if ((sq + s) % 7 === 0) await pub.publishAsync(`ferry/up/${kid}/msg`, t.value, { qos: 1 }); // redelivery
          published++;
        }
      }
      await pub.endAsync();
      const accepted = (): number => workers.reduce((n, w) => n + w.ingest.counters().accepted, 0);
      const end = Date.now() + 20_000;
      while (accepted() < published && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(accepted()).toBe(published);
      expect(workers.every((w) => w.ingest.counters().accepted > 0)).toBe(true); // both workers took a share
      for (let s = 0; s < SOURCES; s++) {
        const points = (await (await getAs(`${urls[1]!.httpUrl}/api/streams/src-${s}/tel`)).json()) as { sq: number }[];
        expect(points.map((p) => p.sq)).toEqual(Array.from({ length: PER_SOURCE }, (_, i) => i));
      }
    } finally {
      for (const w of workers) await w.stop();
    }
  }, 60_000);
});
