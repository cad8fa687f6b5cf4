/** @module Test support: writes a small repository (files by relative path) into a fresh temporary folder. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function fixtureTree(files: Record<string, string | object>): string {
  const root = mkdtempSync(join(tmpdir(), 'ferry-scripts-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
  return root;
}

/** Runs one of the scripts as `npm test` does, on `root`: its exit code and output. */
export function runScript(script: string, root: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, script), root], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}
