/**
 * @module Probes and the health API (docs/operations.md): `/healthz` (alive) and `/readyz` (ready) in
 * Kubernetes' form, plain text, `?verbose` listing the checks; both public, so a probe needs no credential,
 * and a reason or a component's name is shown to a global viewer only ("reason withheld" to others, as
 * Kubernetes does). `/api/v1/health` (summary), `/devices` (owner-scoped), `/incidents` and `/probe`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentStatus, StoredIncident } from '@ferry/base';
import { OpsError } from '../health/errors.ts';
import type { DeviceHealth } from '../health/liveness.ts';
import type { ReadyCheck } from '../health/ops.ts';

import type { ProbeSummary } from '../health/probe.ts';
import { principalOf } from './auth.ts';

/** What the routes read (the cloud's CloudOps; a test may give its own). */
export interface HealthSource {
  ready(): Promise<{ ready: boolean; checks: ReadyCheck[] }>;
  components(): ComponentStatus[];
  devices(owner?: string): DeviceHealth[];
  readonly incidents: { list(limit?: number): StoredIncident[] };
  probeSummary(): ProbeSummary | { enabled: false };
}

/** Rows a health list returns at most (docs/limits.md). */
export const MAX_HEALTH_ROWS = 10_000;

const isGlobalViewer = (req: FastifyRequest): boolean => req.principal !== undefined && req.principal.owner === undefined;

/** `?limit=` within 1..max, else a FERRY_OPS_BAD_QUERY naming it. */
function limitOf(q: unknown, fallback: number, max: number): number {
  const raw = (q as Record<string, unknown> | undefined)?.['limit'];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < 1 || n > max) throw new OpsError('FERRY_OPS_BAD_QUERY', `limit must be an integer from 1 to ${max}`);
  return n;
}

const verbose = (q: unknown): boolean => typeof q === 'object' && q !== null && 'verbose' in q;

/**
 * Kubernetes' body: `ok`, or with ?verbose one line per check, `[+]name ok` / `[-]name failed: reason`.
 * Failing components are one public check, `components`; their names and reasons are a global viewer's.
 */
function probeText(checks: readonly ReadyCheck[], ready: boolean, what: string, req: FastifyRequest): string {
  const detailed = isGlobalViewer(req);
  const shown = detailed
    ? checks
    : [...checks.filter((c) => !c.name.startsWith('component:')), { name: 'components', ok: checks.every((c) => !c.name.startsWith('component:') || c.ok) }];
  if (!verbose(req.query)) return ready ? 'ok\n' : `${what} check failed\n`;
  const lines = shown.map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: ${detailed ? (c.detail ?? 'failed') : 'reason withheld'}`));
  return `${lines.join('\n')}\n${ready ? `${what} check passed` : `${what} check failed`}\n`;
}

const text = (reply: FastifyReply, code: number, body: string): FastifyReply =>
  reply.code(code).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(body);

export function healthV1Routes(app: FastifyInstance, h: HealthSource): void {
  // Alive: the process answers HTTP (its event loop runs). Nothing it depends on is asked.
  app.get('/healthz', { config: { access: 'public' } }, async (req, reply) => text(reply, 200, probeText([{ name: 'ping', ok: true }], true, 'healthz', req)));
  app.get('/readyz', { config: { access: 'public' } }, async (req, reply) => {
    const r = await h.ready();
    return text(reply, r.ready ? 200 : 503, probeText(r.checks, r.ready, 'readyz', req));
  });
  app.get('/api/v1/health', { config: { access: 'global:viewer' } }, async () => {
    const r = await h.ready();
    const devices = h.devices();
    const online = devices.filter((d) => d.online).length;
    return {
      ready: r.ready,
      checks: r.checks,
      components: h.components(),
      devices: {
        online,
        offline: devices.length - online,
        offlineIds: devices
          .filter((d) => !d.online)
          .slice(0, 20)
          .map((d) => d.id),
      },
      incidents: h.incidents.list(10),
      probe: h.probeSummary(),
    };
  });
  // A viewer sees the devices of their owner; a global viewer every device (or one owner's with ?owner=).
  app.get('/api/v1/health/devices', { config: { access: 'viewer' } }, async (req) => {
    const p = principalOf(req);
    const q = (req.query ?? {}) as Record<string, unknown>;
    const state = q['state'];
    if (state !== undefined && state !== 'online' && state !== 'offline') throw new OpsError('FERRY_OPS_BAD_QUERY', 'state must be online or offline');
    const owner = p.owner ?? (typeof q['owner'] === 'string' ? q['owner'] : undefined);
    const limit = limitOf(q, 1000, MAX_HEALTH_ROWS);
    return h
      .devices(owner)
      .filter((d) => state === undefined || d.online === (state === 'online'))
      .slice(0, limit);
  });
  app.get('/api/v1/health/incidents', { config: { access: 'global:viewer' } }, async (req) => h.incidents.list(limitOf(req.query, 100, 1000)));
  app.get('/api/v1/health/probe', { config: { access: 'global:viewer' } }, async () => h.probeSummary());
}
