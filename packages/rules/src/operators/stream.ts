/**
 * @module Stateless operator: filter then project each record (the single-filter template, SELECT without window).
 */
import { evalPredicate, lookup } from '../core/expr.ts';
import { MISSING } from '../core/json-path.ts';
import type { Projection, StreamPlan } from '../core/plan.ts';
import { expectObject, valueError } from '../core/validate.ts';
import type { Accepted, Emitted, Operator } from './operator.ts';

/** Builds the output record; a projected field the record lacks becomes null, as in SQL. */
export function project(projection: Projection, inputs: readonly unknown[], all: () => unknown): unknown {
  if (projection.kind === 'all') return all();
  const out: Record<string, unknown> = {};
  for (const item of projection.items) {
    const value = lookup(item.ref, inputs);
    out[item.as] = value === MISSING ? null : value;
  }
  return out;
}

export class StreamOperator implements Operator {
  readonly #plan: StreamPlan;

  constructor(plan: StreamPlan) {
    this.#plan = plan;
  }

  isLate(): boolean {
    return false;
  }

  advance(): readonly Emitted[] {
    return [];
  }

  accept(_inputs: readonly (0 | 1)[], record: unknown, timestampMs: number): Accepted {
    const inputs = [record];
    if (this.#plan.filter !== null && !evalPredicate(this.#plan.filter, inputs)) return { filtered: true, emitted: [] };
    const payload = project(this.#plan.project, inputs, () => record);
    return { filtered: false, emitted: [{ payload, eventTimeMs: timestampMs }] };
  }

  snapshot(): unknown {
    return { kind: 'stream' };
  }

  restore(state: unknown, path: string): void {
    if (expectObject(state, path, ['kind'])['kind'] !== 'stream') throw valueError(`${path}.kind`, 'must be "stream"');
  }
}
