/** `ferry so create | push | watch` against a real CloudService on loopback ports. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud } from '../../cloud/src/service/test-cloud.case.ts';
import { generatePrivateToken } from '@ferry/cloud/functions';
import { memoryIo } from './io.ts';
import { main } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-so-'));
let svc: CloudService;
let api = '';
const alice = generatePrivateToken('alice');
const DOC = join(dir, 'so.json');
beforeAll(async () => {
  ({ svc, httpUrl: api } = await startTestCloud({ dataDir: join(dir, 'data'), functionRunner: 'in-process' }));
  expect(svc.functions.register(alice).ok).toBe(true);
  writeFileSync(
    DOC,
    JSON.stringify({
      streams: {
        t: { channels: { a: { type: 'number' } } },
        d: { channels: { a: { type: 'number', 'current-value': '{$t.channels.a.current-value} * 2' } } },
      },
    }),
  );
}, 60_000);
afterAll(async () => {
  await svc.stop();
});

const run = async (args: string[], token = alice) => {
  const io = memoryIo([], { FERRY_API: api, FERRY_TOKEN: token });
  const code = await main(['node', 'ferry', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join('') };
};
const su = (v: number, t: number): string => JSON.stringify({ channels: { a: { 'current-value': v } }, lastUpdate: t });

describe('ferry so', () => {
  it('create prints the id; push prints what happened; watch prints one JSON line per value', async () => {
    const c = await run(['so', 'create', DOC]);
    expect([c.code, c.err]).toEqual([0, '']);
    const id = c.out.trim();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const watch = run(['so', 'watch', id, 'd', '--count', '2']);
    // Feed until the watcher has its two values (it connects a moment after it starts).
    let done = false;
    void watch.then(() => {
      done = true;
    });
    for (let t = 1; !done && t < 400; t++) {
      const p = await run(['so', 'push', id, 't', su(t, t)]);
      expect([p.code, JSON.parse(p.out)]).toEqual([0, { outcome: 'accepted', outputs: 2 }]);
      await new Promise((r) => setTimeout(r, 25));
    }
    const w = await watch;
    expect(w.code).toBe(0);
    const lines = w.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { channels: { a: number }; lastUpdate: number });
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => l.channels.a)).toEqual(lines.map((l) => l.lastUpdate * 2));
    expect(lines[1]!.lastUpdate).toBe(lines[0]!.lastUpdate + 1);
  });

  it('refusals exit 1 with the API error; a bad argument is a usage error', async () => {
    const none = await run(['so', 'push', 'nosuchobject', 't', su(1, 1)]);
    expect([none.code, none.out, (JSON.parse(none.err) as { code: string }).code]).toEqual([1, '', 'FERRY_COMPOSE_NOT_FOUND']);
    const w = await run(['so', 'watch', 'nosuchobject', 't']);
    expect([w.code, (JSON.parse(w.err) as { code: string }).code]).toEqual([1, 'FERRY_COMPOSE_NOT_FOUND']);
    expect((await run(['so', 'push', 'x', 't', '{not json'])).code).toBe(2);
    expect((await run(['so', 'create', join(dir, 'missing.json')])).code).toBe(2);
  });
});
