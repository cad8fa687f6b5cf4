/** The dashboard's serving plugin on a bare fastify app: the HTML shell, login redirects, assets, headers. */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboard, SECURITY_HEADERS } from './serve.ts';

let app: FastifyInstance;
beforeAll(async () => {
  app = Fastify();
  // An existing JSON route on a page URL, as the cloud's /health.
  app.get('/health', async () => ({ status: 'ok' }));
  await app.register(dashboard, { kind: 'gateway', pages: ['/sources', '/health'], loggedIn: (r) => r.headers['x-test-session'] === 'yes' });
}, 60_000);
afterAll(() => app.close());

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
const session = { 'x-test-session': 'yes' };

describe('dashboard serving', () => {
  it('answers a page with the HTML shell only with a session, else redirects to /login with the page as next', async () => {
    const anon = await get('/sources?x=1');
    expect([anon.statusCode, anon.headers.location]).toEqual([302, '/login?next=%2Fsources%3Fx%3D1']);
    const page = await get('/sources', session);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('data-kind="gateway"');
    expect(page.body).not.toMatch(/<script>(?!<\/script>)/); // no inline script: only <script src>
    expect((await get('/login')).statusCode).toBe(200);
    expect((await get('/')).headers.location).toBe('/sources');
  });

  it('sends the security headers on the shell, redirects and assets', async () => {
    const page = await get('/login');
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(page.headers[k]).toBe(v);
    expect(SECURITY_HEADERS['content-security-policy']).toMatch(/script-src 'self';/);
    expect(SECURITY_HEADERS['content-security-policy']).not.toMatch(/script-src[^;]*unsafe/);
    expect((await get('/sources')).headers['x-frame-options']).toBe('DENY');
  });

  it('serves the bundle under hashed names as immutable, and nothing else under /assets', async () => {
    const html = (await get('/login')).body;
    const js = /src="(\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    const css = /href="(\/assets\/style-[A-Z0-9]+\.css)"/.exec(html)?.[1];
    expect(js).toBeDefined();
    expect(css).toBeDefined();
    const a = await get(js!);
    expect([a.statusCode, a.headers['content-type'], a.headers['cache-control'], a.headers['x-content-type-options']]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
      'nosniff',
    ]);
    expect(a.body.length).toBeGreaterThan(10_000); // preact, uPlot and the pages bundled
    expect((await get(css!)).body).toContain('.u-legend'); // uPlot's CSS bundled in
    for (const bad of ['/assets/manifest.json', '/assets/..%2Fmanifest.json', '/assets/app.js']) expect((await get(bad)).statusCode).toBe(404);
  });

  it('leaves an existing route on a page URL to non-browsers, and serves browsers the shell', async () => {
    const api = await get('/health', session);
    expect(api.json()).toEqual({ status: 'ok' });
    const browser = await get('/health', { ...session, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(browser.headers['content-type']).toContain('text/html');
  });
});
