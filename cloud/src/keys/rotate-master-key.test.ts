/**
 * Master key rotation on a real data directory (embedded mode, SQLite): a cloud with devices, owners and
 * sealed schedules is stopped, rotated and restarted, and everything still works under the new key while the
 * old key opens nothing; a rotation interrupted at every step (a throw in-process, or kill -9 of a child
 * process) is refused by a starting cloud and finished by a rerun; a running cloud refuses a rotation and a
 * rotation refuses a starting cloud.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '@ferry/test-kit/functions';
import type { CloudService } from '../service/service.ts';
import { lockDataDirExclusive } from './data-lock.ts';
import { rotateMasterKey, type RotationResult, type RotationStep } from './rotate-master-key.ts';
import { check, populate, rawFiles, sealedUnder, sealedValues, startCloud, type Populated } from './rotation.case.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const keyOf = (dataDir: string, file = 'master.key'): Buffer => Buffer.from(readFileSync(join(dataDir, file), 'utf8').trim(), 'hex');
const codeOf = async (p: Promise<unknown> | (() => unknown)): Promise<string | undefined> => {
  try {
    await (typeof p === 'function' ? p() : p);
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

/** A stopped cloud on a fresh data dir, populated; its master key before any rotation. */
async function stoppedCloud(devices = 5): Promise<{ dataDir: string; p: Populated; oldKey: Buffer }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-rotate-'));
  const clock = new ManualClock();
  const svc = await startCloud(dataDir, clock);
  const p = await populate(svc, clock, { devices });
  await svc.stop();
  return { dataDir, p, oldKey: keyOf(dataDir) };
}

async function restart(dataDir: string, p: Populated): Promise<CloudService> {
  const svc = await startCloud(dataDir, p.clock);
  cleanups.push(() => svc.stop());
  return svc;
}

describe('ferry cloud rotate-master-key (embedded)', () => {
  it('re-seals every secret: after a restart devices, public tokens, schedules, notification channels and callbacks work, and the old key opens nothing', async () => {
    const { dataDir, p, oldKey } = await stoppedCloud(40);
    const before = sealedValues(dataDir);
    expect(sealedUnder(dataDir, oldKey)).toHaveLength(40 + 2 + 2 + 1 + 1);
    const progress: number[] = [];
    let announced: RotationResult | undefined;
    const r = await rotateMasterKey({ dataDir, env: {}, onProgress: (x) => progress.push(x.done), announce: (x) => (announced = x) });
    expect(r).toEqual(announced);
    expect(r.rotated).toEqual({ devices: 40, owners: 2, schedules: 2, channels: 1, callbacks: 1 });
    expect(r).toMatchObject({ resumed: false, keyFile: join(dataDir, 'master.key'), oldKeyFile: join(dataDir, 'master.key.old') });
    expect(r.masterKey).toBeUndefined(); // file mode: the key is never printed
    expect(progress.at(-1)).toBe(47); // bob's own schedule holds no token, and is a row too

    const newKey = keyOf(dataDir);
    expect(newKey.equals(oldKey)).toBe(false);
    expect(keyOf(dataDir, 'master.key.old').equals(oldKey)).toBe(true);
    for (const f of ['master.key', 'master.key.old']) expect(statSync(join(dataDir, f)).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dataDir, 'master.key.new'))).toBe(false);
    // The old key opens no row; the new one opens all of them.
    expect(sealedUnder(dataDir, oldKey)).toEqual([]);
    expect(sealedUnder(dataDir, newKey)).toHaveLength(46);
    // Not even in the file's free pages or its WAL: no value sealed under the old key is left on disk.
    const raw = rawFiles(dataDir);
    for (const [, v] of [...before.devices, ...before.owners]) expect(raw.includes(v)).toBe(false);
    for (const [, s] of [...before.schedules, ...before.channels, ...before.callbacks]) expect(raw.includes(Buffer.from(s))).toBe(false);

    await check(await restart(dataDir, p), p);
  }, 60_000);

  it('a rotation that opens a row under neither key changes nothing', async () => {
    const { dataDir, oldKey } = await stoppedCloud(2);
    writeFileSync(join(dataDir, 'master.key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 }); // the wrong key
    expect(await codeOf(rotateMasterKey({ dataDir, env: {} }))).toBe('FERRY_DEVICE_UNOPENABLE');
    expect(sealedUnder(dataDir, oldKey)).toHaveLength(2 + 2 + 2 + 1 + 1);
    expect(existsSync(join(dataDir, 'master.key.old'))).toBe(false);
  }, 30_000);

  it('with FERRY_MASTER_KEY: writes no key file, announces the new key once, and the cloud runs with it', async () => {
    const { dataDir, p, oldKey } = await stoppedCloud(3);
    const fileBefore = readFileSync(join(dataDir, 'master.key'), 'utf8');
    const shown: RotationResult[] = [];
    const r = await rotateMasterKey({ dataDir, env: { FERRY_MASTER_KEY: oldKey.toString('hex') }, announce: (x) => shown.push(x) });
    expect(shown).toEqual([r]);
    expect(r.masterKey).toMatch(/^[0-9a-f]{64}$/);
    expect(r.keyFile).toBeUndefined();
    expect(readFileSync(join(dataDir, 'master.key'), 'utf8')).toBe(fileBefore);
    expect(existsSync(join(dataDir, 'master.key.old'))).toBe(false);
    expect(sealedUnder(dataDir, oldKey)).toEqual([]);
    const saved = process.env['FERRY_MASTER_KEY'];
    process.env['FERRY_MASTER_KEY'] = r.masterKey!;
    cleanups.push(() => {
      if (saved === undefined) delete process.env['FERRY_MASTER_KEY'];
      else process.env['FERRY_MASTER_KEY'] = saved;
    });
    await check(await restart(dataDir, p), p);
  }, 30_000);

  it('a running cloud refuses the rotation; a rotation refuses a starting cloud', async () => {
    const { dataDir, p, oldKey } = await stoppedCloud(1);
    const svc = await restart(dataDir, p);
    expect(await codeOf(rotateMasterKey({ dataDir, env: {} }))).toBe('FERRY_DEVICE_DATA_DIR_BUSY');
    expect(keyOf(dataDir).equals(oldKey)).toBe(true);
    await svc.stop();
    cleanups.pop();
    const lock = lockDataDirExclusive(dataDir); // what a rotation holds while it runs
    expect(await codeOf(() => startCloud(dataDir, p.clock))).toBe('FERRY_DEVICE_DATA_DIR_BUSY');
    lock.release();
    await rotateMasterKey({ dataDir, env: {} });
    await check(await restart(dataDir, p), p);
  }, 30_000);

  const STEPS: RotationStep[] = ['sqlite', 'redis', 'old-key-file', 'new-key-file', 'renamed', 'announced', 'record-deleted'];
  it.each(STEPS)(
    'a crash after step %s: a starting cloud refuses or works, a rerun finishes, nothing opens under the old key',
    async (step) => {
      const { dataDir, p, oldKey } = await stoppedCloud(3);
      const crash = new Error(`crash after ${step}`);
      await expect(
        rotateMasterKey({
          dataDir,
          env: {},
          hooks: {
            afterStep: (s) => {
              if (s === step) throw crash;
            },
          },
        }),
      ).rejects.toBe(crash);
      if (step === 'record-deleted') {
        await check(await restart(dataDir, p), p); // the rotation is complete; only the vacuum did not run
        expect(sealedUnder(dataDir, oldKey)).toEqual([]);
        return;
      }
      expect(await codeOf(() => startCloud(dataDir, p.clock))).toBe('FERRY_DEVICE_ROTATION_UNFINISHED');
      const r = await rotateMasterKey({ dataDir, env: {} });
      expect(r.resumed).toBe(true);
      expect(r.rotated).toEqual({ devices: 3, owners: 2, schedules: 2, channels: 1, callbacks: 1 });
      expect(keyOf(dataDir, 'master.key.old').equals(oldKey)).toBe(true);
      expect(sealedUnder(dataDir, oldKey)).toEqual([]);
      expect(sealedUnder(dataDir, keyOf(dataDir))).toHaveLength(9);
      await check(await restart(dataDir, p), p);
    },
    30_000,
  );

  it('a crash in the middle of the rows rolls them all back: the cloud starts with the old key, a rerun rotates', async () => {
    const { dataDir, p, oldKey } = await stoppedCloud(6);
    const crash = new Error('crash after 4 rows');
    await expect(
      rotateMasterKey({
        dataDir,
        env: {},
        hooks: {
          afterRow: (n) => {
            if (n === 4) throw crash;
          },
        },
      }),
    ).rejects.toBe(crash);
    expect(keyOf(dataDir).equals(oldKey)).toBe(true);
    expect(sealedUnder(dataDir, oldKey)).toHaveLength(6 + 2 + 2 + 1 + 1);
    await check(await restart(dataDir, p), p);
    await cleanups.pop()!();
    const r = await rotateMasterKey({ dataDir, env: {} });
    expect(r.resumed).toBe(false);
    expect(sealedUnder(dataDir, oldKey)).toEqual([]);
    await check(await restart(dataDir, p), p);
  }, 30_000);

  it('with FERRY_MASTER_KEY: a crash before the key was shown, or after, is finished by a rerun with the old or the new key', async () => {
    const { dataDir, p, oldKey } = await stoppedCloud(2);
    const crashAt = (step: RotationStep) => ({
      afterStep: (s: RotationStep) => {
        if (s === step) throw new Error(`crash after ${step}`);
      },
    });
    let shown: string | undefined;
    const announce = (x: RotationResult): void => {
      shown = x.masterKey;
    };
    // Killed before the key was shown: a rerun with the old key shows the new one.
    await expect(rotateMasterKey({ dataDir, env: { FERRY_MASTER_KEY: oldKey.toString('hex') }, announce, hooks: crashAt('redis') })).rejects.toThrow();
    expect(shown).toBeUndefined();
    const first = await rotateMasterKey({ dataDir, env: { FERRY_MASTER_KEY: oldKey.toString('hex') } });
    expect(first).toMatchObject({ resumed: true, rotated: { devices: 2, owners: 2, schedules: 2 }, masterKey: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(sealedUnder(dataDir, oldKey)).toEqual([]);
    // Killed after the key was shown: the operator set it; a rerun with it only finishes.
    await expect(rotateMasterKey({ dataDir, env: { FERRY_MASTER_KEY: first.masterKey! }, announce, hooks: crashAt('announced') })).rejects.toThrow();
    const second = shown!;
    expect(second).not.toBe(first.masterKey);
    const done = await rotateMasterKey({ dataDir, env: { FERRY_MASTER_KEY: second } });
    expect(done).toMatchObject({ resumed: true, rotated: { devices: 2, owners: 2, schedules: 2 } });
    expect(done.masterKey).toBeUndefined();
    expect(sealedUnder(dataDir, Buffer.from(first.masterKey!, 'hex'))).toEqual([]);
    const saved = process.env['FERRY_MASTER_KEY'];
    process.env['FERRY_MASTER_KEY'] = second;
    cleanups.push(() => {
      if (saved === undefined) delete process.env['FERRY_MASTER_KEY'];
      else process.env['FERRY_MASTER_KEY'] = saved;
    });
    await check(await restart(dataDir, p), p);
  }, 30_000);

  it('kill -9 of the rotating process after the new key file was written: a rerun finishes', async () => {
    const { dataDir, p, oldKey } = await stoppedCloud(3);
    const entry = new URL('./rotate-master-key.ts', import.meta.url).pathname;
    const code = `import { register } from 'tsx/esm/api'; register();
const { rotateMasterKey } = await import(${JSON.stringify(entry)});
await rotateMasterKey({ dataDir: ${JSON.stringify(dataDir)}, env: {}, hooks: { afterStep: (s) => { if (s === 'new-key-file') process.kill(process.pid, 'SIGKILL'); } } });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: new URL('.', import.meta.url).pathname,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const signal = await new Promise<string | null>((r) => child.once('exit', (_c, s) => r(s)));
    expect([signal, err]).toEqual(['SIGKILL', '']);
    expect(keyOf(dataDir).equals(oldKey)).toBe(true); // not renamed yet
    expect(existsSync(join(dataDir, 'master.key.new'))).toBe(true);
    expect(await codeOf(() => startCloud(dataDir, p.clock))).toBe('FERRY_DEVICE_ROTATION_UNFINISHED');
    const r = await rotateMasterKey({ dataDir, env: {} });
    expect(r.resumed).toBe(true);
    expect(keyOf(dataDir).equals(oldKey)).toBe(false);
    expect(sealedUnder(dataDir, oldKey)).toEqual([]);
    await check(await restart(dataDir, p), p);
  }, 60_000);
});
