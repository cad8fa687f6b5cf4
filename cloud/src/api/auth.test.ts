/**
 * Every HTTP route of the cloud is authenticated and authorized in one place (auth.ts): anonymous callers are
 * refused (they were not: an anonymous POST /api/devices answered 201 with a key), roles are enforced, each
 * owner sees only their own objects, browser sessions work and end, and each credential has a rate limit.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deleteAs, getAs, postAs } from '@ferry/test-kit/http';
import { CloudService, type CloudOptions } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';
import { declaredRoutes } from './auth.ts';
import { PAGE_PATHS } from '@ferry/dashboard/page';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cloud(extra: Partial<CloudOptions> = {}): Promise<{ svc: CloudService; url: string }> {
  const { svc, httpUrl, stop } = await startTestCloud({ name: 'auth', ...extra });
  cleanups.push(stop);
  return { svc, url: httpUrl };
}

const code = async (r: Response): Promise<[number, string]> => [r.status, ((await r.json()) as { code: string }).code];

/** Owner `id` registered by the admin; returns its private token. */
async function owner(url: string, id: string): Promise<string> {
  const r = await postAs(`${url}/api/owners`, { id });
  expect(r.status).toBe(201);
  return ((await r.json()) as { privateToken: string }).privateToken;
}

async function apiToken(url: string, by: string, role: string, ownerId?: string): Promise<{ id: string; token: string }> {
  const r = await postAs(`${url}/api/tokens`, { role, ...(ownerId !== undefined && { owner: ownerId }) }, by);
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()) as { id: string; token: string };
}

describe('HTTP authentication', () => {
  it('refuses anonymous callers on every route but the public ones, which are few and named', async () => {
    const { svc, url } = await cloud({ httpRates: { perCredential: 1000, anonymous: 1000 } });
    const routes = declaredRoutes(svc.api!);
    expect(routes.length).toBeGreaterThan(20);
    const open = routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`);
    // The dashboard's pages, login and assets are public HTML and bundles holding no data (pages redirect to /login).
    const dashboardHtml = ['GET /', 'GET /login', 'GET /favicon.ico', 'GET /assets/:file', ...PAGE_PATHS.map((p) => `GET ${p}`)];
    // A rule's hand-over back from a gateway carries a one-time ticket as its credential (rule-return.ts).
    const ruleReturn = ['POST /api/rule-return/:ticket/api/move'];
    expect(open.sort()).toEqual(
      ['DELETE /api/session', 'GET /health', 'GET /healthz', 'GET /readyz', 'POST /api/owners', 'POST /api/session', ...dashboardHtml, ...ruleReturn].sort(),
    );
    for (const r of routes) {
      if (r.access === 'public' || r.access === 'fn') continue;
      if (r.access === 'fn-bearer') {
        const res = await fetch(`${url}${r.url}`, { method: r.method, headers: { 'content-type': 'application/wasm' }, body: new Uint8Array(1024) });
        expect([`${r.method} ${r.url}`, ...(await code(res))]).toEqual([`${r.method} ${r.url}`, 401, 'FERRY_AUTH_REQUIRED']);
        continue;
      }
      const path = r.url.replace(/:[A-Za-z]+/g, 'x1').replace('*', 'api/jobs');
      const res = await fetch(`${url}${path}`, {
        method: r.method,
        ...(r.method !== 'GET' && r.method !== 'DELETE' && { headers: { 'content-type': 'application/json' }, body: '{}' }),
      });
      expect([`${r.method} ${r.url}`, ...(await code(res))]).toEqual([`${r.method} ${r.url}`, 401, 'FERRY_AUTH_REQUIRED']);
    }
    // A wrong credential is told apart from none.
    expect(await code(await getAs(`${url}/api/devices`, `ferry_at.AAAAAAAAAAAA.${'A'.repeat(43)}`))).toEqual([401, 'FERRY_AUTH_BAD_CREDENTIAL']);
    expect(await code(await getAs(`${url}/api/devices`, 'x'.repeat(40)))).toEqual([401, 'FERRY_AUTH_BAD_CREDENTIAL']);
  });

  it('the attacks of an anonymous neighbour are refused: devices, owners, rules, streams, gateways', async () => {
    const { url } = await cloud();
    const anon = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await anon('/api/devices', { id: 'evil' })).status).toBe(401);
    expect((await fetch(`${url}/api/devices`)).status).toBe(401);
    expect(await code(await anon('/api/owners', { id: 'alice' }))).toEqual([401, 'FERRY_AUTH_REQUIRED']);
    expect((await anon('/api/install', { id: 'x' })).status).toBe(401);
    expect((await anon('/api/move', { jobId: 'j', target_runtime: 'http://127.0.0.1:1', targetResource: 'r' })).status).toBe(401);
    expect((await anon('/api/uninstall', { jobId: 'j' })).status).toBe(401);
    expect((await fetch(`${url}/api/streams/th-1/tel`)).status).toBe(401);
    expect((await anon('/api/gateways/gw-1/api/install', {})).status).toBe(401);
    // The admin still does all of it; GET /api/streams/<kid>/<ev> answers the admin credential.
    expect((await postAs(`${url}/api/devices`, { id: 'th-1' })).status).toBe(201);
    expect((await getAs(`${url}/api/streams/th-1/tel`)).status).toBe(200);
  });

  it('roles: a viewer reads, an operator runs, only an admin provisions and mints', async () => {
    const { url } = await cloud();
    const priv = await owner(url, 'alice');
    const viewer = await apiToken(url, priv, 'viewer');
    const operator = await apiToken(url, priv, 'operator');
    expect((await getAs(`${url}/api/devices`, viewer.token)).status).toBe(200);
    expect(await code(await postAs(`${url}/api/devices`, { id: 'th-2' }, viewer.token))).toEqual([403, 'FERRY_AUTH_FORBIDDEN']);
    expect(await code(await postAs(`${url}/api/devices`, { id: 'th-2' }, operator.token))).toEqual([403, 'FERRY_AUTH_FORBIDDEN']);
    expect(await code(await postAs(`${url}/api/tokens`, { role: 'viewer' }, operator.token))).toEqual([403, 'FERRY_AUTH_FORBIDDEN']);
    // An owner's admin token provisions for that owner; it cannot mint for another, nor a global one.
    const admin = await apiToken(url, priv, 'admin');
    const made = await postAs(`${url}/api/devices`, { id: 'th-2' }, admin.token);
    expect(made.status).toBe(201);
    expect(((await made.json()) as { owner: string }).owner).toBe('alice');
    expect(await code(await postAs(`${url}/api/tokens`, { role: 'viewer', owner: 'bob' }, admin.token))).toEqual([403, 'FERRY_AUTH_FORBIDDEN']);
    // Owners' credentials never reach the cloud admin's routes (rules, metrics, owners, invitations).
    expect(await code(await getAs(`${url}/api/jobs`, admin.token))).toEqual([403, 'FERRY_AUTH_FORBIDDEN']);
    expect(await code(await getAs(`${url}/metrics`, admin.token))).toEqual([403, 'FERRY_AUTH_FORBIDDEN']);
    expect(await code(await postAs(`${url}/api/owners`, { id: 'mallory' }, priv))).toEqual([403, 'FERRY_AUTH_FORBIDDEN']);
    // A global viewer token is what a Prometheus scraper gets.
    const scraper = await apiToken(url, ADMIN_TOKEN, 'viewer');
    expect((await getAs(`${url}/metrics`, scraper.token)).status).toBe(200);
    expect(await code(await postAs(`${url}/api/devices`, { id: 'th-3' }, scraper.token))).toEqual([403, 'FERRY_AUTH_FORBIDDEN']);
  });

  it('a revoked API token stops at once, and so do the sessions made with it', async () => {
    const { url } = await cloud();
    const priv = await owner(url, 'alice');
    const t = await apiToken(url, priv, 'viewer');
    const login = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: t.token }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ferry_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const session = cookie.split(';')[0] ?? '';
    const me = await fetch(`${url}/api/session`, { headers: { cookie: session } });
    expect(await me.json()).toEqual({ owner: 'alice', role: 'viewer', via: 'api-token' });
    expect((await fetch(`${url}/api/devices`, { headers: { cookie: session } })).status).toBe(200);
    expect((await deleteAs(`${url}/api/tokens/${t.id}`, priv)).status).toBe(200);
    expect(await code(await getAs(`${url}/api/devices`, t.token))).toEqual([401, 'FERRY_AUTH_BAD_CREDENTIAL']);
    expect((await fetch(`${url}/api/devices`, { headers: { cookie: session } })).status).toBe(401);
    // Logging in with a bad credential sets no cookie.
    const bad = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'nope' }) });
    expect([bad.status, bad.headers.get('set-cookie')]).toEqual([401, null]);
  });

  it("a change made with the session cookie must come from the cloud's own origin; bearer calls need no Origin", async () => {
    const { url } = await cloud();
    const priv = await owner(url, 'alice');
    const t = await apiToken(url, priv, 'operator');
    const login = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: t.token }),
    });
    const session = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const post = (origin?: string): Promise<Response> =>
      fetch(`${url}/api/v1/commands`, {
        method: 'POST',
        headers: { cookie: session, 'content-type': 'application/json', ...(origin !== undefined && { origin }) },
        body: '{}',
      });
    // Another port of the same host is the same site to SameSite, so the cookie alone does not prove the page.
    const port = Number(new URL(url).port);
    expect(await code(await post(`http://127.0.0.1:${port + 1}`))).toEqual([403, 'FERRY_AUTH_ORIGIN']);
    expect(await code(await post())).toEqual([403, 'FERRY_AUTH_ORIGIN']);
    // From its own origin the request reaches the route (which refuses the empty object for what it is).
    const own = await post(new URL(url).origin);
    expect(own.status).toBe(400);
    // Reading with the cookie needs no Origin; a bearer credential never does.
    expect((await fetch(`${url}/api/devices`, { headers: { cookie: session } })).status).toBe(200);
    expect((await postAs(`${url}/api/v1/commands`, {}, t.token)).status).toBe(400);
  });

  it('an invitation registers the owner it names, once', async () => {
    const { url } = await cloud();
    const inv = (await (await postAs(`${url}/api/invitations`, { owner: 'carol' })).json()) as { invitation: string };
    const redeem = (body: unknown) =>
      fetch(`${url}/api/owners`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const r = await redeem({ invitation: inv.invitation });
    expect(r.status).toBe(201);
    const { owner: o, privateToken } = (await r.json()) as { owner: string; privateToken: string };
    expect(o).toBe('carol');
    expect((await getAs(`${url}/api/devices`, privateToken)).status).toBe(200);
    expect(await code(await redeem({ invitation: inv.invitation }))).toEqual([401, 'FERRY_AUTH_BAD_CREDENTIAL']);
  });

  it('limits the requests of each credential, and of anonymous callers per address', async () => {
    const { url } = await cloud({ httpRates: { perCredential: 5, anonymous: 3 } });
    const statuses = await Promise.all(Array.from({ length: 12 }, async () => (await getAs(`${url}/api/devices`)).status));
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    const limited = await getAs(`${url}/api/devices`);
    if (limited.status === 429) expect(((await limited.json()) as { code: string }).code).toBe('FERRY_AUTH_RATE_LIMITED');
    const anon = await Promise.all(Array.from({ length: 8 }, async () => (await fetch(`${url}/api/devices`)).status));
    expect(anon).toContain(429);
  });
});

describe('the admin credential', () => {
  it('is made at first start, kept 0600 and the same at the next start; FERRY_ADMIN_TOKEN overrides it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-auth-admin-'));
    const saved = process.env['FERRY_ADMIN_TOKEN'];
    delete process.env['FERRY_ADMIN_TOKEN'];
    try {
      const first = new CloudService({ dataDir, mqttPort: 0, httpPort: 0, log: () => undefined });
      expect(first.adminTokenCreated).toBe(true);
      expect(readFileSync(join(dataDir, 'admin.token'), 'utf8').trim()).toBe(first.adminToken);
      expect(statSync(join(dataDir, 'admin.token')).mode & 0o777).toBe(0o600);
      const { httpUrl } = await first.start();
      expect((await getAs(`${httpUrl}/api/devices`, first.adminToken)).status).toBe(200);
      await first.stop();
      const second = new CloudService({ dataDir, mqttPort: 0, httpPort: 0, log: () => undefined });
      expect([second.adminTokenCreated, second.adminToken]).toEqual([false, first.adminToken]);
      second.db.close();
      process.env['FERRY_ADMIN_TOKEN'] = ADMIN_TOKEN;
      const third = new CloudService({ dataDir, mqttPort: 0, httpPort: 0, log: () => undefined });
      expect(third.adminToken).toBe(ADMIN_TOKEN);
      third.db.close();
      process.env['FERRY_ADMIN_TOKEN'] = 'short';
      expect(() => new CloudService({ dataDir, mqttPort: 0, httpPort: 0, log: () => undefined })).toThrow(/at least 32/);
    } finally {
      if (saved === undefined) delete process.env['FERRY_ADMIN_TOKEN'];
      else process.env['FERRY_ADMIN_TOKEN'] = saved;
    }
  });
});
