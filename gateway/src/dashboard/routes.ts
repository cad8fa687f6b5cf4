/**
 * @module The data the gateway's dashboard pages read (docs/gateway.md, "Dashboard"), behind the API token
 * like every other route: GET /api/sources (each source's state, last input and restarts, and the last
 * reading of each sensor), GET /api/job-reports (every edge rule job with its counters), GET /api/status
 * (liveness, readiness, the outbox, the broker link). The cloud reaches them over the control channel too.
 */
import type { FastifyInstance } from 'fastify';
import type { ComponentStatus, StoredIncident } from '@ferry/base';
import { MAX_INCIDENTS } from '@ferry/base';
import type { ReadyCheck, RulesHost } from '@ferry/rules-host';
import type { SourceHealth } from '../sources/types.ts';
import type { LastReadings } from './readings.ts';

/** What the routes read from the daemon (given by it; a test may give its own). */
export interface GatewayView {
  readonly gatewayId: string;
  sources(): SourceHealth[];
  readonly rules: RulesHost;
  incidents(limit: number): StoredIncident[];
  components(): ComponentStatus[];
  ready(): Promise<{ ready: boolean; checks: ReadyCheck[] }>;
  /** The daemon's GET /health document: epoch, uplink and outbox figures, why writes are refused. */
  health(): { status: string; epoch: number; refusing?: string; uplink: object; outbox: object };
}

/** `board:/dev/ttyACM0` -> `board`; `serial:/dev/ttyAMA0#pms5003` -> `serial`; `ble` -> `ble`. */
export const sourceKind = (name: string): string => name.split(':')[0]!;

export function dashboardRoutes(app: FastifyInstance, v: GatewayView, readings: LastReadings): void {
  app.get('/api/sources', async () => {
    // Restarts are counted over the incidents kept (the newest 1000, docs/operations.md "Incidents").
    const restarts = new Map<string, number>();
    for (const i of v.incidents(MAX_INCIDENTS)) if (i.kind === 'restarted') restarts.set(i.component, (restarts.get(i.component) ?? 0) + 1);
    const failing = new Map(v.components().map((c) => [c.name, c]));
    return {
      sources: v.sources().map((s) => {
        const c = failing.get(`source:${s.name}`);
        return {
          name: s.name,
          kind: sourceKind(s.name),
          up: s.up,
          lastInputMs: s.lastInputMs ?? null,
          counters: s.counters,
          restarts: restarts.get(`source:${s.name}`) ?? 0,
          ...(c !== undefined && !c.ok && { failing: c.message ?? 'failing' }),
        };
      }),
      readings: readings.list(),
    };
  });
  app.get('/api/job-reports', async () => ({ jobs: v.rules.engine.list().map((j) => v.rules.engine.status(j.jobId)) }));
  app.get('/api/status', async () => {
    const h = v.health();
    return {
      gateway: v.gatewayId,
      live: true,
      ...(await v.ready()),
      status: h.status,
      epoch: h.epoch,
      refusing: h.refusing ?? null,
      uplink: h.uplink,
      outbox: h.outbox,
    };
  });
}
