/**
 * @module The notifier's template syntax (docs/notifications.md "Templates"): text with `{{path}}`
 * substitutions and nothing else (no code, no conditions, no loops), so an owner's template can only read
 * the event it is given. A path is dot-separated names (`data.temp`, `source`); a missing value renders as
 * the empty string, a string as itself, any other value as its JSON.
 */
import { NotifyError } from './errors.ts';

/** Characters of one template (docs/limits.md). */
export const MAX_TEMPLATE = 4096;
/** Characters of a rendered message; longer ones are cut there. */
export const MAX_RENDERED = 65_536;

type Part = string | { readonly path: readonly string[] };
export type Compiled = readonly Part[];

const PATH = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;

/** Parses a template; a typed error names what is wrong and where. */
export function compile(text: string, field = 'template'): Compiled {
  if (text.length > MAX_TEMPLATE) throw new NotifyError('FERRY_NOTIFY_TEMPLATE', `${field} is longer than ${MAX_TEMPLATE} characters`, { path: field });
  const parts: Part[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    if (open < 0) {
      parts.push(text.slice(i));
      break;
    }
    if (open > i) parts.push(text.slice(i, open));
    const close = text.indexOf('}}', open + 2);
    if (close < 0) throw new NotifyError('FERRY_NOTIFY_TEMPLATE', `${field}: "{{" at ${open} is not closed`, { path: field });
    const path = text.slice(open + 2, close).trim();
    if (!PATH.test(path))
      throw new NotifyError('FERRY_NOTIFY_TEMPLATE', `${field}: "${path}" at ${open} is not a field path (names joined by dots)`, { path: field });
    parts.push({ path: path.split('.') });
    i = close + 2;
  }
  return parts;
}

function lookup(ctx: unknown, path: readonly string[]): unknown {
  let v = ctx;
  for (const name of path) {
    // Own properties only: a path can never reach a prototype (`constructor`, `__proto__`).
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, name)) return undefined;
    v = (v as Record<string, unknown>)[name];
  }
  return v;
}

const show = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));

/** Renders a compiled template over `ctx`, at most MAX_RENDERED characters. */
export function render(t: Compiled, ctx: unknown): string {
  let out = '';
  for (const p of t) {
    out += typeof p === 'string' ? p : show(lookup(ctx, p.path));
    if (out.length > MAX_RENDERED) return out.slice(0, MAX_RENDERED);
  }
  return out;
}

/** Compiles and renders in one step (a template already checked when its subscription was made). */
export const renderText = (text: string, ctx: unknown): string => render(compile(text), ctx);
