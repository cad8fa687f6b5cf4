/** The cloud service in embedded mode, end to end: an emulated board's signed messages over MQTT into ingest and storage. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmulatedBoard } from '@ferry/firmware';
import { decode, encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { generatePrivateToken } from '../functions/tokens/private-token.ts';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { CloudService } from './service.ts';
import { startTestCloud, type TestCloudOptions } from './test-cloud.case.ts';
import { ADMIN_TOKEN, bearer, getAs } from '@ferry/test-kit/http';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

async function cloud(o: TestCloudOptions = {}) {
  const c = await startTestCloud(o);
  cleanups.push(c.stop);
  return c;
}
const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer() }, body: JSON.stringify(body) });

describe('cloud service (embedded)', () => {
  it('provisions a device, ingests its board messages over MQTT, stores them once and in order', async () => {
    const { svc, mqttUrl, httpUrl } = await cloud();
    const res = await post(`${httpUrl}/api/devices`, { id: 'th-09', namespace: 'home' });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: string };
    expect((await post(`${httpUrl}/api/devices`, { id: 'th-09' })).status).toBe(409);

    const pub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => pub.endAsync(true));
    const board = await EmulatedBoard.create({ key: Buffer.from(key, 'hex'), deviceId: 'th-09', seed: 4 });
    await board.boot();
    await board.run(30);
    // Publish each message, the first ten twice (an at-least-once transport redelivering).
    for (const [i, t] of board.messages.entries()) {
      await pub.publishAsync('ferry/up/th-09/msg', t, { qos: 1 });
      if (i < 10) await pub.publishAsync('ferry/up/th-09/msg', t, { qos: 1 });
    }
    const tampered = board.messages[5]!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    await pub.publishAsync('ferry/up/th-09/msg', tampered, { qos: 1 });
    await until(() => svc.ingest.counters().accepted === board.messages.length, 'all messages accepted');
    const tel = (await (await getAs(`${httpUrl}/api/streams/th-09/tel`)).json()) as { sq: number }[];
    const telSent = board.messages.filter((m) => {
      const d = decode(m);
      return d.ok && d.value.claims['ev'] === 'tel';
    }).length;
    expect(tel.length).toBe(telSent); // each stored once despite the redeliveries
    const sqs = tel.map((p) => p.sq);
    expect(sqs).toEqual([...sqs].sort((a, b) => a - b));
    expect(new Set(sqs).size).toBe(sqs.length);
    const c = svc.ingest.counters();
    expect(c).toMatchObject({ accepted: board.messages.length, duplicate: 10 });
    expect(Object.values(c).some((v) => v === 1)).toBe(true); // the tampered one, counted under its verify failure
    const metrics = await (await getAs(`${httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/ferry_cloud_ingest_total\{outcome="accepted"\} \d+/);
    // A counter, not a gauge: the counts only grow, and rate() needs the counter type.
    expect(metrics).toMatch(/# TYPE ferry_cloud_ingest_total counter/);
  });

  it('refuses messages from unknown devices without storing them', async () => {
    const { svc, mqttUrl, httpUrl } = await cloud();
    const pub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => pub.endAsync(true));
    const board = await EmulatedBoard.create({ key: new Uint8Array(32).fill(2), deviceId: 'stranger' });
    await board.boot();
    await pub.publishAsync('ferry/up/stranger/msg', board.messages[0]!, { qos: 1 });
    await until(() => Object.values(svc.ingest.counters()).some((v) => v === 1), 'the refusal to be counted');
    expect(svc.ingest.counters().accepted).toBe(0);
    expect(await (await getAs(`${httpUrl}/api/streams/stranger/boot`)).json()).toEqual([]);
  });

  // Regression: a device's valid message published on another device's topic was fed to that other device's
  // rules (rules trust the topic); the topic now has to name the verified kid.
  it("refuses a valid message on another source's topic: stored for neither, fed to no rule", async () => {
    const { svc, mqttUrl } = await cloud();
    const pub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => pub.endAsync(true));
    const { key } = svc.devices.add('honest');
    svc.devices.add('victim');
    const board = await EmulatedBoard.create({ key: Buffer.from(key, 'hex'), deviceId: 'honest' });
    await board.boot();
    const seen: string[] = [];
    svc.ingest.subscribe((e) => {
      if (e.type === 'message') seen.push(`${e.kid} ${e.topic}`);
    });
    await pub.publishAsync('ferry/up/victim/msg', board.messages[0]!, { qos: 1 });
    await pub.publishAsync('ferry/up/honest/msg', board.messages[0]!, { qos: 1 });
    await until(() => seen.length === 1, 'the honest message');
    expect(seen).toEqual(['honest ferry/up/honest/msg']);
    expect(svc.ingest.counters()).toMatchObject({ topic_mismatch: 1, accepted: 1 });
  });

  it("a device added with its owner's private token feeds that owner's function namespace; nobody else can add it there", async () => {
    const { svc, mqttUrl, httpUrl } = await cloud();
    const token = generatePrivateToken('flat-owner');
    const reg = await post(`${httpUrl}/api/owners`, { privateToken: token });
    expect(reg.status).toBe(201);
    const { owner } = (await reg.json()) as { owner: string };
    // A wrong private token (someone else's, unregistered) cannot attach a device to a namespace.
    const stranger = await post(`${httpUrl}/api/devices`, { id: 'th-11', namespace: 'flat', privateToken: generatePrivateToken('flat-owner') });
    expect(stranger.status).toBe(401);
    expect(await stranger.json()).toMatchObject({ code: 'FERRY_FN_BAD_TOKEN' });
    const res = await post(`${httpUrl}/api/devices`, { id: 'th-10', namespace: 'flat', privateToken: token });
    expect(res.status).toBe(201);
    const added = (await res.json()) as { key: string; owner: string };
    expect(added.owner).toBe(owner);
    expect(((await (await getAs(`${httpUrl}/api/devices`)).json()) as { id: string; owner?: string }[]).find((d) => d.id === 'th-10')?.owner).toBe(owner);

    const pub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => pub.endAsync(true));
    const board = await EmulatedBoard.create({ key: Buffer.from(added.key, 'hex'), deviceId: 'th-10', seed: 9 });
    await board.boot();
    await board.run(3);
    for (const t of board.messages) await pub.publishAsync('ferry/up/th-10/msg', t, { qos: 1 });
    await until(() => svc.ingest.counters().accepted === board.messages.length, 'all messages accepted');
    const last = board.messages
      .map((m) => decode(m))
      .filter((d) => d.ok && d.value.claims['ev'] === 'tel')
      .at(-1)!;
    if (!last.ok) throw last.error;
    const d = last.value.claims['d'] as { t: number };
    const value = new TextDecoder().decode(svc.functions.namespaces.state(owner, 'flat').get('temp.th-10'));
    expect(value).toBe(`${d.t} ${last.value.claims.iat * 1000}`);
    // The same namespace name of another owner stays empty.
    expect(svc.functions.namespaces.state('someone-else', 'flat').get('temp.th-10')).toBeUndefined();
  });

  // Regression: a message over the device's rate was dropped AND acknowledged, so the sender deleted it (a
  // gateway draining its backlog after an outage lost half of it). Now it is held back: acknowledged only once
  // stored, which paces the sender; nothing is lost and another device's connection is still served.
  it('a device flooding the uplink is held back, never dropped: every message stored; another device is still served', async () => {
    const { svc, mqttUrl } = await cloud({ deviceRate: { perSecond: 40, burst: 5 } });
    const boards = [];
    for (const id of ['flooder', 'calm']) {
      const { key } = svc.devices.add(id);
      const b = await EmulatedBoard.create({ key: Buffer.from(key, 'hex'), deviceId: id, seed: 3 });
      await b.boot();
      await b.run(id === 'flooder' ? 40 : 2);
      boards.push(b);
    }
    const [flooder, calm] = boards as [EmulatedBoard, EmulatedBoard];
    const floodConn = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    const calmConn = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(
      () => floodConn.endAsync(true),
      () => calmConn.endAsync(true),
    );
    let flooderAcked = 0;
    const flood = Promise.all(
      flooder.messages.map((t) =>
        floodConn.publishAsync('ferry/up/flooder/msg', t, { qos: 1 }).then(() => {
          flooderAcked++;
        }),
      ),
    );
    await Promise.all(calm.messages.map((t) => calmConn.publishAsync('ferry/up/calm/msg', t, { qos: 1 })));
    // The calm device was served while the flooder was still being held back.
    expect(flooderAcked).toBeLessThan(flooder.messages.length);
    await flood;
    const c = svc.ingest.counters();
    expect(c.rate_limited).toBeGreaterThan(0); // times a message was held back
    // Every message of both devices was stored once: acknowledged only after ingest recorded it.
    expect(c.accepted + c.late_stored).toBe(flooder.messages.length + calm.messages.length);
    const events = new Set(
      flooder.messages.map((m) => {
        const d = decode(m);
        return d.ok ? String(d.value.claims['ev']) : '?';
      }),
    );
    let stored = 0;
    for (const ev of events) stored += (await svc.ingest.series.query(`flooder/${ev}`, 0, Number.MAX_SAFE_INTEGER)).length;
    expect(stored).toBe(flooder.messages.length);
  });
});

describe('one bad counter does not silence a device', () => {
  const signed =
    (keyHex: string, kid: string) =>
    (ep: number, sq: number): string => {
      const t = encode(
        { header: { kid, ep, sq }, claims: { iss: kid, iat: 1_767_225_600 + sq, ev: 'tel', d: { t: 20 } } },
        hmacKey(Buffer.from(keyHex, 'hex')),
      );
      if (!t.ok) throw t.error;
      return t.value;
    };
  const setup = async () => {
    const { svc, mqttUrl, httpUrl } = await cloud();
    const pub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => pub.endAsync(true));
    const dispatched: string[] = [];
    svc.ingest.subscribe((e) => {
      if (e.type === 'message') dispatched.push(`${e.ep}/${e.sq}`);
    });
    return { svc, pub, httpUrl, dispatched };
  };

  // Regression: one glitched sequence number (2^32-1) moved the window so far that every later message of the
  // epoch was a "replay": dropped (and acknowledged), so rules and namespace state went stale for good.
  it('a glitched seq is kept aside as a jump; the honest messages after it are released', async () => {
    const { svc, pub, dispatched } = await setup();
    const tok = signed(svc.devices.add('glitchy').key, 'glitchy');
    for (const [ep, sq] of [
      [4, 0],
      [4, 1],
      [4, 0xffff_ffff],
      [4, 2],
      [4, 3],
    ] as const)
      await pub.publishAsync('ferry/up/glitchy/msg', tok(ep, sq), { qos: 1 });
    expect(dispatched).toEqual(['4/0', '4/1', '4/2', '4/3']);
    expect(svc.ingest.counters()).toMatchObject({ jump: 1, replay: 0 });
    // Verified, so kept in the series for the operator to see; not released.
    expect((await svc.ingest.series.query('glitchy/tel', 0, Number.MAX_SAFE_INTEGER)).map((p) => p.sq)).toContain(0xffff_ffff);
  });

  // Regression: a board that lost its boot counter sends an older epoch: every message was 'late' for ever.
  // It is counted (the alarm signal) and an operator resets the source; its messages then flow again.
  it('a boot-counter regression is counted as late; after POST /api/devices/<kid>/reset-sequence the device flows again', async () => {
    const { svc, pub, httpUrl, dispatched } = await setup();
    const tok = signed(svc.devices.add('amnesiac').key, 'amnesiac');
    for (const sq of [0, 1]) await pub.publishAsync('ferry/up/amnesiac/msg', tok(7, sq), { qos: 1 });
    for (const sq of [0, 1]) await pub.publishAsync('ferry/up/amnesiac/msg', tok(1, sq), { qos: 1 }); // lost its epoch
    expect(dispatched).toEqual(['7/0', '7/1']);
    expect(svc.ingest.counters().late).toBe(2);
    const r = await fetch(`${httpUrl}/api/devices/amnesiac/reset-sequence`, { method: 'POST', headers: bearer() });
    expect(r.status).toBe(200);
    for (const sq of [2, 3]) await pub.publishAsync('ferry/up/amnesiac/msg', tok(1, sq), { qos: 1 });
    // A fresh window waits for seq 0 of epoch 1 (already stored as late) until its timeout, then releases 2 and 3.
    await until(() => dispatched.length === 4, 'epoch 1 released after the reset');
    expect(dispatched).toEqual(['7/0', '7/1', '1/2', '1/3']);
  });
});

describe('the topic a message arrived on travels with it through the re-order buffer (embedded, SQLite)', () => {
  /** A signed telemetry token of th-12, sq `sq`, under its device key. */
  const signer =
    (keyHex: string) =>
    (sq: number): string => {
      const t = encode(
        { header: { kid: 'th-12', ep: 1, sq }, claims: { iss: 'th-12', iat: 1_767_225_600 + sq, ev: 'tel', d: { t: 20 + sq } } },
        hmacKey(Buffer.from(keyHex, 'hex')),
      );
      if (!t.ok) throw t.error;
      return t.value;
    };
  const start = async (dataDir: string) => {
    const { svc, mqttUrl } = await startTestCloud({ dataDir });
    const inputs = vi.spyOn(svc.rules, 'input');
    const pub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    return {
      svc,
      pub,
      inputs,
      stop: async () => {
        await pub.endAsync(true);
        await svc.stop();
      },
    };
  };
  const topicOf = (inputs: { mock: { calls: unknown[][] } }, id: string): unknown => inputs.mock.calls.find((c) => c[3] === id)?.[0];

  it('a message held for the one before it reaches the rules host with its own topic when released', async () => {
    const c = await start(mkdtempSync(join(tmpdir(), 'ferry-cloud-')));
    cleanups.push(c.stop);
    const tok = signer(c.svc.devices.add('th-12', 'home').key);
    await c.pub.publishAsync('ferry/up/th-12/held', tok(1), { qos: 1 }); // acknowledged after ingest: buffered, waits for 0
    expect(c.inputs).not.toHaveBeenCalled();
    await c.pub.publishAsync('ferry/up/th-12/next', tok(0), { qos: 1 });
    await until(() => c.inputs.mock.calls.length === 2, 'both released to the rules host');
    expect(c.inputs.mock.calls.map((x) => [x[0], x[3]])).toEqual([
      ['ferry/up/th-12/next', 'th-12/1/0'],
      ['ferry/up/th-12/held', 'th-12/1/1'],
    ]);
    expect(c.inputs.mock.calls[1]![1]).toEqual({ t: 21 });
  });

  it('and keeps it across a restart of the cloud', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-cloud-'));
    const before = await start(dataDir);
    const tok = signer(before.svc.devices.add('th-12', 'home').key);
    await before.pub.publishAsync('ferry/up/th-12/held', tok(1), { qos: 1 });
    expect(before.svc.ingest.counters().accepted).toBe(1);
    await before.stop();
    const after = await start(dataDir);
    cleanups.push(after.stop);
    await after.pub.publishAsync('ferry/up/th-12/next', tok(0), { qos: 1 });
    await until(() => topicOf(after.inputs, 'th-12/1/1') !== undefined, 'the held message released after the restart');
    expect(topicOf(after.inputs, 'th-12/1/1')).toBe('ferry/up/th-12/held');
    expect(topicOf(after.inputs, 'th-12/1/0')).toBe('ferry/up/th-12/next');
  });
});

describe('namespace projection rules (CloudOptions.projections)', () => {
  it('a configured rule replaces the default: env.h -> hum.<kid> = "<h>", in the owner\'s state and retained', async () => {
    const { svc, mqttUrl } = await cloud({ projections: [{ event: 'env', field: 'h', key: 'hum.{kid}', form: 'value' }] });
    const owner = svc.functions.register(generatePrivateToken('lab-owner'));
    if (!owner.ok) throw owner.error;
    const { key } = svc.devices.add('th-13', 'lab', Date.now(), owner.value.owner);
    const sign = (sq: number, ev: string, d: Record<string, number>): string => {
      const t = encode({ header: { kid: 'th-13', ep: 1, sq }, claims: { iss: 'th-13', iat: 1_767_225_600, ev, d } }, hmacKey(Buffer.from(key, 'hex')));
      if (!t.ok) throw t.error;
      return t.value;
    };
    const pub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => pub.endAsync(true));
    await pub.publishAsync('ferry/up/th-13/msg', sign(0, 'env', { h: 55 }), { qos: 1 });
    await pub.publishAsync('ferry/up/th-13/msg', sign(1, 'tel', { t: 21 }), { qos: 1 });
    const state = svc.functions.namespaces.state(owner.value.owner, 'lab');
    expect(new TextDecoder().decode(state.get('hum.th-13'))).toBe('55');
    expect(state.get('temp.th-13')).toBeUndefined();
    const sub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => sub.endAsync(true));
    const retained = new Promise<[string, string]>((resolve) => sub.on('message', (t, p) => resolve([t, p.toString()])));
    await sub.subscribeAsync('ferry/ns/lab/state/#', { qos: 1 });
    expect(await retained).toEqual(['ferry/ns/lab/state/hum.th-13', '55']);
  });
});

describe('the data directory is private', () => {
  // Regression: cloud.db and ingest.sqlite were 0644 in a 0755 directory (only master.key was 0600).
  it('is 0700 and every file in it 0600, the databases WAL files included', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'ferry-cloud-')), 'data');
    await cloud({ dataDir });
    const { readdirSync, statSync } = await import('node:fs');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dataDir);
    expect(files).toEqual(expect.arrayContaining(['cloud.db', 'ingest.sqlite', 'master.key']));
    expect(files.map((f) => [f, (statSync(join(dataDir, f)).mode & 0o777).toString(8)])).toEqual(files.map((f) => [f, '600']));
  });
});

describe('listen addresses', () => {
  // Regression: one --host set both the broker's and the HTTP API's address, so exposing MQTT to boards on a
  // LAN exposed the API too; and nothing warned that a non-loopback address carries everything in clear.
  it('the HTTP API listens on loopback apart from MQTT; a non-loopback address needs insecure', async () => {
    const { mqttUrl, httpUrl } = await cloud({ host: '127.0.0.2' });
    expect(new URL(mqttUrl).hostname).toBe('127.0.0.2');
    expect(new URL(httpUrl).hostname).toBe('127.0.0.1');
    expect(() => new CloudService({ adminToken: ADMIN_TOKEN, dataDir: mkdtempSync(join(tmpdir(), 'ferry-cloud-')), host: '0.0.0.0' })).toThrow(
      /not a loopback address.*--insecure/,
    );
    expect(() => new CloudService({ adminToken: ADMIN_TOKEN, dataDir: mkdtempSync(join(tmpdir(), 'ferry-cloud-')), httpHost: '192.0.2.1' })).toThrow(
      /--http-host/,
    );
  });
});

describe('rule moves go only to known targets', () => {
  // Regression: POST /api/move accepted any URL as target and POSTed the job with its window state there
  // (server-side request forgery), then uninstalled the job.
  it('refuses a move to an unlisted URL or an unknown gateway with 403; the job stays, running', async () => {
    const { svc, httpUrl } = await cloud();
    const installation = {
      headers: { runtime: 'cloud', targetResource: 'room-1', jobType: 'single-filter' },
      jobConfig: { connectors: { input: 'ferry/up/+/msg', output: 'alerts/t' }, jobProps: { condition: 'gt', threshold: 30, fieldName: 't' } },
    };
    const post = (path: string, body: unknown) =>
      fetch(`${httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer() }, body: JSON.stringify(body) });
    const { jobId } = (await (await post('/api/install', installation)).json()) as { jobId: string };
    await post('/api/start', { jobId });
    for (const target of ['http://127.0.0.1:1', 'gateway:nobody']) {
      const r = await post('/api/move', { jobId, target_runtime: 'elsewhere', targetResource: target });
      expect([r.status, ((await r.json()) as { code: string }).code]).toEqual([403, 'FERRY_API_MOVE_TARGET']);
    }
    expect(svc.rules.engine.status(jobId)).toMatchObject({ targetResource: 'room-1', jobInfo: { jobStatus: 'RUNNING' } });
  });
});
