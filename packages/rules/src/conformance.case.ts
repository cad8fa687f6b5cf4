/**
 * @module Conformance cases every rule host runs (this package against RuleEngine; gateway and cloud
 * through their MQTT/REST wrappers): an installation, an input script, the exact outputs expected.
 *
 * Pure data, no test framework, so a host suite can import it and drive its own transport.
 */
import type { InstallationObject } from './objects.ts';
import type { OutputRecord } from './runtime/job.ts';

export type CaseStep =
  | { readonly push: { readonly topic: string; readonly record: unknown; readonly timestampMs: number; readonly inputId?: string } }
  | { readonly tick: number };

export type RuleCase = {
  readonly name: string;
  /** Installation addressed to runtime `conformance`; a host rewrites headers.runtime to its own name. */
  readonly installation: InstallationObject;
  readonly steps: readonly CaseStep[];
  /** Every output of the script, in order. */
  readonly outputs: readonly OutputRecord[];
};

function install(jobType: string, input: string | readonly string[], output: string, jobProps: Record<string, unknown>): InstallationObject {
  return { headers: { runtime: 'conformance', targetResource: 'room-1', jobType }, jobConfig: { connectors: { input, output }, jobProps } };
}

const p = (topic: string, record: unknown, timestampMs: number, inputId?: string): CaseStep => ({
  push: inputId === undefined ? { topic, record, timestampMs } : { topic, record, timestampMs, inputId },
});

const AVG_STEPS: readonly CaseStep[] = [
  p('sensors/k/temp', { room: 'kitchen', temp: 20 }, 1_000),
  p('sensors/b/temp', { room: 'bath', temp: 25 }, 2_000),
  p('sensors/k/temp', { room: 'kitchen', temp: 22 }, 9_000),
  { tick: 10_000 },
  p('sensors/k/temp', { room: 'kitchen', temp: 30 }, 5_000), // late: its window closed
  p('sensors/k/temp', { room: 'kitchen', temp: 24 }, 12_000),
  { tick: 20_000 },
];
const AVG_OUTPUTS: readonly OutputRecord[] = [
  { topic: 'rooms/avg', payload: { room: 'kitchen', avg: 21, windowStart: 0, windowEnd: 10_000 } },
  { topic: 'rooms/avg', payload: { room: 'bath', avg: 25, windowStart: 0, windowEnd: 10_000 } },
  { topic: 'rooms/avg', payload: { room: 'kitchen', avg: 24, windowStart: 10_000, windowEnd: 20_000 } },
];

export const RULE_CASES: readonly RuleCase[] = [
  {
    name: 'single-filter forwards records above the threshold from wildcard topics',
    installation: install('single-filter', 'sensors/+/temp', 'alerts/hot', { condition: 'gt', threshold: 30, fieldName: 'temp' }),
    steps: [
      p('sensors/a/temp', { temp: 31 }, 1),
      p('sensors/b/temp', { temp: 30 }, 2),
      p('sensors/a/humidity', { temp: 99 }, 3),
      p('sensors/c/temp', { temp: 45.5 }, 4),
    ],
    outputs: [
      { topic: 'alerts/hot', payload: { temp: 31 } },
      { topic: 'alerts/hot', payload: { temp: 45.5 } },
    ],
  },
  {
    name: 'single-filter compares a JSON path for equality',
    installation: install('single-filter', ['doors/+'], 'alerts/open', { condition: 'eq', threshold: 'open', fieldJsonPath: "$.status['contact']" }),
    steps: [p('doors/front', { status: { contact: 'open' } }, 1), p('doors/back', { status: { contact: 'closed' } }, 2)],
    outputs: [{ topic: 'alerts/open', payload: { status: { contact: 'open' } } }],
  },
  {
    name: 'aggregation: tumbling time window, grouped, closed by the clock; late input dropped',
    installation: install('aggregation', 'sensors/+/temp', 'rooms/avg', {
      function: 'avg',
      fieldName: 'temp',
      groupBy: 'room',
      window: { type: 'tumbling', size: 10_000, unit: 'ms' },
    }),
    steps: AVG_STEPS,
    outputs: AVG_OUTPUTS,
  },
  {
    name: 'sql: the same aggregation as text gives the same outputs',
    installation: install('sql', 'sensors/+/temp', 'rooms/avg', { query: 'SELECT room, avg(temp) AS avg FROM sensors/+/temp TUMBLING 10s GROUP BY room' }),
    steps: AVG_STEPS,
    outputs: AVG_OUTPUTS,
  },
  {
    name: 'aggregation: sliding count window',
    installation: install('aggregation', 'meters/+', 'totals/meters', {
      function: 'sum',
      fieldName: 'kwh',
      window: { type: 'sliding', size: 3, slide: 1, unit: 'count' },
    }),
    steps: [1, 2, 3, 4].map((kwh) => p('meters/main', { kwh }, kwh * 10)),
    outputs: [
      { topic: 'totals/meters', payload: { sum: 6, windowStart: 10, windowEnd: 30 } },
      { topic: 'totals/meters', payload: { sum: 9, windowStart: 20, windowEnd: 40 } },
    ],
  },
  {
    name: 'join: two streams on a key within a time interval',
    installation: install('join', ['sensors/+/temp', 'sensors/+/humidity'], 'rooms/climate', { fieldName: 'room', windowMs: 5_000 }),
    steps: [
      p('sensors/1/temp', { room: 'k', temp: 21 }, 1_000),
      p('sensors/1/humidity', { room: 'k', humidity: 40 }, 4_000),
      p('sensors/2/humidity', { room: 'b', humidity: 70 }, 4_500),
      p('sensors/1/humidity', { room: 'k', humidity: 41 }, 6_001),
    ],
    outputs: [{ topic: 'rooms/climate', payload: { room: 'k', temp: 21, humidity: 40 } }],
  },
  {
    name: 'redelivered inputs (same input id) are processed once',
    installation: install('aggregation', 'sensors/+/temp', 'rooms/count', { function: 'count', window: { type: 'tumbling', size: 2, unit: 'count' } }),
    steps: [p('sensors/a/temp', {}, 1, 'a/1/1'), p('sensors/a/temp', {}, 1, 'a/1/1'), p('sensors/a/temp', {}, 2, 'a/1/2'), p('sensors/a/temp', {}, 2, 'a/1/2')],
    outputs: [{ topic: 'rooms/count', payload: { count: 2, windowStart: 1, windowEnd: 2 } }],
  },
];
