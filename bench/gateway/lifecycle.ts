/** @module bench:gateway's lifecycle: a temporary folder, undo steps run at the end whatever happens, child processes, brokers. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aedesBroker, mosquittoAvailable, mosquittoBroker, type MosquittoOptions, type TestBroker } from '@ferry/test-kit/brokers';

// Cleanup: everything started registers its undo here; run on success, error and SIGINT/SIGTERM. Child
// processes are also killed synchronously on exit, whatever happens.
const cleanups: { name: string; fn: () => unknown }[] = [];
const children = new Set<ChildProcess>();
export const tmp = mkdtempSync(join(tmpdir(), 'ferry-bench-gw-'));
export const defer = (name: string, fn: () => unknown): void => {
  cleanups.push({ name, fn });
};
export async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await Promise.race([c.fn(), sleep(5000)]);
    } catch (e) {
      process.stderr.write(`cleanup ${c.name}: ${(e as Error).message}\n`);
    }
  }
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));
export const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

export function track(p: ChildProcess): ChildProcess {
  children.add(p);
  p.once('exit', () => children.delete(p));
  return p;
}

export async function stopChild(p: ChildProcess, graceMs = 3000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return;
  p.kill('SIGKILL');
  await exited;
}

// ---------------------------------------------------------------------------------------------------------
// Brokers: Mosquitto (a child process, so the broker does not share a core's event loop with either side)
// when installed, else aedes in process. Unlimited queues and in-flight windows: the defaults (1000 queued
// QoS 1 messages per client) would drop messages under a burst, and the figures count every output.
const MOSQUITTO: MosquittoOptions = {
  settings: { max_queued_messages: 0, max_inflight_messages: 0, set_tcp_nodelay: true, log_dest: 'none' },
  dir: tmp,
  graceMs: 1000,
  onSpawn: track,
};

export async function broker(name: string): Promise<TestBroker> {
  const b = mosquittoAvailable() ? await mosquittoBroker(MOSQUITTO) : await aedesBroker();
  defer(`broker ${name}`, () => b.stop());
  return b;
}
