/**
 * TLS on loopback, for real (docs/cloud.md "TLS"): the cloud with a certificate from `ferry cloud certs`' CA
 * speaks mqtts and https only; an emulated board pinning that CA gets its signed messages into the stream, a
 * client pinning another CA does not connect, nor does plain MQTT or plain HTTP. A gateway presenting a client
 * certificate from the CA is known to the broker by its CN; one from another CA is closed. A scale-out worker
 * reaches an mqtts:// broker with the CA pinned (CloudOptions.mqttCa).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CloudService, type CloudOptions } from '@ferry/cloud';
import { startTestCloud } from '../cloud/src/service/test-cloud.case.ts';
import { EmulatedBoard, goOnline } from '@ferry/firmware';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import { pinnedFetch } from '@ferry/mqtt-rest';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { labCertificates, type LabCerts } from '../cli/src/certs.ts';
import { peerIdentity } from '../cloud/src/service/broker.ts';
import { ADMIN_TOKEN, bearer } from '@ferry/test-kit/http';
import { deviceLogin } from '@ferry/test-kit/mqtt-login';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});
const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** OpenSSL's words for a chain that ends in a root the client does not trust (the server sends the CA along when it asks for client certificates). */
const UNTRUSTED = /self-signed certificate in certificate chain|unable to verify the first certificate/;

let certs: LabCerts;
let other: LabCerts;
beforeAll(async () => {
  certs = await labCertificates({ gateways: ['gw-tls'] });
  other = await labCertificates({ gateways: ['gw-tls'] }); // the same names, another CA
});

async function tlsCloud(extra: Partial<CloudOptions> = {}) {
  const logs: string[] = [];
  const c = await startTestCloud({
    name: 'tls',
    functionRunner: 'in-process',
    log: (m) => logs.push(m),
    tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert, requestClientCert: true },
    ...extra,
  });
  cleanups.push(c.stop);
  return { ...c, logs };
}

/** Resolves 'connected' or the error message; one attempt, no reconnects. */
async function tryMqtt(url: string, o: mqtt.IClientOptions = {}): Promise<string> {
  try {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...o }, false);
    await c.endAsync(true);
    return 'connected';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('TLS on the cloud', () => {
  it('a board online over mqtts with the CA pinned reaches the stream; the API answers over https to the CA, not over http', async () => {
    const { svc, mqttUrl, httpUrl } = await tlsCloud();
    expect(mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(httpUrl).toMatch(/^https:\/\//);
    const { key } = svc.devices.add('th-tls', 'flat');
    const released: { kid: string; stream: string }[] = [];
    svc.ingest.subscribe((e) => {
      if (e.type === 'message') released.push({ kid: e.kid, stream: e.stream });
    });
    const board = await EmulatedBoard.create({ key: Buffer.from(key, 'hex'), deviceId: 'th-tls', startMs: Date.now() });
    const online = await goOnline(board, { url: mqttUrl, namespace: 'flat', mirror: false, ca: certs.ca.cert });
    cleanups.push(() => online.close());
    await board.boot();
    board.tick();
    await online.flush();
    await until(() => released.some((r) => r.kid === 'th-tls'), 'a released message of th-tls');
    const stream = released.find((r) => r.kid === 'th-tls')!.stream; // `<kid>/<ev>`
    const pinned = pinnedFetch(certs.ca.cert);
    const points = (await (await pinned(`${httpUrl}/api/streams/${stream}`, { headers: bearer() })).json()) as unknown[];
    expect(points.length).toBeGreaterThan(0);
    expect((await pinned(`${httpUrl}/health`)).status).toBe(200);
    await expect(pinnedFetch(other.ca.cert)(`${httpUrl}/health`)).rejects.toThrow(UNTRUSTED);
    await expect(fetch(`${httpUrl}/health`)).rejects.toThrow(); // the system roots do not know the lab CA
    await expect(fetch(`${httpUrl.replace(/^https:/, 'http:')}/health`)).rejects.toThrow();
  });

  it('a client pinning another CA is refused, and plain MQTT on the mqtts port gets no CONNACK', async () => {
    const { svc, mqttUrl } = await tlsCloud();
    const login = deviceLogin('th-pin', svc.devices.add('th-pin').key);
    expect(await tryMqtt(mqttUrl, { ...login, ca: certs.ca.cert, rejectUnauthorized: true })).toBe('connected');
    expect(await tryMqtt(mqttUrl, { ...login, ca: other.ca.cert, rejectUnauthorized: true })).toMatch(UNTRUSTED);
    expect(await tryMqtt(mqttUrl.replace(/^mqtts:/, 'mqtt:'), login)).not.toBe('connected');
  });

  it('a gateway with a client certificate from the CA is known by its CN and its readings arrive; one from another CA is closed', async () => {
    const clients: Client[] = [];
    const create = Aedes.createBroker.bind(Aedes);
    vi.spyOn(Aedes, 'createBroker').mockImplementation(async (...a) => {
      const b = await create(...a);
      b.on('client', (c) => clients.push(c));
      return b;
    });
    const { svc, mqttUrl, logs } = await tlsCloud();
    const { key } = svc.devices.add('gw-tls', undefined, undefined, undefined, { kind: 'gateway' });
    const released: string[] = [];
    svc.ingest.subscribe((e) => {
      if (e.type === 'message') released.push(e.kid);
    });
    const dir = mkdtempSync(join(tmpdir(), 'ferry-tls-gw-'));
    const file = (name: string, pem: string): string => {
      writeFileSync(join(dir, name), pem, { mode: 0o600 });
      return join(dir, name);
    };
    const gateway = async (clientCerts: LabCerts, data: string) => {
      const cfg = parseConfig({
        gateway: { id: 'gw-tls', key, data_dir: join(dir, data) },
        uplink: {
          url: mqttUrl,
          // A wrong password: the certificate alone must let the gateway in (it stands for the password).
          password: 'not-the-gateway-password',
          ca: file('ca.pem', certs.ca.cert),
          cert: file(`${data}.pem`, clientCerts.gateways.get('gw-tls')!.cert),
          key: file(`${data}.key`, clientCerts.gateways.get('gw-tls')!.key),
        },
        api: { port: 0 },
      });
      const src = new ScriptedSource();
      const d = new GatewayDaemon(cfg, { sources: [src], log: () => undefined });
      await d.start();
      cleanups.push(() => d.stop());
      return { d, src };
    };

    const good = await gateway(certs, 'good');
    await until(() => good.d.uplink.connected, 'the gateway uplink');
    const seen = clients.find((c) => c.id === 'gw-tls');
    expect(peerIdentity(seen)).toBe('gw-tls');
    good.src.sink!.reading({ device: 'A4:C1:38:00:11:22', kind: 'bthome', atMs: Date.now(), values: { temperature: 21.5 } });
    await until(() => released.includes('gw-tls'), 'the reading in the cloud');
    await good.d.stop();

    const bad = await gateway(other, 'bad');
    await until(() => logs.some((m) => m.includes('client certificate refused')), 'the refusal in the log');
    await new Promise((r) => setTimeout(r, 300));
    expect(bad.d.uplink.connected).toBe(false);
    expect(clients.filter((c) => c.id === 'gw-tls')).toHaveLength(1);
  });

  it('a board without a client certificate is not identified by one (it is left to the password check)', async () => {
    const clients: Client[] = [];
    const create = Aedes.createBroker.bind(Aedes);
    vi.spyOn(Aedes, 'createBroker').mockImplementation(async (...a) => {
      const b = await create(...a);
      b.on('client', (c) => clients.push(c));
      return b;
    });
    const { svc, mqttUrl } = await tlsCloud();
    const { key } = svc.devices.add('plain-board');
    const c = await mqtt.connectAsync(mqttUrl, { ...deviceLogin('plain-board', key), ca: certs.ca.cert, rejectUnauthorized: true, reconnectPeriod: 0 }, false);
    cleanups.push(() => c.endAsync(true));
    await until(() => clients.some((x) => x.id === 'plain-board'), 'the client');
    expect(peerIdentity(clients.find((x) => x.id === 'plain-board'))).toBeUndefined();
  });

  it('a scale-out worker reaches an mqtts:// broker with the CA pinned, and not with another CA', async () => {
    const { svc, mqttUrl } = await tlsCloud();
    const worker = (ca: string) =>
      new CloudService({
        adminToken: ADMIN_TOKEN,
        dataDir: mkdtempSync(join(tmpdir(), 'ferry-tls-w-')),
        mqttUrl,
        mqttCa: ca,
        mqttUsername: svc.mqttCredential!.username,
        mqttPassword: svc.mqttCredential!.password,
        httpPort: 0,
        log: () => undefined,
      });
    const ok = worker(certs.ca.cert);
    await ok.start();
    await ok.stop();
    const refused = worker(other.ca.cert);
    await expect(refused.start()).rejects.toThrow(UNTRUSTED);
    await refused.stop();
  });

  it('the packet-size guard reads the decrypted stream: an oversized packet over mqtts closes the connection before its body', async () => {
    const { svc, mqttUrl, logs } = await tlsCloud({ mqttLimits: { maxPacketBytes: 64 * 1024 } });
    const sock = tlsConnect({ port: Number(new URL(mqttUrl).port), host: '127.0.0.1', servername: 'localhost', ca: certs.ca.cert, rejectUnauthorized: true });
    cleanups.push(async () => sock.destroy());
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    sock.resume(); // read what the broker sends (the CONNACK, TLS alerts), so the end of the stream is seen
    // A CONNECT with the worker's user name and password (flags 0xc2), so the broker reads on past it.
    const cred = svc.mqttCredential!;
    const field = (v: string): number[] => [Buffer.byteLength(v) >> 8, Buffer.byteLength(v) & 0xff, ...Buffer.from(v)];
    const body = [
      0x00,
      0x04,
      ...Buffer.from('MQTT'),
      0x04,
      0xc2,
      0x00,
      0x3c,
      ...field(`${cred.username}-big`),
      ...field(cred.username),
      ...field(cred.password),
    ];
    expect(body.length).toBeLessThan(16_384); // two bytes of remaining length
    sock.write(Buffer.from([0x10, (body.length & 0x7f) | 0x80, body.length >> 7, ...body]));
    sock.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])); // a PUBLISH announcing 256 MiB: only its fixed header is sent
    const closed = await new Promise<boolean>((r) => {
      sock.once('close', () => r(true));
      setTimeout(() => r(false), 5000);
    });
    expect(closed).toBe(true);
    expect(logs.some((l) => /larger than 65536 bytes/.test(l))).toBe(true);
  });

  it('a certificate from a private CA without that CA: the cloud says at start that it cannot verify its own broker', async () => {
    const svc = new CloudService({
      adminToken: ADMIN_TOKEN,
      dataDir: mkdtempSync(join(tmpdir(), 'ferry-tls-noca-')),
      mqttPort: 0,
      httpPort: 0,
      log: () => undefined,
      tls: { cert: certs.server.cert, key: certs.server.key },
    });
    await expect(svc.start()).rejects.toThrow(/cannot verify its own mqtts broker .*--tls-ca/);
    await svc.stop();
  });

  it('a non-loopback address is allowed with TLS, refused without it (unless insecure)', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-tls-host-'));
    expect(() => new CloudService({ adminToken: ADMIN_TOKEN, dataDir, host: '0.0.0.0', log: () => undefined })).toThrow(/not a loopback address/);
    const withTls = new CloudService({
      adminToken: ADMIN_TOKEN,
      dataDir,
      host: '0.0.0.0',
      httpHost: '0.0.0.0',
      tls: { cert: certs.server.cert, key: certs.server.key },
      log: () => undefined,
    });
    withTls.db.close();
  });
});
