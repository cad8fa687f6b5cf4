/** @module check-deps on small repositories: each kind of problem is reported, and a clean tree passes. */
import { describe, expect, it } from 'vitest';
import { checkDeps } from './check-deps.ts';
import { fixtureTree, runScript } from './fixture-tree.ts';
import { loadRepo } from './repo.ts';

const root = { name: 'fx', private: true, type: 'module', workspaces: ['packages/*'], devDependencies: { vitest: '*' } };
const config = "import { defineConfig } from 'vitest/config';\nexport default defineConfig({});\n";
const app = { name: '@fx/app', exports: { '.': './src/index.ts' } };

describe('check-deps', () => {
  it('reports an undeclared package and a declared one that nothing imports', () => {
    const dir = fixtureTree({
      'package.json': root,
      'vitest.config.ts': config,
      'packages/app/package.json': { ...app, dependencies: { used: '1', unused: '1' } },
      'packages/app/src/index.ts': "import { a } from 'used';\nimport { b } from 'undeclared';\nimport { c } from './c.ts';\nexport { a, b, c };\n",
      'packages/app/src/c.ts': "import { readFileSync } from 'node:fs';\nimport { x } from '@fx/app';\nexport const c = [readFileSync, x];\n",
      'packages/app/src/index.test.ts': "import { it } from 'vitest';\nit('runs', () => {});\n",
    });
    const problems = checkDeps(loadRepo(dir));
    expect(problems).toEqual([
      '@fx/app: imports undeclared at run time, but packages/app/package.json does not list it in dependencies (packages/app/src/index.ts:2)',
      '@fx/app: dependency unused is declared but never imported',
    ]);
    const cli = runScript('check-deps.ts', dir);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('check-deps: 2 problem(s)');
    expect(cli.out).toContain('imports undeclared at run time');
    expect(cli.out).toContain('dependency unused is declared but never imported');
  });

  it('tells production imports from test imports, and wants each in its place', () => {
    const dir = fixtureTree({
      'package.json': { ...root, devDependencies: { vitest: '*', shared: '*', lonely: '*' } },
      'vitest.config.ts': config,
      'packages/app/package.json': { ...app, dependencies: { 'test-only': '1' }, devDependencies: { 'runtime-too': '1', 'types-only': '1' } },
      'packages/app/src/index.ts': "import type { T } from 'types-only';\nimport { r } from 'runtime-too';\nexport const x: T = r;\n",
      'packages/app/src/helper.ts': "/** not loaded by index.ts: test support */\nimport { h } from 'test-only';\nexport { h };\n",
      'packages/app/src/index.test.ts':
        "import { it } from 'vitest';\nimport { s } from 'shared';\nimport { l } from 'lonely';\nimport { m } from 'missing-in-test';\nit('runs', () => [s, l, m]);\n",
      'packages/other/package.json': { name: '@fx/other', exports: './src/index.ts' },
      'packages/other/src/index.test.ts': "import { s } from 'shared';\nexport { s };\n",
    });
    expect(checkDeps(loadRepo(dir))).toEqual([
      '@fx/app: imports missing-in-test in tests, tools or types, but packages/app/package.json does not declare it (packages/app/src/index.test.ts:4)',
      '@fx/app: imports runtime-too at run time, but packages/app/package.json does not list it in dependencies (it is only in devDependencies) (packages/app/src/index.ts:2)',
      '@fx/app: dependency test-only is used only by tests or tools (packages/app/src/helper.ts:2): move it to devDependencies',
      "fx: devDependency lonely is used only by @fx/app: declare it in that workspace's devDependencies",
    ]);
  });

  it('passes a tree whose declarations match its imports, counting scripts, tsconfig and @types', () => {
    const dir = fixtureTree({
      'package.json': {
        ...root,
        scripts: { check: 'tsc -p .' },
        devDependencies: { vitest: '*', typescript: '*', base: '*', '@types/node': '*', '@types/dep': '*' },
      },
      'tsconfig.json': { extends: 'base/tsconfig.json' },
      'node_modules/typescript/package.json': { name: 'typescript', bin: { tsc: './bin/tsc' } },
      'vitest.config.ts': config,
      'packages/app/package.json': { ...app, dependencies: { dep: '1' } },
      'packages/app/src/index.ts': "import { d } from 'dep';\nimport { join } from 'node:path';\nexport const x = [d, join];\n",
      'e2e/app.test.ts': "import { x } from '@fx/app';\nexport { x };\n",
    });
    expect(checkDeps(loadRepo(dir))).toEqual([]);
    expect(runScript('check-deps.ts', dir).code).toBe(0);
  });
});
