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

/**
 * Where an expected output names the job that emitted it (an alarm transition's `rule`), it holds this
 * placeholder; `outputsFor` puts the id the host gave the job in its place.
 */
export const JOB_ID = '<jobId>';

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

const HOT = { type: 'hot', severity: 'major', value: 'temp', source: 'device', condition: { op: '>', threshold: 30 }, forMs: 5_000 };
const raise = (topic: string, source: string, value: unknown, atMs: number, reason: string, more: Record<string, unknown> = HOT): OutputRecord => ({
  topic,
  payload: { kind: 'raise', type: more['type'], source, severity: more['severity'], ...(value === undefined ? {} : { value }), atMs, rule: JOB_ID, reason },
});
const clear = (topic: string, source: string, value: unknown, atMs: number, reason: string, more: Record<string, unknown> = HOT): OutputRecord => ({
  topic,
  payload: { kind: 'clear', type: more['type'], source, severity: more['severity'], ...(value === undefined ? {} : { value }), atMs, rule: JOB_ID, reason },
});
const PUMP = {
  type: 'pump.low-pressure',
  severity: 'critical',
  value: '$.v',
  condition: { op: '<', threshold: 10 },
  mOfN: { m: 2, n: 3 },
  missing: { afterMs: 3_000, policy: 'breaching' },
};

/** The expected outputs of a case for a job the host named `jobId`. */
export function outputsFor(ruleCase: RuleCase, jobId: string): OutputRecord[] {
  return ruleCase.outputs.map((output) => {
    const payload = output.payload as Record<string, unknown> | null;
    return payload !== null && typeof payload === 'object' && payload['rule'] === JOB_ID ? { ...output, payload: { ...payload, rule: jobId } } : output;
  });
}

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
  {
    name: 'alarm: a breach held for forMs raises on the clock alone, per device; a good sample clears',
    installation: install('alarm', 'sensors/+/temp', 'alarms/_/hot', HOT),
    steps: [
      p('sensors/1/temp', { device: 'd1', temp: 35 }, 1_000),
      p('sensors/2/temp', { device: 'd2', temp: 20 }, 1_500),
      p('sensors/2/temp', { device: 'd2', temp: 31 }, 2_000),
      p('sensors/2/temp', { device: 'd2', temp: 29 }, 6_500), // d2's breach broke before its forMs ran out
      { tick: 5_999 },
      { tick: 6_000 },
      p('sensors/1/temp', { device: 'd1', temp: 36 }, 7_000),
      p('sensors/1/temp', { device: 'd1', temp: 25 }, 8_000),
      { tick: 60_000 },
    ],
    outputs: [raise('alarms/_/hot', 'd1', 35, 6_000, 'temp > 30 for 5000 ms'), clear('alarms/_/hot', 'd1', 25, 8_000, 'temp > 30 no longer holds')],
  },
  {
    name: 'alarm: M of N per topic, a value that is not a number is not a sample, silence counts as breaching',
    installation: install('alarm', 'pumps/+', 'alarms/_/pumps', PUMP),
    steps: [
      p('pumps/p1', { v: 5 }, 0),
      p('pumps/p1', { v: 50 }, 1_000),
      p('pumps/p1', { v: 4 }, 2_000),
      p('pumps/p1', { v: 'off' }, 2_500),
      p('pumps/p1', { v: 60 }, 3_000),
      { tick: 5_999 },
      { tick: 6_000 },
      { tick: 9_000 },
      p('pumps/p1', { v: 70 }, 9_500),
    ],
    outputs: [
      raise('alarms/_/pumps', 'pumps/p1', 4, 2_000, '$.v < 10 in 2 of 3 samples', PUMP),
      clear('alarms/_/pumps', 'pumps/p1', 60, 3_000, '$.v < 10 in 2 of 3 samples no longer holds', PUMP),
      raise('alarms/_/pumps', 'pumps/p1', undefined, 6_000, 'no data for 3000 ms', PUMP),
      clear('alarms/_/pumps', 'pumps/p1', 70, 9_500, '$.v < 10 in 2 of 3 samples no longer holds', PUMP),
    ],
  },
];
