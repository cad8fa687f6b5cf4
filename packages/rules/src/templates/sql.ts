/**
 * @module Template `sql`: the rule given as SQL-like text, compiled to the same plan as the JSON templates.
 *
 * jobProps: { query }. connectors.input must list the query's FROM (and JOIN) topics in order: hosts
 * subscribe from the connectors without parsing SQL, so the two must not disagree.
 */
import { RuleError } from '../core/errors.ts';
import type { Plan } from '../core/plan.ts';
import { compileSql } from '../sql/compile.ts';
import { childPath, expectString, field, valueError } from '../core/validate.ts';
import type { Template, TemplateInput } from './props.ts';

export const sql: Template = {
  jobType: 'sql',
  required: ['query'],
  optional: [],
  compile(input: TemplateInput): Plan {
    const at = childPath(input.path, 'query');
    const text = expectString(field(input.props, 'query'), at, { nonEmpty: true });
    let plan: Plan;
    try {
      plan = compileSql(text, input.output);
    } catch (error) {
      // Keep the position in the text and add where the text lives in the object.
      if (error instanceof RuleError)
        throw new RuleError(error.code, `${at}: ${error.message}`, { path: at, ...(error.position === undefined ? {} : { position: error.position }) });
      throw error;
    }
    const topics = plan.sources.map((source) => source.topic);
    if (topics.length !== input.inputs.length || topics.some((topic, index) => topic !== input.inputs[index])) {
      throw valueError(input.inputPath, `must list the query's input topics in order: ${JSON.stringify(topics)}`);
    }
    return plan;
  },
};
