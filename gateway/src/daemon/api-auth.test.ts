/**
 * The gateway API's token: without it (a regression: the API answered anyone) every route but /health is
 * refused with 401 FERRY_GW_UNAUTHORIZED; an API bound beyond loopback must have one.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { ConfigError, parseConfig } from './config.ts';
import { GatewayDaemon } from './daemon.ts';

const KEY = '5a'.repeat(32);
const TOKEN = 'gateway-api-token-0123456789abcdef-xyz';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A daemon whose API has TOKEN (api.token_file), on a broker of its own; its API's URL. */
async function daemonWithToken(): Promise<string> {
  const broker = await aedesBroker();
  cleanups.push(() => broker.stop());
  const dir = mkdtempSync(join(tmpdir(), 'ferry-gw-api-'));
  writeFileSync(join(dir, 'api.token'), `${TOKEN}\n`, { mode: 0o600 });
  const cfg = parseConfig({
    gateway: { id: 'gw-a', key: KEY, data_dir: dir },
    uplink: { url: broker.url },
    api: { port: 0, token_file: join(dir, 'api.token') },
  });
  const d = new GatewayDaemon(cfg, { sources: [], log: () => undefined });
  const api = await d.start();
  cleanups.push(() => d.stop());
  return api;
}

describe('gateway API token', () => {
  it('with api.token_file every route but /health needs the token', async () => {
    const api = await daemonWithToken();
    const none = await fetch(`${api}/api/jobs`);
    expect([none.status, ((await none.json()) as { code: string }).code]).toEqual([401, 'FERRY_GW_UNAUTHORIZED']);
    expect((await fetch(`${api}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${api}/api/v1/health/history`)).status).toBe(401);
    expect((await fetch(`${api}/api/v1/health/history`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${api}/api/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${api}/health`)).status).toBe(200);
  });

  it('paces refused requests per address, so guessing the token is slow; the right token still gets through', async () => {
    const api = await daemonWithToken();
    const guess = async (i: number): Promise<[number, string]> => {
      const r = await fetch(`${api}/api/jobs`, { headers: { authorization: `Bearer guess-${i}` } });
      return [r.status, ((await r.json()) as { code: string }).code];
    };
    const guesses = await Promise.all(Array.from({ length: 60 }, (_, i) => guess(i)));
    const codes = new Set(guesses.map(([, c]) => c));
    expect(codes).toEqual(new Set(['FERRY_GW_UNAUTHORIZED', 'FERRY_GW_RATE_LIMITED']));
    expect(guesses.find(([, c]) => c === 'FERRY_GW_RATE_LIMITED')?.[0]).toBe(429);
    expect((await fetch(`${api}/api/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('an API on a non-loopback address without a token is a configuration error; a short token too', () => {
    const base = { gateway: { id: 'gw-a', key: KEY, data_dir: '/tmp/x' }, uplink: { url: 'mqtt://127.0.0.1:1' } };
    expect(() => parseConfig({ ...base, api: { host: '0.0.0.0' } })).toThrow(ConfigError);
    expect(() => parseConfig({ ...base, api: { host: '0.0.0.0' } })).toThrow(/api.token_file/);
    expect(() => parseConfig({ ...base, api: { host: '127.0.0.1' } })).not.toThrow();
    const dir = mkdtempSync(join(tmpdir(), 'ferry-gw-api-'));
    writeFileSync(join(dir, 'short'), 'abc');
    const cfg = parseConfig({ ...base, gateway: { ...base.gateway, data_dir: dir }, api: { host: '0.0.0.0', port: 0, token_file: join(dir, 'short') } });
    expect(() => new GatewayDaemon(cfg, { sources: [], log: () => undefined })).toThrow(/at least 32/);
  });
});
