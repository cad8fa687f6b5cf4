/**
 * @module Test support: real MQTT brokers on loopback — aedes in-process, and Debian's Mosquitto as a child
 * process — that a test can stop and start again on the same port to make an outage.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';

export interface TestBroker {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** aedes on 127.0.0.1; stop() closes every connection, as a broker crash would. */
export async function aedesBroker(): Promise<TestBroker> {
  const port = await freePort();
  let broker: Aedes | undefined;
  let server: Server | undefined;
  const sockets = new Set<import('node:net').Socket>();
  const b: TestBroker = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async start() {
      broker = await Aedes.createBroker();
      const srv = createServer({ noDelay: true }, broker.handle);
      srv.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
      server = srv;
      await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
    },
    async stop() {
      const srv = server;
      const br = broker;
      server = undefined;
      broker = undefined;
      if (srv !== undefined) await new Promise<void>((r) => { srv.close(() => r()); for (const s of sockets) s.destroy(); });
      if (br !== undefined) await new Promise<void>((r) => br.close(() => r()));
    },
  };
  await b.start();
  return b;
}

export const mosquittoAvailable = (): boolean => spawnSync('sh', ['-c', 'command -v mosquitto || test -x /usr/sbin/mosquitto']).status === 0;

/** Debian's mosquitto on 127.0.0.1 (no persistence, anonymous, deep per-client queues), as a child process. */
export async function mosquittoBroker(): Promise<TestBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  // max_queued_messages: Mosquitto drops QoS 1 messages beyond 1000 queued per client by default, and a
  // subscriber that falls behind a fast publisher (a cloud worker under a benchmark) would lose messages.
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\n`);
  const bin = spawnSync('sh', ['-c', 'command -v mosquitto || echo /usr/sbin/mosquitto'], { encoding: 'utf8' }).stdout.trim();
  let proc: ChildProcess | undefined;
  const b: TestBroker = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async start() {
      proc = spawn(bin, ['-c', conf], { stdio: 'ignore' });
      await waitForPort(port);
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (p === undefined || p.exitCode !== null) return;
      await new Promise<void>((r) => { p.once('exit', () => r()); p.kill('SIGKILL'); });
    },
  };
  await b.start();
  return b;
}
