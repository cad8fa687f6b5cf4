/**
 * @module Compiles the SQL-like text into the same logical plan the JSON templates produce.
 *
 * The query's shape picks the plan: JOIN -> join plan; a window, aggregate or GROUP BY -> aggregate
 * plan; otherwise a stream (filter/project) plan. Semantic errors point at the clause that is wrong.
 */
import { RuleError } from '../core/errors.ts';
import { lastName } from '../core/json-path.ts';
import type { FieldPath } from '../core/json-path.ts';
import { checkPlan, WINDOW_FIELDS, windowProblem } from '../core/plan.ts';
import type { AggOutput, FieldRef, Operand, Plan, Predicate, ProjectItem, Projection, Source, WindowSpec } from '../core/plan.ts';
import { topicProblem } from '../core/topic.ts';
import type { SqlCondition, SqlField, SqlOperand, SqlQuery, SqlSelectItem, SqlSource, SqlWindow } from './ast.ts';
import { positionAt } from './lexer.ts';
import { parseSql } from './parser.ts';

/** Parses and compiles `text`; `sinkTopic` is the rule's output connector (the text has no INTO). */
export function compileSql(text: string, sinkTopic: string): Plan {
  return new Compiler(text, parseSql(text)).plan(sinkTopic);
}

class Compiler {
  readonly #text: string;
  readonly #query: SqlQuery;
  /** Alias -> input index; empty when the query names no alias. */
  readonly #aliases = new Map<string, 0 | 1>();

  constructor(text: string, query: SqlQuery) {
    this.#text = text;
    this.#query = query;
  }

  #fail(offset: number, message: string): never {
    const position = positionAt(this.#text, offset);
    throw new RuleError('FERRY_RULES_SQL_SEMANTIC', `${message} at line ${position.line}, column ${position.column}`, { position });
  }

  #source(source: SqlSource): Source {
    const problem = topicProblem(source.topic, 'filter');
    if (problem !== null) {
      const position = positionAt(this.#text, source.offset);
      throw new RuleError('FERRY_RULES_TOPIC_INVALID', `topic ${JSON.stringify(source.topic)} ${problem} at line ${position.line}, column ${position.column}`, {
        position,
      });
    }
    return { topic: source.topic, alias: source.alias };
  }

  plan(sinkTopic: string): Plan {
    const query = this.#query;
    const from = this.#source(query.from);
    if (query.from.alias !== null) this.#aliases.set(query.from.alias, 0);
    const sink = { topic: sinkTopic };
    if (query.join !== null) {
      const join = query.join;
      const right = this.#source(join.source);
      if (query.from.alias === null) this.#fail(query.from.offset, 'each side of a JOIN needs a name: FROM <topic> AS <alias>');
      if (join.source.alias === null) this.#fail(join.source.offset, 'each side of a JOIN needs a name: JOIN <topic> AS <alias>');
      if (join.source.alias === query.from.alias) this.#fail(join.source.offset, `both sides of the JOIN are named ${join.source.alias}`);
      this.#aliases.set(join.source.alias, 1);
      if (query.groupBy !== null) this.#fail(query.groupBy.offset, 'GROUP BY is not supported with JOIN');
      let leftKey = this.#ref(join.on.left);
      let rightKey = this.#ref(join.on.right);
      if (leftKey.input === 1 && rightKey.input === 0) [leftKey, rightKey] = [rightKey, leftKey];
      if (leftKey.input !== 0 || rightKey.input !== 1) this.#fail(join.on.offset, 'ON must compare a field of each side');
      const withinProblem = windowProblem({ type: 'tumbling', unit: 'ms', size: join.withinMs, slide: join.withinMs });
      if (withinProblem !== null) this.#fail(join.withinOffset, `WITHIN: ${withinProblem}`);
      return checkPlan({
        kind: 'join',
        sources: [from, right],
        on: { left: leftKey, right: rightKey },
        withinMs: join.withinMs,
        filter: this.#predicateOrNull(),
        project: this.#projection(),
        sink,
      });
    }
    const hasAggregate = query.select !== '*' && query.select.some((item) => item.kind === 'aggregate');
    if (query.window === null && !hasAggregate && query.groupBy === null) {
      return checkPlan({ kind: 'stream', sources: [from], filter: this.#predicateOrNull(), project: this.#projection(), sink });
    }
    if (query.window === null) this.#fail(query.selectOffset, 'an aggregate or GROUP BY needs a window after the topic: TUMBLING, SLIDING or COUNT');
    if (!hasAggregate) this.#fail(query.selectOffset, 'a windowed query must select at least one aggregate: sum, avg, min, max or count');
    const window = this.#window(query.window);
    const groupBy = query.groupBy === null ? null : this.#ref(query.groupBy);
    return checkPlan({
      kind: 'aggregate',
      sources: [from],
      filter: this.#predicateOrNull(),
      window,
      groupBy,
      outputs: this.#aggOutputs(groupBy),
      sink,
    });
  }

  #window(window: SqlWindow): WindowSpec {
    let spec: WindowSpec;
    if (window.kind === 'tumbling') spec = { type: 'tumbling', unit: 'ms', size: window.sizeMs, slide: window.sizeMs };
    else if (window.kind === 'sliding') spec = { type: 'sliding', unit: 'ms', size: window.sizeMs, slide: window.slideMs };
    else if (window.slide === null) spec = { type: 'tumbling', unit: 'count', size: window.size, slide: window.size };
    else spec = { type: 'sliding', unit: 'count', size: window.size, slide: window.slide };
    const problem = windowProblem(spec);
    if (problem !== null) this.#fail(window.offset, `window ${problem}`);
    return spec;
  }

  /** Resolves a field: in a JOIN the first name must be an alias; otherwise a leading alias is dropped. */
  #ref(field: SqlField): FieldRef {
    const [first, ...rest] = field.parts;
    if (this.#query.join !== null) {
      const input = typeof first === 'string' ? this.#aliases.get(first) : undefined;
      if (input === undefined) this.#fail(field.offset, `in a JOIN, fields start with a side's name (${[...this.#aliases.keys()].join(' or ')})`);
      return { input, path: rest };
    }
    if (typeof first === 'string' && rest.length > 0 && this.#aliases.has(first)) return { input: 0, path: rest };
    return { input: 0, path: field.parts };
  }

  #predicateOrNull(): Predicate | null {
    return this.#query.where === null ? null : this.#predicate(this.#query.where);
  }

  #predicate(condition: SqlCondition): Predicate {
    switch (condition.kind) {
      case 'compare':
        return { kind: 'compare', op: condition.op, left: this.#operand(condition.left), right: this.#operand(condition.right) };
      case 'and':
      case 'or':
        return { kind: condition.kind, left: this.#predicate(condition.left), right: this.#predicate(condition.right) };
      case 'not':
        return { kind: 'not', arg: this.#predicate(condition.arg) };
    }
  }

  #operand(operand: SqlOperand): Operand {
    return operand.kind === 'literal' ? { kind: 'literal', value: operand.value } : { kind: 'field', ref: this.#ref(operand.field) };
  }

  #name(item: SqlSelectItem, path: FieldPath): string {
    if (item.as !== null) return item.as;
    const name = lastName(path);
    if (name === undefined) this.#fail(item.offset, 'name this column with AS');
    return name;
  }

  #checkNames(names: readonly string[], reserved: readonly string[] = []): void {
    const select = this.#query.select;
    const seen = new Set<string>();
    names.forEach((name, index) => {
      const offset = select === '*' ? this.#query.selectOffset : (select[index]?.offset ?? this.#query.selectOffset);
      if (seen.has(name)) this.#fail(offset, `output name ${JSON.stringify(name)} appears twice; rename one with AS`);
      if (reserved.includes(name)) this.#fail(offset, `output name ${JSON.stringify(name)} is reserved for the window bounds`);
      seen.add(name);
    });
  }

  #projection(): Projection {
    const select = this.#query.select;
    if (select === '*') return { kind: 'all' };
    const items = select.map((item): ProjectItem => {
      if (item.kind === 'aggregate') this.#fail(item.offset, 'aggregates need a window and are not supported with JOIN');
      const ref = this.#ref(item.field);
      return { ref, as: this.#name(item, ref.path.length > 0 ? ref.path : item.field.parts) };
    });
    this.#checkNames(items.map((item) => item.as));
    return { kind: 'fields', items };
  }

  #aggOutputs(groupBy: FieldRef | null): AggOutput[] {
    const select = this.#query.select;
    if (select === '*') this.#fail(this.#query.selectOffset, 'SELECT * cannot be aggregated; list the aggregates');
    const groupKey = groupBy === null ? null : JSON.stringify(groupBy.path);
    const outputs = select.map((item): AggOutput => {
      if (item.kind === 'field') {
        const ref = this.#ref(item.field);
        if (JSON.stringify(ref.path) !== groupKey) this.#fail(item.offset, 'a windowed query may select only aggregates and the GROUP BY field');
        return { kind: 'group', as: this.#name(item, ref.path) };
      }
      if (item.arg === '*') {
        if (item.fn !== 'count') this.#fail(item.offset, `${item.fn}(*) is not defined; give a field`);
        return { kind: 'aggregate', fn: 'count', ref: null, as: item.as ?? 'count' };
      }
      const ref = this.#ref(item.arg);
      return { kind: 'aggregate', fn: item.fn, ref, as: item.as ?? `${item.fn}_${lastName(ref.path) ?? 'value'}` };
    });
    this.#checkNames(
      outputs.map((output) => output.as),
      WINDOW_FIELDS,
    );
    return outputs;
  }
}
