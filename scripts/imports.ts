/**
 * @module The module specifiers a TypeScript or JavaScript file refers to: static imports and re-exports,
 * dynamic `import()`, `require()`, `require.resolve()` / `import.meta.resolve()`, a `'--import', 'x'` pair
 * of node flags and a worker entry given as `new URL('./file.ts', import.meta.url)`. A small lexer, not a parser: it skips comments, string and template contents and
 * regular-expression literals, then matches token patterns, so WebAssembly text like `(import "env" "f")`
 * inside a template or a JSDoc example never counts. `import type` / `export type` and type positions
 * (`typeof import('x')`, `import('x').T`) are reported as type-only: erased before the code runs.
 */

export interface ImportRef {
  readonly spec: string;
  readonly typeOnly: boolean;
  readonly line: number;
}

type Kind = 'id' | 'str' | 'punct' | 'num';
interface Token {
  readonly kind: Kind;
  readonly text: string;
  readonly line: number;
}

// After one of these words a `/` starts a regular expression, not a division.
const BEFORE_REGEX = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);
const ID_START = /[A-Za-z_$\u0080-\uffff]/;
const ID_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const SOURCE_FILE = /\.(?:[cm]?ts|[cm]?js)$/;

/** The tokens of `src` that matter here: identifiers, punctuation, numbers and the values of string literals. */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  // Open template literals: each entry is the brace depth at which its `${` expression closes.
  const templates: number[] = [];
  let depth = 0;
  let line = 1;
  let i = 0;
  const n = src.length;

  const regexAllowed = (): boolean => {
    const prev = out.at(-1);
    if (prev === undefined) return true;
    if (prev.kind === 'id') return BEFORE_REGEX.has(prev.text);
    if (prev.kind === 'str' || prev.kind === 'num') return false;
    return !(prev.text === ')' || prev.text === ']' || prev.text === '}');
  };

  // Skips a template's literal text from i (just after '`' or a closing '}'); stops after '`' or '${'.
  const templateText = (): void => {
    while (i < n) {
      const c = src[i];
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === '\n') line++;
      if (c === '`') {
        i++;
        out.push({ kind: 'str', text: '', line });
        return;
      }
      if (c === '$' && src[i + 1] === '{') {
        i += 2;
        templates.push(depth);
        depth++;
        return;
      }
      i++;
    }
  };

  while (i < n) {
    const c = src[i] as string;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === '\n') line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      const start = line;
      let text = '';
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') {
        if (src[i] === '\\') {
          text += src[i + 1] ?? '';
          i += 2;
        } else {
          text += src[i];
          i++;
        }
      }
      i++;
      out.push({ kind: 'str', text, line: start });
    } else if (c === '`') {
      i++;
      templateText();
    } else if (c === '/' && regexAllowed()) {
      let inClass = false;
      i++;
      while (i < n && src[i] !== '\n') {
        const r = src[i];
        if (r === '\\') i++;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < n && ID_PART.test(src[i] as string)) i++;
      out.push({ kind: 'num', text: 'regex', line });
    } else if (ID_START.test(c)) {
      const s = i;
      while (i < n && ID_PART.test(src[i] as string)) i++;
      out.push({ kind: 'id', text: src.slice(s, i), line });
    } else if (c >= '0' && c <= '9') {
      while (i < n && ID_PART.test(src[i] as string)) i++;
      out.push({ kind: 'num', text: '0', line });
    } else {
      i++;
      if (c === '{') depth++;
      if (c === '}') {
        depth--;
        if (templates.length > 0 && templates.at(-1) === depth) {
          templates.pop();
          templateText();
          continue;
        }
      }
      out.push({ kind: 'punct', text: c, line });
    }
  }
  return out;
}

const isId = (t: Token | undefined, text: string): boolean => t?.kind === 'id' && t.text === text;
const isPunct = (t: Token | undefined, text: string): boolean => t?.kind === 'punct' && t.text === text;

/** Index of the `from` ending a static import/export clause that starts at tokens[i], or -1. */
function fromClause(tokens: readonly Token[], i: number): number {
  let braces = 0;
  for (let k = i; k < tokens.length && k < i + 400; k++) {
    const t = tokens[k] as Token;
    if (isPunct(t, '{')) braces++;
    else if (isPunct(t, '}')) braces--;
    else if (braces === 0 && (isPunct(t, ';') || isPunct(t, '=') || isPunct(t, '('))) return -1;
    else if (braces === 0 && isId(t, 'from') && tokens[k + 1]?.kind === 'str') return k;
  }
  return -1;
}

/**
 * Whether the call closing at tokens[close] is `createRequire(import.meta.url)`: a require of this file. One
 * made from another module's path resolves that module's dependencies, which are not this package's.
 */
function requireOfThisFile(tokens: readonly Token[], close: number): boolean {
  const inner = tokens
    .slice(close - 6, close)
    .map((t) => t.text)
    .join('');
  return inner === '(import.meta.url' && isId(tokens[close - 7], 'createRequire');
}

/** Every module specifier `src` refers to, in source order. */
export function importsOf(src: string): ImportRef[] {
  const tokens = tokenize(src);
  const out: ImportRef[] = [];
  const add = (t: Token, typeOnly: boolean): void => {
    out.push({ spec: t.text, typeOnly, line: t.line });
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (t.kind === 'str' && t.text === '--import' && isPunct(next, ',') && tokens[i + 2]?.kind === 'str') {
      add(tokens[i + 2] as Token, false);
      continue;
    }
    // `new URL('./worker.ts', import.meta.url)`: a worker or child entry, loaded by path (data files do not count)
    if (isId(t, 'URL') && isId(prev, 'new') && isPunct(next, '(') && tokens[i + 2]?.kind === 'str' && isPunct(tokens[i + 3], ',')) {
      const spec = tokens[i + 2] as Token;
      const relative = !spec.text.includes(':') && !spec.text.startsWith('/');
      if (relative && SOURCE_FILE.test(spec.text) && isId(tokens[i + 4], 'import') && isId(tokens[i + 6], 'meta')) {
        add({ ...spec, text: spec.text.startsWith('.') ? spec.text : `./${spec.text}` }, false);
      }
      continue;
    }
    if (t.kind !== 'id' || isPunct(prev, '.')) {
      // `require.resolve('x')`, `import.meta.resolve('x')`, `createRequire(import.meta.url).resolve('x')`
      if (isId(t, 'resolve') && isPunct(prev, '.') && isPunct(next, '(') && tokens[i + 2]?.kind === 'str') {
        const owner = tokens[i - 2];
        if (isId(owner, 'require') || isId(owner, 'meta') || (isPunct(owner, ')') && requireOfThisFile(tokens, i - 2))) add(tokens[i + 2] as Token, false);
      }
      continue;
    }
    if (t.text === 'require' && isPunct(next, '(') && tokens[i + 2]?.kind === 'str' && isPunct(tokens[i + 3], ')')) {
      add(tokens[i + 2] as Token, false);
    } else if (t.text === 'import' && isPunct(next, '(')) {
      const spec = tokens[i + 2];
      if (spec?.kind !== 'str') continue;
      const after = tokens[i + 3];
      const member = isPunct(after, ')') && isPunct(tokens[i + 4], '.') ? tokens[i + 5] : undefined;
      const typeOnly = isId(prev, 'typeof') || (member !== undefined && !['then', 'catch', 'finally'].includes(member.text));
      add(spec, typeOnly);
    } else if (t.text === 'import' && isPunct(next, '.')) {
      // import.meta
    } else if (t.text === 'import' && next?.kind === 'str') {
      add(next, false);
    } else if (t.text === 'import' || (t.text === 'export' && (isPunct(next, '{') || isPunct(next, '*') || isId(next, 'type')))) {
      const typeOnly = isId(next, 'type') && !isId(tokens[i + 2], 'from') && !isPunct(tokens[i + 2], ',');
      const k = fromClause(tokens, i + 1);
      if (k >= 0) {
        add(tokens[k + 1] as Token, typeOnly);
        i = k + 1;
      }
    }
  }
  return out;
}

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`), or undefined for a relative or absolute path. */
export function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('#') || spec.includes(':')) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
