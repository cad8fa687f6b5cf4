/**
 * @module The notifier's Prometheus metrics (docs/notifications.md "Metrics"): events and deliveries by
 * outcome since start, and deliveries in flight, on the cloud's /metrics.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { Notifier, type NotifierOptions } from './notifier.ts';

export function notifyMetrics(registry: Registry, notifier: Notifier): void {
  new Counter({
    name: 'ferry_cloud_notify_total',
    help: 'Notifier outcomes since start: events accepted or refused; deliveries queued, suppressed (de-duplicated), dropped (owner over its limit), acked, retried, dead',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [k, v] of Object.entries(notifier.counters)) if (v > 0) this.inc({ outcome: k }, v);
    },
  });
  new Gauge({
    name: 'ferry_cloud_notify_in_flight',
    help: 'Deliveries this worker is sending now or holds waiting for a slot of their channel',
    registers: [registry],
    collect() {
      this.set(notifier.inFlight);
    },
  });
}

/** The cloud's notifier with its metrics on `registry`. */
export function cloudNotifier(o: NotifierOptions & { readonly registry: Registry }): Notifier {
  const { registry, ...options } = o;
  const n = new Notifier(options);
  notifyMetrics(registry, n);
  return n;
}
