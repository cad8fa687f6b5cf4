/**
 * `ferry notify` against a real CloudService on loopback: add a webhook channel (its secret printed once),
 * subscribe, see the delivery acknowledged, a dead letter replayed, a test send; usage errors exit 2.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud } from '../../cloud/src/service/test-cloud.case.ts';
import { memoryIo } from './io.ts';
import { main } from './main.ts';

let svc: CloudService;
let api = '';
let hook: Server;
let hookUrl = '';
let answer = 200;
const bodies: string[] = [];

beforeAll(async () => {
  hook = createServer((req, res) => {
    let b = '';
    req.on('data', (c: Buffer) => {
      b += c.toString();
    });
    req.on('end', () => {
      bodies.push(b);
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
  ({ svc, httpUrl: api } = await startTestCloud({
    name: 'cli-notify',
    functionRunner: 'in-process',
    notify: { allowPrivateAddresses: true, retry: { maxAttempts: 1 }, tickMs: 20 },
  }));
}, 60_000);
afterAll(async () => {
  await svc.stop();
  hook.closeAllConnections();
  await new Promise<void>((r) => hook.close(() => r()));
});

const run = async (args: string[], env: Record<string, string> = {}) => {
  const io = memoryIo([], { FERRY_API: api, FERRY_TOKEN: svc.adminToken, ...env });
  const code = await main(['node', 'ferry', 'notify', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join(''), json: (): unknown => JSON.parse(io.stdout.join('')) };
};
const until = async (f: () => Promise<boolean>, what: string): Promise<void> => {
  for (const end = Date.now() + 10_000; !(await f()); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('ferry notify', () => {
  it('adds a channel and a subscription, lists the acknowledged delivery, replays a dead letter and sends a test', async () => {
    const ch = await run(['add-channel', '--kind', 'webhook', '--url', hookUrl, '--name', 'ops']);
    expect([ch.code, ch.err]).toEqual([0, '']);
    const channel = ch.json() as { id: string; secret: string; hasSecret: boolean };
    expect([channel.hasSecret, channel.secret]).toEqual([true, expect.stringMatching(/^[0-9a-f]{64}$/)]);
    const listed = await run(['channels']);
    expect(listed.out).toContain(channel.id);
    expect(listed.out).not.toContain(channel.secret);
    const sub = await run(['subscribe', '--channel', channel.id, '--kind', 'device.*', '--min-priority', 'normal', '--subject', '{{source}} down']);
    expect([sub.code, (sub.json() as { kinds: string[] }).kinds]).toEqual([0, ['device.*']]);

    svc.notify({ kind: 'device.offline', source: 'pump', at: Date.now(), data: {} }); // global, like the credential
    await until(async () => ((await run(['deliveries', '--state', 'acked'])).json() as unknown[]).length === 1, 'the acked delivery');
    expect((JSON.parse(bodies[0]!) as { subject: string }).subject).toBe('pump down');

    answer = 500;
    svc.notify({ kind: 'device.offline', source: 'fan', at: Date.now(), data: {} });
    let dead: { id: string }[] = [];
    await until(async () => {
      dead = (await run(['dead-letters'])).json() as { id: string }[];
      return dead.length === 1;
    }, 'the dead letter');
    answer = 200;
    const replay = await run(['replay', dead[0]!.id]);
    expect([replay.code, (replay.json() as { state: string }).state]).toEqual([0, 'queued']);
    await until(async () => ((await run(['deliveries', '--state', 'acked'])).json() as unknown[]).length === 2, 'the replayed delivery acked');

    const test = await run(['test', channel.id]);
    expect([test.code, (test.json() as { acknowledged: boolean }).acknowledged]).toEqual([0, true]);
  });

  it('answers a refusal with the API error and exit 1, a bad call with exit 2', async () => {
    const refused = await run(['replay', 'd-nope']);
    expect([refused.code, (JSON.parse(refused.err) as { code: string }).code]).toEqual([1, 'FERRY_NOTIFY_NOT_FOUND']);
    expect((await run(['add-channel', '--kind', 'webhook'])).code).toBe(2); // no --url
    expect((await run(['add-channel', '--kind', 'pager'])).code).toBe(2);
    expect((await run(['deliveries', '--state', 'lost'])).code).toBe(2);
  });
});
