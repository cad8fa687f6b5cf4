/**
 * Fault test of the composite-stream leases (docs/composite-streams.md, "Scale-out"): two worker PROCESSES
 * (e2e/so-lease-worker.ts: LeasedHosting over an engine on RedisComposeStore) on one Redis; a stream of
 * updates to one connected component, sent to both workers in turn, each acknowledged only once its wave is
 * stored. The lease holder is killed with SIGKILL while an update is on its way; the client sends what was
 * not acknowledged again to the worker that is left (as any client retries), which takes the lease after it
 * expires. Every composite's stored history equals an unmoved run's: every output once, nothing missing.
 *
 * The workers here are the lease alone over an engine, so a kill can land inside a wave (a slowed store);
 * e2e/so-cloud-kill.test.ts does the same to `ferry cloud start --redis` workers through the REST API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHarness } from '@ferry/test-kit/redis';
import { RedisComposeStore } from '../cloud/src/storage/redis/compose-store.ts';
import { COMPOSITES, reference, update } from './so-topology.ts';

const WORKER = join(import.meta.dirname, 'so-lease-worker.ts');
const N = 240;

interface Worker {
  readonly id: string;
  readonly proc: ChildProcess;
  readonly url: string;
  readonly exited: Promise<NodeJS.Signals | null>;
}

async function startWorker(id: string, redisUrl: string, prefix: string): Promise<Worker> {
  const proc = spawn(process.execPath, ['--import', 'tsx', WORKER, redisUrl, id, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | null>((r) => proc.once('exit', (_code, signal) => r(signal)));
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`worker ${id} did not start: ${out}${err}`)), 30_000);
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /ready (\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(() => reject(new Error(`worker ${id} exited: ${out}${err}`)));
  });
  return { id, proc, url: `http://127.0.0.1:${port}/`, exited };
}

const push = async (w: Worker, i: number): Promise<{ ok: boolean; outcome?: string }> => {
  const res = await fetch(w.url, { method: 'POST', body: JSON.stringify({ so: 'T', stream: 'S', update: update(i) }), signal: AbortSignal.timeout(20_000) });
  return (await res.json()) as { ok: boolean; outcome?: string };
};

let redis: RedisHarness | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  if (redis?.ok === true) await redis.stop();
});

describe('fault: kill -9 the lease holder of a composite-stream component (two worker processes, one Redis)', () => {
  it('every update is applied once: the histories equal an unmoved run, nothing acknowledged is missing', async (ctx) => {
    if (redis?.ok !== true) {
      if (process.env['CI'] === 'true') throw new Error('CI must have redis-server');
      ctx.skip();
      return;
    }
    const prefix = `solease${process.pid}:`;
    const workers = [await startWorker('w-a', redis.url, prefix), await startWorker('w-b', redis.url, prefix)];
    const client = new Redis(redis.url);
    const holder = async (): Promise<string | null> => await client.get(`${prefix}so-lease:T`);
    try {
      let alive = [...workers];
      let killed: { worker: string; lease: string; at: number } | undefined;
      let retried = 0;
      let inFlight = 0;
      for (let i = 0; i < N; i++) {
        const target = alive[i % alive.length]!;
        const sent = push(target, i).catch(() => undefined); // may fail under the kill below
        if (killed === undefined && i >= N / 3) {
          const lease = await holder();
          const victim = alive.find((w) => lease?.startsWith(`${w.id}:`) === true);
          if (victim !== undefined) {
            // While update i is on its way (to the holder, or to the other worker, which hands it to the holder).
            await new Promise((r) => setTimeout(r, 2 + (i % 3)));
            victim.proc.kill('SIGKILL');
            expect(await victim.exited).toBe('SIGKILL');
            const cursor = (await client.get(`${prefix}so-cursor:T`)) ?? '0-0';
            inFlight = (await client.xrange(`${prefix}so-in:T`, `(${cursor}`, '+')).length;
            alive = alive.filter((w) => w !== victim);
            killed = { worker: victim.id, lease: lease!, at: i };
          }
        }
        let r = await sent;
        while (r?.ok !== true) {
          // Not acknowledged (the worker died under it): send it again, to a worker that is alive.
          retried++;
          r = await push(alive[0]!, i).catch(() => undefined);
        }
      }
      expect(killed).toBeDefined();
      const now = await holder();
      expect(now?.startsWith(`${alive[0]!.id}:`)).toBe(true);
      // A new fencing token: the lease was taken over, not kept.
      expect(Number(now!.split(':').at(-1))).toBeGreaterThan(Number(killed!.lease.split(':').at(-1)));

      const store = new RedisComposeStore({ redis: client, prefix });
      const want = await reference(N);
      for (const k of COMPOSITES) {
        const got = await store.range(k, 0, Number.MAX_SAFE_INTEGER);
        expect(got, k).toEqual(want.get(k));
        expect(got, k).toHaveLength(N); // every update reaches every composite
        expect(await client.zcard(store.keys(k)[1])).toBe(want.get(k)!.length);
      }
      expect((await store.range('T/S', 0, Number.MAX_SAFE_INTEGER)).length).toBe(N);
      console.log(
        `so-lease: killed ${killed!.worker} (lease ${killed!.lease}) at update ${killed!.at}/${N} with ${inFlight} request(s) not committed; ${retried} re-sent; now held ${now}`,
      );
    } finally {
      await client.quit();
      for (const w of workers) {
        if (w.proc.exitCode === null && w.proc.signalCode === null) {
          w.proc.kill('SIGTERM');
          await w.exited;
        }
      }
    }
  }, 120_000);
});
