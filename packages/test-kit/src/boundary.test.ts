/**
 * The kit is for tests, benches and e2e only: no product source file imports it, and no product workspace
 * lists it outside devDependencies, so an installed product never pulls in brokers, wabt or test doubles.
 * A conformance suite (`x.case.ts`) is test code kept beside the implementations it holds to a contract:
 * it may use the kit, so long as only tests import it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const PRODUCT_DIRS = ['packages', 'gateway/src', 'cloud/src', 'cli/src', 'firmware/emulator', 'firmware/scripts'];
const TEST_WORKSPACES = new Set(['@ferry/test-kit', '@ferry/hw-tests']);

const isTest = (name: string): boolean => name.endsWith('.test.ts') || name.endsWith('.case.ts');

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || path === join(ROOT, 'packages/test-kit')) continue;
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (name.endsWith('.ts') && !isTest(name)) yield path;
  }
}

describe('test kit boundary', () => {
  it('no product source file imports @ferry/test-kit', () => {
    const offenders = PRODUCT_DIRS.flatMap((d) => [...sources(join(ROOT, d))])
      .filter((f) => /from\s+'@ferry\/test-kit[/']/.test(readFileSync(f, 'utf8')))
      .map((f) => f.slice(ROOT.length + 1));
    expect(offenders).toEqual([]);
  });

  it('no product source file imports a conformance suite', () => {
    const offenders = PRODUCT_DIRS.flatMap((d) => [...sources(join(ROOT, d))])
      .filter((f) => /from\s+'[^']+\.case\.ts'/.test(readFileSync(f, 'utf8')))
      .map((f) => f.slice(ROOT.length + 1));
    expect(offenders).toEqual([]);
  });

  it('product workspaces list @ferry/test-kit only as a devDependency', () => {
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
    const dirs = root.workspaces.flatMap((w) => (w.endsWith('/*') ? readdirSync(join(ROOT, w.slice(0, -2))).map((d) => join(w.slice(0, -2), d)) : [w]));
    const offenders = dirs.flatMap((d) => {
      const p = JSON.parse(readFileSync(join(ROOT, d, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
      return !TEST_WORKSPACES.has(p.name) && p.dependencies?.['@ferry/test-kit'] !== undefined ? [p.name] : [];
    });
    expect(offenders).toEqual([]);
  });
});
