/** `ferry cloud rotate-master-key` run in-process: its JSON, its exit codes, and its refusal while a cloud runs. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudService } from '@ferry/cloud';
import { startTestCloud, testCloudOptions } from '../../cloud/src/service/test-cloud.case.ts';
import { memoryIo } from './io.ts';
import { main } from './main.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const run = async (args: string[], env: Record<string, string> = {}) => {
  const io = memoryIo([], { FERRY_NO_PROGRESS_BAR: '1', ...env });
  const code = await main(['node', 'ferry', 'cloud', 'rotate-master-key', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join('') };
};

/** A data dir whose cloud added `n` devices and stopped; returns the cloud, for a restart. */
async function dataDir(n: number): Promise<{ dir: string; keys: { id: string; key: string }[] }> {
  const { svc, dataDir: dir } = await startTestCloud({ name: 'cli-rotate' });
  const keys = Array.from({ length: n }, (_, i) => svc.devices.add(`d${i}`));
  await svc.stop();
  return { dir, keys };
}

const keyFile = (dir: string, f = 'master.key'): string => readFileSync(join(dir, f), 'utf8').trim();

describe('ferry cloud rotate-master-key', () => {
  it('rotates a stopped cloud: JSON on stdout, progress on stderr, exit 0; the devices verify after a restart', async () => {
    const { dir, keys } = await dataDir(4);
    const old = keyFile(dir);
    const r = await run(['--data', dir]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as Record<string, unknown>;
    expect(out).toMatchObject({
      rotated: { devices: 4, owners: 0, schedules: 0 },
      resumed: false,
      keyFile: join(dir, 'master.key'),
      oldKeyFile: join(dir, 'master.key.old'),
    });
    expect(out).not.toHaveProperty('masterKey');
    expect(r.err).toMatch(/rotate-master-key: sqlite 4\/4 rows/);
    expect(keyFile(dir, 'master.key.old')).toBe(old);
    expect(keyFile(dir)).not.toBe(old);
    const svc = new CloudService(testCloudOptions({ dataDir: dir }));
    cleanups.push(() => svc.stop());
    for (const k of keys) expect(svc.devices.keys(k.id)).toBeDefined();
  }, 30_000);

  it('with FERRY_MASTER_KEY prints the new key once and writes no file', async () => {
    const { dir } = await dataDir(1);
    const old = keyFile(dir);
    const r = await run(['--data', dir], { FERRY_MASTER_KEY: old });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { masterKey: string; next: string };
    expect(out.masterKey).toMatch(/^[0-9a-f]{64}$/);
    expect(out.next).toMatch(/FERRY_MASTER_KEY/);
    expect(r.out.split(out.masterKey)).toHaveLength(2); // once
    expect(keyFile(dir)).toBe(old);
    expect(existsSync(join(dir, 'master.key.old'))).toBe(false);
  }, 30_000);

  it('exit 1 with a typed error while a cloud runs on the data dir; exit 2 on a usage error', async () => {
    const { dir } = await dataDir(1);
    cleanups.push((await startTestCloud({ dataDir: dir })).stop);
    const r = await run(['--data', dir]);
    expect([r.code, r.out]).toEqual([1, '']);
    expect(JSON.parse(r.err)).toMatchObject({ code: 'FERRY_DEVICE_DATA_DIR_BUSY', num: 4780 });
    expect((await run(['--data', dir, '--bogus'])).code).toBe(2);
  }, 30_000);
});
