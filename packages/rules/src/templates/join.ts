/**
 * @module Template `join`: join two input streams on a key field over a time interval.
 *
 * connectors.input: [left topic, right topic]. jobProps: { fieldName | fieldJsonPath (the key, read on
 * both sides), windowMs }. Output: the shallow merge { ...left, ...right } of each matching pair.
 */
import type { Plan } from '../core/plan.ts';
import { LIMITS } from '../core/plan.ts';
import { childPath, expectInteger, field, valueError } from '../core/validate.ts';
import type { Template, TemplateInput } from './props.ts';
import { requireFieldPath } from './props.ts';

export const join: Template = {
  jobType: 'join',
  required: ['windowMs'],
  optional: ['fieldName', 'fieldJsonPath'],
  compile(input: TemplateInput): Plan {
    const [left, right, ...extra] = input.inputs;
    if (left === undefined || right === undefined || extra.length > 0) {
      throw valueError(input.inputPath, `must list exactly two topics for a join, got ${input.inputs.length}`);
    }
    const key = requireFieldPath(input.props, input.path, 'fieldName', 'fieldJsonPath');
    const withinMs = expectInteger(field(input.props, 'windowMs'), childPath(input.path, 'windowMs'), 1, LIMITS.maxWindowMs);
    return {
      kind: 'join',
      sources: [
        { topic: left, alias: null },
        { topic: right, alias: null },
      ],
      on: { left: { input: 0, path: key.path }, right: { input: 1, path: key.path } },
      withinMs,
      filter: null,
      project: { kind: 'all' },
      sink: { topic: input.output },
    };
  },
};
