/**
 * @module Template `single-filter`: forward records whose field satisfies `condition` against `threshold`.
 *
 * jobProps: { condition: gt|ge|lt|le|eq|ne, threshold, fieldName | fieldJsonPath }. Output: the record unchanged.
 */
import { comparison } from '../core/expr.ts';
import type { Plan } from '../core/plan.ts';
import type { Template, TemplateInput } from './props.ts';
import { requireCondition, requireFieldPath, unionSources } from './props.ts';

export const singleFilter: Template = {
  jobType: 'single-filter',
  required: ['condition', 'threshold'],
  optional: ['fieldName', 'fieldJsonPath'],
  compile(input: TemplateInput): Plan {
    const target = requireFieldPath(input.props, input.path, 'fieldName', 'fieldJsonPath');
    const condition = requireCondition(input.props, input.path);
    return {
      kind: 'stream',
      sources: unionSources(input),
      filter: comparison(condition.op, { input: 0, path: target.path }, condition.threshold),
      project: { kind: 'all' },
      sink: { topic: input.output },
    };
  },
};
