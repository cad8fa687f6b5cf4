/**
 * The health store's size after a simulated week of checks (docs/operations.md, "Health history"): the real
 * store on a real file, fed with injected time (no timers) what a cloud records at a check period: readiness,
 * the event loop's delay, the MQTT link and 10 rule jobs up or down, and a latency-probe sample every 10 s.
 * Each simulated hour is one transaction (a running cloud commits every check period; the file is the same).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthHistory } from '@ferry/rules-host';

export interface HistoryFigures {
  readonly checkPeriodMs: number;
  readonly series: number;
  readonly samples: number;
  /** File size (after a checkpoint) at the end of each simulated day, bytes. */
  readonly bytesByDay: number[];
  readonly seconds: number;
}

export function simulatedWeek(checkPeriodMs: number): HistoryFigures {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-history-'));
  const path = join(dir, 'health-history.db');
  const h = HealthHistory.open(path);
  const names = ['readyz', 'eventloop.delay_ms', 'component.mqtt.up', ...Array.from({ length: 10 }, (_, i) => `component.rule:cloud-${i}.up`)];
  const probeEvery = Math.max(1, Math.round(10_000 / checkPeriodMs));
  const perHour = Math.round(3_600_000 / checkPeriodMs);
  const bytesByDay: number[] = [];
  let t = Date.UTC(2026, 0, 1);
  let samples = 0;
  let i = 0;
  const t0 = performance.now();
  for (let day = 0; day < 7; day++) {
    for (let hour = 0; hour < 24; hour++)
      h.batch(() => {
        for (let k = 0; k < perHour; k++, i++, t += checkPeriodMs) {
          const s: [string, number][] = names.map((n) => [n, n === 'eventloop.delay_ms' ? 1 + (i % 13) / 10 : i % 5000 === 0 ? 0 : 1]);
          if (i % probeEvery === 0) s.push(['probe.latency_ms', 2 + (i % 7) / 5]);
          h.record(t, s);
          samples += s.length;
        }
      });
    h.checkpoint();
    bytesByDay.push(statSync(path).size);
  }
  const seconds = (performance.now() - t0) / 1000;
  const series = h.series().length;
  h.close();
  rmSync(dir, { recursive: true, force: true });
  return { checkPeriodMs, series, samples, bytesByDay, seconds };
}
