/**
 * @module Builds the dashboard's bundle with esbuild: src/shell/app.ts (with preact, htm, uPlot and virtual-core) and
 * src/shell/app.css (with uPlot's CSS), minified, into dist/assets/ with a content hash in each name, so the assets
 * can be cached forever (a new build has new names). dist/manifest.json names them; it is written last, so a
 * reader sees either the old build or the whole new one. Run by the root `prepare` script (scripts/build.ts)
 * and lazily by serve.ts when dist is missing.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Manifest {
  /** File names under dist/assets/. */
  readonly js: string;
  readonly css: string;
}

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST_DIR = join(PACKAGE_DIR, 'dist');
export const ASSETS_DIR = join(DIST_DIR, 'assets');
const MANIFEST = join(DIST_DIR, 'manifest.json');

/** The newest modification time of the sources (src/, recursively), in ms. */
function newestSource(): number {
  const dir = join(PACKAGE_DIR, 'src');
  let newest = 0;
  for (const f of readdirSync(dir, { recursive: true }) as string[]) newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
  return newest;
}

/** The current build's manifest, or undefined when there is none or a source changed since it was made. */
export function readManifest(): Manifest | undefined {
  try {
    if (statSync(MANIFEST).mtimeMs < newestSource()) return undefined;
    const m = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Partial<Manifest>;
    return typeof m.js === 'string' && typeof m.css === 'string' ? { js: m.js, css: m.css } : undefined;
  } catch {
    return undefined;
  }
}

export async function buildDashboard(): Promise<Manifest> {
  const esbuild = await import('esbuild');
  mkdirSync(ASSETS_DIR, { recursive: true });
  const r = await esbuild.build({
    absWorkingDir: PACKAGE_DIR,
    entryPoints: { app: 'src/shell/app.ts', style: 'src/shell/app.css' },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    outdir: ASSETS_DIR,
    entryNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const out = (entry: string): string => {
    for (const [file, o] of Object.entries(r.metafile.outputs)) if (o.entryPoint === entry) return basename(file);
    throw new Error(`esbuild produced nothing for ${entry}`);
  };
  const m: Manifest = { js: out('src/shell/app.ts'), css: out('src/shell/app.css') };
  const tmp = `${MANIFEST}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(m));
  renameSync(tmp, MANIFEST);
  return m;
}

/** Bundles one more browser entry (a benchmark's page) the same way, in memory; answers the JavaScript. */
export async function bundleEntry(entry: string): Promise<string> {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({ entryPoints: [entry], bundle: true, minify: true, format: 'esm', target: 'es2022', write: false, logLevel: 'silent' });
  return r.outputFiles[0]!.text;
}

/** For the build script's log line. */
export const relativeToPackage = (p: string): string => relative(PACKAGE_DIR, p);
