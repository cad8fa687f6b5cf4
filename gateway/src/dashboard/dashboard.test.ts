/**
 * The gateway dashboard's login and data routes on a running daemon (aedes broker, real HTTP): a session
 * opened with the API token holds a random id, never the token; it reads what the pages need; a change made
 * with the cookie must come from the gateway's own origin; logging out, a restart and a wrong token end or
 * refuse it; without a token the dashboard is off.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { until } from '@ferry/test-kit/until';
import { parseConfig } from '../daemon/config.ts';
import { GatewayDaemon } from '../daemon/daemon.ts';
import type { Source } from '../sources/types.ts';
import { GATEWAY_SESSION_COOKIE } from './sessions.ts';

const KEY = '5a'.repeat(32);
const TOKEN = 'gateway-dashboard-token-0123456789abcdef';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gateway(opts: { token?: boolean; dir?: string } = {}) {
  const broker = await aedesBroker();
  cleanups.push(() => broker.stop());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'ferry-gw-dash-'));
  writeFileSync(join(dir, 'api.token'), TOKEN, { mode: 0o600 });
  const cfg = parseConfig({
    gateway: { id: 'gw-d', key: KEY, data_dir: dir },
    uplink: { url: broker.url },
    api: { port: 0, ...(opts.token !== false && { token_file: join(dir, 'api.token') }) },
  });
  const src = new ScriptedSource();
  const d = new GatewayDaemon(cfg, { sources: [src], log: () => undefined });
  const api = await d.start();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) await d.stop();
    stopped = true;
  };
  cleanups.push(stop);
  return { d, src, api, dir, stop };
}

const login = async (api: string, token: unknown): Promise<Response> =>
  fetch(`${api}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });

/** The session cookie's `name=value` from a login's Set-Cookie. */
const cookieOf = (res: Response): string => res.headers.get('set-cookie')!.split(';')[0]!;

const codeOf = async (res: Response): Promise<[number, string]> => [res.status, ((await res.json()) as { code: string }).code];

describe('gateway dashboard', () => {
  it('logs in with the API token into an HttpOnly SameSite=Strict cookie holding a random id, never the token', async () => {
    const { api } = await gateway();
    const res = await login(api, TOKEN);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'gateway:gw-d', role: 'admin', owner: null, via: 'session' });
    const set = res.headers.get('set-cookie')!;
    expect(set).toMatch(new RegExp(`^${GATEWAY_SESSION_COOKIE}=[A-Za-z0-9_-]{43};`));
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).not.toContain(TOKEN);
    const cookie = cookieOf(res);
    const who = await fetch(`${api}/api/session`, { headers: { cookie } });
    expect(await who.json()).toMatchObject({ role: 'admin', via: 'session' });
    // A second login is another session.
    expect(cookieOf(await login(api, TOKEN))).not.toBe(cookie);
  });

  it('serves its pages (kind gateway) and their bundle without a credential; a page without a session goes to /login', async () => {
    const { api } = await gateway();
    const page = await fetch(`${api}/sources`, { redirect: 'manual' });
    expect([page.status, page.headers.get('location')]).toEqual([302, '/login?next=%2Fsources']);
    const loginPage = await fetch(`${api}/login`);
    const html = await loginPage.text();
    expect(loginPage.status).toBe(200);
    expect(html).toContain('data-kind="gateway"');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    expect((await fetch(`${api}${script}`)).status).toBe(200);
    const cookie = cookieOf(await login(api, TOKEN));
    for (const path of ['/sources', '/jobs', '/status']) {
      const r = await fetch(`${api}${path}`, { headers: { cookie }, redirect: 'manual' });
      expect([r.status, (await r.text()).includes('data-kind="gateway"')], path).toEqual([200, true]);
    }
    // Open means the shell only: the data stays behind the credential.
    expect((await fetch(`${api}/api/job-reports`)).status).toBe(401);
  });

  it('refuses a wrong token or a malformed body, and paces failed logins per address', async () => {
    const { api } = await gateway();
    expect(await codeOf(await login(api, 'wrong'))).toEqual([401, 'FERRY_GW_DASH_BAD_LOGIN']);
    expect(await codeOf(await login(api, 42))).toEqual([401, 'FERRY_GW_DASH_BAD_LOGIN']);
    const codes: string[] = [];
    for (let i = 0; i < 30; i++) codes.push((await codeOf(await login(api, `guess-${i}`)))[1]);
    expect(codes).toContain('FERRY_GW_DASH_RATE_LIMITED');
    expect((await codeOf(await login(api, 'x')))[0]).toBe(429);
  });

  it('the session reads the sources with their last reading, the jobs and the status; without it they are refused', async () => {
    const { api, src, d } = await gateway();
    const cookie = cookieOf(await login(api, TOKEN));
    src.sink!.reading({ device: 'A4:C1:38:00:11:22', kind: 'bthome', atMs: 1_767_225_600_000, values: { temperature: 21.5 } });
    expect(await codeOf(await fetch(`${api}/api/sources`))).toEqual([401, 'FERRY_GW_UNAUTHORIZED']);
    expect(await codeOf(await fetch(`${api}/api/sources`, { headers: { cookie: `${GATEWAY_SESSION_COOKIE}=forged` } }))).toEqual([
      401,
      'FERRY_GW_UNAUTHORIZED',
    ]);
    const sources = (await (await fetch(`${api}/api/sources`, { headers: { cookie } })).json()) as {
      sources: { name: string; kind: string; up: boolean; restarts: number }[];
      readings: { device: string; values: Record<string, number> }[];
    };
    expect(sources.sources).toEqual([expect.objectContaining({ name: 'scripted', kind: 'scripted', up: true, restarts: 0 })]);
    expect(sources.readings).toEqual([expect.objectContaining({ device: 'A4:C1:38:00:11:22', kind: 'bthome', values: { temperature: 21.5 } })]);
    const rule = {
      headers: { runtime: 'gateway:gw-d', targetResource: api, jobType: 'single-filter' },
      jobConfig: {
        connectors: { input: 'ferry/up/gw-d/bthome/+', output: 'ferry/up/gw-d/hot' },
        jobProps: { condition: 'gt', threshold: 25, fieldName: 'temperature' },
      },
    };
    const { jobId } = d.rules.engine.install(rule);
    const jobs = (await (await fetch(`${api}/api/job-reports`, { headers: { cookie } })).json()) as {
      jobs: { jobInfo: { jobId: string }; counters: object }[];
    };
    expect(jobs.jobs.map((j) => j.jobInfo.jobId)).toEqual([jobId]);
    expect(jobs.jobs[0]!.counters).toMatchObject({ in: 0, out: 0 });
    const status = (await (await fetch(`${api}/api/status`, { headers: { cookie } })).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ gateway: 'gw-d', live: true, outbox: { rows: expect.any(Number) }, uplink: { connected: expect.any(Boolean) } });
    expect(Array.isArray(status['checks'])).toBe(true);
  });

  it("/api/sources counts the supervisor's restarts of a source and says why one is failing", async () => {
    const broker = await aedesBroker();
    cleanups.push(() => broker.stop());
    const dir = mkdtempSync(join(tmpdir(), 'ferry-gw-dash-'));
    writeFileSync(join(dir, 'api.token'), TOKEN, { mode: 0o600 });
    // Down until its third start: the supervisor restarts it twice.
    let starts = 0;
    const flaky: Source = {
      name: 'serial:/dev/ttyFLAKY#pms5003',
      start: async () => {
        starts++;
      },
      stop: async () => undefined,
      health: () => ({ name: 'serial:/dev/ttyFLAKY#pms5003', up: starts >= 3, lastInputMs: undefined, counters: { frames: 7 } }),
    };
    const cfg = parseConfig({
      gateway: { id: 'gw-f', key: KEY, data_dir: dir },
      uplink: { url: broker.url },
      api: { port: 0, token_file: join(dir, 'api.token') },
    });
    const dead: Source = {
      name: 'board:/dev/ttyDEAD',
      start: async () => undefined,
      stop: async () => undefined,
      health: () => ({ name: 'board:/dev/ttyDEAD', up: false, lastInputMs: undefined, counters: {} }),
    };
    const d = new GatewayDaemon(cfg, { sources: [flaky, dead], log: () => undefined, checkPeriodMs: 20 });
    const api = await d.start();
    cleanups.push(() => d.stop());
    const cookie = cookieOf(await login(api, TOKEN));
    type Row = { name: string; kind: string; up: boolean; restarts: number; failing?: string; counters: object };
    const rows = async (): Promise<Row[]> => ((await (await fetch(`${api}/api/sources`, { headers: { cookie } })).json()) as { sources: Row[] }).sources;
    await until(async () => (await rows())[0]!.up, 'the source to come up after its restarts', 20_000);
    await until(async () => (await rows())[1]!.restarts >= 1, 'the dead source restarted', 20_000);
    // The source reports itself up before the supervisor's next sweep ends its failure.
    await until(async () => (await rows())[0]!.failing === undefined, 'the supervisor to see the source back', 20_000);
    const [row, down] = await rows();
    expect(row).toMatchObject({ name: 'serial:/dev/ttyFLAKY#pms5003', kind: 'serial', up: true, restarts: 2, counters: { frames: 7 } });
    expect(row!.failing).toBeUndefined();
    expect(down).toMatchObject({ name: 'board:/dev/ttyDEAD', kind: 'board', up: false, failing: 'board:/dev/ttyDEAD is down' });
  });

  it("a change made with the cookie needs the gateway's own Origin; the bearer needs none", async () => {
    const { api, d } = await gateway();
    const cookie = cookieOf(await login(api, TOKEN));
    const rule = {
      headers: { runtime: 'gateway:gw-d', targetResource: api, jobType: 'single-filter' },
      jobConfig: { connectors: { input: 'ferry/up/gw-d/x/+', output: 'ferry/up/gw-d/y' }, jobProps: { condition: 'gt', threshold: 1, fieldName: 't' } },
    };
    const { jobId } = d.rules.engine.install(rule);
    const start = (headers: Record<string, string>) =>
      fetch(`${api}/api/start`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ jobId }) });
    expect(await codeOf(await start({ cookie }))).toEqual([403, 'FERRY_GW_DASH_ORIGIN']);
    expect(await codeOf(await start({ cookie, origin: 'http://evil.example' }))).toEqual([403, 'FERRY_GW_DASH_ORIGIN']);
    expect(d.rules.engine.status(jobId).jobInfo.jobStatus).not.toBe('RUNNING');
    expect((await start({ cookie, origin: api })).status).toBe(200);
    expect(d.rules.engine.status(jobId).jobInfo.jobStatus).toBe('RUNNING');
    expect(
      (
        await fetch(`${api}/api/stop`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ jobId }),
        })
      ).status,
    ).toBe(200);
  });

  it('logging out ends the session; so does a restart (sessions live in memory)', async () => {
    const first = await gateway();
    const a = cookieOf(await login(first.api, TOKEN));
    const b = cookieOf(await login(first.api, TOKEN));
    const out = await fetch(`${first.api}/api/session`, { method: 'DELETE', headers: { cookie: a } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^${GATEWAY_SESSION_COOKIE}=;`));
    expect((await fetch(`${first.api}/api/sources`, { headers: { cookie: a } })).status).toBe(401);
    expect((await fetch(`${first.api}/api/sources`, { headers: { cookie: b } })).status).toBe(200);
    await first.stop();
    const second = await gateway({ dir: first.dir });
    expect((await fetch(`${second.api}/api/sources`, { headers: { cookie: b } })).status).toBe(401);
  });

  it('without an API token the dashboard is off: its pages and the login answer FERRY_GW_DASH_OFF', async () => {
    const { api } = await gateway({ token: false });
    expect(await codeOf(await login(api, TOKEN))).toEqual([404, 'FERRY_GW_DASH_OFF']);
    for (const path of ['/', '/login', '/sources', '/jobs', '/status'])
      expect(await codeOf(await fetch(`${api}${path}`)), path).toEqual([404, 'FERRY_GW_DASH_OFF']);
    // The API itself stays as it was: on loopback, without a credential.
    expect((await fetch(`${api}/api/sources`)).status).toBe(200);
  });
});
