/** @module GET /health (status, broker connection, ingest counters) and GET /metrics (Prometheus). */
import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { Ingest } from '../ingest/index.ts';

/**
 * Registers the ingest outcome counters as `ferry_cloud_ingest_total{outcome=...}`, a Prometheus counter (the
 * counts only grow): at each scrape it is set to ingest's own totals, so rate() and increase() work on it.
 */
export function ingestMetrics(registry: Registry, ingest: Ingest): void {
  new Counter({
    name: 'ferry_cloud_ingest_total',
    help: 'Ingest outcomes by kind',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [k, v] of Object.entries(ingest.counters())) if (typeof v === 'number' && v > 0) this.inc({ outcome: k }, v);
    },
  });
}

/**
 * /health answers anyone (a load balancer's probe carries no credential) but shows the ingest counters only
 * to a global credential; /metrics needs a global credential of any role (a Prometheus scraper gets a global
 * viewer token: POST /api/tokens {"role": "viewer"} with the admin credential).
 */
export function healthRoutes(app: FastifyInstance, o: { readonly ingest: Ingest; readonly registry: Registry; readonly mqttConnected: () => boolean }): void {
  app.get('/health', { config: { access: 'public' } }, async (req) => ({
    status: 'ok',
    mqtt: o.mqttConnected(),
    ...(req.principal !== undefined && req.principal.owner === undefined && { ingest: o.ingest.counters() }),
  }));
  // Metrics cover every owner: a global credential reads them.
  app.get('/metrics', { config: { access: 'global:viewer' } }, async (_req, reply) => reply.type(o.registry.contentType).send(await o.registry.metrics()));
}
