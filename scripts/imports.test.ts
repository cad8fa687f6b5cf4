/** @module The import lexer: what counts as an import, what is type-only, and what text it must not read as one. */
import { describe, expect, it } from 'vitest';
import { importsOf, packageOf } from './imports.ts';

const specs = (src: string): string[] => importsOf(src).map((r) => `${r.spec}${r.typeOnly ? ' (type)' : ''}`);

describe('importsOf', () => {
  it('finds static imports, re-exports, side-effect and dynamic imports', () => {
    const src = [
      "import a from 'a';",
      "import { b, type B } from 'b';",
      "import * as c from 'c';",
      "import 'd';",
      "export * from 'e';",
      "export { f } from 'f';",
      "const g = await import('g');",
      "import('h').then((m) => m);",
      "const i = require('i');",
    ].join('\n');
    expect(specs(src)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']);
  });

  it('marks type-only imports: import type, export type, typeof import() and import().T', () => {
    const src = [
      "import type { A } from 'a';",
      "export type { B } from 'b';",
      "type C = typeof import('c');",
      "let d: Set<import('d').D>;",
      "import type from 'e';",
    ].join('\n');
    expect(specs(src)).toEqual(['a (type)', 'b (type)', 'c (type)', 'd (type)', 'e']);
  });

  it('finds require.resolve, import.meta.resolve, a node --import flag and a worker URL', () => {
    const src = [
      "require.resolve('a/package.json');",
      "import.meta.resolve('b/api');",
      "createRequire(import.meta.url).resolve('c');",
      "createRequire(elsewhere).resolve('not-ours');",
      "spawn(process.execPath, ['--import', 'd', 'x.ts']);",
      "new Worker(new URL('./worker.ts', import.meta.url));",
      "readFileSync(new URL('../doc.md', import.meta.url));",
      "Promise.resolve('offline');",
    ].join('\n');
    expect(specs(src)).toEqual(['a/package.json', 'b/api', 'c', 'd', './worker.ts']);
  });

  it('ignores comments, strings, template text and regular expressions', () => {
    const src = [
      "/** import x from 'in-doc'; */",
      "// import y from 'in-line-comment';",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the input is TypeScript source that holds a template literal
      'const wat = `(module (import "env" "f" (func)))${join(\'a\', `import z from \'nested\'`)}`;',
      'const s = "import w from \'in-string\'";',
      "const re = /from 'in-regex'/g;",
      "const half = total / 2; import('after-division');",
    ].join('\n');
    expect(specs(src)).toEqual(['after-division']);
  });

  it('reports the line of each specifier', () => {
    expect(importsOf("\n\nimport {\n  a,\n} from 'a';").map((r) => r.line)).toEqual([5]);
  });
});

describe('packageOf', () => {
  it('names the package of a bare specifier and nothing for paths or builtins', () => {
    expect(['@s/p/sub/x.js', 'p/sub', 'p', './x.ts', '../y', 'node:fs'].map(packageOf)).toEqual(['@s/p', 'p', 'p', undefined, undefined, undefined]);
  });
});
