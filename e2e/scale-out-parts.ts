/**
 * @module The real parts of the scale-out tests: Debian's Mosquitto and a private redis-server on loopback,
 * started once per test file. `parts()` answers them, or skips the test where they are not installed (and
 * fails it under CI, which installs both); and cloud worker processes (`ferry cloud start --redis`) to kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { mosquittoAvailable, mosquittoBroker, type TestBroker } from '@ferry/test-kit/brokers';
import { startRedis, type RedisHarness } from '@ferry/test-kit/redis';

export interface ScaleOutParts {
  readonly broker: TestBroker;
  readonly redisUrl: string;
}

/** Call at the top of a test file; call the returned function inside a test. */
export function useScaleOutParts(): (ctx: { skip: () => void }) => ScaleOutParts | undefined {
  let redis: RedisHarness | undefined;
  let broker: TestBroker | undefined;
  beforeAll(async () => {
    if (!mosquittoAvailable()) return;
    redis = await startRedis();
    if (redis.ok) broker = await mosquittoBroker();
  });
  afterAll(async () => {
    await broker?.stop();
    if (redis?.ok === true) await redis.stop();
  });
  return (ctx) => {
    if (broker !== undefined && redis?.ok === true) return { broker, redisUrl: redis.url };
    if (process.env['CI'] === 'true') throw new Error('CI must have mosquitto and redis-server');
    ctx.skip();
    return undefined;
  };
}

const CLI = join(import.meta.dirname, '..', 'cli', 'bin', 'ferry.mjs');

export interface CloudWorker {
  readonly proc: ChildProcess;
  readonly httpUrl: string;
  readonly exited: Promise<number | null>;
}

/** Starts `ferry cloud start` as a child process and waits for its "ferry cloud:" line (it names the HTTP URL). */
export async function startCloudWorker(id: string, dataDir: string, mqttUrl: string, redisUrl: string): Promise<CloudWorker> {
  const proc = spawn(
    process.execPath,
    [CLI, 'cloud', 'start', '--mqtt', mqttUrl, '--shared', '--redis', redisUrl, '--id', id, '--data', dataDir, '--http-port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FERRY_ADMIN_TOKEN: ADMIN_TOKEN } },
  );
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const httpUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`worker ${id} did not start: ${out}${err}`)), 30_000);
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
      reject(new Error(`worker ${id} exited ${code}: ${out}${err}`));
    });
  });
  return { proc, httpUrl, exited };
}
