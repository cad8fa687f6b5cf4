/**
 * @module A Redis for integration tests and benches (real databases, never mocks). REDIS_URL set: use it
 * (keys are prefixed per test, nothing is flushed). Otherwise start
 * `redis-server --port <free> --save '' --appendonly no --bind 127.0.0.1` as a child, wait for PING, and
 * stop it from `stop()` (REDIS_SERVER may name the binary). No redis-server: skip with the reason — unless
 * CI=true, then fail. Per test file rather than a vitest globalSetup: the root vitest.config.ts is shared.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { freePort } from './ports.ts';

export type RedisHarness =
  | { readonly ok: true; readonly url: string; readonly connect: () => Redis; readonly prefix: () => string; readonly stop: () => Promise<void> }
  | { readonly ok: false; readonly reason: string };

/** REDIS_SERVER may name the binary (or a missing path, to see the skip); else redis-server on PATH. */
function findRedisServer(): string | undefined {
  const wanted = process.env['REDIS_SERVER'];
  if (wanted !== undefined && wanted !== '') return existsSync(wanted) ? wanted : undefined;
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p !== '' ? p : undefined;
}

async function ping(url: string, deadline: number): Promise<void> {
  for (;;) {
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    c.on('error', () => {}); // refused while the server starts: retried below, not an unhandled event
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`redis at ${url} did not answer PING: ${String(e)}`, { cause: e });
    } finally {
      c.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts (or reuses) a Redis; call `stop()` in afterAll. */
export async function startRedis(): Promise<RedisHarness> {
  const clients: Redis[] = [];
  const prefixes: string[] = [];
  /** On a shared server (REDIS_URL), delete what this file wrote; a child server just goes away. */
  const cleanUp = async (url: string): Promise<void> => {
    const c = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      for (const p of prefixes) {
        for await (const keys of c.scanStream({ match: `${p}*`, count: 500 }) as AsyncIterable<string[]>) if (keys.length > 0) await c.del(...keys);
      }
    } finally {
      c.disconnect();
    }
  };
  const harness = (url: string, child?: ChildProcess): RedisHarness => ({
    ok: true,
    url,
    connect: () => {
      const c = new Redis(url, { maxRetriesPerRequest: 1 });
      c.on('error', () => {}); // commands still reject with the error; tests assert on those
      clients.push(c);
      return c;
    },
    prefix: () => {
      const p = `ferry-test-${randomBytes(6).toString('hex')}:`;
      prefixes.push(p);
      return p;
    },
    stop: async () => {
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      if (child === undefined) return cleanUp(url);
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    },
  });
  const env = process.env['REDIS_URL'];
  if (env !== undefined && env !== '') {
    await ping(env, Date.now() + 5_000);
    return harness(env);
  }
  const bin = findRedisServer();
  if (bin === undefined) {
    const reason = 'redis-server is not installed and REDIS_URL is not set (apt-get install redis-server)';
    if (process.env['CI'] === 'true') throw new Error(`${reason}; CI=true, so this fails instead of skipping`);
    return { ok: false, reason };
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    // a free port can be taken between probing and binding
    const port = await freePort();
    const child = spawn(bin, ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
    const url = `redis://127.0.0.1:${port}`;
    try {
      await Promise.race([
        ping(url, Date.now() + 10_000),
        new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`redis-server exited with ${String(code)}`)))),
      ]);
      return harness(url, child);
    } catch (e) {
      lastError = e;
      child.kill('SIGKILL');
    }
  }
  throw new Error(`could not start redis-server: ${String(lastError)}`, { cause: lastError });
}

export type ClusterHarness =
  | { readonly ok: true; readonly connect: () => Cluster; readonly prefix: () => string; readonly stop: () => Promise<void> }
  | { readonly ok: false; readonly reason: string };

/**
 * A three-master Redis Cluster on free loopback ports (cluster mode, no replicas, no persistence), made with
 * `redis-cli --cluster create`; always local (REDIS_URL is a single node). Skips, or fails under CI=true,
 * like startRedis.
 */
export async function startRedisCluster(): Promise<ClusterHarness> {
  const bin = findRedisServer();
  const cli = spawnSync('sh', ['-c', 'command -v redis-cli'], { encoding: 'utf8' }).stdout.trim();
  if (bin === undefined || cli === '') {
    const reason = 'redis-server or redis-cli is not installed (apt-get install redis-server)';
    if (process.env['CI'] === 'true') throw new Error(`${reason}; CI=true, so this fails instead of skipping`);
    return { ok: false, reason };
  }
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cluster-'));
  const children: ChildProcess[] = [];
  const clients: Cluster[] = [];
  const kill = async (): Promise<void> => {
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null
          ? undefined
          : new Promise<void>((r) => {
              c.once('exit', () => r());
              c.kill('SIGTERM');
            }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      ports.push(port);
      children.push(
        spawn(
          bin,
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'no',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--dir',
            dir,
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (const p of ports) await ping(`redis://127.0.0.1:${p}`, Date.now() + 10_000);
    const made = spawnSync(cli, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (made.status !== 0) throw new Error(`redis-cli --cluster create failed: ${made.stdout} ${made.stderr}`);
    for (const deadline = Date.now() + 15_000; ; ) {
      const info = spawnSync(cli, ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).stdout;
      if (info.includes('cluster_state:ok')) break;
      if (Date.now() > deadline) throw new Error(`cluster did not become ok: ${info}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      ok: true,
      connect: () => {
        const c = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })));
        c.on('error', () => {});
        clients.push(c);
        return c;
      },
      prefix: () => `ferry-test-${randomBytes(6).toString('hex')}:`,
      stop: async () => {
        await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
        await kill();
      },
    };
  } catch (e) {
    await kill();
    throw e;
  }
}
