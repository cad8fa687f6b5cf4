/** The template syntax, by properties: text without braces renders as itself, substitutions read only own fields, bad input is a typed error. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatches } from './match.ts';
import { compile, MAX_RENDERED, render } from './template.ts';

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);

describe('templates', () => {
  it('render text without "{{" as itself', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }).filter((s) => !s.includes('{{')),
        (s) => {
          expect(render(compile(s), {})).toBe(s);
        },
      ),
    );
  });

  it('substitute a field by its path, strings as they are and other values as JSON', () => {
    fc.assert(
      fc.property(name, name, fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 })), (a, b, v) => {
        const out = render(compile(`<{{${a}.${b}}}>`), { [a]: { [b]: v } });
        expect(out).toBe(`<${typeof v === 'string' ? v : JSON.stringify(v)}>`);
      }),
    );
  });

  it('never read a prototype, and render a missing field as nothing', () => {
    for (const path of ['constructor', '__proto__', 'data.constructor.name', 'toString', 'data.missing.deeper'])
      expect(render(compile(`[{{${path}}}]`), { data: {} })).toBe('[]');
  });

  it('refuse anything else as FERRY_NOTIFY_TEMPLATE, never another error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (s) => {
        try {
          compile(s);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('FERRY_NOTIFY_TEMPLATE');
        }
      }),
    );
    for (const bad of ['{{', 'a {{ b', '{{}}', '{{ a b }}', '{{a..b}}', '{{ process.exit() }}', 'x'.repeat(5000)])
      expect(() => compile(bad)).toThrow(/FERRY_NOTIFY_TEMPLATE/);
  });

  it('bound what one template renders', () => {
    expect(render(compile('{{a}}{{a}}{{a}}'), { a: 'x'.repeat(40_000) })).toHaveLength(MAX_RENDERED);
  });
});

describe('source patterns', () => {
  it('match as a glob with * over any run of characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), (a, b, c) => {
        const clean = (s: string) => s.replaceAll('*', '');
        expect(globMatches(`${clean(a)}*${clean(c)}`, `${clean(a)}${b}${clean(c)}`)).toBe(true);
        expect(globMatches(clean(a), clean(a))).toBe(true);
      }),
    );
    expect([globMatches('dev-*', 'pump-1'), globMatches('a*b*c', 'abc'), globMatches('a*b*c', 'acb'), globMatches('ab*ba', 'aba')]).toEqual([
      false,
      true,
      false,
      false,
    ]);
  });
});
