import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceLogin, workerLogin } from '@ferry/test-kit/mqtt-login';
import type { CloudService } from '../service/service.ts';
import { addDevices, startTestCloud } from '../service/test-cloud.case.ts';
import { composeFlows } from './flows.ts';
import type { SoMqttGate } from './mqtt-gate.ts';
import { SENSOR_SO, su, TestHosting } from './test-host.case.ts';

const P = 'ferry';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const eventually = async (cond: () => boolean, what: string): Promise<void> => {
  for (const end = Date.now() + 5000; !cond(); await sleep(10)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
};
/** The test host, with a store that can be made to fail (`failures` pushes throw, as a store that is down). */
class FlakyHosting extends TestHosting {
  failures = 0;
  override async push(...a: Parameters<TestHosting['push']>): ReturnType<TestHosting['push']> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('store unavailable');
    }
    return super.push(...a);
  }
}

/** An object with a simple stream `s` and a composite `c` = 2 * s.v. */
const DOUBLER = { streams: { ...SENSOR_SO.streams, c: { channels: { d: { 'current-value': '{$s.channels.v.current-value} * 2', type: 'number' } } } } };

describe('service objects over MQTT (embedded aedes, the registry, the ACL port)', () => {
  let cloud: CloudService;
  let url: string;
  let host: FlakyHosting;
  let gate: SoMqttGate;
  let keys: Map<string, string>;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    ({ svc: cloud, mqttUrl: url } = await startTestCloud({ name: 'so-mqtt', functionRunner: 'in-process' }));
    keys = addDevices(cloud, [['a1', 'owner-a'], ['b1', 'owner-b'], ['n1']]);
    keys.set('ga', cloud.devices.add('ga', 'home', Date.now(), 'owner-a', { kind: 'gateway' }).key);
    host = new FlakyHosting();
    await host.create('owner-a', 'so-a', DOUBLER);
    await host.create('owner-b', 'so-b', DOUBLER);
    const worker = await connect(workerLogin(cloud.mqttCredential));
    const flows = composeFlows({
      hosting: host,
      prefix: P,
      db: cloud.db,
      ownerOf: (id) => cloud.devices.info(id)?.owner,
      publish: (t, p) => worker.publish(t, p, { qos: 1 }),
    });
    gate = flows.mqtt;
    cloud.soFlows = flows;
  }, 30_000);
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true).catch(() => undefined);
    await cloud?.stop();
  });

  async function connect(opts: IClientOptions): Promise<MqttClient> {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...opts });
    clients.push(c);
    return c;
  }
  const device = (id: string): Promise<MqttClient> => connect(deviceLogin(id, keys.get(id)!));
  const granted = (c: MqttClient, filter: string): Promise<number> =>
    new Promise((resolve) =>
      c.subscribe(filter, { qos: 1 }, (err, g) => resolve((err as { packet?: { granted?: number[] } } | null)?.packet?.granted?.[0] ?? g?.[0]?.qos ?? -1)),
    );
  const inbox = (c: MqttClient): { topic: string; body: Record<string, unknown> }[] => {
    const got: { topic: string; body: Record<string, unknown> }[] = [];
    c.on('message', (topic, p) => got.push({ topic, body: JSON.parse(p.toString()) as Record<string, unknown> }));
    return got;
  };

  it("an owner's device feeds its stream (PUBACK after the host stored it) and reads the composite's output with its id", async () => {
    const a = await device('a1');
    const got = inbox(a);
    expect(await granted(a, `${P}/so/so-a/c`)).toBe(1);
    await a.publishAsync(`${P}/so/so-a/s/in`, JSON.stringify(su(21, 1000)), { qos: 1 });
    // The PUBACK came: the host holds the update already.
    expect(host.store.latest('so-a/s')?.channels['v']).toBe(21);
    await eventually(() => got.length === 1, 'the output');
    expect(got[0]).toEqual({ topic: `${P}/so/so-a/c`, body: { channels: { d: { 'current-value': 42 } }, lastUpdate: 1000, id: expect.any(String) as string } });
    expect(String(got[0]!.body['id'])).toMatch(/^1000:/);
  });

  it('a redelivered update is acknowledged and stored once; the output is published once', async () => {
    const a = await device('a1');
    const got = inbox(a);
    expect(await granted(a, `${P}/so/so-a/c`)).toBe(1);
    const before = gate.counters.notNewer;
    for (let i = 0; i < 2; i++) await a.publishAsync(`${P}/so/so-a/s/in`, JSON.stringify(su(5, 2000)), { qos: 1 });
    await eventually(() => got.length === 1, 'the output');
    await sleep(200);
    expect(got.map((g) => g.body['lastUpdate'])).toEqual([2000]);
    expect(gate.counters.notNewer).toBe(before + 1);
    expect(host.store.range('so-a/s', 2000, 2000)).toHaveLength(1);
  });

  it("another owner's device neither subscribes to nor feeds the stream; its refused input is acknowledged and it stays connected", async () => {
    const b = await device('b1');
    for (const f of [`${P}/so/so-a/c`, `${P}/so/so-a/s`, `${P}/so/+/c`, `${P}/so/#`, `${P}/so/so-a/s/in`, `${P}/so/ghost/s`])
      expect([f, await granted(b, f)]).toEqual([f, 128]);
    const latest = host.store.latest('so-a/s');
    const refused = gate.counters.refused;
    await b.publishAsync(`${P}/so/so-a/s/in`, JSON.stringify(su(99, 9_000)), { qos: 1 });
    await b.publishAsync(`${P}/so/so-b/s/in`, '{not json', { qos: 1 });
    await b.publishAsync(`${P}/so/so-b/s/in`, JSON.stringify({ channels: { nope: { 'current-value': 1 } }, lastUpdate: 1 }), { qos: 1 });
    expect(host.store.latest('so-a/s')).toEqual(latest);
    expect(gate.counters.refused).toBe(refused + 3);
    expect(b.connected).toBe(true);
    // Its own object works on the same connection.
    await b.publishAsync(`${P}/so/so-b/s/in`, JSON.stringify(su(1, 10)), { qos: 1 });
    expect(host.store.latest('so-b/s')?.lastUpdate).toBe(10);
  });

  it("a gateway acts for its owner: it reads and feeds its owner's object, not another's", async () => {
    const g = await device('ga');
    expect(await granted(g, `${P}/so/so-a/c`)).toBe(1);
    expect(await granted(g, `${P}/so/so-b/c`)).toBe(128);
    await g.publishAsync(`${P}/so/so-a/s/in`, JSON.stringify(su(3, 2500)), { qos: 1 });
    expect(host.store.latest('so-a/s')?.lastUpdate).toBe(2500);
    const refused = gate.counters.refused;
    await g.publishAsync(`${P}/so/so-b/s/in`, JSON.stringify(su(3, 2500)), { qos: 1 });
    expect(gate.counters.refused).toBe(refused + 1);
  });

  it('a device of no owner uses no object', async () => {
    const n = await device('n1');
    expect(await granted(n, `${P}/so/so-a/c`)).toBe(128);
    const refused = gate.counters.refused;
    await n.publishAsync(`${P}/so/so-a/s/in`, JSON.stringify(su(1, 50_000)), { qos: 1 });
    expect(gate.counters.refused).toBe(refused + 1);
  });

  it('a grant lets the other owner subscribe; revoking it stops delivery at once, the owner still receives', async () => {
    const a = await device('a1');
    const b = await device('b1');
    const ga = inbox(a);
    const gb = inbox(b);
    expect(await granted(b, `${P}/so/so-a/c`)).toBe(128);
    host.grant('so-a', { stream: 'c', to: { owner: 'owner-b' } });
    expect(await granted(a, `${P}/so/so-a/c`)).toBe(1);
    expect(await granted(b, `${P}/so/so-a/c`)).toBe(1);
    await a.publishAsync(`${P}/so/so-a/s/in`, JSON.stringify(su(1, 3000)), { qos: 1 });
    await eventually(() => ga.length === 1 && gb.length === 1, 'both deliveries');
    host.revoke('so-a', { stream: 'c', to: { owner: 'owner-b' } });
    await a.publishAsync(`${P}/so/so-a/s/in`, JSON.stringify(su(2, 3001)), { qos: 1 });
    await eventually(() => ga.length === 2, "the owner's delivery");
    await sleep(200);
    expect(gb.map((g) => g.body['lastUpdate'])).toEqual([3000]);
    expect(await granted(b, `${P}/so/so-a/c`)).toBe(128);
  });

  it('an update the host failed to store is not acknowledged: the client sends it again and it is stored once', async () => {
    const a = await connect({ ...deviceLogin('a1', keys.get('a1')!), reconnectPeriod: 100 });
    host.failures = 1;
    await a.publishAsync(`${P}/so/so-a/s/in`, JSON.stringify(su(77, 70_000)), { qos: 1 });
    // publishAsync resolved on the PUBACK, which came only for the second delivery, after the store worked.
    expect(host.failures).toBe(0);
    expect(host.store.range('so-a/s', 70_000, 70_000).map((v) => v.channels['v'])).toEqual([77]);
  });
});
