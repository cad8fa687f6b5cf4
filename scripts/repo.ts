/**
 * @module The repository as the dependency and import-loop checks see it: the npm workspaces (the root
 * package included), every TypeScript/JavaScript source file with the workspace that owns it, whether the
 * file is test or tool code, and the imports it makes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { type ImportRef, importsOf } from './imports.ts';

export interface PackageJson {
  readonly name?: string;
  readonly workspaces?: readonly string[];
  readonly exports?: unknown;
  readonly main?: string;
  readonly bin?: string | Record<string, string>;
  readonly scripts?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

export interface Workspace {
  /** Package name; the root's is its package.json name. */
  readonly name: string;
  /** Folder relative to the root, posix separators; '' for the root package. */
  readonly dir: string;
  readonly pkg: PackageJson;
  /** True for a package with no exports, main or bin (the root, a test suite): all its code is dev code. */
  readonly devOnly: boolean;
}

export interface SourceFile {
  /** Path relative to the root, posix separators. */
  readonly path: string;
  readonly workspace: Workspace;
  /**
   * Test, fixture, bench or tool code, whose imports belong in devDependencies: a file named or placed as
   * such, or one that no entry point of its package (exports, main, bin) loads at run time.
   */
  readonly dev: boolean;
  readonly imports: readonly ImportRef[];
}

export interface Repo {
  readonly root: string;
  /** The root package first, then the workspaces in the order package.json lists them. */
  readonly workspaces: readonly Workspace[];
  readonly files: readonly SourceFile[];
}

/** Folders that hold no TypeScript-for-Node: AssemblyScript (checked by asc) and build output. */
export const NOT_NODE_SOURCES = ['firmware/assembly', 'firmware/build', 'packages/test-kit/assembly'];

const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;
const DEV_WORDS = new Set(['test', 'tests', 'case', 'fixture', 'fixtures', 'bench', 'support']);
const DEV_FOLDERS = new Set(['test', 'tests', '__tests__', 'fixtures', 'scripts', 'bench', 'e2e']);
const EXTENSIONS = ['', '.ts', '.mts', '.js', '.mjs', '/index.ts', '/index.js'];

export const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const posix = (p: string): string => p.split(sep).join('/');

function workspaceDirs(root: string, globs: readonly string[]): string[] {
  const dirs: string[] = [];
  for (const g of globs) {
    if (g.endsWith('/*')) {
      const parent = g.slice(0, -2);
      const abs = join(root, parent);
      if (!existsSync(abs)) continue;
      for (const e of readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (e.isDirectory() && existsSync(join(abs, e.name, 'package.json'))) dirs.push(`${parent}/${e.name}`);
      }
    } else if (existsSync(join(root, g, 'package.json'))) {
      dirs.push(g);
    }
  }
  return dirs;
}

function workspace(root: string, dir: string): Workspace {
  const pkg = readJson<PackageJson>(join(root, dir, 'package.json'));
  const devOnly = pkg.exports === undefined && pkg.main === undefined && pkg.bin === undefined;
  return { name: pkg.name ?? (dir || 'root'), dir, pkg, devOnly };
}

function walk(root: string, dir: string, skip: ReadonlySet<string>, out: string[]): void {
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = dir === '' ? e.name : `${dir}/${e.name}`;
    if (e.name.startsWith('.') || e.name === 'node_modules' || skip.has(rel)) continue;
    if (e.isDirectory()) walk(root, rel, skip, out);
    else if (e.isFile() && SOURCE.test(e.name)) out.push(rel);
  }
}

/** Named or placed as test, fixture, bench or tool code: `x.test.ts`, `test-support.ts`, `fixture-build.ts`, `vitest.config.ts`, `scripts/`. */
function devByName(path: string, ws: Workspace): boolean {
  const parts = path.slice(ws.dir === '' ? 0 : ws.dir.length + 1).split('/');
  const base = parts.at(-1) as string;
  if (
    /\.config\.[cm]?[jt]s$/.test(base) ||
    base
      .replace(SOURCE, '')
      .split(/[.-]/)
      .some((w) => DEV_WORDS.has(w))
  )
    return true;
  return parts.slice(0, -1).some((p) => DEV_FOLDERS.has(p));
}

/** The file paths a package.json `exports` value names (every condition). */
function exportTargets(exp: unknown): string[] {
  if (typeof exp === 'string') return [exp];
  if (exp === null || typeof exp !== 'object') return [];
  return Object.values(exp).flatMap(exportTargets);
}

/** The export target for `sub` ('.' or './x') of a workspace's package.json, conditions tried in order. */
function exportFor(exp: unknown, sub: string): string | undefined {
  if (typeof exp === 'string') return sub === '.' ? exp : undefined;
  if (exp === null || typeof exp !== 'object') return undefined;
  const entries = Object.entries(exp);
  if (entries.every(([k]) => k.startsWith('.'))) return pick(entries.find(([k]) => k === sub)?.[1]);
  return sub === '.' ? pick(exp) : undefined;
}

function pick(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v === null || typeof v !== 'object') return undefined;
  const c = v as Record<string, unknown>;
  for (const k of ['import', 'node', 'default', ...Object.keys(c)]) {
    const r = pick(c[k]);
    if (r !== undefined) return r;
  }
  return undefined;
}

/**
 * The repository file `spec` (imported from `from`) names: a relative path, or a workspace package and
 * subpath through its exports. Undefined for a package outside the repository or a file that is not there.
 */
export function resolveImport(repo: Pick<Repo, 'workspaces'>, known: ReadonlySet<string>, from: string, spec: string): string | undefined {
  if (spec.startsWith('.')) {
    const base = posix(join(from, '..', spec));
    return EXTENSIONS.map((e) => base + e).find((p) => known.has(p));
  }
  const ws = repo.workspaces.find((w) => w.dir !== '' && (spec === w.name || spec.startsWith(`${w.name}/`)));
  if (ws === undefined) return undefined;
  const target = exportFor(ws.pkg.exports ?? ws.pkg.main, spec === ws.name ? '.' : `.${spec.slice(ws.name.length)}`);
  return target === undefined ? undefined : posix(join(ws.dir, target));
}

/** Loads the workspaces and source files under `root`, leaving out `skip` (paths relative to root). */
export function loadRepo(root: string, skip: readonly string[] = NOT_NODE_SOURCES): Repo {
  const rootWs = workspace(root, '');
  const workspaces = [rootWs, ...workspaceDirs(root, rootWs.pkg.workspaces ?? []).map((d) => workspace(root, d))];
  // Longest folder first, so a file belongs to the innermost workspace that holds it.
  const byDepth = [...workspaces].sort((a, b) => b.dir.length - a.dir.length);
  const paths: string[] = [];
  walk(root, '', new Set(skip), paths);
  paths.sort();
  const known = new Set(paths);
  const owner = (path: string): Workspace => byDepth.find((w) => w.dir === '' || path.startsWith(`${w.dir}/`)) as Workspace;
  const imports = new Map(paths.map((p) => [p, importsOf(readFileSync(join(root, p), 'utf8'))]));

  // Production code: what the entry points load at run time, through files of the same package that are not named as test code.
  const runtime = new Set<string>();
  const queue: string[] = [];
  const reach = (p: string | undefined, ws: Workspace): void => {
    if (p === undefined || !known.has(p) || runtime.has(p) || owner(p) !== ws || devByName(p, ws)) return;
    runtime.add(p);
    queue.push(p);
  };
  for (const ws of workspaces) {
    const bins = typeof ws.pkg.bin === 'string' ? [ws.pkg.bin] : Object.values(ws.pkg.bin ?? {});
    for (const t of [...exportTargets(ws.pkg.exports), ...(ws.pkg.main === undefined ? [] : [ws.pkg.main]), ...bins]) reach(posix(join(ws.dir, t)), ws);
  }
  for (let p = queue.pop(); p !== undefined; p = queue.pop()) {
    for (const r of imports.get(p) ?? []) if (!r.typeOnly) reach(resolveImport({ workspaces }, known, p, r.spec), owner(p));
  }

  const files = paths.map((path): SourceFile => ({ path, workspace: owner(path), dev: !runtime.has(path), imports: imports.get(path) ?? [] }));
  return { root, workspaces, files };
}
