/** @module The alarm metrics (docs/operations.md "Metrics"): open alarms by severity, and transitions applied. */
import { SEVERITIES } from '@ferry/rules';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { StoredAlarm } from './types.ts';

export class AlarmMetrics {
  readonly transitions: Counter<'what'>;
  readonly #active: Gauge<'severity'>;

  constructor(r: Registry) {
    this.transitions = new Counter({
      name: 'ferry_alarm_transitions_total',
      help: 'Alarm changes applied, by what happened (raised, repeated, cleared, acknowledged, assigned, severity, duplicate)',
      labelNames: ['what'],
      registers: [r],
    });
    this.#active = new Gauge({
      name: 'ferry_alarms_active',
      help: 'Open (active or acknowledged) alarms by severity',
      labelNames: ['severity'],
      registers: [r],
    });
    for (const s of SEVERITIES) this.#active.set({ severity: s }, 0);
  }

  /** Sets the gauge from the open alarms of the last sweep. */
  open(alarms: readonly StoredAlarm[]): void {
    for (const s of SEVERITIES) this.#active.set({ severity: s }, alarms.filter((a) => a.severity === s).length);
  }
}
