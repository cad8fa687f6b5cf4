/** @module The gateway daemon's gauges (docs/gateway.md "Health and metrics"): read when /metrics is scraped. */
import { Gauge, type Registry } from 'prom-client';
import type { RulesHost } from '@ferry/rules-host';
import type { Source } from '../sources/types.ts';
import type { Outbox } from '../uplink/outbox.ts';
import type { Uplink } from '../uplink/uplink.ts';
import type { CommandRelay } from './commands.ts';

export interface GaugeParts {
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  readonly sources: readonly Source[];
  readonly commands: CommandRelay;
  readonly rules: RulesHost;
}

export function daemonGauges(r: Registry, { outbox, uplink, sources, commands, rules }: GaugeParts): void {
  new Gauge({
    name: 'ferry_gateway_outbox_rows',
    help: 'Readings buffered for the uplink',
    registers: [r],
    collect() {
      this.set(outbox.stats().rows);
    },
  });
  new Gauge({
    name: 'ferry_gateway_outbox_bytes',
    help: 'Payload bytes buffered',
    registers: [r],
    collect() {
      this.set(outbox.stats().bytes);
    },
  });
  new Gauge({
    name: 'ferry_gateway_outbox_dropped_oldest',
    help: 'Readings dropped because the buffer was full',
    registers: [r],
    collect() {
      this.set(outbox.stats().droppedOldest);
    },
  });
  new Gauge({
    name: 'ferry_gateway_uplink_connected',
    help: '1 when the MQTT uplink is connected',
    registers: [r],
    collect() {
      this.set(uplink.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ferry_gateway_source_up',
    help: '1 when a source is up',
    labelNames: ['source'],
    registers: [r],
    collect() {
      for (const s of sources) this.set({ source: s.name }, s.health().up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ferry_gateway_commands',
    help: 'Signed commands for serial boards: received from the broker, forwarded to a board, refused, dropped from a full queue, and queued now',
    labelNames: ['state'],
    registers: [r],
    collect() {
      const s = commands.stats();
      for (const [state, n] of Object.entries(s)) this.set({ state }, n);
      this.set(
        { state: 'queued' },
        Object.values(commands.queued()).reduce((a, b) => a + b, 0),
      );
    },
  });
  new Gauge({
    name: 'ferry_gateway_rules_running',
    help: 'Edge rules in state RUNNING',
    registers: [r],
    collect() {
      this.set(rules.engine.list().filter((j) => j.jobStatus === 'RUNNING').length);
    },
  });
}
