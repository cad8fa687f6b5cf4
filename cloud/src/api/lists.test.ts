/**
 * The dashboard's list routes on a real cloud: commands newest first with the timeline a real command device
 * drives (queued -> sent -> delivered -> acked), filtered by device and state; broadcasts; service objects with
 * where they are hosted and their stream counters; functions by hash with calls and errors; and the typed
 * refusals of bad query parameters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KV_WAT } from '@ferry/test-kit/functions';
import { ADMIN_TOKEN, call } from '@ferry/test-kit/http';
import { CommandDevice } from '@ferry/test-kit/command-device';
import { until } from '@ferry/test-kit/until';
import { wat } from '@ferry/test-kit/wat';
import { sha256Hex } from '../functions/registry.ts';
import type { CloudService } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';

let cloud: CloudService;
let api: string;
let dev: CommandDevice;
let priv: string;
beforeAll(async () => {
  const urls = await startTestCloud({ name: 'lists' });
  cloud = urls.svc;
  api = urls.httpUrl;
  priv = ((await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id: 'alice' })).body as { privateToken: string }).privateToken;
  const key = cloud.devices.add('th-1', 'home', Date.now(), 'alice').key;
  cloud.devices.add('th-2', 'home', Date.now(), 'alice');
  dev = await CommandDevice.connect({ url: urls.mqttUrl, id: 'th-1', key });
}, 30_000);
afterAll(async () => {
  await dev?.close(true);
  await cloud?.stop();
});

type Cmd = { id: string; device: string; state: string; history: { state: string; at: number }[] };
const commands = async (q = ''): Promise<Cmd[]> => ((await call(api, 'GET', `/api/v1/commands${q}`, priv)).body as { commands: Cmd[] }).commands;

describe('GET /api/v1/commands and /api/v1/broadcasts', () => {
  it('lists the caller’s commands newest first, each with its timeline, by device and by state', async () => {
    const sent = [];
    for (const [device, n] of [
      ['th-1', 1],
      ['th-2', 2],
      ['th-1', 3],
    ] as const)
      sent.push(((await call(api, 'POST', '/api/v1/commands', priv, { device, command: { n } })).body as { id: string }).id);
    await until(async () => (await commands('?device=th-1')).every((c) => c.state === 'acked'), 'both commands of th-1 acked');
    expect((await commands()).map((c) => c.id).slice(0, 3)).toEqual([...sent].reverse());
    const th1 = await commands('?device=th-1');
    expect(th1.map((c) => c.id)).toEqual([sent[2], sent[0]]);
    for (const c of th1) expect(c.history.map((h) => h.state)).toEqual(['queued', 'sent', 'delivered', 'acked']);
    for (const c of th1) expect(c.history.map((h) => h.at)).toEqual([...c.history.map((h) => h.at)].sort((a, b) => a - b));
    expect((await commands('?state=queued')).map((c) => c.id)).toEqual([sent[1]]); // th-2 is offline
    expect((await commands('?limit=1')).map((c) => c.id)).toEqual([sent[2]]);
  });

  it('lists broadcasts newest first, with how many devices each reached', async () => {
    const ids = [];
    for (let i = 0; i < 2; i++)
      ids.push(((await call(api, 'POST', '/api/v1/broadcasts', priv, { target: { all: true }, command: { i } })).body as { id: string }).id);
    const r = (await call(api, 'GET', '/api/v1/broadcasts', priv)).body as { broadcasts: { id: string; devices: number }[] };
    expect(r.broadcasts.map((b) => [b.id, b.devices])).toEqual([
      [ids[1], 2],
      [ids[0], 2],
    ]);
  });

  it('refuses bad parameters with FERRY_CMD_BAD_REQUEST, and an unknown device as not found', async () => {
    for (const q of ['?limit=0', '?limit=1001', '?limit=x', '?state=done', '?device=a%20b']) {
      const r = await call(api, 'GET', `/api/v1/commands${q}`, priv);
      expect([q, r.status, (r.body as { code: string }).code]).toEqual([q, 400, 'FERRY_CMD_BAD_REQUEST']);
    }
    const r = await call(api, 'GET', '/api/v1/commands?device=nobody', priv);
    expect([r.status, (r.body as { code: string }).code]).toEqual([404, 'FERRY_CMD_DEVICE_NOT_FOUND']);
  });
});

describe('GET /api/v1/sos and /api/v1/functions', () => {
  it('lists service objects with where they are hosted and their streams’ counters', async () => {
    const doc = {
      streams: {
        t: { channels: { a: { type: 'number' } } },
        d: { channels: { a: { 'current-value': '{$t.channels.a.current-value}+{$t.channels.a.current-value}', type: 'number' } } },
      },
    };
    const so = ((await call(api, 'POST', '/api/v1/sos', priv, doc)).body as { id: string }).id;
    for (const v of [1, 2]) await call(api, 'PUT', `/api/v1/sos/${so}/streams/t`, priv, { channels: { a: { 'current-value': v } }, lastUpdate: v });
    const r = (await call(api, 'GET', '/api/v1/sos', priv)).body as {
      sos: { id: string; hosted: string; streams: { name: string; counters?: { computed: number } }[] }[];
    };
    const mine = r.sos.find((s) => s.id === so);
    expect(mine?.hosted).toBe('cloud');
    expect(mine?.streams.map((s) => [s.name, s.counters?.computed])).toEqual([
      ['t', 2],
      ['d', 2],
    ]);
    const bad = await call(api, 'GET', '/api/v1/sos?limit=0', priv);
    expect([bad.status, (bad.body as { code: string }).code]).toEqual([400, 'FERRY_COMPOSE_BAD_REQUEST']);
  });

  it('counts calls and errors per function hash; a global credential names the owner', async () => {
    const bytes = wat(KV_WAT);
    const hash = sha256Hex(bytes);
    expect((await call(api, 'POST', '/api/functions/modules?namespace=home', priv, bytes, 'application/wasm')).status).toBe(201);
    await call(api, 'POST', '/api/functions/whitelist', priv, { namespace: 'home', hash, allowed: true });
    const run = (exp: string) => call(api, 'POST', '/api/functions/call', priv, { hash, export: exp, args: [1, 2], namespace: 'home' });
    expect((await run('add')).status).toBe(200);
    expect((await run('add')).status).toBe(200);
    expect((await run('nope')).status).toBe(404);
    const r = (await call(api, 'GET', '/api/v1/functions', priv)).body as { functions: { hash: string; calls: number; errors: number; lastError?: string }[] };
    expect(r.functions.find((f) => f.hash === hash)).toMatchObject({ calls: 3, errors: 1, lastError: 'FERRY_FN_NO_SUCH_EXPORT' });
    const global = await call(api, 'GET', '/api/v1/functions', ADMIN_TOKEN);
    expect([global.status, (global.body as { code: string }).code]).toEqual([400, 'FERRY_FN_BAD_REQUEST']);
    const named = (await call(api, 'GET', '/api/v1/functions?owner=alice', ADMIN_TOKEN)).body as { functions: { hash: string }[] };
    expect(named.functions.map((f) => f.hash)).toContain(hash);
  });
});
