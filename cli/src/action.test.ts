/**
 * `ferry action send` and `ferry action status` against a real cloud on loopback and a lightweight device
 * that verifies each command and answers with a signed ack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud } from '../../cloud/src/service/test-cloud.case.ts';
import { CommandDevice } from '@ferry/test-kit/command-device';
import { memoryIo } from './io.ts';
import { main } from './main.ts';

let svc: CloudService;
let api = '';
let dev: CommandDevice;
beforeAll(async () => {
  const urls = await startTestCloud({ name: 'cli-action', functionRunner: 'in-process' });
  svc = urls.svc;
  api = urls.httpUrl;
  const key = svc.devices.add('th-cli', 'living', Date.now()).key;
  svc.devices.add('th-cli-2', 'attic', Date.now());
  dev = await CommandDevice.connect({ url: urls.mqttUrl, id: 'th-cli', key });
}, 30_000);
afterAll(async () => {
  await dev.close();
  await svc.stop();
});

const run = async (...args: string[]) => {
  const io = memoryIo([], { FERRY_API: api, FERRY_TOKEN: svc.adminToken });
  const code = await main(['node', 'ferry', 'action', ...args], io);
  return { code, err: io.stderr.join(''), json: (): Record<string, unknown> => JSON.parse(io.stdout.join('')) as Record<string, unknown> };
};

describe('ferry action', () => {
  it('sends a command to a device and reads its state until acked', async () => {
    const sent = await run('send', 'th-cli', '--command', '{"setpoint": 23.5}', '--ttl', '60', '--priority', 'high');
    expect(sent.code).toBe(0);
    const id = sent.json()['id'] as string;
    await dev.until(() => dev.applied.has(id));
    let state = '';
    for (let i = 0; i < 100 && state !== 'acked'; i++) {
      state = (await run('status', id)).json()['state'] as string;
      if (state !== 'acked') await new Promise((r) => setTimeout(r, 20));
    }
    expect(state).toBe('acked');
  });

  it('sends to a group (a namespace) and to all, as broadcasts whose status counts by state', async () => {
    const group = await run('send', '--group', 'attic', '--command', '{"reboot": true}');
    expect([group.code, group.json()['devices']]).toEqual([0, 1]);
    const all = await run('send', '--all', '--command', '{"reboot": true}');
    expect(all.json()['devices']).toBe(2);
    const status = await run('status', all.json()['id'] as string);
    expect(status.json()['devices']).toBe(2);
  });

  it('refuses a call without one target, with a bad command or priority (exit 2), and an unknown device (exit 1)', async () => {
    expect((await run('send', '--command', '{}')).code).toBe(2);
    expect((await run('send', 'th-cli', '--all', '--command', '{}')).code).toBe(2);
    expect((await run('send', 'th-cli', '--command', 'reboot')).code).toBe(2);
    expect((await run('send', 'th-cli', '--command', '{}', '--priority', 'urgent')).code).toBe(2);
    const unknown = await run('send', 'nobody', '--command', '{}');
    expect([unknown.code, JSON.parse(unknown.err).code]).toEqual([1, 'FERRY_CMD_DEVICE_NOT_FOUND']);
  });
});
