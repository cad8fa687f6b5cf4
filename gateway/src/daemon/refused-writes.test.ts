/**
 * @module A full outbox or a full disk degrades the gateway, never crashes it: a source's write that cannot be
 * stored is refused (counted, reported, not fed to rules), the daemon keeps serving, and writes are accepted
 * again once the uplink has drained room.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { parseConfig } from './config.ts';
import { GatewayDaemon } from './daemon.ts';
import { ScriptedSource } from '@ferry/test-kit/sources';

const KEY = '5a'.repeat(32);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const until = async (cond: () => boolean, what: string, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const reading = (i: number, pad = 0) => ({
  device: '/dev/ttyAMA0#mhz19',
  kind: 'mhz19',
  atMs: 1_767_225_600_000 + i,
  values: { co2: 400 + i, ...(pad > 0 && { note: 'x'.repeat(pad) }) },
});

async function daemon(dataDir: string, buffer: Record<string, unknown>, uplinkUrl?: string) {
  const broker = uplinkUrl === undefined ? await aedesBroker() : undefined;
  if (broker !== undefined) cleanups.push(() => broker.stop());
  const cfg = parseConfig({ gateway: { id: 'gw-9', key: KEY, data_dir: dataDir }, uplink: { url: uplinkUrl ?? broker!.url, buffer }, api: { port: 0 } });
  const src = new ScriptedSource();
  const logs: string[] = [];
  const d = new GatewayDaemon(cfg, { sources: [src], log: (_l, m) => logs.push(m) });
  const api = await d.start();
  cleanups.push(() => d.stop());
  return { d, src, api, logs };
}

const metric = async (api: string, name: string): Promise<string> =>
  (await (await fetch(`${api}/metrics`)).text())
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');

describe('refused writes', () => {
  it('refuse-new: a full outbox refuses the next reading without throwing into the source; it is counted and the daemon keeps serving', async () => {
    // The uplink points at a closed port, so nothing drains: the outbox fills.
    const { d, src, api } = await daemon(mkdtempSync(join(tmpdir(), 'ferry-gw-')), { max_rows: 10, policy: 'refuse-new' }, 'mqtt://127.0.0.1:1');
    for (let i = 0; i < 10; i++) expect(() => src.sink!.reading(reading(i))).not.toThrow();
    expect(() => src.sink!.reading(reading(10))).not.toThrow();
    const board = encode(
      { header: { kid: 'th-01', ep: 4, sq: 9 }, claims: { iss: 'th-01', iat: 1, ev: 'tel', d: { t: 20 } } },
      hmacKey(new Uint8Array(32).fill(1)),
    );
    if (!board.ok) throw board.error;
    expect(() => src.sink!.signed(new TextEncoder().encode(board.value), '/dev/ttyUSB0')).not.toThrow();
    expect(d.outbox.stats()).toMatchObject({ rows: 10, refused: 2 });
    expect(await metric(api, 'ferry_gateway_refused_total')).toMatch(/ferry_gateway_refused_total\{reason="outbox_full"\} 2/);
    const h = (await (await fetch(`${api}/health`)).json()) as { status: string; refusing?: string };
    expect(h.status).toBe('degraded');
    expect(h.refusing).toBe('outbox_full');
  });

  it('a refused rule output does not feed local rules or crash the rule engine', async () => {
    const { d, src } = await daemon(mkdtempSync(join(tmpdir(), 'ferry-gw-')), { max_rows: 10, policy: 'refuse-new' }, 'mqtt://127.0.0.1:1');
    const job = d.rules.engine.install({
      headers: { runtime: 'gateway:gw-9', targetResource: 'co2', jobType: 'single-filter' },
      jobConfig: { connectors: { input: 'ferry/up/gw-9/mhz19/#', output: 'ferry/alerts/co2' }, jobProps: { condition: 'gt', threshold: 0, fieldName: 'co2' } },
    });
    d.rules.engine.start(job.jobId);
    for (let i = 0; i < 30; i++) expect(() => src.sink!.reading(reading(i))).not.toThrow();
    expect(d.outbox.stats().rows).toBe(10);
    expect(d.rules.engine.list().find((j) => j.jobId === job.jobId)?.jobStatus).toBe('RUNNING');
    // Readings and their outputs share the 10 rows; nothing past them was stored, nothing threw.
    expect(d.outbox.stats().refused).toBeGreaterThanOrEqual(20);
  });
});

// A real full disk: the outbox lives on a 512 KiB tmpfs. Needs root (mount); skipped elsewhere, saying why.
const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'ferry-mnt-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

describe.skipIf(!canMount)('full disk (tmpfs; needs root to mount)', () => {
  it('writes fail with the disk full: refused and counted, no crash; after room is made they are accepted again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', dir]);
    cleanups.push(() => {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    });
    mkdirSync(join(dir, 'data'));
    const { d, src, api } = await daemon(join(dir, 'data'), { synchronous: 'NORMAL' }, 'mqtt://127.0.0.1:1');
    // Fill what the outbox left of the disk with a ballast file, then keep writing readings until refused.
    const ballast = join(dir, 'ballast');
    for (let n = 0; ; n++) {
      try {
        writeFileSync(ballast, Buffer.alloc(16 * 1024 * (n + 1)));
      } catch {
        break;
      }
    }
    let refusedAt = -1;
    for (let i = 0; i < 2000 && refusedAt < 0; i++) {
      expect(() => src.sink!.reading(reading(i, 200))).not.toThrow();
      if (/disk_full"\} [1-9]/.test(await metric(api, 'ferry_gateway_refused_total'))) refusedAt = i;
    }
    expect(refusedAt).toBeGreaterThanOrEqual(0);
    expect(((await (await fetch(`${api}/health`)).json()) as { refusing?: string }).refusing).toBe('disk_full');
    rmSync(ballast);
    const before = d.outbox.stats().rows;
    expect(() => src.sink!.reading(reading(5000))).not.toThrow();
    await until(() => d.outbox.stats().rows === before + 1, 'the reading after room was made');
    expect(((await (await fetch(`${api}/health`)).json()) as { refusing?: string }).refusing).toBeUndefined();
  });
});
