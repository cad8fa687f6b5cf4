/**
 * Fault test (docs/actions.md "Lifecycle", restarts): a broadcast to many lightweight devices through one of
 * two cloud worker processes on Mosquitto and Redis, and that worker killed with SIGKILL in the middle of it
 * (some devices have their command, the call has not answered), then restarted under the same id. Every
 * command the cloud made ends acked (none lost), and no device applied a command twice: commands are
 * marked sent in Redis before their token leaves, answers reach whichever worker ingest hands them to, and
 * what the dead worker marked sent but never published comes back after the visibility timeout. The
 * broadcast call itself died with the worker: the devices it never reached have no command (nothing was
 * acknowledged to the caller).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DeviceRegistry, SqliteDeviceStore, loadMasterKey } from '@ferry/cloud';
import { CommandDevice } from '@ferry/test-kit/command-device';
import { Redis } from 'ioredis';
import { postAs } from '@ferry/test-kit/http';
import { useScaleOutParts } from './scale-out-parts.ts';

const DEVICES = 300;
const WORKER = join(import.meta.dirname, 'commands', 'worker.ts');
const parts = useScaleOutParts();

interface Worker {
  readonly proc: ChildProcess;
  readonly httpUrl: string;
  readonly exited: Promise<number | null>;
}

async function startWorker(id: string, dataDir: string, mqttUrl: string, redisUrl: string): Promise<Worker> {
  const proc = spawn(process.execPath, ['--import', 'tsx', WORKER, id, dataDir, mqttUrl, redisUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let out = '';
  proc.stderr!.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const httpUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${id} did not start: ${out}`)), 30_000);
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /ferry cloud: .* HTTP (http:\/\/\S+),/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${id} exited ${code}: ${out}`));
    });
  });
  return { proc, httpUrl, exited };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('fault: kill -9 of a cloud worker in the middle of a broadcast (Mosquitto + Redis)', () => {
  it('no command lost, none applied twice', async (ctx) => {
    const p = parts(ctx);
    if (p === undefined) return;
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-cmd-kill-'));
    const keys = new Map<string, string>();
    {
      const db = new Database(join(dataDir, 'cloud.db'));
      db.pragma('journal_mode = WAL');
      const devices = new DeviceRegistry(new SqliteDeviceStore(db), loadMasterKey(join(dataDir, 'master.key')));
      for (let i = 0; i < DEVICES; i++) keys.set(`k-${i}`, devices.add(`k-${i}`, 'fleet', Date.now()).key);
      db.close();
    }
    let a = await startWorker('cmdkill-a', dataDir, p.broker.url, p.redisUrl);
    const b = await startWorker('cmdkill-b', dataDir, p.broker.url, p.redisUrl);
    const devs = await Promise.all([...keys].map(([id, key]) => CommandDevice.connect({ url: p.broker.url, id, key })));
    try {
      await Promise.all(devs.map((d) => d.uplink('tel', { t: 20 })));
      await sleep(500); // the uplinks reach the workers: every device is online
      const call = postAs(`${a.httpUrl}/api/v1/broadcasts`, { target: { namespace: 'fleet' }, command: { setpoint: 22 } }).then(
        (r) => r.status,
        () => 'died',
      );
      while (devs.filter((d) => d.order.length > 0).length < DEVICES / 10) await sleep(1);
      a.proc.kill('SIGKILL');
      expect(await a.exited).toBe(null);
      const appliedAtKill = devs.filter((d) => d.order.length > 0).length;
      const answered = await call; // 'died' when killed in the middle of the call (on a loaded machine it may have answered)
      a = await startWorker('cmdkill-a', dataDir, p.broker.url, p.redisUrl);

      // Every command the cloud recorded, and its state: live ones are in the id index, finished ones kept.
      const redis = new Redis(p.redisUrl);
      const made = async (): Promise<{ live: number; states: string[] }> => {
        const live = (await redis.keys('ferry:cmd:i:*')).length;
        const done = await redis.keys('ferry:cmd:d:*');
        const states = done.length === 0 ? [] : (await redis.mget(...done)).map((j) => (JSON.parse(j!) as { state: string }).state);
        return { live, states };
      };
      const end = Date.now() + 60_000;
      while ((await made()).live > 0 && Date.now() < end) await sleep(200);
      const { live, states } = await made();
      await redis.quit();
      expect(live).toBe(0);
      expect(states.length).toBeGreaterThanOrEqual(appliedAtKill);
      expect(states.filter((s) => s !== 'acked')).toEqual([]); // none lost
      const twice = devs.filter((d) => [...d.applied.values()].some((n) => n > 1)).map((d) => d.id);
      expect(twice).toEqual([]); // none applied twice
      expect(devs.reduce((n, d) => n + d.order.length, 0)).toBe(states.length); // each command applied once, by its device
      console.log(
        `command fault: killed with ${appliedAtKill}/${DEVICES} devices served (the call: ${answered}); the cloud had made ${states.length} commands, all acked; ${devs.reduce((n, d) => n + d.refused, 0)} copies refused as replays`,
      );
    } finally {
      await Promise.all(devs.map((d) => d.close(true)));
      for (const w of [a, b]) {
        if (w.proc.exitCode === null && w.proc.signalCode === null) {
          w.proc.kill('SIGTERM');
          await w.exited;
        }
      }
    }
  }, 150_000);
});
