/**
 * @module Prints a parsed query back as canonical text (durations in ms, conditions fully parenthesised).
 *
 * parseSql(printSql(q)) equals q up to source offsets; the property tests rely on that round trip.
 */
import type { Literal } from '../core/plan.ts';
import type { SqlCondition, SqlField, SqlOperand, SqlQuery, SqlSelectItem, SqlSource, SqlWindow } from './ast.ts';
import { KEYWORDS } from './lexer.ts';

const OPS = { eq: '=', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' } as const;

export function printIdent(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name.toUpperCase())) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

function printString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function printTopic(topic: string): string {
  // A bare topic runs to whitespace , ; ( ); one that starts a comment or a string must be quoted.
  return /^[^\s,;()']+$/.test(topic) && !topic.startsWith('--') ? topic : printString(topic);
}

function printField(field: SqlField): string {
  return field.parts.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? printIdent(part) : `.${printIdent(part)}`)).join('');
}

function printLiteral(value: Literal): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'string') return printString(value);
  return String(value);
}

function printOperand(operand: SqlOperand): string {
  return operand.kind === 'field' ? printField(operand.field) : printLiteral(operand.value);
}

export function printCondition(condition: SqlCondition): string {
  switch (condition.kind) {
    case 'compare':
      return `${printOperand(condition.left)} ${OPS[condition.op]} ${printOperand(condition.right)}`;
    case 'and':
    case 'or':
      return `(${printCondition(condition.left)} ${condition.kind.toUpperCase()} ${printCondition(condition.right)})`;
    case 'not':
      return `NOT (${printCondition(condition.arg)})`;
  }
}

function printItem(item: SqlSelectItem): string {
  const body = item.kind === 'field' ? printField(item.field) : `${item.fn}(${item.arg === '*' ? '*' : printField(item.arg)})`;
  return item.as === null ? body : `${body} AS ${printIdent(item.as)}`;
}

function printSource(source: SqlSource): string {
  return source.alias === null ? printTopic(source.topic) : `${printTopic(source.topic)} AS ${printIdent(source.alias)}`;
}

function printWindow(window: SqlWindow): string {
  switch (window.kind) {
    case 'tumbling':
      return `TUMBLING ${window.sizeMs}ms`;
    case 'sliding':
      return `SLIDING ${window.sizeMs}ms ${window.slideMs}ms`;
    case 'count':
      return window.slide === null ? `COUNT ${window.size}` : `COUNT ${window.size} ${window.slide}`;
  }
}

export function printSql(query: SqlQuery): string {
  const parts = ['SELECT', query.select === '*' ? '*' : query.select.map(printItem).join(', '), 'FROM', printSource(query.from)];
  if (query.join !== null) {
    const { source, on, withinMs } = query.join;
    parts.push('JOIN', printSource(source), 'ON', printField(on.left), '=', printField(on.right), 'WITHIN', `${withinMs}ms`);
  }
  if (query.window !== null) parts.push(printWindow(query.window));
  if (query.where !== null) parts.push('WHERE', printCondition(query.where));
  if (query.groupBy !== null) parts.push('GROUP BY', printField(query.groupBy));
  return parts.join(' ');
}
