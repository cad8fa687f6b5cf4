/** The README's demo, run in-process: the whole stack (cloud, ingest, namespace state, boards online, fallback). */
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';
import { memoryIo } from './io.ts';

describe('ferry demo', () => {
  it('online the thermostat counts all four rooms; after the cloud goes away it counts only its own; every message verifies', async () => {
    const io = memoryIo();
    const code = await main(['node', 'ferry', 'demo', '--hours', '2'], io);
    const out = io.stdout.join('');
    expect(code).toBe(0);
    const [online, offline] = out.split('--- the cloud is gone');
    const counted = (s: string): number[] => [...s.matchAll(/°C\s+(\d)\s+(?:ON|off)/g)].map((m) => Number(m[1]));
    expect(counted(online!).length).toBeGreaterThan(2);
    expect(new Set(counted(online!))).toEqual(new Set([4]));
    expect(new Set(counted(offline!.split('\n\n')[0]!))).toEqual(new Set([1]));
    expect(out).toMatch(/the cloud accepted \d+ signed messages from 4 boards/);
    expect(out).toMatch(/ 0 of all messages failed verification/);
  }, 120_000);
});
