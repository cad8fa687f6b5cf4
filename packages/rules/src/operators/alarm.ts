/**
 * @module Alarm operator (plan kind `alarm`): evaluates an alarm rule per source. Placeholder that takes no
 * samples yet: the evaluator follows, this lets alarm rules install and move.
 */
import type { AlarmPlan } from '../core/plan.ts';
import { expectObject, valueError } from '../core/validate.ts';
import type { Accepted, Emitted, Operator } from './operator.ts';

export class AlarmOperator implements Operator {
  readonly plan: AlarmPlan;

  constructor(plan: AlarmPlan) {
    this.plan = plan;
  }

  isLate(): boolean {
    return false;
  }

  advance(): readonly Emitted[] {
    return [];
  }

  accept(): Accepted {
    return { filtered: true, emitted: [] };
  }

  snapshot(): unknown {
    return { kind: 'alarm' };
  }

  restore(state: unknown, path: string): void {
    if (expectObject(state, path, ['kind'])['kind'] !== 'alarm') throw valueError(`${path}.kind`, 'must be "alarm"');
  }
}
