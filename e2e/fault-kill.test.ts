/**
 * Fault test (docs/cloud.md "Workers that crash"): two cloud worker PROCESSES (`ferry cloud start --mqtt --shared --redis --id`) on
 * Mosquitto and Redis consume a stream from many sources; one worker is killed with SIGKILL in the middle
 * and restarted under the same id, as systemd's Restart=always would. Every message is stored exactly once
 * and the re-order state of every source ends at its last seq with nothing waiting.
 *
 * Mosquitto keeps routing a share group's messages to the dead worker's persistent session while it is down
 * and hands them over when it is back. If the restart takes longer than the re-order timeout (2 s), their
 * seqs are released as gaps first; they then arrive 'late' and are stored without being released out of
 * order (counted as late_stored). Either way the series ends complete; the test logs which case happened.
 *
 * Why this shows "released in sequence order": the re-order step releases only `next` and then advances it
 * (reorder.ts; reorder.lua is proven equal to it in storage/redis/reorder-store.test.ts), so a source whose state
 * reached `next = N` with seqs 0..N-1 each stored once and no gap has had every seq released once, in order.
 * What the kill can break is the hand-over: a message the dead worker had received but not acknowledged
 * (its persistent MQTT session gives it back on restart), and releases it took from Redis but never
 * stored (the outbox gives them back after the lease).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { DeviceRegistry, SqliteDeviceStore, loadMasterKey } from '@ferry/cloud';
import { encode, type HmacKey } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { startCloudWorker as startWorker, type CloudWorker as Worker, useScaleOutParts } from './scale-out-parts.ts';
import { RedisTimeSeries } from '../cloud/src/storage/redis/time-series.ts';
import { RedisReorderStore } from '../cloud/src/storage/redis/reorder-store.ts';
import { getAs } from '@ferry/test-kit/http';

const SOURCES = 16;
const PER_SOURCE = 150;

const parts = useScaleOutParts();

interface Counters {
  accepted: number;
  duplicate: number;
  recovered: number;
  gap: number;
  late_stored: number;
  store_error: number;
  reorder_store_error: number;
}

async function counters(w: Worker): Promise<Counters> {
  const h = (await (await getAs(`${w.httpUrl}/health`)).json()) as { ingest: Counters };
  return h.ingest;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('fault: kill -9 one of two cloud worker processes (Mosquitto + Redis)', () => {
  it('every message is stored exactly once; every source ends in order', async (ctx) => {
    const p = parts(ctx);
    if (p === undefined) return;
    const { broker } = p;
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-fault-'));
    // Devices first, in the file the workers share (SQLite, WAL: several processes may read it).
    const keys = new Map<string, HmacKey>();
    {
      const db = new Database(join(dataDir, 'cloud.db'));
      db.pragma('journal_mode = WAL');
      const devices = new DeviceRegistry(new SqliteDeviceStore(db), loadMasterKey(join(dataDir, 'master.key')));
      for (let s = 0; s < SOURCES; s++) keys.set(`src-${s}`, hmacKey(Buffer.from(devices.add(`src-${s}`).key, 'hex')));
      db.close();
    }
    const url = p.redisUrl;
    let a = await startWorker('fault-a', dataDir, broker.url, url);
    const b = await startWorker('fault-b', dataDir, broker.url, url);
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'fault-publisher' });
    try {
      const total = SOURCES * PER_SOURCE;
      let published = 0;
      let killedAt = -1;
      let restartedAt = -1;
      let aBeforeKill = 0;
      for (let sq = 0; sq < PER_SOURCE; sq++) {
        const batch: Promise<unknown>[] = [];
        for (let s = 0; s < SOURCES; s++) {
          const kid = `src-${s}`;
          const t = encode({ header: { kid, ep: 1, sq }, claims: { iss: kid, iat: 1767225600 + sq, ev: 'tel', d: { t: 20 + sq / 100 } } }, keys.get(kid)!);
          if (!t.ok) throw t.error;
          batch.push(pub.publishAsync(`ferry/up/${kid}/msg`, t.value, { qos: 1 }));
          if ((sq * SOURCES + s) % 11 === 0) batch.push(pub.publishAsync(`ferry/up/${kid}/msg`, t.value, { qos: 1 })); // a publisher's redelivery
          published++;
        }
        await Promise.all(batch);
        if (killedAt < 0 && published >= total / 3) {
          // Kill A only once it is visibly working, in the middle of the stream; restart it at once, while
          // the stream goes on (its start-up takes a moment, so messages queue for it meanwhile).
          for (;;) {
            aBeforeKill = (await counters(a)).accepted;
            if (aBeforeKill !== 0) break;
            await sleep(5);
          }
          a.proc.kill('SIGKILL');
          expect(await a.exited).toBe(null); // killed by the signal, no clean shutdown
          killedAt = published;
          const restarting = startWorker('fault-a', dataDir, broker.url, url);
          void restarting.then((w) => {
            a = w;
            restartedAt = published;
          });
        } else {
          await sleep(2); // a steady stream, so the kill lands while messages are in flight
        }
      }

      while (restartedAt < 0) await sleep(20);
      // Wait until every source's state has released everything (the outbox lease is 5 s).
      const client = new Redis(url);
      const store = new RedisReorderStore<unknown>({ redis: client });
      const series = new RedisTimeSeries({ redis: client });
      const done = async (): Promise<boolean> => {
        for (let s = 0; s < SOURCES; s++) {
          const st = await store.state(`src-${s}`);
          if (st === undefined || st.next !== PER_SOURCE || st.pending.length > 0) return false;
          if ((await series.query(`src-${s}/tel`, -Infinity, Infinity)).length !== PER_SOURCE) return false;
        }
        return true;
      };
      const end = Date.now() + 45_000;
      while (!(await done()) && Date.now() < end) await sleep(100);

      for (let s = 0; s < SOURCES; s++) {
        const kid = `src-${s}`;
        const points = await series.query(`${kid}/tel`, -Infinity, Infinity);
        // Exactly once: every seq, no repeat (the sorted set itself, not only the de-duplicated view).
        expect(points.map((p) => p.sq).sort((x, y) => x - y)).toEqual(Array.from({ length: PER_SOURCE }, (_, i) => i));
        expect(await client.zcard(series.keys(`${kid}/tel`)[0])).toBe(PER_SOURCE);
        expect(await store.state(kid)).toMatchObject({ ep: 1, next: PER_SOURCE, pending: [] });
      }
      // Both workers took a share; no store failed; every gap recorded was filled by a late arrival (the
      // series is complete, above), so no more gaps than late arrivals stored.
      const [ca, cb] = [await counters(a), await counters(b)];
      expect(aBeforeKill).toBeGreaterThan(0);
      expect(cb.accepted).toBeGreaterThan(0);
      for (const c of [ca, cb]) expect(c).toMatchObject({ store_error: 0, reorder_store_error: 0 });
      expect(ca.gap + cb.gap).toBeLessThanOrEqual(ca.late_stored + cb.late_stored);
      const pick = (c: Counters) =>
        JSON.stringify({ accepted: c.accepted, duplicate: c.duplicate, recovered: c.recovered, gap: c.gap, late_stored: c.late_stored });
      console.log(`fault: A accepted ${aBeforeKill} before SIGKILL at ${killedAt}/${total}, back at ${restartedAt}; since: A ${pick(ca)}, B ${pick(cb)}`);
      await client.quit();
    } finally {
      await pub.endAsync();
      for (const w of [a, b]) {
        if (w.proc.exitCode === null && w.proc.signalCode === null) {
          w.proc.kill('SIGTERM');
          await w.exited;
        }
      }
    }
  }, 120_000);
});
