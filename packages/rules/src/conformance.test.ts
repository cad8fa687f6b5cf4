/**
 * @module Runs the shared conformance cases against RuleEngine, unmoved and moved between runtimes at every step.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@ferry/test-kit/clock';
import { outputsFor, RULE_CASES } from './conformance.case.ts';
import type { CaseStep } from './conformance.case.ts';
import { RuleEngine } from './engine.ts';
import type { InstallationObject } from './objects.ts';
import type { OutputRecord } from './runtime/job.ts';

function run(engine: RuleEngine, steps: readonly CaseStep[]): OutputRecord[] {
  return steps.flatMap((step) =>
    'tick' in step ? engine.tick(step.tick) : engine.push(step.push.topic, step.push.record, step.push.timestampMs, step.push.inputId),
  );
}

function on(runtime: string, installation: InstallationObject): InstallationObject {
  return { ...installation, headers: { ...installation.headers, runtime } };
}

describe('conformance cases', () => {
  for (const ruleCase of RULE_CASES) {
    it(ruleCase.name, () => {
      const engine = new RuleEngine({ runtime: 'edge', clock: new FakeClock(0) });
      const { jobId } = engine.install(on('edge', ruleCase.installation));
      engine.start(jobId);
      expect(run(engine, ruleCase.steps)).toEqual(outputsFor(ruleCase, jobId));
    });

    it(`${ruleCase.name} (moved edge -> cloud at every step)`, () => {
      for (let split = 0; split <= ruleCase.steps.length; split++) {
        const edge = new RuleEngine({ runtime: 'edge', clock: new FakeClock(0) });
        const cloud = new RuleEngine({ runtime: 'cloud', clock: new FakeClock(0) });
        const { jobId } = edge.install(on('edge', ruleCase.installation));
        edge.start(jobId);
        const first = run(edge, ruleCase.steps.slice(0, split));
        cloud.moveIn(JSON.parse(JSON.stringify(edge.moveOut(jobId, 'cloud'))));
        expect([...first, ...run(cloud, ruleCase.steps.slice(split))]).toEqual(outputsFor(ruleCase, jobId));
      }
    });
  }
});
