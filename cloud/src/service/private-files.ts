/**
 * @module The data directory holds secrets (master.key) and data sealed or signed under them (cloud.db, the
 * ingest file): it is the service's alone. The directory is made 0700 and every file in it 0600, at start and
 * again once the databases have made their WAL and shared-memory files (SQLite creates them with the process
 * umask; `ferry cloud start` also sets a 077 umask). docs/cloud.md, "Data directory".
 */
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Makes every regular file directly in `dir` 0600. */
export function makeFilesPrivate(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isFile()) chmodSync(path, 0o600);
  }
}
