/**
 * @module `@ferry/dashboard/serve`: the fastify plugin that serves the dashboard (docs/operations.md,
 * "Dashboard"). Every page URL answers the same HTML shell (so links and bookmarks work), which holds no data:
 * without a session a page redirects to /login?next=<the page>; `/` redirects to the first page; the bundle is
 * under /assets/<name>-<hash>.<ext>, cached as immutable. Every answer carries a Content-Security-Policy
 * without inline scripts, X-Frame-Options DENY and nosniff. When dist/ is missing, or older than a source
 * file (a checkout being worked on), the plugin builds it first.
 * A page URL the server already answers (the cloud's JSON `/health`) is served to browsers only: a request
 * whose Accept names text/html gets the shell, others the existing route.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ASSETS_DIR, buildDashboard, readManifest, type Manifest } from './build.ts';

export interface DashboardOptions {
  readonly kind: 'cloud' | 'gateway';
  /** The page URLs (PAGE_PATHS or GATEWAY_PAGE_PATHS); the first is where `/` and a login go. */
  readonly pages: readonly string[];
  /** Whether the request carries a valid session; default: the API's authentication set `req.principal`. */
  readonly loggedIn?: (req: FastifyRequest) => boolean;
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // Scripts only from this origin (no inline script, no eval); uPlot and preact set element styles, hence inline styles.
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const HTML_ACCEPT = 'ferryDashboardHtml';
const hasPrincipal = (req: FastifyRequest): boolean => (req as { principal?: unknown }).principal !== undefined;

export function shellHtml(kind: 'cloud' | 'gateway', m: Manifest): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ferry</title>
<link rel="stylesheet" href="/assets/${m.css}">
<script type="module" src="/assets/${m.js}"></script>
</head>
<body data-kind="${kind}"><noscript>The Ferry dashboard needs JavaScript.</noscript></body>
</html>
`;
}

async function manifest(): Promise<Manifest> {
  return readManifest() ?? (await buildDashboard());
}

/** Registered with `app.register(dashboard, {kind, pages})`; its routes and headers apply to the app itself. */
export async function dashboard(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const m = await manifest();
  const html = shellHtml(opts.kind, m);
  const home = opts.pages[0] ?? '/login';
  const loggedIn = opts.loggedIn ?? hasPrincipal;
  const assets = new Set([m.js, m.css]);
  const secure = (reply: FastifyReply): FastifyReply => reply.headers(SECURITY_HEADERS);
  const shell = (reply: FastifyReply): FastifyReply => secure(reply).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);

  const page = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (!loggedIn(req)) return secure(reply).redirect(`/login?next=${encodeURIComponent(req.url)}`, 302);
    return shell(reply);
  };
  if (!app.hasConstraintStrategy(HTML_ACCEPT))
    app.addConstraintStrategy({
      name: HTML_ACCEPT,
      storage() {
        // Untyped like find-my-way's own stores: it keeps route handlers of its own type here.
        const handlers = new Map();
        return {
          get: (k: unknown) => handlers.get(k) ?? null,
          set: (k: unknown, v: unknown) => {
            handlers.set(k, v);
          },
        };
      },
      deriveConstraint: (req: { headers: Record<string, string | string[] | undefined> }) =>
        String(req.headers['accept'] ?? '').includes('text/html') ? 'yes' : undefined,
      mustMatchWhenDerived: false,
    });
  for (const path of opts.pages) {
    const taken = app.hasRoute({ method: 'GET', url: path });
    app.get(path, { config: { access: 'public' }, ...(taken && { constraints: { [HTML_ACCEPT]: 'yes' } }) }, page);
  }
  app.get('/login', { config: { access: 'public' } }, async (_req, reply) => shell(reply));
  if (!app.hasRoute({ method: 'GET', url: '/favicon.ico' }))
    app.get('/favicon.ico', { config: { access: 'public' } }, async (_req, reply) => secure(reply).code(204).send());
  if (!app.hasRoute({ method: 'GET', url: '/' })) app.get('/', { config: { access: 'public' } }, async (_req, reply) => secure(reply).redirect(home, 302));
  app.get<{ Params: { file: string } }>('/assets/:file', { config: { access: 'public' } }, async (req, reply) => {
    const file = req.params.file;
    // Only this build's files: no path from the request reaches the file system.
    if (!assets.has(file)) return secure(reply).code(404).type('text/plain').send('not found\n');
    const body = await readFile(join(ASSETS_DIR, file));
    return secure(reply)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .type(TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream')
      .send(body);
  });
}
// Like fastify-plugin: the routes land on the app it is registered on (its hooks, its authentication).
(dashboard as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
