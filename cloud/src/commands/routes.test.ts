/**
 * The command REST API against a real cloud: batches with a result per item, broadcasts to a list, a
 * namespace, a tag query and all of an owner's devices with their status as a query, cancel, bad input,
 * tenancy over HTTP and MQTT (another owner cannot command, read or answer a device's commands), and a
 * cloud rule whose output on `<prefix>/cmd/<device>` becomes a command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandDevice } from '@ferry/test-kit/command-device';
import { testCloud, until, type TestCloud } from './cloud.case.ts';

let t: TestCloud;
let alice: string;
let bob: string;
beforeAll(async () => {
  t = await testCloud();
  for (const owner of ['alice', 'bob']) {
    const r = await t.call('POST', '/api/owners', { id: owner });
    const tok = await t.call('POST', '/api/tokens', { role: 'operator' }, r.body['privateToken'] as string);
    if (owner === 'alice') alice = tok.body['token'] as string;
    else bob = tok.body['token'] as string;
  }
  for (let i = 0; i < 4; i++) t.add(`a-${i}`, { owner: 'alice', namespace: i < 2 ? 'kitchen' : 'hall' });
  t.add('b-0', { owner: 'bob', namespace: 'kitchen' });
}, 30_000);
afterAll(() => t.stop());

const get = async (path: string, token = alice) => (await t.call('GET', path, undefined, token)).body;

describe('command REST API', () => {
  it('takes a batch of up to 10 and answers each item on its own', async () => {
    const r = await t.call(
      'POST',
      '/api/v1/commands/batch',
      {
        items: [
          { device: 'a-0', command: { setpoint: 21 } },
          { device: 'b-0', command: { setpoint: 21 } },
          { device: 'a-1', command: [1] },
        ],
      },
      alice,
    );
    expect(r.status).toBe(200);
    const results = r.body['results'] as Record<string, unknown>[];
    expect(results.map((x) => x['ok'])).toEqual([true, false, false]);
    expect(results.map((x) => x['code'])).toEqual([undefined, 'FERRY_CMD_DEVICE_NOT_FOUND', 'FERRY_CMD_BAD_REQUEST']);
    const eleven = Array.from({ length: 11 }, () => ({ device: 'a-0', command: { n: 1 } }));
    expect((await t.call('POST', '/api/v1/commands/batch', { items: eleven }, alice)).body['code']).toBe('FERRY_CMD_TOO_LARGE');
  });

  it('refuses malformed and oversized commands with a typed error', async () => {
    const cases: [unknown, number, string][] = [
      [{ device: 'a-0' }, 400, 'FERRY_CMD_BAD_REQUEST'],
      [{ device: 'a-0', command: 'reboot' }, 400, 'FERRY_CMD_BAD_REQUEST'],
      [{ device: 'a-0', command: { n: 1 }, ttl_s: 0 }, 400, 'FERRY_CMD_BAD_REQUEST'],
      [{ device: 'a-0', command: { n: 1 }, priority: 'urgent' }, 400, 'FERRY_CMD_BAD_REQUEST'],
      [{ device: 'a-0', command: { blob: 'x'.repeat(2000) } }, 413, 'FERRY_CMD_TOO_LARGE'],
      [{ device: 'nobody', command: { n: 1 } }, 404, 'FERRY_CMD_DEVICE_NOT_FOUND'],
    ];
    for (const [body, status, code] of cases) {
      const r = await t.call('POST', '/api/v1/commands', body, alice);
      expect([JSON.stringify(body).slice(0, 40), r.status, r.body['code']]).toEqual([JSON.stringify(body).slice(0, 40), status, code]);
    }
  });

  it('broadcasts to a list, a namespace, a tag query and all, with status by state and cancel', async () => {
    expect((await t.call('PUT', '/api/v1/devices/a-3/tags', { tags: { floor: '2', kind: 'th' } }, alice)).status).toBe(200);
    expect((await t.call('PUT', '/api/v1/devices/b-0/tags', { tags: { floor: '2' } }, alice)).status).toBe(404);
    const targets: [unknown, number][] = [
      [{ devices: ['a-0', 'a-2'] }, 2],
      [{ namespace: 'kitchen' }, 2],
      [{ tags: { floor: '2' } }, 1],
      [{ all: true }, 4],
    ];
    for (const [target, n] of targets) {
      const r = await t.call('POST', '/api/v1/broadcasts', { target, command: { reboot: true }, priority: 'low' }, alice);
      expect([r.status, r.body['devices']]).toEqual([202, n]);
    }
    const b = await t.call('POST', '/api/v1/broadcasts', { target: { namespace: 'hall' }, command: { setpoint: 19 }, ttl_s: 600 }, alice);
    const dev = await t.device('a-2');
    await dev.until(() => dev.order.length >= 1);
    const id = b.body['id'] as string;
    await until(async () => ((await get(`/api/v1/broadcasts/${id}`))['counts'] as Record<string, number>)['acked'] === 1, 'one acked');
    const status = await get(`/api/v1/broadcasts/${id}`);
    expect(status).toMatchObject({ devices: 2, counts: { acked: 1, queued: 1 }, states: { acked: ['a-2'], queued: ['a-3'] } });
    expect((await t.call('DELETE', `/api/v1/broadcasts/${id}`, undefined, alice)).body).toEqual({ id, cancelled: 1 });
    expect(await get(`/api/v1/broadcasts/${id}`)).toMatchObject({ counts: { acked: 1, failed: 1 } });
    expect((await t.call('GET', `/api/v1/broadcasts/${id}`, undefined, bob)).status).toBe(404);
    expect((await t.call('POST', '/api/v1/broadcasts', { target: { devices: ['b-0'] }, command: { n: 1 } }, alice)).status).toBe(404);
    expect((await t.call('POST', '/api/v1/broadcasts', { target: { tags: { none: 'x' } }, command: { n: 1 } }, alice)).body['code']).toBe(
      'FERRY_CMD_NO_DEVICES',
    );
    expect((await t.call('POST', '/api/v1/broadcasts', { target: { everyone: true }, command: { n: 1 } }, alice)).status).toBe(400);
  });

  it("keeps owners apart: another owner's device, command and answers", async () => {
    const mine = await t.call('POST', '/api/v1/commands', { device: 'a-1', command: { setpoint: 22 } }, alice);
    const id = mine.body['id'] as string;
    expect((await t.call('POST', '/api/v1/commands', { device: 'a-1', command: { setpoint: 5 } }, bob)).status).toBe(404);
    expect((await t.call('GET', `/api/v1/commands/${id}`, undefined, bob)).status).toBe(404);
    expect((await t.call('DELETE', `/api/v1/commands/${id}`, undefined, bob)).status).toBe(404);
    // Bob's device answers alice's command id over MQTT, signed with its own key: the answer is not alice's device's.
    const intruder = await CommandDevice.connect({ url: t.mqttUrl, id: 'b-0', key: t.keys.get('b-0')! });
    await intruder.uplink('cmd.ack', { id, status: 'acked' });
    await new Promise((r) => setTimeout(r, 300));
    expect((await get(`/api/v1/commands/${id}`))['state']).toBe('queued');
    await intruder.close();
    const cancelled = await t.call('DELETE', `/api/v1/commands/${id}`, undefined, alice);
    expect(cancelled.body).toMatchObject({ state: 'failed', reason: 'cancelled' });
    expect((await t.call('DELETE', `/api/v1/commands/${id}`, undefined, alice)).body['code']).toBe('FERRY_CMD_FINISHED');
  });

  it("turns a cloud rule's output on <prefix>/cmd/<device> into a command", async () => {
    t.add('a-9', { owner: 'alice' });
    const dev = await t.device('a-9');
    const sensor = await t.device('a-1');
    const rule = {
      headers: { runtime: 'cloud', targetResource: 'r', jobType: 'single-filter' },
      jobConfig: { connectors: { input: 'ferry/up/a-1/msg', output: 'ferry/cmd/a-9' }, jobProps: { condition: 'gt', threshold: 30, fieldName: 't' } },
    };
    const { jobId } = (await t.call('POST', '/api/install', rule)).body as { jobId: string };
    expect((await t.call('POST', '/api/start', { jobId })).status).toBe(200);
    await sensor.uplink('tel', { t: 20 });
    await sensor.uplink('tel', { t: 35 });
    await dev.until(() => dev.order.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(dev.order.length).toBe(1); // the reading of 20 made none
    const last = dev.order[0]!;
    await until(async () => (await get(`/api/v1/commands/${last}`))['state'] === 'acked', 'acked');
    expect(await get(`/api/v1/commands/${last}`)).toMatchObject({ source: 'rule', command: { t: 35 }, state: 'acked' });
  });
});
