/**
 * @module The dashboard's shell (docs/operations.md, "Dashboard"): the login form (POST /api/session sets the
 * httpOnly session cookie), the nav of this dashboard's pages (the server names the kind, cloud or gateway,
 * in `<body data-kind>`), a router over location.pathname with history.pushState, the PageContext pages
 * draw with, and logout. The HTML holds no data: everything comes from the API with the session cookie.
 */
import type { Page, PageContext, Role, Session } from '../page.ts';
import { openLive } from './live.ts';
import { HOME, pagesOf, type DashboardKind } from '../pages/index.ts';
import { roleAllows, setRole } from '../widgets/dom.ts';

const kind: DashboardKind = document.body.dataset['kind'] === 'gateway' ? 'gateway' : 'cloud';
const pages = pagesOf(kind);

/** An API error as pages see it: the message is "<code>: <message>". */
async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const r = await fetch(path, {
    method: init.method ?? 'GET',
    credentials: 'same-origin',
    headers: init.body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  const text = await r.text();
  const body: unknown = text === '' ? undefined : JSON.parse(text);
  if (!r.ok) {
    const e = (body ?? {}) as { code?: string; message?: string };
    if (r.status === 401 && location.pathname !== '/login') toLogin();
    throw new Error(`${e.code ?? r.status}: ${e.message ?? r.statusText}`);
  }
  return body as T;
}

function toLogin(): void {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

async function currentSession(): Promise<Session | undefined> {
  const r = await fetch('/api/session', { credentials: 'same-origin' });
  if (!r.ok) return undefined;
  const s = (await r.json()) as { owner: string | null; role: Role; via?: string };
  return { role: s.role, ...(s.owner !== null && { owner: s.owner }), id: s.via ?? s.role };
}

const main = document.createElement('main');
let stop: (() => void) | undefined;

function shell(session: Session): void {
  const header = document.createElement('header');
  const brand = document.createElement('a');
  brand.className = 'brand';
  brand.textContent = kind === 'gateway' ? 'Ferry gateway' : 'Ferry';
  brand.href = HOME[kind];
  const nav = document.createElement('nav');
  for (const p of pages) {
    const a = document.createElement('a');
    a.href = p.path;
    a.textContent = p.title;
    a.dataset['testid'] = `nav-${p.path.slice(1)}`;
    nav.append(a);
  }
  const who = document.createElement('span');
  who.className = 'who';
  who.dataset['testid'] = 'session';
  who.textContent = `${session.owner ?? 'global'} · ${session.role}`;
  const out = document.createElement('button');
  out.type = 'button';
  out.textContent = 'Log out';
  out.dataset['testid'] = 'logout';
  out.addEventListener('click', () => {
    void fetch('/api/session', { method: 'DELETE', credentials: 'same-origin' }).finally(() => location.assign('/login'));
  });
  header.append(brand, nav, who, out);
  document.body.replaceChildren(header, main);
  // Same-origin links to a page of the table stay in the app (no reload); others behave as links do.
  document.addEventListener('click', (e) => {
    const a = (e.target as Element | null)?.closest('a');
    if (a === null || a === undefined || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || pageOf(url.pathname) === undefined) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
  window.addEventListener('popstate', () => route(session));
  route(session);
}

const pageOf = (path: string): Page | undefined => pages.find((p) => p.path === path);

let current: Session | undefined;
function navigate(url: string): void {
  history.pushState(null, '', url);
  if (current !== undefined) route(current);
}

function route(session: Session): void {
  stop?.();
  stop = undefined;
  const page = pageOf(location.pathname);
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.getAttribute('href') === location.pathname);
  const root = document.createElement('section');
  root.className = 'page';
  root.dataset['testid'] = `page-${location.pathname.slice(1)}`;
  main.replaceChildren(root);
  if (page === undefined) {
    root.textContent = 'No such page.';
    return;
  }
  document.title = `${page.title} · Ferry`;
  const ctx: PageContext = { session, api, live: openLive, navigate, may: (role) => roleAllows(role) };
  try {
    stop = page.render(root, ctx);
  } catch (e) {
    root.textContent = `This page failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function loginForm(): void {
  const form = document.createElement('form');
  form.className = 'login';
  form.innerHTML = `<h1>${kind === 'gateway' ? 'Ferry gateway' : 'Ferry'}</h1>
<label>Credential <input name="token" type="password" autocomplete="current-password" required data-testid="login-token"></label>
<button type="submit" data-testid="login-submit">Log in</button>
<p class="error" role="alert" data-testid="login-error" hidden></p>`;
  const error = form.querySelector<HTMLElement>('.error')!;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = (form.elements.namedItem('token') as HTMLInputElement).value;
    void fetch('/api/session', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    }).then(async (r) => {
      if (r.ok) return afterLogin();
      const b = (await r.json().catch(() => ({}))) as { message?: string };
      error.textContent =
        r.status === 401 || r.status === 403 ? 'That credential is unknown, expired or revoked.' : (b.message ?? `Login failed (${r.status}).`);
      error.hidden = false;
    });
  });
  document.body.replaceChildren(form);
}

/** Only a same-origin path may be `next` (no open redirect to another site). */
function nextUrl(): string {
  const n = new URLSearchParams(location.search).get('next') ?? '';
  // `//host` and `/\host` are other sites to a browser.
  return /^\/(?![/\\])/.test(n) ? n : HOME[kind];
}

async function afterLogin(): Promise<void> {
  const s = await currentSession();
  if (s === undefined) return loginForm();
  history.replaceState(null, '', nextUrl());
  start(s);
}

function start(s: Session): void {
  current = s;
  setRole(s.role);
  shell(s);
}

async function boot(): Promise<void> {
  const s = await currentSession();
  if (s === undefined) {
    if (location.pathname !== '/login') return toLogin();
    return loginForm();
  }
  if (location.pathname === '/login') history.replaceState(null, '', nextUrl());
  start(s);
}

void boot();
