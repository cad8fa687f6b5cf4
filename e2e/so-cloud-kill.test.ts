/**
 * Fault test of composite streams in scale-out (docs/composite-streams.md, "Scale-out"): two cloud worker
 * PROCESSES (`ferry cloud start --mqtt --shared --redis --id`) on Mosquitto and one Redis host one connected
 * component (made over REST); sensor updates go over REST to both workers in turn, each acknowledged only once
 * its wave is stored. The worker holding the component's lease is killed with SIGKILL while an update is on
 * its way; the client sends what was not acknowledged again to the worker that is left, which takes the lease
 * once it expires. Every composite's history (read over REST) equals an unmoved run's: every output once,
 * nothing acknowledged missing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, bodyOf, call } from '@ferry/test-kit/http';
import { type CloudWorker, startCloudWorker, useScaleOutParts } from './scale-out-parts.ts';
import { COMPOSITES, OBJECTS, OWNER, reference, update } from './so-topology.ts';

const N = 150;
const parts = useScaleOutParts();

describe('fault: kill -9 the cloud worker holding a composite-stream lease (Mosquitto + Redis)', () => {
  it('every update is applied once, nothing acknowledged is lost: the histories equal an unmoved run', async (ctx) => {
    const p = parts(ctx);
    if (p === undefined) return;
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-so-kill-'));
    const workers: CloudWorker[] = [];
    const redis = new Redis(p.redisUrl);
    try {
      workers.push(await startCloudWorker('so-a', dataDir, p.broker.url, p.redisUrl));
      workers.push(await startCloudWorker('so-b', dataDir, p.broker.url, p.redisUrl));
      const [a] = workers as [CloudWorker, CloudWorker];
      bodyOf(await call(a.httpUrl, 'POST', '/api/owners', ADMIN_TOKEN, { id: OWNER }), 'owner');
      // The topology's objects with the ids the cloud gives them; U reads T through a group.
      const ids = new Map<string, string>();
      for (const [name, doc] of OBJECTS) {
        const text = JSON.stringify(doc).replaceAll('"soIds":["T"]', `"soIds":["${ids.get('T')}"]`);
        ids.set(name, bodyOf<{ id: string }>(await call(a.httpUrl, 'POST', `/api/v1/sos?owner=${OWNER}`, ADMIN_TOKEN, JSON.parse(text)), name).id);
      }
      const T = ids.get('T')!;
      const component = [...ids.values()].sort()[0]!;
      const holder = async (): Promise<string | null> => await redis.get(`ferry:so-lease:${component}`);
      const push = async (w: CloudWorker, i: number): Promise<boolean> => {
        const r = await call(w.httpUrl, 'PUT', `/api/v1/sos/${T}/streams/S`, ADMIN_TOKEN, update(i)).catch(() => undefined);
        return r !== undefined && r.status === 200;
      };

      let alive = [...workers];
      let killed: { at: number; lease: string } | undefined;
      let resent = 0;
      for (let i = 0; i < N; i++) {
        const sent = push(alive[i % alive.length]!, i);
        if (killed === undefined && i >= N / 3) {
          const lease = await holder();
          const victim = alive.find((w) => lease?.startsWith(`so-${w === workers[0] ? 'a' : 'b'}:`) === true);
          if (victim !== undefined) {
            await new Promise((r) => setTimeout(r, 2 + (i % 3))); // while update i is on its way
            victim.proc.kill('SIGKILL');
            await victim.exited;
            alive = alive.filter((w) => w !== victim);
            killed = { at: i, lease: lease! };
          }
        }
        let acknowledged = await sent;
        while (!acknowledged) {
          resent++; // not acknowledged (its worker died under it): sent again, as any client retries
          acknowledged = await push(alive[0]!, i);
        }
      }
      expect(killed).toBeDefined();
      const now = await holder();
      expect(Number(now?.split(':').at(-1))).toBeGreaterThan(Number(killed!.lease.split(':').at(-1))); // taken over, a new fencing token

      const want = await reference(N);
      const values = (xs: readonly { channels: unknown; lastUpdate: number }[]) => xs.map((x) => ({ channels: x.channels, lastUpdate: x.lastUpdate }));
      for (const k of COMPOSITES) {
        const [name, stream] = k.split('/') as [string, string];
        const got = bodyOf<{ data: { channels: unknown; lastUpdate: number }[] }>(
          await call(alive[0]!.httpUrl, 'GET', `/api/v1/sos/${ids.get(name)}/streams/${stream}?from=0&to=${Number.MAX_SAFE_INTEGER}&limit=1000`, ADMIN_TOKEN),
          k,
        ).data;
        expect(values(got), k).toEqual(values(want.get(k)!));
        expect(got, k).toHaveLength(N); // every update reaches every composite, once
      }
      console.log(`so-cloud-kill: killed the holder (${killed!.lease}) at update ${killed!.at}/${N}; ${resent} re-sent; now held by ${now}`);
    } finally {
      await redis.quit();
      for (const w of workers)
        if (w.proc.exitCode === null && w.proc.signalCode === null) {
          w.proc.kill('SIGTERM');
          await w.exited;
        }
    }
  }, 180_000);
});
