/**
 * Forged downstream data (docs/message-format.md "Downlink"): a client on the cloud's embedded broker that no
 * ACL stops (a worker's login: an insider, or a broker that misroutes) publishes function replies and namespace
 * state for a board. The board's host
 * verifies every downlink message with the board's downlink key before the firmware sees anything, so the
 * thermostat acts on the cloud's data only, and counts what it refused.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud } from '../cloud/src/service/test-cloud.case.ts';
import { noDelay } from '@ferry/mqtt-rest';
import { EmulatedBoard, goOnline, MIN_TEMPERATURE_WASM, NamespaceMinimum, THERMOSTAT_WASM } from '@ferry/firmware';
import { decode, signDownlink } from '@ferry/message';
import { downlinkKey, hmacKey } from '@ferry/message/node';
import { compile, type CompiledModule } from '@ferry/wasm-host';
import { generatePrivateToken, mintPublicToken } from '../cloud/src/functions/index.ts';
import { workerLogin } from '@ferry/test-kit/mqtt-login';

const MODULE = new Uint8Array(readFileSync(MIN_TEMPERATURE_WASM));
const HASH = createHash('sha256').update(MODULE).digest('hex');
const PRIV = generatePrivateToken('alice');
const enc = new TextEncoder();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const unwrap = <T>(r: { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error }): T => {
  if (!r.ok) throw r.error;
  return r.value;
};

let thermostat: CompiledModule;
beforeAll(async () => {
  const c = await compile(readFileSync(THERMOSTAT_WASM));
  if (!c.ok) throw c.errors[0];
  thermostat = c.value;
});

async function startCloud() {
  const c = await startTestCloud({ name: 'downlink', functionRunner: 'in-process' });
  cleanups.push(c.stop);
  unwrap(c.svc.functions.register(PRIV));
  unwrap(c.svc.functions.setWhitelisted(PRIV, 'flat', HASH, true));
  return c;
}

async function client(url: string, login: mqtt.IClientOptions): Promise<MqttClient> {
  const c = noDelay(await mqtt.connectAsync(url, { ...login, reconnectPeriod: 100 }));
  cleanups.push(() => c.endAsync(true));
  return c;
}

/** A registered, booted thermostat reading `centi` on its own sensor, deciding on the first tick. */
async function board(svc: CloudService, id: string, centi: number): Promise<EmulatedBoard> {
  const { key } = svc.devices.add(id, 'flat', Date.now(), 'alice');
  const b = await EmulatedBoard.create({ key: Buffer.from(key, 'hex'), deviceId: id, wasm: thermostat, startMs: Date.now(), room: { noiseC: 0 } });
  b.sensorOverride = centi;
  b.state.setText('cfg.min_on_s', '0');
  b.state.setText('cfg.min_off_s', '0');
  await b.boot();
  return b;
}

const lastTel = (b: EmulatedBoard): Record<string, unknown> => {
  const tel = b.messages.map((t) => decode(t)).flatMap((r) => (r.ok && r.value.claims['ev'] === 'tel' ? [r.value.claims['d'] as Record<string, unknown>] : []));
  return tel.at(-1)!;
};

describe('forged downlink data never reaches the firmware', () => {
  it('forged-reply race: an attacker answers every call first with -39 °C; the thermostat acts on the real reply only', async () => {
    const { svc, mqttUrl, httpUrl } = await startCloud();
    svc.functions.namespaces.state('alice', 'flat').set('temp.bedroom', enc.encode(`22.00 ${Date.now()}`));
    const b = await board(svc, 'th-01', 2100);
    const attacker = await client(mqttUrl, workerLogin(svc.mqttCredential));
    let forged = 0;
    attacker.on('message', (_t, p) => {
      const id = (JSON.parse(p.toString()) as { id: string }).id;
      forged++;
      attacker.publish('ferry/fn/th-01/res', JSON.stringify({ id, ok: true, value: -3900, emits: [], logs: [] }), { qos: 0 });
    });
    await attacker.subscribeAsync('ferry/fn/th-01/call', { qos: 0 });
    const token = unwrap(
      mintPublicToken(PRIV, { subject: 'th-01', ttlS: 3600, namespaces: ['flat'], functions: [HASH], rate: { perSecond: 1000, burst: 1000 } }, Date.now()),
    );
    const nm = await NamespaceMinimum.create(b, {
      namespace: 'flat',
      token,
      transport: await client(mqttUrl, { clientId: 'th-01', username: 'th-01', password: b.mqttPassword() }),
      httpUrl,
      timeoutMs: 5000,
    });

    const values: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await nm.tick();
      values.push(r.min.ok && r.min.value);
      expect(b.furnaceOn).toBe(false);
    }
    expect(values).toEqual(Array(30).fill(2200));
    expect(lastTel(b)).toMatchObject({ t: 21, tmin: 21, heat: false });
    expect(b.switches).toEqual([]);
    await vi.waitFor(() => expect(nm.fn.stats.forgedDownlink).toBe(forged), { timeout: 5000 });
    expect(forged).toBeGreaterThanOrEqual(30); // the first call (module needed) is answered twice
    expect(nm.fn.stats).toMatchObject({ cloud: 30, local: 0 });
  }, 60_000);

  it('forged namespace state (retained, unsigned, mis-signed, for another board, replayed) is ignored and counted', async () => {
    const { svc, mqttUrl } = await startCloud();
    const b = await board(svc, 'th-01', 2100);
    const kitchen = await board(svc, 'kitchen-1', 2200);
    const other = svc.devices.add('th-02', 'flat');
    const online = await goOnline(b, { url: mqttUrl, namespace: 'flat' });
    cleanups.push(() => online.close());
    const reader = await goOnline(kitchen, { url: mqttUrl, namespace: 'flat', mirror: false });
    cleanups.push(() => reader.close());
    kitchen.tick();
    await reader.flush();
    await vi.waitFor(() => expect(b.state.getText('temp.kitchen-1')).toMatch(/^22 \d+$/), { timeout: 5000 });

    // What an attacker with no key can do: the old per-key topics, and anything on the board's own topic.
    const attacker = await client(mqttUrl, workerLogin(svc.mqttCredential));
    const captured: string[] = [];
    attacker.on('message', (_t, p) => captured.push(p.toString()));
    await attacker.subscribeAsync('ferry/dn/th-01/state', { qos: 1 });
    await vi.waitFor(() => expect(captured.length).toBe(1));
    const now = Date.now();
    const evil = { ns: 'flat', state: { 'temp.kitchen-1': `-39 ${now}` } };
    const forgeries = [
      JSON.stringify(evil), // unsigned
      unwrap(signDownlink({ aud: 'th-01', ev: 'ns.state', ep: 2 ** 32 - 1, sq: 0, nowMs: now, body: evil }, hmacKey(new Uint8Array(32).fill(9)))), // a guessed key
      unwrap(
        signDownlink({ aud: 'th-02', ev: 'ns.state', ep: 2 ** 32 - 1, sq: 0, nowMs: now, body: evil }, downlinkKey(Buffer.from(other.key, 'hex'), 'th-02')),
      ), // another board's
    ];
    await attacker.publishAsync('ferry/ns/flat/state/temp.kitchen-1', `-39 ${now}`, { qos: 1, retain: true });
    await attacker.publishAsync('ferry/ns/flat/state/temp.evil', `-39 ${now}`, { qos: 1, retain: true });
    for (const f of forgeries) await attacker.publishAsync('ferry/dn/th-01/state', f, { qos: 1, retain: true });
    await vi.waitFor(() => expect(online.forgedDownlink).toBe(3), { timeout: 5000 });

    // A newer genuine snapshot, then the captured older one replayed: refused.
    kitchen.sensorOverride = 2300;
    kitchen.tick();
    await reader.flush();
    await vi.waitFor(() => expect(b.state.getText('temp.kitchen-1')).toMatch(/^23 \d+$/), { timeout: 5000 });
    await attacker.publishAsync('ferry/dn/th-01/state', captured[0]!, { qos: 1, retain: true });
    await vi.waitFor(() => expect(online.forgedDownlink).toBe(4), { timeout: 5000 });
    expect(b.state.getText('temp.kitchen-1')).toMatch(/^23 \d+$/);
    expect(b.state.getText('temp.evil')).toBe(undefined);

    b.tick();
    expect(b.furnaceOn).toBe(false);
    expect(lastTel(b)).toMatchObject({ t: 21, tmin: 21, heat: false });
  }, 30_000);
});
