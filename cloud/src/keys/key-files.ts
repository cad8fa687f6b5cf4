/**
 * @module The master key's files in the data directory: `master.key` (the key in use), `master.key.old` (the
 * key before the last rotation, kept until the operator deletes it) and `master.key.new` (written whole and
 * fsynced, then renamed over `master.key`: a rename is atomic, so `master.key` is always one whole key).
 * All 0600, as loadMasterKey (devices/registry.ts) makes `master.key`.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DeviceError } from '../devices/errors.ts';

export const keyPaths = (dataDir: string): { current: string; old: string; next: string } => ({
  current: join(dataDir, 'master.key'),
  old: join(dataDir, 'master.key.old'),
  next: join(dataDir, 'master.key.new'),
});

export function parseKey(hex: string, where: string): Uint8Array {
  const h = hex.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new DeviceError('FERRY_DEVICE_MASTER_KEY', `${where}: the master key must be 32 bytes of hex`);
  return Buffer.from(h, 'hex');
}

/** The key in use: FERRY_MASTER_KEY if set (as loadMasterKey reads it), else `master.key`; never creates one. */
export function currentKey(dataDir: string, env: Readonly<Record<string, string | undefined>>): { key: Uint8Array; fromEnv: boolean } {
  const fromEnv = env['FERRY_MASTER_KEY'];
  if (fromEnv !== undefined) return { key: parseKey(fromEnv, 'FERRY_MASTER_KEY'), fromEnv: true };
  const p = keyPaths(dataDir).current;
  if (!existsSync(p)) throw new DeviceError('FERRY_DEVICE_MASTER_KEY', `no master key: neither FERRY_MASTER_KEY nor ${p}`);
  return { key: parseKey(readFileSync(p, 'utf8'), p), fromEnv: false };
}

/** Writes `key` (hex and a newline) to `path`, mode 0600, and fsyncs it before returning. */
export function writeKeyFile(path: string, key: Uint8Array): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, `${Buffer.from(key).toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o600); // an existing file keeps its mode through open(2)
}

/** rename(2), then fsync of the directory so the new name survives a power cut. */
export function renameDurably(from: string, to: string): void {
  renameSync(from, to);
  const fd = openSync(dirname(to), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
