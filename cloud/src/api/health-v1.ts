/**
 * @module The cloud's probes and health API (docs/operations.md): `/healthz` and `/readyz` (@ferry/rules-host
 * probes.ts; public, reasons and component names for a global viewer only), `/api/v1/health` (summary),
 * `/devices` (owner-scoped), `/incidents`, `/probe` and `/history`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type HealthHistory, historyAnswer, OpsError, probeRoutes, type ReadyCheck } from '@ferry/rules-host';
import type { ComponentStatus, StoredIncident } from '@ferry/base';
import type { DeviceHealth } from '../health/liveness.ts';
import type { ProbeSummary } from '../health/probe.ts';
import { principalOf } from './auth.ts';

/** What the routes read (the cloud's CloudOps; a test may give its own). */
export interface HealthSource {
  ready(): Promise<{ ready: boolean; checks: ReadyCheck[] }>;
  components(): ComponentStatus[];
  devices(owner?: string): DeviceHealth[];
  readonly incidents: { list(limit?: number): StoredIncident[] };
  probeSummary(): ProbeSummary | { enabled: false };
  /** The health history, when the cloud keeps one (docs/operations.md, "Health history"). */
  readonly history?: Pick<HealthHistory, 'series' | 'query'> | undefined;
}

/** Rows a health list returns at most (docs/limits.md). */
export const MAX_HEALTH_ROWS = 10_000;

const isGlobalViewer = (req: FastifyRequest): boolean => req.principal !== undefined && req.principal.owner === undefined;

/** `?limit=` within 1..max, else a FERRY_OPS_BAD_QUERY naming it. */
export function limitOf(q: unknown, fallback: number, max: number): number {
  const raw = (q as Record<string, unknown> | undefined)?.['limit'];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < 1 || n > max) throw new OpsError('FERRY_OPS_BAD_QUERY', `limit must be an integer from 1 to ${max}`);
  return n;
}

export function healthV1Routes(app: FastifyInstance, h: HealthSource): void {
  probeRoutes(app, { ready: () => h.ready(), detailed: isGlobalViewer, config: { access: 'public' } });
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
  // Without `series`: the series recorded; with it, their means per bucket (at most `points`).
  app.get('/api/v1/health/history', { config: { access: 'global:viewer' } }, async (req) => historyAnswer(h.history, req.query, Date.now(), 'cloud'));
}
