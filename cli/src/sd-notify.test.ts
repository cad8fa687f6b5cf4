/**
 * The notify protocol against a real unix datagram socket bound by python3 (as systemd's would be): READY=1,
 * WATCHDOG=1 from the event loop's timer, none while the loop is stalled, STOPPING=1 at the end.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { systemdNotifier, watchdogMs } from './sd-notify.ts';

/** Binds a SOCK_DGRAM socket at argv[1], says "bound", then prints each datagram on a line of its own. */
const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(s.recv(4096).decode(), flush=True)
`;

const python = spawnSync('python3', ['--version']).status === 0;
let receiver: ChildProcessWithoutNullStreams | undefined;
afterEach(() => {
  receiver?.kill();
  receiver = undefined;
});

async function receive(path: string): Promise<string[]> {
  const lines: string[] = [];
  const p = spawn('python3', ['-c', RECEIVER, path]);
  receiver = p;
  await new Promise<void>((resolve, reject) => {
    p.once('error', reject);
    createInterface({ input: p.stdout }).on('line', (l) => (l === 'bound' ? resolve() : lines.push(l)));
  });
  return lines;
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('systemd notify', () => {
  it.skipIf(!python)('sends READY=1, pings from the event loop, none while it is stalled, and STOPPING=1', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ferry-notify-')), 'notify.sock');
    const got = await receive(path);
    const logs: string[] = [];
    const n = (await systemdNotifier({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '40000' }, (m) => logs.push(m)))!;
    n.ready();
    await until(() => got.filter((l) => l === 'WATCHDOG=1').length >= 3, 'three pings');
    n.send('STATUS=stalling');
    const end = performance.now() + 300; // a stalled event loop: nothing else runs meanwhile
    while (performance.now() < end) {
      // busy
    }
    n.send('STATUS=resumed');
    await until(() => got.lastIndexOf('WATCHDOG=1') > got.indexOf('STATUS=resumed'), 'a ping after the stall');
    n.stop();
    await until(() => got.includes('STOPPING=1'), 'STOPPING=1');
    expect(got[0]).toBe('READY=1');
    const stalled = got.slice(got.indexOf('STATUS=stalling'), got.indexOf('STATUS=resumed') + 1);
    expect(stalled).toEqual(['STATUS=stalling', 'STATUS=resumed']); // no ping came from anywhere but the stalled loop
    expect(got.slice(got.indexOf('STOPPING=1'))).toEqual(['STOPPING=1']);
    expect(logs).toEqual([]);
  });

  it('is off without NOTIFY_SOCKET, refuses abstract sockets, and reads the watchdog period for this pid only', async () => {
    const logs: string[] = [];
    expect(await systemdNotifier({}, (m) => logs.push(m))).toBeUndefined();
    expect(await systemdNotifier({ NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }, (m) => logs.push(m))).toBeUndefined();
    expect(logs[0]).toContain('abstract');
    expect(watchdogMs({ WATCHDOG_USEC: '30000000' })).toBe(30_000);
    expect(watchdogMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid + 1) })).toBeUndefined();
    expect(watchdogMs({ WATCHDOG_USEC: 'x' })).toBeUndefined();
  });
});
