/**
 * @module The gateway's small web dashboard (docs/gateway.md, "Dashboard"): the pages of GATEWAY_PAGE_PATHS
 * served by @ferry/dashboard's plugin (kind `gateway`), a browser session opened with the API token
 * (POST /api/session sets an HttpOnly, SameSite=Strict cookie holding a random id, never the token), and the
 * data routes the pages read (routes.ts).
 *
 * Without an API token the dashboard is not served at all: the API is then open to every process of the
 * host, and a browser page from anywhere can aim requests at a loopback port (DNS rebinding, cross-site
 * forms), so a dashboard without a login would hand the gateway to any web page its operator opens. The
 * page URLs and POST /api/session answer FERRY_GW_DASH_OFF instead.
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TokenBuckets } from '@ferry/base';
import { GATEWAY_PAGE_PATHS } from '@ferry/dashboard/page';
import { dashboard as servePages } from '@ferry/dashboard/serve';
import { GatewayDashError } from './errors.ts';
import { LastReadings } from './readings.ts';
import { dashboardRoutes, type GatewayView } from './routes.ts';
import { GATEWAY_SESSION_COOKIE, GatewaySessions } from './sessions.ts';
import { SAFE_METHODS, sameOrigin } from '@ferry/dashboard/origin';

/** Failed logins per second per address, and the burst (docs/limits.md). */
export const LOGIN_FAILURES = { perSecond: 5, burst: 10 } as const;

/** What opens a session: the API token, compared in constant time by the daemon's api-auth. */
export interface DashboardAuth {
  /** The gateway's id, which names the session's principal. */
  readonly gatewayId: string;
  /** Undefined: the gateway has no API token, and the dashboard is off. */
  readonly tokenMatches: ((given: string) => boolean) | undefined;
  readonly sessions?: GatewaySessions;
  readonly nowMs?: () => number;
}

export class GatewayDashboard {
  readonly sessions: GatewaySessions;
  /** The last reading of each sensor, recorded by the daemon as readings are stored. */
  readonly readings = new LastReadings();
  readonly #auth: DashboardAuth;
  readonly #open = new Set<string>();
  readonly #failures: TokenBuckets;

  constructor(auth: DashboardAuth) {
    this.#auth = auth;
    this.sessions = auth.sessions ?? new GatewaySessions(auth.nowMs === undefined ? {} : { nowMs: auth.nowMs });
    this.#failures = new TokenBuckets({ maxEntries: 10_000, ...(auth.nowMs !== undefined && { nowMs: auth.nowMs }) });
  }

  get enabled(): boolean {
    return this.#auth.tokenMatches !== undefined;
  }

  /** Registers the cookie parser: before the API's credential hook, which reads the cookie. */
  async prepare(app: FastifyInstance): Promise<void> {
    await app.register(cookie);
  }

  /** Routes anyone reaches: the pages, their bundle, logging in and out (the page holds no data). */
  isOpen(req: FastifyRequest): boolean {
    const url = req.routeOptions.url;
    return url !== undefined && this.#open.has(`${req.method} ${url}`);
  }

  /**
   * Whether `req` carries a current session. A change (a method other than GET/HEAD/OPTIONS) made with the
   * cookie must come from the gateway's own origin: SameSite=Strict keeps other sites out, but another port
   * of the same host (a cloud's dashboard beside it) is the same site.
   */
  session(req: FastifyRequest): boolean {
    if (!this.sessions.valid(req.cookies[GATEWAY_SESSION_COOKIE])) return false;
    if (!SAFE_METHODS.has(req.method) && !sameOrigin(req))
      throw new GatewayDashError('FERRY_GW_DASH_ORIGIN', "a change made with the session cookie must come from this gateway's own pages (Origin header)");
    return true;
  }

  /** The data routes, the session routes and the pages (or, without a token, FERRY_GW_DASH_OFF at their URLs). */
  async routes(app: FastifyInstance, view: GatewayView): Promise<void> {
    dashboardRoutes(app, view, this.readings);
    const open = (method: string, url: string): void => {
      this.#open.add(`${method} ${url}`);
    };
    const matches = this.#auth.tokenMatches;
    if (matches === undefined) {
      const off = async (): Promise<never> => {
        throw new GatewayDashError('FERRY_GW_DASH_OFF', 'the gateway dashboard needs an API token: set api.token_file (docs/gateway.md, "Dashboard")');
      };
      for (const url of ['/', '/login', ...GATEWAY_PAGE_PATHS]) app.get(url, off);
      app.post('/api/session', off);
      return;
    }
    open('POST', '/api/session');
    open('DELETE', '/api/session');
    app.post('/api/session', async (req, reply) => {
      const token = (req.body as { token?: unknown } | null | undefined)?.token;
      if (typeof token !== 'string' || !matches(token)) {
        if (!this.#failures.take(req.ip, LOGIN_FAILURES.perSecond, LOGIN_FAILURES.burst))
          throw new GatewayDashError('FERRY_GW_DASH_RATE_LIMITED', `more than ${LOGIN_FAILURES.perSecond} failed logins per second from this address`);
        throw new GatewayDashError('FERRY_GW_DASH_BAD_LOGIN', 'body must be {"token": "<the API token>"}');
      }
      const s = this.sessions.open();
      void reply.setCookie(GATEWAY_SESSION_COOKIE, s.id, {
        httpOnly: true,
        sameSite: 'strict',
        path: '/',
        secure: req.protocol === 'https',
        expires: new Date(s.expiresMs),
      });
      return { ...this.#who('session'), expiresMs: s.expiresMs };
    });
    app.get('/api/session', async (req) => this.#who(this.sessions.valid(req.cookies[GATEWAY_SESSION_COOKIE]) ? 'session' : 'token'));
    app.delete('/api/session', async (req, reply) => {
      this.sessions.close(req.cookies[GATEWAY_SESSION_COOKIE]);
      return reply.clearCookie(GATEWAY_SESSION_COOKIE, { path: '/' }).code(204).send();
    });
    // Every route the page plugin adds (HTML, bundle, /login, /) is open: collected as it registers them.
    await app.register(async (child) => {
      child.addHook('onRoute', (r) => {
        for (const m of [r.method].flat()) open(m, r.url);
      });
      await child.register(servePages, {
        kind: 'gateway',
        pages: GATEWAY_PAGE_PATHS,
        loggedIn: (req) => this.sessions.valid(req.cookies[GATEWAY_SESSION_COOKIE]),
      });
    });
  }

  /** The one principal of a gateway: its API token is all-powerful, so a session is an admin of no owner. */
  #who(via: 'session' | 'token'): { id: string; role: 'admin'; owner: null; via: string } {
    return { id: `gateway:${this.#auth.gatewayId}`, role: 'admin', owner: null, via };
  }
}
