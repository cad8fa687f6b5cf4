/** Store-and-forward against real brokers (aedes in-process, Debian's Mosquitto): order, outages, kill -9, last will. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { aedesBroker, mosquittoAvailable, mosquittoBroker, type TestBroker } from '@ferry/test-kit/brokers';
import { Outbox, OutboxFullError } from './outbox.ts';
import { Uplink, statusTopic } from './uplink.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const tmpDb = (): string => join(mkdtempSync(join(tmpdir(), 'ferry-outbox-')), 'outbox.db');

async function subscriber(url: string, topic: string): Promise<{ client: MqttClient; got: string[] }> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 100 });
  const got: string[] = [];
  client.on('message', (_t, p) => got.push(p.toString()));
  await client.subscribeAsync(topic, { qos: 1 });
  cleanups.push(() => client.endAsync(true));
  return { client, got };
}
const until = async (cond: () => boolean, what: string, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const payloads = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `reading-${from + i}`);

function uplinkOn(url: string, path = tmpDb(), gatewayId = 'gw-test', prefix?: string): { uplink: Uplink; outbox: Outbox } {
  const outbox = new Outbox({ path });
  const uplink = new Uplink({ url, gatewayId, outbox, reconnectMs: 100, ...(prefix !== undefined && { prefix }) });
  cleanups.push(async () => {
    await uplink.close().catch(() => undefined);
    outbox.close();
  });
  return { uplink, outbox };
}

function suite(name: string, make: () => Promise<TestBroker>): void {
  describe(`uplink over ${name}`, () => {
    it('delivers readings in order and empties the outbox', async () => {
      const broker = await make();
      cleanups.push(() => broker.stop());
      const sub = await subscriber(broker.url, 'ferry/up/#');
      const { uplink, outbox } = uplinkOn(broker.url);
      for (const p of payloads(300)) uplink.send('ferry/up/gw-test', new TextEncoder().encode(p));
      await uplink.flushed();
      await until(() => sub.got.length >= 300, '300 readings');
      expect(sub.got).toEqual(payloads(300));
      expect(outbox.stats().rows).toBe(0);
    });

    it('buffers through a broker outage, is killed during it, and a restarted gateway delivers everything once, in order', async () => {
      const broker = await make();
      cleanups.push(() => broker.stop());
      const path = tmpDb();
      const first = uplinkOn(broker.url, path);
      await until(() => first.uplink.connected, 'first connection');
      for (const p of payloads(50)) first.uplink.send('ferry/up/gw-test', new TextEncoder().encode(p));
      await first.uplink.flushed();
      await broker.stop();
      await until(() => !first.uplink.connected, 'the uplink to notice the outage');
      for (const p of payloads(200, 50)) first.uplink.send('ferry/up/gw-test', new TextEncoder().encode(p));
      expect(first.outbox.stats().rows).toBe(200);
      first.uplink.kill(); // the gateway dies during the outage
      first.outbox.close();
      await broker.start();
      const sub = await subscriber(broker.url, 'ferry/up/#');
      const second = uplinkOn(broker.url, path);
      await second.uplink.flushed();
      await until(() => sub.got.length >= 200, 'the buffered readings');
      expect(sub.got).toEqual(payloads(200, 50));
      expect(second.outbox.stats().rows).toBe(0);
    });

    it('publishes a retained "online", and the broker publishes the last will "offline" when the gateway dies', async () => {
      const broker = await make();
      cleanups.push(() => broker.stop());
      const sub = await subscriber(broker.url, statusTopic('gw-will'));
      const { uplink } = uplinkOn(broker.url, tmpDb(), 'gw-will');
      await until(() => sub.got.includes('online'), 'online');
      uplink.kill();
      await until(() => sub.got.at(-1) === 'offline', 'the last will');
      const late = await subscriber(broker.url, statusTopic('gw-will')); // retained: a late subscriber sees it too
      await until(() => late.got.length > 0, 'the retained status');
      expect(late.got).toEqual(['offline']);
    });

    it('keeps its status under the configured topic prefix', async () => {
      const broker = await make();
      cleanups.push(() => broker.stop());
      const sub = await subscriber(broker.url, statusTopic('gw-pre', 'acme'));
      uplinkOn(broker.url, tmpDb(), 'gw-pre', 'acme');
      await until(() => sub.got.includes('online'), 'online under acme/');
      expect(statusTopic('gw-pre', 'acme')).toBe('acme/gw/gw-pre/status');
    });
  });
}

suite('aedes (in-process)', aedesBroker);
if (mosquittoAvailable()) suite('Mosquitto', mosquittoBroker);
else if (process.env['CI'] === 'true') it('Mosquitto is installed in CI', () => expect(mosquittoAvailable()).toBe(true));
else it.skip('uplink over Mosquitto (skipped: mosquitto is not installed; .ci/run installs it)', () => undefined);

describe('kill -9 of the gateway process', () => {
  it('every reading whose put() returned is delivered after a restart, in order', async () => {
    const broker = await aedesBroker();
    cleanups.push(() => broker.stop());
    const path = tmpDb();
    const dead = 'mqtt://127.0.0.1:1'; // nothing listens: everything stays buffered
    // node itself (not npx, whose grandchild would survive the kill) with tsx's loader
    const writer = createRequire(import.meta.url).resolve('@ferry/test-kit/outbox-writer');
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path, dead, '100000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const puts: string[] = [];
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('put ')) puts.push(l.split(' ')[2]!);
    });
    await until(() => puts.length >= 500, '500 durable puts', 30_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const sub = await subscriber(broker.url, 'ferry/up/#');
    const { uplink } = uplinkOn(broker.url, path, 'gw-kill');
    await uplink.flushed(30_000);
    await until(
      () => sub.got.length >= puts.length,
      `all acknowledged puts (${sub.got.length} of ${puts.length}, first ${sub.got[0]}, last ${sub.got.at(-1)}, last put ${puts.at(-1)})`,
    );
    // Everything acknowledged is delivered, in order; at most the one reading being written at the kill is extra.
    expect(sub.got.slice(0, puts.length)).toEqual(puts);
    expect(sub.got.length - puts.length).toBeLessThanOrEqual(1);
  }, 60_000);
});

describe('outbox bounds', () => {
  it('drop-oldest keeps the newest readings and counts the drops', () => {
    const o = new Outbox({ path: ':memory:', maxRows: 10 });
    for (let i = 0; i < 25; i++) o.put('t', new TextEncoder().encode(`r${i}`));
    const kept = o.peek(100).map((e) => new TextDecoder().decode(e.payload));
    expect(kept.at(-1)).toBe('r24');
    expect(kept.length).toBeLessThanOrEqual(10);
    expect(o.stats().droppedOldest).toBe(25 - kept.length);
  });
  it('refuse-new keeps history and refuses with a typed error', () => {
    const o = new Outbox({ path: ':memory:', maxBytes: 20, policy: 'refuse-new' });
    o.put('t', new Uint8Array(15));
    expect(() => o.put('t', new Uint8Array(10))).toThrow(/FERRY_GW_OUTBOX_FULL/);
    expect(o.stats()).toMatchObject({ rows: 1, refused: 1 });
  });
  it('refuses with an OutboxFullError of the gateway catalog', () => {
    const o = new Outbox({ path: ':memory:', maxBytes: 20, policy: 'refuse-new' });
    let caught: unknown;
    try {
      o.put('t', new Uint8Array(30));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(OutboxFullError);
    expect(caught).toMatchObject({ name: 'OutboxFullError', code: 'FERRY_GW_OUTBOX_FULL', num: 5403, status: 507 });
  });
  it('remembers its contents across a reopen', () => {
    const path = tmpDb();
    const a = new Outbox({ path });
    a.put('t', new Uint8Array([1, 2, 3]));
    a.close();
    const b = new Outbox({ path });
    expect(b.stats()).toMatchObject({ rows: 1, bytes: 3 });
    expect([...b.peek(1)[0]!.payload]).toEqual([1, 2, 3]);
    b.close();
  });
});

describe('uplink pacing (maxRate)', () => {
  it('sends at most a quarter second of its rate while its clock stands still, the rest as the clock moves, in order', async () => {
    const broker = await aedesBroker();
    cleanups.push(() => broker.stop());
    const sub = await subscriber(broker.url, 'ferry/up/#');
    const outbox = new Outbox({ path: tmpDb() });
    for (const p of payloads(100)) outbox.put('ferry/up/gw-pace', new TextEncoder().encode(p));
    let now = 1_000_000;
    const uplink = new Uplink({ url: broker.url, gatewayId: 'gw-pace', outbox, reconnectMs: 100, maxRate: 200, inflight: 64, now: () => now });
    cleanups.push(async () => {
      await uplink.close().catch(() => undefined);
      outbox.close();
    });
    await until(() => uplink.connected && uplink.stats().acked >= 50, 'the first burst');
    await new Promise((r) => setTimeout(r, 100)); // real time passes; the pacing clock does not
    expect(uplink.stats().published).toBe(50); // 200/s for a quarter second
    now += 1000; // a second later on the pacing clock: the rest may go (in quarter-second bursts)
    await uplink.flushed(20_000);
    await until(() => sub.got.length >= 100, '100 readings');
    expect(sub.got.filter((g) => g.startsWith('reading-'))).toEqual(payloads(100));
  });
});
