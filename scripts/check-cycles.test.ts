/**
 * @module check-cycles on small repositories: loops between folders of production code are found and printed;
 * a loop that only a test's imports close is not one; a tree without one passes.
 */
import { describe, expect, it } from 'vitest';
import { findFolderLoops } from './check-cycles.ts';
import { fixtureTree, runScript } from './fixture-tree.ts';
import { loadRepo } from './repo.ts';

const root = { name: 'fx', private: true, type: 'module', workspaces: ['packages/*'] };

describe('check-cycles', () => {
  it('finds a loop between two folders, through a file each way, and prints it', () => {
    const dir = fixtureTree({
      'package.json': root,
      'src/a/one.ts': "import { two } from '../b/two.ts';\nexport const one = two;\n",
      'src/a/three.ts': 'export const three = 3;\n',
      'src/b/two.ts': "import type { Three } from '../a/three.ts';\nexport const two: Three = 2;\n",
      'src/c/leaf.ts': "import { one } from '../a/one.ts';\nexport const leaf = one;\n",
    });
    const loops = findFolderLoops(loadRepo(dir));
    expect(loops.map((l) => l.folders)).toEqual([['src/a', 'src/b']]);
    expect(loops[0]?.loop.map((s) => s.witness)).toEqual(['src/a/one.ts:1 -> src/b/two.ts', 'src/b/two.ts:1 -> src/a/three.ts (type only)']);
    const cli = runScript('check-cycles.ts', dir);
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('check-cycles: 1 import loop(s) between folders');
    expect(cli.out).toContain('src/a -> src/b -> src/a');
  });

  it('follows workspace packages through their exports, and counts a fixtures folder as its parent', () => {
    const dir = fixtureTree({
      'package.json': root,
      'packages/p/package.json': { name: '@fx/p', exports: { '.': './src/index.ts', './sub': './src/sub/index.ts' } },
      'packages/p/src/index.ts': "export { q } from '@fx/q';\nexport const p = 1;\n",
      'packages/p/src/sub/index.ts': 'export const sub = 1;\n',
      'packages/p/src/p.test.ts': "import { vectors } from './fixtures/vectors.ts';\nexport { vectors };\n",
      'packages/p/src/fixtures/vectors.ts': "import type { P } from '../index.ts';\nexport const vectors: P[] = [];\n",
      'packages/q/package.json': { name: '@fx/q', exports: './src/index.ts' },
      'packages/q/src/index.ts': "import { sub } from '@fx/p/sub';\nexport const q = sub;\n",
      'packages/q/src/back.ts': "import { p } from '@fx/p';\nexport const back = p;\n",
    });
    const loops = findFolderLoops(loadRepo(dir));
    expect(loops.map((l) => l.folders)).toEqual([['packages/p/src', 'packages/q/src']]);
  });

  it('leaves out the imports tests make, a test kit included, but not those of production code or contract suites', () => {
    const kit = { name: '@fx/kit', exports: './src/index.ts' };
    const app = { name: '@fx/app', exports: './src/index.ts', devDependencies: { '@fx/kit': '*' } };
    const tree = (extra: Record<string, string>): string =>
      fixtureTree({
        'package.json': root,
        'packages/kit/package.json': kit,
        'packages/kit/src/index.ts': "import { app } from '@fx/app';\nexport const rig = app;\n",
        'packages/app/package.json': app,
        'packages/app/src/index.ts': "import { port } from './a/port.ts';\nexport const app = port;\n",
        'packages/app/src/a/port.ts': 'export interface Port { readonly n: number }\nexport const port = 1;\n',
        // app/src imports app/src/a; a test in app/src/a imports app/src, directly and through the kit: no design loop.
        'packages/app/src/a/port.test.ts': "import { rig } from '@fx/kit';\nimport { app } from '../index.ts';\nexport const t = [rig, app];\n",
        ...extra,
      });
    expect(findFolderLoops(loadRepo(tree({})))).toEqual([]);
    expect(runScript('check-cycles.ts', tree({})).code).toBe(0);

    // The same loop closed by production code (a type-only import still counts) ...
    const byCode = findFolderLoops(
      loadRepo(
        tree({
          'packages/app/src/a/use.ts': "import type { App } from '../types.ts';\nexport type U = App;\n",
          'packages/app/src/types.ts': 'export type App = number;\n',
        }),
      ),
    );
    expect(byCode.map((l) => l.folders)).toEqual([['packages/app/src', 'packages/app/src/a']]);
    expect(byCode[0]?.loop.map((s) => s.witness)).toEqual([
      'packages/app/src/index.ts:1 -> packages/app/src/a/port.ts',
      'packages/app/src/a/use.ts:1 -> packages/app/src/types.ts (type only)',
    ]);

    // A contract suite is test code: its imports, like a test's, close no loop.
    const byCase = findFolderLoops(loadRepo(tree({ 'packages/app/src/a/port.case.ts': "import { app } from '../index.ts';\nexport const cases = [app];\n" })));
    expect(byCase).toEqual([]);

    // ... or by product code importing the kit, which the kit boundary forbids for this reason.
    const byKit = findFolderLoops(loadRepo(tree({ 'packages/app/src/a/uses-kit.ts': "import { rig } from '@fx/kit';\nexport const k = rig;\n" })));
    expect(byKit.map((l) => l.folders)).toEqual([['packages/app/src', 'packages/app/src/a', 'packages/kit/src']]);
  });

  it('passes a tree whose folders import one way only', () => {
    const dir = fixtureTree({
      'package.json': root,
      'src/a/one.ts': "import { two } from '../b/two.ts';\nexport const one = two;\n",
      'src/b/two.ts': "import { three } from './three.ts';\nexport const two = three;\n",
      'src/b/three.ts': 'export const three = 3;\n',
    });
    expect(findFolderLoops(loadRepo(dir))).toEqual([]);
    expect(runScript('check-cycles.ts', dir).code).toBe(0);
  });
});
