/**
 * @module Helpers for the rules engine's tests: jobs from SQL (on a FakeClock at 0), and replayable input scripts.
 */
import { compileSql, RuleJob, type JobOptions, type OutputRecord } from '@ferry/rules';
import { FakeClock } from './clock.ts';

/** One step of an input script: a pushed record or a tick of the host clock. */
export type Step =
  | { readonly kind: 'push'; readonly topic: string; readonly record: unknown; readonly ts: number; readonly id?: string }
  | { readonly kind: 'tick'; readonly ts: number };

export function push(topic: string, record: unknown, ts: number, id?: string): Step {
  return id === undefined ? { kind: 'push', topic, record, ts } : { kind: 'push', topic, record, ts, id };
}

export function tick(ts: number): Step {
  return { kind: 'tick', ts };
}

export function runSteps(job: RuleJob, steps: readonly Step[]): OutputRecord[] {
  return steps.flatMap((step) => (step.kind === 'tick' ? job.tick(step.ts) : job.push(step.topic, step.record, step.ts, step.id)));
}

export function sqlJob(sql: string, options: Partial<JobOptions> = {}, sink = 'out'): RuleJob {
  const job = new RuleJob(compileSql(sql, sink), { clock: new FakeClock(0), ...options });
  job.start();
  return job;
}

export function payloads(outputs: readonly OutputRecord[]): unknown[] {
  return outputs.map((output) => output.payload);
}
