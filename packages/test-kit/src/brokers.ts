/**
 * @module Real MQTT brokers on loopback for tests and benches — aedes in process, and Debian's Mosquitto as a
 * child process — that a test can stop and start again on the same port to make an outage.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { freePort, waitForPort } from './ports.ts';

export interface TestBroker {
  readonly kind: 'aedes' | 'mosquitto';
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** aedes on 127.0.0.1; stop() closes every connection, as a broker crash would. */
export async function aedesBroker(): Promise<TestBroker> {
  const port = await freePort();
  let broker: Aedes | undefined;
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const b: TestBroker = {
    kind: 'aedes',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async start() {
      broker = await Aedes.createBroker();
      const srv = createServer({ noDelay: true }, broker.handle);
      srv.on('connection', (s) => {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      });
      server = srv;
      await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
    },
    async stop() {
      const srv = server;
      const br = broker;
      server = undefined;
      broker = undefined;
      if (srv !== undefined)
        await new Promise<void>((r) => {
          srv.close(() => r());
          for (const s of sockets) s.destroy();
        });
      if (br !== undefined) await new Promise<void>((r) => br.close(() => r()));
    },
  };
  await b.start();
  return b;
}

export const mosquittoAvailable = (): boolean => spawnSync('sh', ['-c', 'command -v mosquitto || test -x /usr/sbin/mosquitto']).status === 0;

export interface MosquittoOptions {
  /**
   * mosquitto.conf settings over the defaults. Default max_queued_messages 1000000: Mosquitto drops QoS 1
   * messages beyond 1000 queued per client, and a subscriber that falls behind a fast publisher (a cloud
   * worker under a benchmark) would lose messages. 0 lifts a limit.
   */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** Folder for the config file; default a fresh temporary folder. */
  readonly dir?: string;
  /** How stop() ends the broker: 0 (default) SIGKILL at once, as a crash would; else SIGTERM, SIGKILL after graceMs. */
  readonly graceMs?: number;
  /** Sees every broker process started, e.g. to kill it when the caller exits. */
  readonly onSpawn?: (proc: ChildProcess) => void;
  /** Accept clients without a user name (default true). */
  readonly anonymous?: boolean;
}

/** Debian's mosquitto on 127.0.0.1 (no persistence, anonymous unless told, deep per-client queues), as a child process. */
export async function mosquittoBroker(o: MosquittoOptions = {}): Promise<TestBroker> {
  const port = await freePort();
  const conf = join(o.dir ?? mkdtempSync(join(tmpdir(), 'ferry-mosq-')), `mosquitto-${port}.conf`);
  const settings = { max_queued_messages: 1_000_000, ...o.settings };
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${o.anonymous ?? true}`,
      'persistence false',
      ...Object.entries(settings).map(([k, v]) => `${k} ${String(v)}`),
      '',
    ].join('\n'),
  );
  const bin = spawnSync('sh', ['-c', 'command -v mosquitto || echo /usr/sbin/mosquitto'], { encoding: 'utf8' }).stdout.trim();
  const graceMs = o.graceMs ?? 0;
  let proc: ChildProcess | undefined;
  const b: TestBroker = {
    kind: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async start() {
      proc = spawn(bin, ['-c', conf], { stdio: 'ignore' });
      o.onSpawn?.(proc);
      await waitForPort(port);
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      if (graceMs > 0) {
        p.kill('SIGTERM');
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((r) => {
            timer = setTimeout(() => r(true), graceMs);
          }),
        ]);
        clearTimeout(timer);
        if (!late) return;
      }
      p.kill('SIGKILL');
      await exited;
    },
  };
  await b.start();
  return b;
}

/** Where Debian's mosquitto package puts the dynamic-security plugin (`dpkg -L mosquitto | grep dynamic`). */
export function dynsecPluginPath(): string | undefined {
  const listed = spawnSync('sh', ['-c', 'dpkg -L mosquitto 2>/dev/null | grep mosquitto_dynamic_security.so'], { encoding: 'utf8' }).stdout.trim();
  const candidates = [...listed.split('\n'), '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so', '/usr/lib/mosquitto_dynamic_security.so'];
  return candidates.find((p) => p !== '' && existsSync(p));
}

export const mosquittoDynsecAvailable = (): boolean =>
  mosquittoAvailable() && dynsecPluginPath() !== undefined && spawnSync('sh', ['-c', 'command -v mosquitto_ctrl']).status === 0;

export interface DynsecBroker extends TestBroker {
  /** The plugin's admin credential: it may send dynamic-security commands, and nothing else. */
  readonly admin: { readonly username: string; readonly password: string };
}

/**
 * Mosquitto with the dynamic-security plugin, no anonymous access, and one admin client made by
 * `mosquitto_ctrl dynsec init` (mosquitto-clients). Everything else (clients, roles, ACLs) is for the caller to
 * create through `$CONTROL/dynamic-security/v1`. stop() ends it; its folder is left in the system's temp.
 */
export async function startMosquittoDynsec(o: Omit<MosquittoOptions, 'anonymous'> = {}): Promise<DynsecBroker> {
  const plugin = dynsecPluginPath();
  if (plugin === undefined) throw new Error('the mosquitto package has no mosquitto_dynamic_security.so');
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'ferry-dynsec-'));
  const config = join(dir, 'dynamic-security.json');
  const admin = { username: 'ferry-dynsec-admin', password: randomBytes(18).toString('base64url') };
  const init = spawnSync('mosquitto_ctrl', ['dynsec', 'init', config, admin.username, admin.password], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr}`);
  const b = await mosquittoBroker({
    ...o,
    dir,
    anonymous: false,
    // Started as root, mosquitto switches to the 'mosquitto' user, which could neither read the plugin's file in
    // this private folder nor save it back; stay the user that made it.
    settings: { ...o.settings, plugin, plugin_opt_config_file: config, ...(process.getuid?.() === 0 && { user: 'root' }) },
  });
  return { ...b, start: () => b.start(), stop: () => b.stop(), admin };
}
