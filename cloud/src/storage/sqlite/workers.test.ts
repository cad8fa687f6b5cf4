/**
 * Two connections on one SQLite file, in two threads (as two processes would share it): interleaved and
 * redelivered messages of the same devices are each released exactly once, and each device's releases
 * tile its sequence in order. This is what BEGIN IMMEDIATE buys (docs/storage.md "Atomicity").
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqlite } from './db.ts';

const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ferry-sqlite-w-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Out = { kid: string; outcome: string; released: number[] }[];
const run = (dir: string, jobs: readonly { kid: string; sq: number }[]): Promise<Out> =>
  new Promise((resolve, reject) => {
    // tsx's loader, registered inside the thread, lets it import the .ts sources as vitest does for the test.
    // The ESM entry of tsx/esm/api, from its package exports (its CJS build resolves its chunks wrongly from an eval worker).
    const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
    const entry = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!.import.default;
    const api = pathToFileURL(join(dirname(pkg), entry)).href;
    const fixture = pathToFileURL(createRequire(import.meta.url).resolve('@ferry/test-kit/sqlite-worker')).href;
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(fixture)}); })`;
    const w = new Worker(boot, { eval: true, workerData: { dir, jobs } });
    w.once('message', (m: Out) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
    });
  });

describe('SqliteReorderStore: two connections in two threads on one file', () => {
  it('release every message exactly once, in order per device', async () => {
    const dir = join(root, 'db');
    openSqlite({ dir }).close(); // create the schema once, before the race
    const devices = ['d0', 'd1', 'd2'];
    const N = 400;
    const all = Array.from({ length: N }, (_, sq) => devices.map((kid) => ({ kid, sq }))).flat();
    const a = all.filter((_, i) => i % 3 !== 0);
    const b = all.filter((_, i) => i % 3 !== 1); // a third of the messages go to both: redelivery
    const [ra, rb] = await Promise.all([run(dir, a), run(dir, b)]);
    const results = [...ra, ...rb];
    expect(results.filter((r) => r.outcome === 'accepted')).toHaveLength(devices.length * N);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(a.length + b.length - devices.length * N);
    for (const kid of devices) {
      const runs = results.filter((r) => r.kid === kid && r.released.length > 0).map((r) => r.released);
      for (const run of runs) {
        run.forEach((sq, i) => {
          expect(sq).toBe(run[0]! + i);
        });
      }
      expect(runs.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
    }
  });
});
