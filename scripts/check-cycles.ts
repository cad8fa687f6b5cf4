/**
 * @module No import loops between folders of production code. A folder imports another when one of its
 * files imports one of the other's files, by relative path or through a workspace package's exports
 * (`@ferry/x` is the folder of the file its export names; a `fixtures` folder counts as its parent). The
 * folders must form a DAG, so each can be read, tested and moved with only the folders below it.
 *
 * What counts: every import made by a file that is not a test, type-only ones included (a type is a design
 * dependency: the importer changes when the type does). That takes in the test kit and other test support,
 * fixtures and scripts.
 *
 * What does not: the imports a test file (`*.test.ts`) or a contract suite (`*.case.ts`) makes. A suite is a
 * test run against every implementation of a port: it imports vitest and the test kit, and only tests
 * import it (packages/test-kit/src/boundary.test.ts checks that no product file does). Nothing imports a test, so at file level a
 * test can never be on a loop; it is only by folding the test into its folder that its imports would look
 * like the folder's. A test of folder A importing folder B says that A's test needs B, not that A's code
 * does. The same holds for tests importing the kit: the kit imports product code, product code never
 * imports the kit (packages/test-kit/src/boundary.test.ts), so the kit sits on top of the graph and its
 * own imports count like any other without ever closing a loop.
 *
 * Each loop is printed as a chain of folders, with the import that makes each step.
 *
 * Usage: tsx scripts/check-cycles.ts [root]; exits 1 and prints the loops when there are any.
 */
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadRepo, type Repo, resolveImport } from './repo.ts';

/** One step of a loop: `from` imports `to`, for example by `file:line -> target`. */
export interface Step {
  readonly from: string;
  readonly to: string;
  readonly witness: string;
}

/** A file's folder; a `fixtures` folder is test data of the folder that holds it, so it counts as that folder. */
const folderOf = (path: string): string => {
  const d = dirname(path).replace(/(?:^|\/)fixtures(?=\/|$)/g, '');
  return d === '.' || d === '' ? '(root)' : d;
};

/** A test file: its imports are left out of the graph (see the module comment). */
export const isTestFile = (path: string): boolean => /\.(test|case)\.[cm]?[jt]sx?$/.test(path);

/** folder -> imported folder -> the first import that makes the edge; imports made by test files left out. */
export function folderGraph(repo: Repo): Map<string, Map<string, string>> {
  const known = new Set(repo.files.map((f) => f.path));
  const graph = new Map<string, Map<string, string>>();
  for (const f of repo.files) {
    const from = folderOf(f.path);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    if (isTestFile(f.path)) continue;
    for (const r of f.imports) {
      const target = resolveImport(repo, known, f.path, r.spec);
      if (target === undefined) continue;
      const to = folderOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, `${f.path}:${r.line} -> ${target}${r.typeOnly ? ' (type only)' : ''}`);
    }
  }
  return graph;
}

/** Strongly connected components with more than one folder (Tarjan), each sorted, in a stable order. */
function loopingComponents(graph: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of [...(graph.get(v)?.keys() ?? [])].sort()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
        onStack.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
}

/** The shortest loop from `start` back to itself inside `comp` (breadth-first). */
function shortestLoop(graph: ReadonlyMap<string, ReadonlyMap<string, string>>, comp: readonly string[], start: string): Step[] {
  const inComp = new Set(comp);
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const w of [...(graph.get(v)?.keys() ?? [])].sort()) {
      if (!inComp.has(w) || prev.has(w)) continue;
      prev.set(w, v);
      if (w === start) {
        const steps: Step[] = [];
        for (let to = start, from = v; ; to = from, from = prev.get(from) as string) {
          steps.unshift({ from, to, witness: graph.get(from)?.get(to) as string });
          if (from === start) return steps;
        }
      }
      queue.push(w);
    }
  }
  return [];
}

/** Every folder loop, as its folders and one concrete loop through the first of them. */
export function findFolderLoops(repo: Repo): { folders: string[]; loop: Step[] }[] {
  const graph = folderGraph(repo);
  return loopingComponents(graph).map((folders) => ({ folders, loop: shortestLoop(graph, folders, folders[0] as string) }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const loops = findFolderLoops(loadRepo(resolve(process.argv[2] ?? '.')));
  if (loops.length > 0) {
    const lines = loops.flatMap(({ folders, loop }) => [
      `  ${folders.length} folders import each other: ${folders.join(', ')}`,
      `    for example ${[...loop.map((s) => s.from), loop[0]?.from].join(' -> ')}:`,
      ...loop.map((s) => `      ${s.witness}`),
    ]);
    console.error(`check-cycles: ${loops.length} import loop(s) between folders (imports made by tests left out)\n${lines.join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log('check-cycles: no import loops between folders');
  }
}
