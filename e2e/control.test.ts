/**
 * The control channel between a real cloud and a real gateway daemon over the cloud's embedded broker: a
 * client that reads the requests and answers first with forged replies gets nothing through (the
 * cloud takes the gateway's real reply and counts the forgeries), and a request captured off the wire is
 * refused after the daemon restarts (its replay window is on disk).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCloud } from '../cloud/src/service/test-cloud.case.ts';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import { decode, encode, type HmacKey } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { bearer, getAs } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer() }, body: JSON.stringify(body) });

async function system() {
  const { svc: cloud, mqttUrl, httpUrl, stop } = await startTestCloud({ name: 'e2e-ctl-cloud' });
  cleanups.push(stop);
  const { key } = (await (await post(`${httpUrl}/api/gateways`, { id: 'gw-ctl' })).json()) as { key: string };
  const cfg = parseConfig({
    gateway: { id: 'gw-ctl', key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-e2e-ctl-gw-')) },
    uplink: { url: mqttUrl },
    api: { port: 0 },
  });
  const logs: string[] = [];
  const gateways: GatewayDaemon[] = [];
  const startGateway = async (): Promise<GatewayDaemon> => {
    const g = new GatewayDaemon(cfg, { sources: [new ScriptedSource()], log: (_l, m) => logs.push(m) });
    await g.start();
    gateways.push(g);
    await until(() => g.uplink.connected, 'the gateway uplink');
    return g;
  };
  cleanups.push(async () => {
    for (const g of gateways) await g.stop().catch(() => undefined);
  });
  const gateway = await startGateway();
  // A client the broker lets read and write the control topics: a worker (the ACLs keep everyone else off
  // them; the control MACs are checked here as the second line, for an insider or a broker that misroutes).
  const anon = await mqtt.connectAsync(mqttUrl, workerLogin(cloud.mqttCredential));
  cleanups.push(() => anon.endAsync(true));
  return { cloud, httpUrl, key, gateway, startGateway, logs, anon };
}

/** A reply to `rid` as the gateway would shape it, MACed with `k` (any key but the gateway's control key). */
function forgedReply(k: HmacKey, rid: string, sq: number): string {
  const claims = {
    iss: 'gw-ctl.ctl',
    iat: Math.floor(Date.now() / 1000),
    ev: 'ctl-res',
    gw: 'gw-ctl',
    rid,
    d: { c: Buffer.from(JSON.stringify({ id: rid, status: 200, body: [{ jobId: 'forged' }] })).toString('base64') },
  };
  const t = encode({ header: { kid: 'gw-ctl.ctl', ep: 1, sq }, claims }, k);
  if (!t.ok) throw t.error;
  return t.value;
}

describe('control channel: cloud + gateway daemon (embedded broker)', () => {
  it('ignores forged replies from another client that answers first, and uses the real one', async () => {
    const { cloud, httpUrl, key, gateway, anon } = await system();
    // The gateway sits behind a slow link (its requests arrive 300 ms late); the forger is next to the broker.
    const link = gateway.uplink.mqtt;
    const emit = link.emit.bind(link) as (event: string, ...args: unknown[]) => boolean;
    link.emit = ((event: string, ...args: unknown[]) => {
      if (event !== 'message' || args[0] !== 'ferry/ctl/gw-ctl/req') return emit(event, ...args);
      setTimeout(() => emit(event, ...args), 300);
      return true;
    }) as unknown as typeof link.emit;
    const arrivals: string[] = [];
    let sq = 0;
    anon.on('message', (topic, payload) => {
      if (topic.endsWith('/res')) {
        const m = decode(payload);
        const c = m.ok ? (m.value.claims['d'] as { c: string }).c : '';
        arrivals.push(m.ok && m.value.claims['ev'] === 'ctl-res' && !Buffer.from(c, 'base64').toString().includes('forged') ? 'real' : 'forged');
        return;
      }
      const m = decode(payload);
      if (!m.ok) return;
      const rid = m.value.claims['rid'] as string;
      const res = 'ferry/ctl/gw-ctl/res';
      void anon.publishAsync(res, forgedReply(hmacKey(new Uint8Array(32).fill(0xee)), rid, sq++), { qos: 1 }); // a key of its own
      void anon.publishAsync(res, forgedReply(hmacKey(Buffer.from(key, 'hex')), rid, sq++), { qos: 1 }); // the telemetry key
      void anon.publishAsync(res, payload, { qos: 1 }); // the request itself, echoed
    });
    await anon.subscribeAsync(['ferry/ctl/gw-ctl/req', 'ferry/ctl/gw-ctl/res'], { qos: 1 });

    const res = await getAs(`${httpUrl}/api/gateways/gw-ctl/api/jobs`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]); // the gateway's own answer: no jobs
    await until(() => arrivals.length >= 4, 'the forged and the real replies');
    expect(arrivals).toEqual(['forged', 'forged', 'forged', 'real']); // the forgeries came first
    const refused = (await cloud.registry.getSingleMetric('ferry_cloud_control_refused_total')?.get())?.values ?? [];
    const byCode = Object.fromEntries(refused.map((v) => [v.labels['code'], v.value]));
    expect(byCode).toMatchObject({ FERRY_MSG_BAD_SIGNATURE: 2, FERRY_CTL_DIRECTION: 1 });
  });

  it("passes a request's query string on to the gateway", async () => {
    const { httpUrl } = await system();
    const listed = await getAs(`${httpUrl}/api/gateways/gw-ctl/api/v1/health/history`);
    expect([listed.status, Array.isArray(((await listed.json()) as { series: unknown }).series)]).toEqual([200, true]);
    const bad = await getAs(`${httpUrl}/api/gateways/gw-ctl/api/v1/health/history?points=0`);
    expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([400, 'FERRY_OPS_BAD_QUERY']);
  });

  it('refuses a request replayed after the daemon restarts', async () => {
    const { httpUrl, gateway, startGateway, logs, anon } = await system();
    const captured: Buffer[] = [];
    anon.on('message', (_t, p) => captured.push(p));
    await anon.subscribeAsync('ferry/ctl/gw-ctl/req', { qos: 1 });
    const filter = {
      headers: { runtime: 'gateway:gw-ctl', targetResource: 'gateway:gw-ctl', jobType: 'single-filter' },
      jobConfig: { connectors: { input: 'ferry/up/gw-ctl/x/+', output: 'ferry/up/gw-ctl/y' }, jobProps: { condition: 'gt', threshold: 1, fieldName: 't' } },
    };
    const inst = await post(`${httpUrl}/api/gateways/gw-ctl/api/install`, filter);
    expect(inst.status).toBe(201);
    expect(gateway.rules.engine.list()).toHaveLength(1);
    await until(() => captured.length === 1, 'the captured install request');
    const install = captured.slice();

    await gateway.stop();
    const restarted = await startGateway();
    // The restarted daemon serves the channel again ...
    await until(async () => (await getAs(`${httpUrl}/api/gateways/gw-ctl/api/jobs`)).status === 200, 'the control channel after the restart');
    const jobs = restarted.rules.engine.list().length;
    // ... but the captured install, seconds old, is refused: it does not run a second time.
    for (const p of install) await anon.publishAsync('ferry/ctl/gw-ctl/req', p, { qos: 1 });
    await until(() => logs.some((m) => m.startsWith('FERRY_CTL_REPLAY')), 'the replayed request to be refused');
    expect(restarted.rules.engine.list().length).toBe(jobs);
  });
});
