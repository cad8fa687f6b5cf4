/**
 * @module One ACL test matrix for every broker the cloud runs on (embedded aedes, Mosquitto with the
 * dynamic-security plugin): owner A's device and gateway against owner B's. Each case asserts the refusal and,
 * where it can, that the legitimate action in the same setup succeeds, so a broker that refuses everything
 * fails. Run for both brokers by e2e/tenant-isolation.test.ts, with the HTTP rows of the same matrix.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '@ferry/message';
import { hmacKey, mqttPassword } from '@ferry/message/node';
import type { CloudService } from '../service/service.ts';

export interface MatrixSystem {
  readonly url: string;
  readonly cloud: CloudService;
  /** A worker's connect options (user name, password, a client id it may use). */
  readonly worker: () => IClientOptions;
  /** Waits until the broker knows of every registry change made so far (Mosquitto's plugin is told asynchronously). */
  settle(): Promise<void>;
  stop(): Promise<void>;
  /** Service objects behind the stream topics (`<p>/so/...`), when the system hosts them. */
  readonly so?: SoMatrix | undefined;
}

/** What the stream-topic rows need of a system's composite-stream host. */
export interface SoMatrix {
  /** Installs an object of `owner` with a simple stream `s` of one number channel `v`; answers its id. */
  create(owner: string): Promise<string>;
  /** The value of `v` last stored on `<id>/s`. */
  latest(id: string): Promise<number | undefined>;
  grant(id: string, owner: string): Promise<void>;
  revoke(id: string, owner: string): Promise<void>;
}

const P = 'ferry';
const QUIET_MS = 400;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `uplinkVerdictRouting`: the broker drops an uplink ingest refused. `soDevices`: devices and gateways may use
 * the stream topics (the embedded broker asks the host; Mosquitto's static roles carry no rule for them).
 */
export function aclMatrix(name: string, start: () => Promise<MatrixSystem>, o: { readonly uplinkVerdictRouting: boolean; readonly soDevices?: boolean }): void {
  describe(`MQTT ACL matrix: ${name}`, () => {
    let sys: MatrixSystem;
    const keys = new Map<string, Buffer>();
    const clients: MqttClient[] = [];
    beforeAll(async () => {
      sys = await start();
      const add = (id: string, ns: string, owner: string, opts: { kind?: 'device' | 'gateway'; gateway?: string } = {}): void => {
        keys.set(id, Buffer.from(sys.cloud.devices.add(id, ns, Date.now(), owner, opts).key, 'hex'));
      };
      add('ga', 'home-a', 'owner-a', { kind: 'gateway' });
      add('a1', 'home-a', 'owner-a');
      add('ab', 'home-a', 'owner-a', { gateway: 'ga' });
      add('gb', 'home-b', 'owner-b', { kind: 'gateway' });
      add('b1', 'home-b', 'owner-b');
      add('b2', 'home-a', 'owner-b'); // owner B's device in a namespace named like A's
      await sys.settle();
    }, 30_000);
    afterAll(async () => {
      for (const c of clients) await c.endAsync(true).catch(() => undefined);
      await sys?.stop();
    });

    const login = (id: string): IClientOptions => ({ clientId: id, username: id, password: mqttPassword(keys.get(id)!, id) });
    const connect = async (opts: IClientOptions): Promise<MqttClient> => {
      const c = await mqtt.connectAsync(sys.url, { reconnectPeriod: 0, connectTimeout: 3000, ...opts });
      clients.push(c);
      return c;
    };
    const refusedConnect = async (opts: IClientOptions): Promise<void> => {
      await expect(connect(opts)).rejects.toThrow(/Not authorized|Bad username or password|Identifier rejected|connack/i);
    };
    /** Granted QoS per filter (128: refused). */
    const granted = (c: MqttClient, filter: string): Promise<number> =>
      new Promise((resolve) =>
        c.subscribe(filter, { qos: 1 }, (err, g) => {
          // mqtt.js reports a refused filter (SUBACK 128) as an error carrying the SUBACK.
          const codes = (err as { packet?: { granted?: number[] } } | null)?.packet?.granted;
          resolve(codes?.[0] ?? g?.[0]?.qos ?? -1);
        }),
      );
    /** A worker watching `filter`; returns what it received on it so far. */
    const watch = async (filter: string): Promise<{ topic: string; payload: string; retain: boolean }[]> => {
      const w = await connect(sys.worker());
      const got: { topic: string; payload: string; retain: boolean }[] = [];
      w.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
      expect(await granted(w, filter)).toBe(1);
      return got;
    };
    const signed = (id: string, sq: number, key = keys.get(id)!): string => {
      const t = encode({ header: { kid: id, ep: 1, sq }, claims: { iss: id, iat: 1_767_225_600 + sq, ev: 'tel', d: { t: 20 + sq } } }, hmacKey(key));
      if (!t.ok) throw t.error;
      return t.value;
    };
    const eventually = async (cond: () => boolean, what: string): Promise<void> => {
      for (const end = Date.now() + 5000; !cond(); await sleep(20)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    };

    it('refuses a wrong password and an anonymous client; the right password connects', async () => {
      await refusedConnect({ ...login('a1'), password: mqttPassword(keys.get('b1')!, 'a1') });
      await refusedConnect({ clientId: 'anon-1' });
      await refusedConnect({ clientId: 'ghost', username: 'ghost', password: 'x'.repeat(43) });
      const ok = await connect(login('a1'));
      expect(ok.connected).toBe(true);
    });

    it("refuses B's credential under A's client id (a stolen client id), and A's session is not cut off", async () => {
      const a = await connect(login('a1'));
      await refusedConnect({ ...login('b1'), clientId: 'a1' });
      await sleep(200);
      expect(a.connected).toBe(true);
    });

    it("refuses B's subscriptions to #, everyone's uplink, every reply topic and A's downlink; grants B its own", async () => {
      const b = await connect(login('b1'));
      for (const f of ['#', `${P}/#`, `${P}/up/#`, `${P}/fn/+/res`, `${P}/dn/a1/#`, `${P}/dn/+/#`, `${P}/ns/home-a/state/#`, `${P}/ctl/ga/req`, `${P}/probe/#`])
        expect([f, await granted(b, f)]).toEqual([f, 128]);
      for (const f of [`${P}/dn/b1/#`, `${P}/fn/b1/res`]) expect([f, await granted(b, f)]).toEqual([f, 1]);
      // Namespaces are per owner, their names are not: B's device in a namespace named like A's reads none of
      // A's state (boards get their own signed snapshot on their dn topic).
      const b2 = await connect(login('b2'));
      expect(await granted(b2, `${P}/ns/home-a/state/#`)).toBe(128);
      const gb = await connect(login('gb'));
      for (const f of [`${P}/ctl/ga/req`, `${P}/dn/ab/#`]) expect([f, await granted(gb, f)]).toEqual([f, 128]);
      expect(await granted(gb, `${P}/ctl/gb/req`)).toBe(1);
    });

    it("B's publish on A's uplink and call topics reaches nobody; A's own does", async () => {
      const up = await watch(`${P}/up/a1/#`);
      const calls = await watch(`${P}/fn/a1/call`);
      const b = await connect(login('b1'));
      b.publish(`${P}/up/a1/msg`, signed('b1', 0), { qos: 0 });
      b.publish(`${P}/fn/a1/call`, '{"id":1}', { qos: 0 });
      await sleep(QUIET_MS);
      expect([up, calls]).toEqual([[], []]);
      const a = await connect(login('a1'));
      await a.publishAsync(`${P}/up/a1/msg`, signed('a1', 0), { qos: 1 });
      await a.publishAsync(`${P}/fn/a1/call`, '{"id":2}', { qos: 1 });
      await eventually(() => up.length === 1 && calls.length === 1, "A's own uplink and call");
    });

    it('no device or gateway reads or forges an owner\'s notifications (docs/notifications.md "MQTT"); the cloud\'s reach a worker', async () => {
      const b = await connect(login('b1'));
      const gb = await connect(login('gb'));
      const a = await connect(login('a1'));
      for (const [c, f] of [
        [b, `${P}/notify/owner-a/#`],
        [b, `${P}/notify/#`],
        [gb, `${P}/notify/+/events`],
        [gb, `${P}/notify-global/#`],
        [a, `${P}/notify/owner-a/#`],
      ] as const)
        expect([f, await granted(c, f)]).toEqual([f, 128]);
      const seen = await watch(`${P}/notify/owner-a/#`);
      b.publish(`${P}/notify/owner-a/events`, '{"forged":true}', { qos: 0 });
      await sleep(QUIET_MS);
      expect(seen).toEqual([]);
      await sys.cloud.notifier.store.putChannel({ id: 'matrix-ch', owner: 'owner-a', name: 'm', kind: 'mqtt', config: { topic: 'events' }, createdAt: 1 });
      await sys.cloud.notifier.store.putSubscription({
        id: 'matrix-sub',
        owner: 'owner-a',
        channelId: 'matrix-ch',
        kinds: ['*'],
        source: '*',
        minPriority: 'low',
        template: { subject: '', body: '{{kind}}' },
        repeatS: 0,
        createdAt: 1,
      });
      sys.cloud.notify({ owner: 'owner-a', kind: 'device.offline', source: 'a1', at: Date.now(), data: {} });
      await eventually(() => seen.length === 1, "the cloud's notification");
      expect(seen[0]!.topic).toBe(`${P}/notify/owner-a/events`);
    });

    it('no device or gateway reads or feeds the alarms space (docs/operations.md "Alarms"): alarm transitions come only from rule jobs', async () => {
      const b = await connect(login('b1'));
      const gb = await connect(login('gb'));
      for (const [c, f] of [
        [b, `${P}/alarms/#`],
        [b, `${P}/alarms/owner-a/+`],
        [gb, `${P}/alarms/+/+`],
        [gb, `${P}/alarms/_/#`],
      ] as const)
        expect([f, await granted(c, f)]).toEqual([f, 128]);
      const seen = await watch(`${P}/alarms/#`);
      b.publish(`${P}/alarms/owner-a/ar-forged`, '{"kind":"raise"}', { qos: 0 });
      gb.publish(`${P}/alarms/_/probe-latency/in`, '{"value":99999}', { qos: 0 });
      await sleep(QUIET_MS);
      expect(seen).toEqual([]);
    });

    it("B's retained value on A's namespace state is neither kept nor delivered; the cloud's is", async () => {
      const b = await connect(login('b1'));
      b.publish(`${P}/ns/home-a/state/temp.forged`, '99.00 0', { qos: 0, retain: true });
      await sleep(QUIET_MS);
      const w = await connect(sys.worker());
      await w.publishAsync(`${P}/ns/home-a/state/temp.real`, '21.00 0', { qos: 1, retain: true });
      const a = await connect(sys.worker()); // the state topics are read by the cloud's workers and tools
      const got: string[] = [];
      a.on('message', (t) => got.push(t));
      expect(await granted(a, `${P}/ns/home-a/state/#`)).toBe(1);
      await eventually(() => got.includes(`${P}/ns/home-a/state/temp.real`), 'the retained state');
      await sleep(QUIET_MS / 2);
      expect(got).not.toContain(`${P}/ns/home-a/state/temp.forged`);
    });

    it("B's forged function reply on A's reply topic does not reach A; a worker's reply does", async () => {
      const a = await connect(login('a1'));
      const got: string[] = [];
      a.on('message', (_t, p) => got.push(p.toString()));
      expect(await granted(a, `${P}/fn/a1/res`)).toBe(1);
      const b = await connect(login('b1'));
      b.publish(`${P}/fn/a1/res`, '{"id":7,"ok":true,"value":"forged"}', { qos: 0 });
      await sleep(QUIET_MS);
      expect(got).toEqual([]);
      const w = await connect(sys.worker());
      await w.publishAsync(`${P}/fn/a1/res`, '{"id":7,"ok":true,"value":1}', { qos: 1 });
      await eventually(() => got.length === 1, 'the real reply');
      expect(got).toEqual(['{"id":7,"ok":true,"value":1}']);
    });

    it("B's forged command on A's command topic reaches neither A's device nor A's gateway for its board; a worker's does", async () => {
      const a = await connect(login('a1'));
      const ga = await connect(login('ga'));
      const got: string[] = [];
      a.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
      ga.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
      expect(await granted(a, `${P}/dn/a1/cmd`)).toBe(1);
      expect(await granted(ga, `${P}/dn/ab/cmd`)).toBe(1); // a gateway relays its serial boards' commands (docs/actions.md)
      const b = await connect(login('b1'));
      const gb = await connect(login('gb'));
      for (const c of [b, gb]) for (const t of [`${P}/dn/a1/cmd`, `${P}/dn/ab/cmd`]) c.publish(t, 'forged.command.token', { qos: 0 });
      await sleep(QUIET_MS);
      expect(got).toEqual([]);
      const w = await connect(sys.worker());
      await w.publishAsync(`${P}/dn/a1/cmd`, 'a.signed.command', { qos: 1 });
      await w.publishAsync(`${P}/dn/ab/cmd`, 'b.signed.command', { qos: 1 });
      await eventually(() => got.length === 2, 'the cloud-side commands');
      expect(got.sort()).toEqual([`${P}/dn/a1/cmd a.signed.command`, `${P}/dn/ab/cmd b.signed.command`]);
    });

    it("B cannot read A's commands, nor publish one on A's command topic or the cloud's command space; A reads its own", async () => {
      const b = await connect(login('b1'));
      for (const f of [`${P}/dn/a1/cmd`, `${P}/dn/+/cmd`, `${P}/cmd/#`]) expect([f, await granted(b, f)]).toEqual([f, 128]);
      const a = await connect(login('a1'));
      const got: string[] = [];
      a.on('message', (_t, p) => got.push(p.toString()));
      expect(await granted(a, `${P}/dn/a1/cmd`)).toBe(1);
      b.publish(`${P}/dn/a1/cmd`, 'forged', { qos: 0 });
      b.publish(`${P}/cmd/a1`, '{"command":{"reboot":true}}', { qos: 0 });
      await sleep(QUIET_MS);
      expect(got).toEqual([]);
      const w = await connect(sys.worker());
      await w.publishAsync(`${P}/dn/a1/cmd`, 'from-the-cloud', { qos: 1 });
      await eventually(() => got.length === 1, "the cloud's command");
    });

    it('a gateway publishes for the boards attached to it, not for another owner’s', async () => {
      const up = await watch(`${P}/up/ab/#`);
      const gb = await connect(login('gb'));
      gb.publish(`${P}/up/ab/msg`, signed('ab', 0), { qos: 0 });
      await sleep(QUIET_MS);
      expect(up).toEqual([]);
      const ga = await connect(login('ga'));
      await ga.publishAsync(`${P}/up/ab/msg`, signed('ab', 1), { qos: 1 });
      await eventually(() => up.length === 1, "the board's message through its gateway");
    });

    it.skipIf(!o.uplinkVerdictRouting)('an uplink message ingest refuses (bad signature) is delivered to nobody; a good one is', async () => {
      const up = await watch(`${P}/up/a1/#`);
      const a = await connect(login('a1'));
      const before = sys.cloud.ingest.counters().rejected;
      await a.publishAsync(`${P}/up/a1/msg`, signed('a1', 5, keys.get('b1')), { qos: 1 });
      await eventually(() => sys.cloud.ingest.counters().rejected === before + 1, 'the refusal');
      await sleep(QUIET_MS / 2);
      expect(up).toEqual([]);
      await a.publishAsync(`${P}/up/a1/msg`, signed('a1', 6), { qos: 1 });
      await eventually(() => up.length === 1, 'the good message');
    });

    it("refuses every device's and gateway's wildcard subscriptions to service objects' streams", async () => {
      for (const id of ['a1', 'gb']) {
        const c = await connect(login(id));
        for (const f of [`${P}/so/#`, `${P}/so/+/s`, `${P}/so/+/+/in`, `${P}/so/so-a/#`]) expect([id, f, await granted(c, f)]).toEqual([id, f, 128]);
      }
    });

    it("B neither subscribes to nor feeds A's stream; A's device does both", async (ctx) => {
      const so = sys.so;
      if (so === undefined) return ctx.skip();
      const id = await so.create('owner-a');
      const b = await connect(login('b1'));
      expect(await granted(b, `${P}/so/${id}/s`)).toBe(128);
      await b
        .publishAsync(`${P}/so/${id}/s/in`, JSON.stringify({ channels: { v: { 'current-value': 66 } }, lastUpdate: 5 }), { qos: 1 })
        .catch(() => undefined);
      await sleep(QUIET_MS);
      expect(await so.latest(id)).toBeUndefined();
      if (o.soDevices !== true) return;
      const a = await connect(login('a1'));
      const got: string[] = [];
      a.on('message', (_t, p) => got.push(p.toString()));
      expect(await granted(a, `${P}/so/${id}/s`)).toBe(1);
      await a.publishAsync(`${P}/so/${id}/s/in`, JSON.stringify({ channels: { v: { 'current-value': 7 } }, lastUpdate: 6 }), { qos: 1 });
      expect(await so.latest(id)).toBe(7);
      await eventually(() => got.length === 1, "A's stream value");
      expect(b.connected).toBe(true);
    });

    it("a grant lets B's device read A's stream; revoking it stops the delivery at once", async (ctx) => {
      const so = sys.so;
      if (so === undefined || o.soDevices !== true) return ctx.skip();
      const id = await so.create('owner-a');
      const a = await connect(login('a1'));
      const b = await connect(login('b1'));
      const got: string[] = [];
      b.on('message', (_t, p) => got.push(p.toString()));
      await so.grant(id, 'owner-b');
      expect(await granted(b, `${P}/so/${id}/s`)).toBe(1);
      await a.publishAsync(`${P}/so/${id}/s/in`, JSON.stringify({ channels: { v: { 'current-value': 1 } }, lastUpdate: 1 }), { qos: 1 });
      await eventually(() => got.length === 1, 'the granted value');
      await so.revoke(id, 'owner-b');
      await a.publishAsync(`${P}/so/${id}/s/in`, JSON.stringify({ channels: { v: { 'current-value': 2 } }, lastUpdate: 2 }), { qos: 1 });
      expect(await so.latest(id)).toBe(2);
      await sleep(QUIET_MS);
      expect(got).toHaveLength(1);
    });

    it('a device removed from the registry is disconnected and cannot log in again', async () => {
      const id = 'gone';
      keys.set(id, Buffer.from(sys.cloud.devices.add(id, 'home-a', Date.now(), 'owner-a').key, 'hex'));
      await sys.settle();
      const c = await connect(login(id));
      const closed = new Promise<void>((r) => c.once('close', () => r()));
      sys.cloud.devices.remove(id);
      await sys.settle();
      await closed;
      await refusedConnect(login(id));
    });
  });
}
