/**
 * @module Hand-written, pull-based tokenizer for the SQL-like rule text.
 *
 * Why by hand: the grammar is tiny, every error must carry the line/column of the offending token, and
 * the core takes no dependencies. Pull-based because topic names (`sensors/+/temp`) are lexed only where
 * the grammar expects a topic: there `/`, `+` and `#` are topic characters, elsewhere they are errors.
 */
import { RuleError } from '../core/errors.ts';
import type { SourcePosition } from '../core/errors.ts';

export type TokenKind = 'ident' | 'keyword' | 'number' | 'string' | 'punct' | 'topic' | 'eof';

export type Token = {
  readonly kind: TokenKind;
  /** Keyword: upper case; ident: the name (unquoted); punct: the symbol; string/topic: the text. */
  readonly value: string;
  /** For numbers: the value; `unit` holds letters glued to it (`10s` -> 10, "s"). */
  readonly number: number;
  readonly unit: string;
  /** Whether an ident was written in double quotes (then it is never a keyword). */
  readonly quoted: boolean;
  readonly offset: number;
  readonly end: number;
};

/** Reserved words; COUNT, TUMBLING and SLIDING stay identifiers and are recognised by position. */
export const KEYWORDS = new Set(['SELECT', 'FROM', 'WHERE', 'GROUP', 'BY', 'AS', 'JOIN', 'ON', 'WITHIN', 'AND', 'OR', 'NOT', 'TRUE', 'FALSE', 'NULL']);

const PUNCT = ['<=', '>=', '<>', '!=', ',', '(', ')', '.', '[', ']', '*', ';', '=', '<', '>'];
/** Characters that end a bare topic: whitespace and the punctuation that may follow a topic. */
const TOPIC_END = /[\s,;()]/;

export function positionAt(text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { offset, line, column: offset - lineStart + 1 };
}

export function syntaxError(text: string, offset: number, message: string): RuleError {
  const position = positionAt(text, offset);
  return new RuleError('FERRY_RULES_SQL_SYNTAX', `${message} at line ${position.line}, column ${position.column}`, { position });
}

export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of input';
    case 'string':
      return `string '${token.value}'`;
    case 'number':
      return `number ${token.value}`;
    case 'ident':
      return `identifier ${token.quoted ? `"${token.value}"` : token.value}`;
    default:
      return `'${token.value}'`;
  }
}

export class Lexer {
  readonly text: string;
  #pos = 0;
  #peeked: Token | undefined;

  constructor(text: string) {
    this.text = text;
  }

  peek(): Token {
    this.#peeked ??= this.#scan();
    return this.#peeked;
  }

  next(): Token {
    const token = this.peek();
    this.#peeked = undefined;
    return token;
  }

  /** Reads a topic: a quoted string, or a run of characters up to whitespace , ; ( or ). */
  topic(): Token {
    if (this.#peeked !== undefined) {
      this.#pos = this.#peeked.offset; // re-read what was peeked with topic rules
      this.#peeked = undefined;
    }
    this.#skipSpace();
    const start = this.#pos;
    if (this.text[start] === "'") return this.#string(start, 'topic');
    while (this.#pos < this.text.length && !TOPIC_END.test(this.text[this.#pos] ?? '')) this.#pos += 1;
    if (this.#pos === start) return this.#token(this.#pos >= this.text.length ? 'eof' : 'punct', this.text[start] ?? '', start);
    return this.#token('topic', this.text.slice(start, this.#pos), start);
  }

  #token(kind: TokenKind, value: string, offset: number, extra: Partial<Pick<Token, 'number' | 'unit' | 'quoted'>> = {}): Token {
    return { kind, value, number: extra.number ?? 0, unit: extra.unit ?? '', quoted: extra.quoted ?? false, offset, end: this.#pos };
  }

  #skipSpace(): void {
    for (;;) {
      while (this.#pos < this.text.length && /\s/.test(this.text[this.#pos] ?? '')) this.#pos += 1;
      // `--` line comments let rule files explain themselves.
      if (this.text.startsWith('--', this.#pos)) {
        while (this.#pos < this.text.length && this.text[this.#pos] !== '\n') this.#pos += 1;
      } else return;
    }
  }

  #scan(): Token {
    this.#skipSpace();
    const start = this.#pos;
    const ch = this.text[start];
    if (ch === undefined) return this.#token('eof', '', start);
    if (/[A-Za-z_]/.test(ch)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(start))?.[0] ?? ch;
      this.#pos += word.length;
      const upper = word.toUpperCase();
      return KEYWORDS.has(upper) ? this.#token('keyword', upper, start) : this.#token('ident', word, start);
    }
    if (/[0-9]/.test(ch) || (ch === '-' && /[0-9]/.test(this.text[start + 1] ?? ''))) return this.#number(start);
    if (ch === "'") return this.#string(start, 'string');
    if (ch === '"') return this.#quotedIdent(start);
    const punct = PUNCT.find((symbol) => this.text.startsWith(symbol, start));
    if (punct !== undefined) {
      this.#pos += punct.length;
      return this.#token('punct', punct, start);
    }
    throw syntaxError(this.text, start, `unexpected character ${JSON.stringify(ch)}`);
  }

  #number(start: number): Token {
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.text.slice(start));
    const literal = match?.[0] ?? '';
    if (literal === '' || /^-?0[0-9]/.test(this.text.slice(start))) throw syntaxError(this.text, start, 'malformed number (no leading zeros)');
    this.#pos += literal.length;
    const unit = /^[A-Za-z]+/.exec(this.text.slice(this.#pos))?.[0] ?? '';
    this.#pos += unit.length;
    const value = Number(literal);
    if (!Number.isFinite(value)) throw syntaxError(this.text, start, 'number out of range');
    return this.#token('number', literal, start, { number: value, unit });
  }

  /** Single-quoted text; '' is an escaped quote, as in SQL. */
  #string(start: number, kind: 'string' | 'topic'): Token {
    let value = '';
    let i = start + 1;
    for (;;) {
      const ch = this.text[i];
      if (ch === undefined) throw syntaxError(this.text, start, 'unterminated string');
      if (ch === "'") {
        if (this.text[i + 1] === "'") {
          value += "'";
          i += 2;
          continue;
        }
        this.#pos = i + 1;
        return this.#token(kind, value, start);
      }
      value += ch;
      i += 1;
    }
  }

  /** Double-quoted identifier, for field names that are keywords or not plain words; "" escapes a quote. */
  #quotedIdent(start: number): Token {
    let value = '';
    let i = start + 1;
    for (;;) {
      const ch = this.text[i];
      if (ch === undefined) throw syntaxError(this.text, start, 'unterminated quoted identifier');
      if (ch === '"') {
        if (this.text[i + 1] === '"') {
          value += '"';
          i += 2;
          continue;
        }
        this.#pos = i + 1;
        if (value.length === 0) throw syntaxError(this.text, start, 'empty quoted identifier');
        return this.#token('ident', value, start, { quoted: true });
      }
      value += ch;
      i += 1;
    }
  }
}
