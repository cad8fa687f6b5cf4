/** Functions by hash through the running cloud service, over HTTP and MQTT, with the pooled (sandboxed) runner. */
import { createHash } from 'node:crypto';
import mqtt from 'mqtt';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { afterEach, describe, expect, it } from 'vitest';
import { generatePrivateToken, mintPublicToken } from '../functions/index.ts';
import { wat } from '@ferry/test-kit/wat';
import { KV_WAT } from '@ferry/test-kit/functions';
import { startTestCloud } from '../service/test-cloud.case.ts';
import { bearer } from '@ferry/test-kit/http';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(), ...headers }, body: JSON.stringify(body) });

const LOOP = wat(`(module (func (export "abi_version") (result i32) i32.const 1) (memory (export "memory") 1 1) (func (export "spin") (loop $l (br $l))))`);

describe('functions by hash in the cloud service', () => {
  it('register, mint, call (module needed), upload, white-list, call; a runaway loop times out and the service keeps serving', async () => {
    const { svc, httpUrl, mqttUrl, stop } = await startTestCloud({ name: 'fn' });
    cleanups.push(stop);
    const priv = generatePrivateToken('alice');
    expect((await post(`${httpUrl}/api/owners`, { privateToken: priv })).status).toBe(201);
    const pub = mintPublicToken(priv, { subject: 'th-01', ttlS: 3600, namespaces: ['home'], rate: { perSecond: 100, burst: 100 } }, Date.now());
    if (!pub.ok) throw pub.error;
    const kv = wat(KV_WAT);
    const hash = createHash('sha256').update(kv).digest('hex');
    const call = { hash, export: 'abi_version', args: [], namespace: 'home', token: pub.value };

    // Authorization comes first: a hash the owner has not white-listed is refused whether stored or not.
    const notListed = await post(`${httpUrl}/api/functions/call`, call);
    expect([notListed.status, ((await notListed.json()) as { code: string }).code]).toEqual([403, 'FERRY_FN_NOT_WHITELISTED']);
    expect((await post(`${httpUrl}/api/functions/whitelist`, { privateToken: priv, namespace: 'home', hash })).status).toBe(200);
    const needed = await post(`${httpUrl}/api/functions/call`, call);
    expect([needed.status, ((await needed.json()) as { code: string }).code]).toEqual([404, 'FERRY_FN_MODULE_NEEDED']);
    const up = await fetch(`${httpUrl}/api/functions/modules?namespace=home`, {
      method: 'POST',
      headers: { 'content-type': 'application/wasm', authorization: `Bearer ${pub.value}` },
      body: new Uint8Array(kv),
    });
    expect([up.status, ((await up.json()) as { hash: string }).hash]).toEqual([201, hash]);
    const ok = await post(`${httpUrl}/api/functions/call`, call);
    expect([ok.status, ((await ok.json()) as { value: unknown }).value]).toEqual([200, 1]);

    // Over MQTT: the same call, answered on the caller's reply topic.
    const c = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => c.endAsync(true));
    const replies: { id: number; ok: boolean; value?: unknown }[] = [];
    c.on('message', (_t, p) => replies.push(JSON.parse(p.toString()) as never));
    await c.subscribeAsync('ferry/fn/th-01/res', { qos: 1 });
    await c.publishAsync('ferry/fn/th-01/call', JSON.stringify({ id: 7, ...call }), { qos: 1 });
    await c.publishAsync('ferry/fn/th-01/call', '{not json', { qos: 1 });
    const end = Date.now() + 5000;
    while (replies.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(replies, JSON.stringify(replies)).toContainEqual(expect.objectContaining({ id: 7, ok: true, value: 1 }));
    expect(replies).toContainEqual(expect.objectContaining({ ok: false }));

    // A runaway loop is stopped by the watchdog; the next call is served.
    const loopHash = createHash('sha256').update(LOOP).digest('hex');
    await fetch(`${httpUrl}/api/functions/modules?namespace=home`, {
      method: 'POST',
      headers: { 'content-type': 'application/wasm', authorization: `Bearer ${pub.value}` },
      body: new Uint8Array(LOOP),
    });
    await post(`${httpUrl}/api/functions/whitelist`, { privateToken: priv, namespace: 'home', hash: loopHash });
    const spin = await post(`${httpUrl}/api/functions/call`, { ...call, hash: loopHash, export: 'spin' });
    expect([spin.status, ((await spin.json()) as { code: string }).code]).toEqual([504, 'FERRY_FN_TIMEOUT']);
    const again = await post(`${httpUrl}/api/functions/call`, call);
    expect(again.status).toBe(200);
    // Function calls travel outside the ingest path: ingest saw nothing.
    const counted = Object.values(svc.ingest.counters())
      .filter((v): v is number => typeof v === 'number')
      .reduce((a, b) => a + b, 0);
    expect(counted).toBe(0);
  }, 30_000);
});
