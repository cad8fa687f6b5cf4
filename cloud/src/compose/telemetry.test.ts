import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, type Json } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { deviceLogin } from '@ferry/test-kit/mqtt-login';
import type { CloudService } from '../service/service.ts';
import { addDevices, startTestCloud } from '../service/test-cloud.case.ts';
import { SoFlowError } from './errors.ts';
import Database from 'better-sqlite3';
import type { Message } from '@ferry/message';
import type { IngestEvent } from '../ingest/index.ts';
import { composeFlows } from './flows.ts';
import { SqliteMappingStore, TelemetryFeed } from './telemetry.ts';
import { SENSOR_SO, TestHosting } from './test-host.case.ts';

const IAT = 1_767_225_600;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** An object whose simple stream `s` (v, w) feeds a composite `c` = v + w. */
const ROOM = {
  streams: {
    ...SENSOR_SO.streams,
    c: { channels: { sum: { 'current-value': '{$s.channels.v.current-value} + {$s.channels.w.current-value}', type: 'number' } } },
  },
};

describe('device telemetry into a stream, through the real ingest (aedes, signatures, re-ordering)', () => {
  let cloud: CloudService;
  let host: TestHosting;
  let feed: TelemetryFeed;
  let url: string;
  let keys: Map<string, string>;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    ({ svc: cloud, mqttUrl: url } = await startTestCloud({ name: 'so-tel', functionRunner: 'in-process' }));
    keys = addDevices(cloud, [
      ['th1', 'alice'],
      ['th2', 'alice'],
      ['bob1', 'bob'],
    ]);
    host = new TestHosting();
    await host.create('alice', 'room', ROOM);
    await host.create('bob', 'bobs', SENSOR_SO);
    // Set after start: the cloud's fan-out of released messages reads it per message (the routes are not needed here).
    cloud.soFlows = composeFlows({ hosting: host, prefix: 'ferry', db: cloud.db, ownerOf: (id) => cloud.devices.info(id)?.owner, publish: () => undefined });
    feed = cloud.soFlows.telemetry;
    await feed.add({ owner: 'alice' }, 'room', 's', { device: 'th1', ev: 'tel', channels: { v: 't', w: 'h' } });
  }, 30_000);
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    await cloud?.stop();
  });

  const signed = (id: string, sq: number, d: { readonly [k: string]: Json }, key = keys.get(id)!): string => {
    const t = encode({ header: { kid: id, ep: 1, sq }, claims: { iss: id, iat: IAT + sq, ev: 'tel', d } }, hmacKey(Buffer.from(key, 'hex')));
    if (!t.ok) throw t.error;
    return t.value;
  };
  const board = async (id: string): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(url, { ...deviceLogin(id, keys.get(id)!), reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  /** Waits until ingest released what was sent and the feed pushed it. */
  const settled = async (): Promise<void> => {
    await sleep(50);
    await feed.idle();
  };

  it("a released message feeds the mapped channels, lastUpdate from the message's iat, and the composite computes", async () => {
    const c = await board('th1');
    await c.publishAsync('ferry/up/th1/msg', signed('th1', 0, { t: 20.5, h: 40 }), { qos: 1 });
    await settled();
    expect(host.store.latest('room/s')).toEqual({ channels: { v: 20.5, w: 40 }, lastUpdate: IAT * 1000, id: `src:${IAT * 1000}` });
    expect(host.store.latest('room/c')?.channels).toEqual({ sum: 60.5 });
    expect(feed.counters.fed).toBe(1);
  });

  it('a forged message (wrong key) feeds nothing; a redelivered one feeds once', async () => {
    const c = await board('th1');
    const fed = feed.counters.fed;
    await c.publishAsync('ferry/up/th1/msg', signed('th1', 1, { t: 99, h: 99 }, keys.get('th2')), { qos: 1 });
    await settled();
    expect(feed.counters.fed).toBe(fed);
    expect(host.store.latest('room/s')?.channels['v']).toBe(20.5);
    const good = signed('th1', 1, { t: 21, h: 41 });
    await c.publishAsync('ferry/up/th1/msg', good, { qos: 1 });
    await c.publishAsync('ferry/up/th1/msg', good, { qos: 1 });
    await settled();
    expect(feed.counters.fed).toBe(fed + 1);
    expect(host.store.range('room/s', 0, Number.MAX_SAFE_INTEGER).map((v) => v.channels['v'])).toEqual([20.5, 21]);
  });

  it('messages that arrive out of order feed the stream in (epoch, seq) order, none dropped as not newer', async () => {
    const c = await board('th1');
    const fed = feed.counters.fed;
    await c.publishAsync('ferry/up/th1/msg', signed('th1', 3, { t: 23 }), { qos: 1 });
    await c.publishAsync('ferry/up/th1/msg', signed('th1', 2, { t: 22 }), { qos: 1 });
    await settled();
    expect(feed.counters.fed).toBe(fed + 2);
    expect(feed.counters.notNewer).toBe(0);
    expect(host.store.range('room/s', (IAT + 2) * 1000, (IAT + 3) * 1000).map((v) => v.channels['v'])).toEqual([22, 23]);
  });

  it("an unmapped device or event feeds nothing; a mapping from another owner's device, or into another owner's stream, is refused", async () => {
    const fed = feed.counters.fed;
    const c = await board('th2');
    await c.publishAsync('ferry/up/th2/msg', signed('th2', 0, { t: 1, h: 1 }), { qos: 1 });
    await settled();
    expect(feed.counters.fed).toBe(fed);
    const refusal = (p: Promise<unknown>): Promise<unknown> =>
      p.then(
        () => 'accepted',
        (e: unknown) => (e instanceof SoFlowError ? e.code : e),
      );
    expect(await refusal(feed.add({ owner: 'alice' }, 'room', 's', { device: 'bob1', ev: 'tel', channels: { v: 't' } }))).toBe('FERRY_SOFLOW_BAD_MAPPING');
    expect(await refusal(feed.add({ owner: 'bob' }, 'room', 's', { device: 'bob1', ev: 'tel', channels: { v: 't' } }))).toBe('FERRY_SOFLOW_NOT_FOUND');
    expect(await refusal(feed.add({ global: true }, 'room', 's', { device: 'bob1', ev: 'tel', channels: { v: 't' } }))).toBe('FERRY_SOFLOW_NOT_FOUND');
    expect(await refusal(feed.add({ owner: 'alice' }, 'room', 's', { device: 'th2', ev: 'tel', channels: {} }))).toBe('FERRY_SOFLOW_BAD_MAPPING');
    expect(await refusal(feed.add({ owner: 'bob' }, 'bobs', 's', { device: 'bob1', ev: 'tel', channels: { v: 't' } }))).toBe('accepted');
  });

  it('a mapping into a stream the owner may read but does not own (a grant) is refused by the host at feed time and counted', async () => {
    host.grant('bobs', { stream: 's', to: { owner: 'alice' } });
    await feed.add({ owner: 'alice' }, 'bobs', 's', { device: 'th2', ev: 'tel', channels: { v: 't' } });
    const refused = feed.counters.refused;
    const c = await board('th2');
    await c.publishAsync('ferry/up/th2/msg', signed('th2', 1, { t: 5 }), { qos: 1 });
    await settled();
    expect(feed.counters.refused).toBe(refused + 1);
    expect(host.store.latest('bobs/s')).toBeUndefined();
  });
});

describe('device telemetry across a restart', () => {
  it('an update the host failed to take waits in cloud.db and is pushed when the feed starts again', async () => {
    const released = (sq: number, t: number): IngestEvent => ({
      type: 'message',
      kid: 'th1',
      stream: 'th1/tel',
      ep: 1,
      sq,
      at: 0,
      message: { header: { kid: 'th1', ep: 1, sq }, claims: { iss: 'th1', iat: IAT + sq, ev: 'tel', d: { t } } } as unknown as Message,
    });
    let down = true;
    class Down extends TestHosting {
      override async push(...a: Parameters<TestHosting['push']>): ReturnType<TestHosting['push']> {
        if (down) throw new Error('store unavailable');
        return super.push(...a);
      }
    }
    const host = new Down();
    await host.create('alice', 'room', SENSOR_SO);
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-so-tel-restart-')), 'cloud.db');
    const db1 = new Database(file);
    const before = new TelemetryFeed({ hosting: host, store: new SqliteMappingStore(db1), ownerOf: () => 'alice' });
    await before.add({ owner: 'alice' }, 'room', 's', { device: 'th1', ev: 'tel', channels: { v: 't' } });
    before.feed(released(0, 19));
    await before.idle();
    expect(before.counters.failed).toBe(1);
    db1.close();
    down = false;
    const db2 = new Database(file);
    const after = new TelemetryFeed({ hosting: host, store: new SqliteMappingStore(db2), ownerOf: () => 'alice' });
    after.resume();
    await after.idle();
    expect(after.counters.fed).toBe(1);
    expect(host.store.latest('room/s')).toMatchObject({ channels: { v: 19 }, lastUpdate: IAT * 1000 });
    expect(new SqliteMappingStore(db2).pending('embedded')).toEqual([]);
    db2.close();
  });
});
