/** The README's demo, run in-process: the whole stack (cloud, ingest, owner namespace, a function by hash, boards online, fallback). */
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';
import { memoryIo } from './io.ts';

describe('ferry demo', () => {
  it('online the thermostat takes the minimum from the cloud by hash; after the cloud goes away from itself; every message verifies', async () => {
    const io = memoryIo();
    const code = await main(['node', 'ferry', 'demo', '--hours', '2'], io);
    const out = io.stdout.join('');
    expect(code).toBe(0);
    const [online, offline] = out.split('--- the cloud is gone');
    const from = (s: string): string[] => [...s.matchAll(/°C\s+(?:ON|off)\s+(cloud|local)\s/g)].map((m) => m[1]!);
    expect(from(online!).length).toBeGreaterThan(2);
    expect(new Set(from(online!))).toEqual(new Set(['cloud']));
    expect(new Set(from(offline!.split('\n\n')[0]!))).toEqual(new Set(['local']));
    const runs = /min_temperature ran (\d+) times in the cloud \(uploaded 1 time\) and (\d+) times on the board/.exec(out);
    expect(runs).not.toBeNull();
    // One call per tick: two-thirds of 720 ticks online, the rest offline.
    expect([Number(runs![1]), Number(runs![2])]).toEqual([480, 240]);
    expect(out).toMatch(/the house namespace in the cloud held 4 room readings/);
    expect(out).toMatch(/the cloud accepted \d+ signed messages from 4 boards/);
    expect(out).toMatch(/ 0 of all messages failed verification/);
    // The demo shows the admin credential once (its data directory, where it was kept, is gone with the demo).
    expect(out.match(/admin credential \(shown once; kept in \S+, mode 0600, until the demo ends\): ferry_admin\.[A-Za-z0-9_-]{43}\n/g)?.length).toBe(1);
  }, 120_000);
});
