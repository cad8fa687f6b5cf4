/**
 * @module Recursive-descent parser for the SQL-like rule text (grammar in docs/rules.md), one function per rule.
 *
 * Errors name the offending token's position and what the grammar expected there.
 */
import type { PathSegment } from '../core/json-path.ts';
import type { AggFn, CompareOp, Literal } from '../core/plan.ts';
import { AGG_FNS } from '../core/plan.ts';
import type { SqlCondition, SqlField, SqlJoin, SqlOperand, SqlQuery, SqlSelectItem, SqlSource, SqlWindow } from './ast.ts';
import { describeToken, Lexer, syntaxError } from './lexer.ts';
import type { Token } from './lexer.ts';

const COMPARE: Readonly<Record<string, CompareOp>> = { '=': 'eq', '!=': 'ne', '<>': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };
const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const MAX_INDEX = 1_000_000;
/** Bounds nesting and size so hostile input cannot exhaust the stack (plans are walked recursively). */
const MAX_DEPTH = 64;
const MAX_COMPARISONS = 256;
export const MAX_SQL_LENGTH = 65_536;

export function parseSql(text: string): SqlQuery {
  if (text.length > MAX_SQL_LENGTH) throw syntaxError(text, MAX_SQL_LENGTH, `query longer than ${MAX_SQL_LENGTH} characters`);
  return new Parser(text).query();
}

class Parser {
  readonly #lexer: Lexer;
  readonly #text: string;
  #depth = 0;
  #comparisons = 0;

  constructor(text: string) {
    this.#text = text;
    this.#lexer = new Lexer(text);
  }

  #fail(token: Token, expected: string): never {
    throw syntaxError(this.#text, token.offset, `expected ${expected} but found ${describeToken(token)}`);
  }

  #isKeyword(word: string, token = this.#lexer.peek()): boolean {
    return token.kind === 'keyword' && token.value === word;
  }

  /** COUNT / TUMBLING / SLIDING are unreserved: recognised as unquoted identifiers in keyword position. */
  #isWord(word: string, token = this.#lexer.peek()): boolean {
    return token.kind === 'ident' && !token.quoted && token.value.toUpperCase() === word;
  }

  #isPunct(symbol: string, token = this.#lexer.peek()): boolean {
    return token.kind === 'punct' && token.value === symbol;
  }

  #keyword(word: string): Token {
    const token = this.#lexer.next();
    if (!this.#isKeyword(word, token)) this.#fail(token, word);
    return token;
  }

  #punct(symbol: string): Token {
    const token = this.#lexer.next();
    if (!this.#isPunct(symbol, token)) this.#fail(token, `'${symbol}'`);
    return token;
  }

  #ident(what: string): Token {
    const token = this.#lexer.next();
    if (token.kind !== 'ident') this.#fail(token, what);
    return token;
  }

  query(): SqlQuery {
    this.#keyword('SELECT');
    const selectOffset = this.#lexer.peek().offset;
    const select = this.#selectList();
    this.#keyword('FROM');
    const from = this.#source();
    let join: SqlJoin | null = null;
    let window: SqlWindow | null = null;
    if (this.#isKeyword('JOIN')) join = this.#join();
    else if (this.#isWord('TUMBLING') || this.#isWord('SLIDING') || this.#isWord('COUNT')) window = this.#window();
    let where: SqlCondition | null = null;
    if (this.#isKeyword('WHERE')) {
      this.#lexer.next();
      where = this.#condition();
    }
    let groupBy: SqlField | null = null;
    if (this.#isKeyword('GROUP')) {
      this.#lexer.next();
      this.#keyword('BY');
      groupBy = this.#field();
    }
    const semicolon = this.#isPunct(';');
    if (semicolon) this.#lexer.next();
    const end = this.#lexer.next();
    if (end.kind !== 'eof') {
      // Only the clauses that may still follow, in grammar order.
      const options: string[] = [];
      if (!semicolon && where === null && groupBy === null) {
        if (join === null && window === null) options.push('JOIN, TUMBLING, SLIDING, COUNT');
        options.push('WHERE');
      }
      if (!semicolon && groupBy === null) options.push('GROUP BY');
      this.#fail(end, [...options, 'end of input'].join(', '));
    }
    return { select, selectOffset, from, join, window, where, groupBy };
  }

  #selectList(): '*' | SqlSelectItem[] {
    if (this.#isPunct('*')) {
      this.#lexer.next();
      return '*';
    }
    const items = [this.#selectItem()];
    while (this.#isPunct(',')) {
      this.#lexer.next();
      items.push(this.#selectItem());
    }
    return items;
  }

  #selectItem(): SqlSelectItem {
    const first = this.#lexer.peek();
    let item: SqlSelectItem;
    if (first.kind === 'ident' && !first.quoted && AGG_FNS.includes(first.value.toLowerCase() as AggFn)) {
      this.#lexer.next();
      if (this.#isPunct('(')) {
        this.#lexer.next();
        const fn = first.value.toLowerCase() as AggFn;
        let arg: SqlField | '*';
        if (this.#isPunct('*')) {
          this.#lexer.next();
          arg = '*';
        } else arg = this.#field();
        this.#punct(')');
        item = { kind: 'aggregate', fn, arg, as: null, offset: first.offset };
      } else {
        // Not a call after all: a field that happens to be named like a function (`SELECT max FROM t`).
        item = { kind: 'field', field: this.#fieldRest(first), as: null, offset: first.offset };
      }
    } else {
      item = { kind: 'field', field: this.#field(), as: null, offset: first.offset };
    }
    if (this.#isKeyword('AS')) {
      this.#lexer.next();
      item = { ...item, as: this.#ident('an output name after AS').value };
    }
    return item;
  }

  #source(): SqlSource {
    const token = this.#lexer.topic();
    if (token.kind !== 'topic') this.#fail(token, 'a topic');
    let alias: string | null = null;
    if (this.#isKeyword('AS')) {
      this.#lexer.next();
      alias = this.#ident('an alias after AS').value;
    }
    return { topic: token.value, alias, offset: token.offset };
  }

  #join(): SqlJoin {
    this.#keyword('JOIN');
    const source = this.#source();
    const on = this.#keyword('ON');
    const left = this.#field();
    this.#punct('=');
    const right = this.#field();
    const within = this.#keyword('WITHIN');
    return { source, on: { left, right, offset: on.offset }, withinMs: this.#duration(), withinOffset: within.offset };
  }

  #window(): SqlWindow {
    const token = this.#lexer.next();
    const kind = token.value.toUpperCase();
    if (kind === 'TUMBLING') return { kind: 'tumbling', sizeMs: this.#duration(), offset: token.offset };
    if (kind === 'SLIDING') return { kind: 'sliding', sizeMs: this.#duration(), slideMs: this.#duration(), offset: token.offset };
    const size = this.#count();
    const slide = this.#lexer.peek().kind === 'number' ? this.#count() : null;
    return { kind: 'count', size, slide, offset: token.offset };
  }

  /** An integer with a unit glued on: 500ms, 10s, 5m, 1h. */
  #duration(): number {
    const token = this.#lexer.next();
    const scale = DURATION_UNITS[token.unit];
    if (token.kind !== 'number' || scale === undefined || !Number.isSafeInteger(token.number) || token.number < 1) {
      this.#fail(token, 'a duration such as 500ms, 10s, 5m or 1h');
    }
    return token.number * scale;
  }

  #count(): number {
    const token = this.#lexer.next();
    if (token.kind !== 'number' || token.unit !== '' || !Number.isSafeInteger(token.number) || token.number < 1) {
      this.#fail(token, 'a positive whole number of records');
    }
    return token.number;
  }

  #field(): SqlField {
    return this.#fieldRest(this.#ident('a field name'));
  }

  /** The rest of a field after its first name: `.name` and `[index]` parts. */
  #fieldRest(first: Token): SqlField {
    const parts: PathSegment[] = [first.value];
    for (;;) {
      if (this.#isPunct('.')) {
        this.#lexer.next();
        parts.push(this.#ident('a field name after .').value);
      } else if (this.#isPunct('[')) {
        this.#lexer.next();
        const index = this.#lexer.next();
        if (index.kind !== 'number' || index.unit !== '' || !Number.isInteger(index.number) || index.number < 0 || index.number > MAX_INDEX) {
          this.#fail(index, 'an array index');
        }
        parts.push(index.number);
        this.#punct(']');
      } else return { parts, offset: first.offset };
    }
  }

  #nested<T>(token: Token, parse: () => T): T {
    if (++this.#depth > MAX_DEPTH) throw syntaxError(this.#text, token.offset, `conditions nested deeper than ${MAX_DEPTH}`);
    try {
      return parse();
    } finally {
      this.#depth -= 1;
    }
  }

  #condition(): SqlCondition {
    let left = this.#conjunction();
    while (this.#isKeyword('OR')) {
      this.#lexer.next();
      left = { kind: 'or', left, right: this.#conjunction() };
    }
    return left;
  }

  #conjunction(): SqlCondition {
    let left = this.#negation();
    while (this.#isKeyword('AND')) {
      this.#lexer.next();
      left = { kind: 'and', left, right: this.#negation() };
    }
    return left;
  }

  #negation(): SqlCondition {
    const token = this.#lexer.peek();
    if (this.#isKeyword('NOT')) {
      this.#lexer.next();
      return this.#nested(token, () => ({ kind: 'not', arg: this.#negation() }));
    }
    if (this.#isPunct('(')) {
      this.#lexer.next();
      const inner = this.#nested(token, () => this.#condition());
      this.#punct(')');
      return inner;
    }
    return this.#comparison();
  }

  #comparison(): SqlCondition {
    const first = this.#lexer.peek();
    if (++this.#comparisons > MAX_COMPARISONS) throw syntaxError(this.#text, first.offset, `more than ${MAX_COMPARISONS} comparisons`);
    const left = this.#operand();
    const opToken = this.#lexer.next();
    const op = opToken.kind === 'punct' ? COMPARE[opToken.value] : undefined;
    if (op === undefined) this.#fail(opToken, 'a comparison (=, !=, <>, <, <=, >, >=)');
    const offset = left.kind === 'field' ? left.field.offset : left.offset;
    return { kind: 'compare', op, left, right: this.#operand(), offset };
  }

  #operand(): SqlOperand {
    const token = this.#lexer.peek();
    if (token.kind === 'ident') return { kind: 'field', field: this.#field() };
    this.#lexer.next();
    let value: Literal;
    if (token.kind === 'number' && token.unit === '') value = token.number;
    else if (token.kind === 'string') value = token.value;
    else if (this.#isKeyword('TRUE', token)) value = true;
    else if (this.#isKeyword('FALSE', token)) value = false;
    else if (this.#isKeyword('NULL', token)) value = null;
    else this.#fail(token, 'a field, number, string, TRUE, FALSE or NULL');
    return { kind: 'literal', value, offset: token.offset };
  }
}
