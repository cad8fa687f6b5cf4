/** @module The embedded broker's limits: packet size before parsing, retain only where kept, publish rate per connection. */
import { connect } from 'node:net';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { retainable } from './intake.ts';
import { PacketSizeGuard } from './mqtt-limits.ts';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { startTestCloud } from './test-cloud.case.ts';
import { getAs } from '@ferry/test-kit/http';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An MQTT fixed header: type byte, then the Remaining Length (MQTT 3.1.1 §2.2.3). */
const header = (type: number, length: number): number[] => {
  const out = [type];
  let x = length;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    out.push(b);
  } while (x > 0);
  return out;
};

describe('PacketSizeGuard', () => {
  it('passes packets up to the limit in any chunking, and names the first one over it', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 20 }), fc.integer({ min: 1, max: 50 }), (sizes, chunk) => {
        const bytes = Uint8Array.from(sizes.flatMap((n) => [...header(0x30, n), ...new Array<number>(n).fill(7)]));
        const g = new PacketSizeGuard(1 + 2 + 300);
        for (let i = 0; i < bytes.length; i += chunk) expect(g.feed(bytes.subarray(i, i + chunk))).toBeUndefined();
      }),
    );
    const g = new PacketSizeGuard(1000);
    expect(g.feed(Uint8Array.from([...header(0x30, 10), ...new Array<number>(10).fill(0)]))).toBeUndefined();
    expect(g.feed(Uint8Array.from(header(0x30, 255 * 1024 * 1024)))).toMatch(/larger than 1000 bytes/);
    expect(new PacketSizeGuard(1000).feed(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toMatch(/malformed/);
  });

  it('knows which topics keep a last value', () => {
    expect(['ferry/ns/home/state/temp.a', 'ferry/gw/gw-1/status'].map((t) => retainable('ferry', t))).toEqual([true, true]);
    expect(['ferry/up/a/msg', 'ferry/ns/home/state', 'ferry/gw/gw-1/status/x', 'other/gw/g/status'].map((t) => retainable('ferry', t))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('embedded broker limits', () => {
  const start = async () => {
    const logs: string[] = [];
    const { svc, mqttUrl, httpUrl, stop } = await startTestCloud({ log: (m) => logs.push(m), mqttLimits: { maxPacketBytes: 64 * 1024 } });
    cleanups.push(stop);
    return { svc, mqttUrl, httpUrl, logs };
  };

  // Regression: a 255 MiB PUBLISH was accepted (and buffered whole before parsing).
  it('closes a connection whose packet announces more than the limit, before its body arrives; the service keeps serving', async () => {
    const { mqttUrl, httpUrl, logs } = await start();
    const { port } = new URL(mqttUrl);
    const sock = connect(Number(port), '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const connectPacket = Buffer.from([0x10, 0x0f, 0x00, 0x04, ...Buffer.from('MQTT'), 0x04, 0x02, 0x00, 0x3c, 0x00, 0x03, ...Buffer.from('big')]);
    sock.write(connectPacket);
    sock.write(Buffer.from(header(0x30, 255 * 1024 * 1024))); // a 255 MiB PUBLISH: only its header is sent
    const closed = await new Promise<boolean>((r) => {
      sock.once('close', () => r(true));
      setTimeout(() => r(false), 5000);
    });
    expect(closed).toBe(true);
    expect(logs.some((l) => /larger than 65536 bytes/.test(l))).toBe(true);
    expect((await getAs(`${httpUrl}/health`)).status).toBe(200);
  });

  // Regression: retained messages on any topic piled up in memory.
  it('retains only namespace state and gateway status; elsewhere a retained publish is delivered live only', async () => {
    const { svc, mqttUrl, logs } = await start();
    const pub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => pub.endAsync(true));
    await pub.publishAsync('ferry/anything/else', 'x', { qos: 1, retain: true });
    await pub.publishAsync('ferry/gw/gw-1/status', 'online', { qos: 1, retain: true });
    const late = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => late.endAsync(true));
    const got: string[] = [];
    late.on('message', (t) => got.push(t));
    await late.subscribeAsync('ferry/#', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual(['ferry/gw/gw-1/status']);
    expect(logs).toContain('mqtt: retain refused on ferry/anything/else');
  });

  // Regression: an MQTT 5 client was refused with a bare CONNACK code and nothing in the cloud's log or docs.
  it('refuses an MQTT 5 client with CONNACK "unacceptable protocol version" and says why in the log', async () => {
    const { svc, mqttUrl, logs } = await start();
    await expect(mqtt.connectAsync(mqttUrl, { protocolVersion: 5, reconnectPeriod: 0 })).rejects.toThrow(/Unacceptable protocol version/);
    for (let i = 0; i < 50 && !logs.some((l) => /speaks 3\.1\.1/.test(l)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(logs.some((l) => /speaks 3\.1\.1; connect with protocol version 4/.test(l))).toBe(true);
    const v4 = await mqtt.connectAsync(mqttUrl, { ...workerLogin(svc.mqttCredential), protocolVersion: 4 });
    await v4.endAsync();
  });
});
