/**
 * @module Every workspace declares what it imports, and imports what it declares. A package imported by
 * code that runs in production must be in that workspace's `dependencies`; one imported only by tests,
 * fixtures, benches or tools (or only for types) in `dependencies` or `devDependencies`, or in the root's
 * `devDependencies`, which npm always installs at the top of the tree (shared tooling). Node builtins and
 * a workspace's own name need no declaration; the root package may import any of its workspaces, which
 * npm links by its `workspaces` field. A declared package counts as used when a file imports it, a
 * package.json script runs one of its binaries, a tsconfig extends it, or (an `@types/` package) its
 * package is imported. A root devDependency that only one workspace's files use belongs to that workspace.
 *
 * Usage: tsx scripts/check-deps.ts [root]; exits 1 and lists the problems when there are any.
 */
import { existsSync, readdirSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageOf } from './imports.ts';
import { type PackageJson, type Repo, readJson, loadRepo, type Workspace } from './repo.ts';

interface Use {
  runtime: string | undefined;
  dev: string | undefined;
}

const names = (deps: Record<string, string> | undefined): string[] => Object.keys(deps ?? {});
const runtimeDeps = (p: PackageJson): Set<string> => new Set([...names(p.dependencies), ...names(p.peerDependencies), ...names(p.optionalDependencies)]);

/** `@types/foo__bar` -> `@foo/bar`, `@types/foo` -> `foo`. */
function typedPackage(types: string): string {
  const n = types.slice('@types/'.length);
  return n.includes('__') ? `@${n.replace('__', '/')}` : n;
}

/** The binaries a package installs, read from its package.json in node_modules (none when it is not installed). */
function binsOf(root: string, ws: Workspace, pkg: string): string[] {
  for (const base of [join(root, ws.dir, 'node_modules'), join(root, 'node_modules')]) {
    const file = join(base, pkg, 'package.json');
    if (!existsSync(file)) continue;
    const bin = readJson<PackageJson>(file).bin;
    if (bin === undefined) return [];
    return typeof bin === 'string' ? [pkg.split('/').at(-1) as string] : Object.keys(bin);
  }
  return [];
}

/** The commands the workspace's package.json scripts run (first word of each command in a chain). */
function scriptCommands(pkg: PackageJson): Set<string> {
  const out = new Set<string>();
  for (const script of Object.values(pkg.scripts ?? {})) {
    for (const part of script.split(/&&|\|\||[;|]/)) {
      const words = part
        .trim()
        .split(/\s+/)
        .filter((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
      const cmd =
        words[0] === 'npx' || (words[0] === 'npm' && words[1] === 'exec') ? words.find((w, i) => i > 0 && w !== 'exec' && !w.startsWith('-')) : words[0];
      if (cmd !== undefined) out.add(cmd);
    }
  }
  return out;
}

/** Packages the workspace's tsconfig files extend or load types from. */
function tsconfigPackages(root: string, ws: Workspace): string[] {
  const out: string[] = [];
  const dir = join(root, ws.dir);
  for (const f of readdirSync(dir).filter((n) => /^tsconfig.*\.json$/.test(n))) {
    const cfg = readJson<{ extends?: string | string[]; compilerOptions?: { types?: string[] } }>(join(dir, f));
    for (const e of [cfg.extends ?? []].flat()) {
      const p = packageOf(e);
      if (p !== undefined) out.push(p);
    }
    for (const t of cfg.compilerOptions?.types ?? []) out.push(`@types/${t}`);
  }
  return out;
}

/** The problems, one line each; empty when every workspace's declarations match its imports. */
export function checkDeps(repo: Repo): string[] {
  const [rootWs] = repo.workspaces as [Workspace, ...Workspace[]];
  const workspaceNames = new Set(repo.workspaces.map((w) => w.name));
  const rootProvides = new Set([...names(rootWs.pkg.devDependencies), ...runtimeDeps(rootWs.pkg)]);
  const problems: string[] = [];
  // workspace name -> package -> first runtime and first dev use (file:line)
  const uses = new Map<string, Map<string, Use>>(repo.workspaces.map((w) => [w.name, new Map()]));
  // root devDependency -> the workspaces whose dev code relies on it
  const rootUsers = new Map<string, Set<string>>();
  const use = (ws: Workspace, pkg: string, where: string, runtime: boolean): void => {
    const m = uses.get(ws.name) as Map<string, Use>;
    const u = m.get(pkg) ?? { runtime: undefined, dev: undefined };
    if (runtime) u.runtime ??= where;
    else u.dev ??= where;
    m.set(pkg, u);
  };

  // One line per workspace, package and kind of problem, at its first place.
  const missing = new Map<string, { text: string; where: string; more: number }>();
  const report = (key: string, text: string, where: string): void => {
    const m = missing.get(key);
    if (m === undefined) missing.set(key, { text, where, more: 0 });
    else m.more++;
  };
  for (const f of repo.files) {
    const ws = f.workspace;
    const deps = runtimeDeps(ws.pkg);
    const devDeps = new Set(names(ws.pkg.devDependencies));
    const manifest = `${ws.dir || '.'}/package.json`;
    for (const r of f.imports) {
      const pkg = packageOf(r.spec);
      if (pkg === undefined || isBuiltin(r.spec) || pkg === ws.name) continue;
      const where = `${f.path}:${r.line}`;
      const runtime = !f.dev && !r.typeOnly;
      use(ws, pkg, where, runtime);
      if (deps.has(pkg)) continue;
      if (runtime) {
        const hint = devDeps.has(pkg) ? ' (it is only in devDependencies)' : '';
        report(`${ws.name} ${pkg} runtime`, `${ws.name}: imports ${pkg} at run time, but ${manifest} does not list it in dependencies${hint}`, where);
      } else if (!devDeps.has(pkg)) {
        if (ws === rootWs && workspaceNames.has(pkg)) continue;
        if (rootProvides.has(pkg)) {
          const s = rootUsers.get(pkg) ?? new Set();
          rootUsers.set(pkg, s.add(ws.name));
          continue;
        }
        report(`${ws.name} ${pkg} dev`, `${ws.name}: imports ${pkg} in tests, tools or types, but ${manifest} does not declare it`, where);
      }
    }
  }
  for (const m of missing.values()) problems.push(`${m.text} (${m.where}${m.more > 0 ? ` and ${m.more} more` : ''})`);

  for (const ws of repo.workspaces) {
    const m = uses.get(ws.name) as Map<string, Use>;
    const commands = scriptCommands(ws.pkg);
    const configured = new Set(tsconfigPackages(repo.root, ws));
    const usesBuiltins = repo.files.some((f) => f.workspace === ws && f.imports.some((r) => isBuiltin(r.spec)));
    const declaredBoth = names(ws.pkg.dependencies).filter((d) => names(ws.pkg.devDependencies).includes(d));
    for (const d of declaredBoth) problems.push(`${ws.name}: ${d} is in both dependencies and devDependencies`);

    const isUsed = (d: string): boolean => {
      if (m.has(d) || configured.has(d)) return true;
      if (binsOf(repo.root, ws, d).some((b) => commands.has(b))) return true;
      if (d.startsWith('@types/')) {
        const typed = typedPackage(d);
        if (typed === 'node') return usesBuiltins || ws === rootWs;
        if (m.has(typed)) return true;
        // The root's type packages serve every workspace that imports the package without declaring its types.
        const declares = (w: Workspace): boolean => d in (w.pkg.dependencies ?? {}) || d in (w.pkg.devDependencies ?? {});
        return ws === rootWs && repo.workspaces.some((w) => uses.get(w.name)?.has(typed) === true && !declares(w));
      }
      return false;
    };
    for (const d of names(ws.pkg.dependencies)) {
      const u = m.get(d);
      if (u?.runtime !== undefined) continue;
      if (u?.dev !== undefined) problems.push(`${ws.name}: dependency ${d} is used only by tests or tools (${u.dev}): move it to devDependencies`);
      else if (!isUsed(d)) problems.push(`${ws.name}: dependency ${d} is declared but never imported`);
    }
    for (const d of names(ws.pkg.devDependencies)) {
      if (ws === rootWs && rootUsers.has(d)) continue;
      if (!isUsed(d)) problems.push(`${ws.name}: devDependency ${d} is declared but never used`);
    }
  }

  // Shared tooling stays at the root only when it is shared: used by the root's own files or scripts, or by two or more workspaces.
  for (const [d, users] of rootUsers) {
    const rootUses = (uses.get(rootWs.name) as Map<string, Use>).has(d) || binsOf(repo.root, rootWs, d).some((b) => scriptCommands(rootWs.pkg).has(b));
    if (!rootUses && users.size === 1)
      problems.push(`${rootWs.name}: devDependency ${d} is used only by ${[...users][0]}: declare it in that workspace's devDependencies`);
  }
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(process.argv[2] ?? '.');
  const problems = checkDeps(loadRepo(root));
  if (problems.length > 0) {
    console.error(`check-deps: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log('check-deps: every workspace declares what it imports and imports what it declares');
  }
}
