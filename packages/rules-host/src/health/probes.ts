/**
 * @module `/healthz` (alive) and `/readyz` (ready) in Kubernetes' form for every Ferry HTTP server, the
 * cloud's and the gateway's (docs/operations.md, "Probes"): plain text `ok`, or 503 when a check fails;
 * `?verbose` lists the checks, `[+]name ok` / `[-]name failed: reason`. A probe carries no credential, so
 * both answer anyone, but reasons and the names of failing components (`component:<name>` checks, shown to
 * others as one `components` check) only to a caller `detailed` says may see them ("reason withheld", as
 * Kubernetes answers).
 */
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ReadyCheck {
  readonly name: string;
  readonly ok: boolean;
  /** Why not (for a detailed caller only). */
  readonly detail?: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: readonly ReadyCheck[];
}

export interface ProbeOptions {
  readonly ready: () => Promise<Readiness>;
  /** Whether this caller may see reasons and component names. */
  readonly detailed: (req: FastifyRequest) => boolean;
  /** Route config (the cloud's declares `access: 'public'`). */
  readonly config?: FastifyContextConfig;
}

const COMPONENT = 'component:';

/** The body of a probe: `ok`, or with ?verbose one line per check and a verdict line. */
export function probeText(r: Readiness, what: 'healthz' | 'readyz', verbose: boolean, detailed: boolean): string {
  if (!verbose) return r.ready ? 'ok\n' : `${what} check failed\n`;
  const own = r.checks.filter((c) => !c.name.startsWith(COMPONENT));
  const parts = r.checks.filter((c) => c.name.startsWith(COMPONENT));
  const shown = detailed ? r.checks : [...own, { name: 'components', ok: parts.every((c) => c.ok) }];
  const lines = shown.map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: ${detailed ? (c.detail ?? 'failed') : 'reason withheld'}`));
  return `${lines.join('\n')}\n${what} check ${r.ready ? 'passed' : 'failed'}\n`;
}

const send = (reply: FastifyReply, code: number, body: string): FastifyReply =>
  reply.code(code).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(body);

const isVerbose = (q: unknown): boolean => typeof q === 'object' && q !== null && 'verbose' in q;

export function probeRoutes(app: FastifyInstance, o: ProbeOptions): void {
  const config = o.config ?? {};
  // Alive: the process answers HTTP, so its event loop runs. Nothing it depends on is asked.
  app.get('/healthz', { config }, async (req, reply) =>
    send(reply, 200, probeText({ ready: true, checks: [{ name: 'ping', ok: true }] }, 'healthz', isVerbose(req.query), o.detailed(req))),
  );
  app.get('/readyz', { config }, async (req, reply) => {
    const r = await o.ready();
    return send(reply, r.ready ? 200 : 503, probeText(r, 'readyz', isVerbose(req.query), o.detailed(req)));
  });
}
