/**
 * @module Who may use a data directory: any number of running clouds (workers of one host may share it), or
 * one master key rotation (rotate-master-key.ts), never both. The lock is SQLite's own file locking on
 * `<data>/cloud.lock`, an empty database that nobody writes: a cloud holds a read transaction on it (a SHARED
 * lock) from construction to stop(), a rotation asks for `BEGIN EXCLUSIVE` without waiting. The operating
 * system drops both when their process ends, even by kill -9, so there is no stale lock to clean up
 * (https://www.sqlite.org/lockingv3.html). The same check refuses to start a cloud while a rotation is
 * unfinished (its record is in cloud.db: rotation-record.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DeviceError } from '../devices/errors.ts';
import { rotationPending } from './rotation-record.ts';

export const LOCK_FILE = 'cloud.lock';

export interface DataDirHold {
  /** Lets a rotation in (idempotent). */
  release(): void;
}

const isBusy = (e: unknown): boolean => e instanceof Error && 'code' in e && (e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED');

function openLock(dataDir: string): Database.Database {
  return new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
}

/**
 * A running cloud's hold on `dataDir` (shared with other clouds on it). Refuses with FERRY_DEVICE_DATA_DIR_BUSY
 * while a rotation runs, and with FERRY_DEVICE_ROTATION_UNFINISHED when one was interrupted.
 */
export function holdDataDir(dataDir: string): DataDirHold {
  const lock = openLock(dataDir);
  try {
    lock.exec('BEGIN');
    lock.prepare('SELECT count(*) FROM sqlite_master').get(); // the read takes the SHARED lock, kept until release
  } catch (e) {
    lock.close();
    if (isBusy(e))
      throw new DeviceError('FERRY_DEVICE_DATA_DIR_BUSY', `${dataDir} is being re-keyed (ferry cloud rotate-master-key); start the cloud once it is done`, {
        cause: e,
      });
    throw e;
  }
  if (unfinished(dataDir)) {
    lock.close();
    throw new DeviceError(
      'FERRY_DEVICE_ROTATION_UNFINISHED',
      `a master key rotation of ${dataDir} was interrupted: run \`ferry cloud rotate-master-key --data ${dataDir}\` again to finish it`,
    );
  }
  return { release: () => lock.close() };
}

/** Whether cloud.db holds the record of an interrupted rotation (read only: a starting cloud writes nothing here). */
function unfinished(dataDir: string): boolean {
  const path = join(dataDir, 'cloud.db');
  if (!existsSync(path)) return false;
  const db = new Database(path, { fileMustExist: true });
  try {
    return rotationPending(db);
  } finally {
    db.close();
  }
}

/** The rotation's hold on `dataDir`: FERRY_DEVICE_DATA_DIR_BUSY while any cloud holds it. */
export function lockDataDirExclusive(dataDir: string): DataDirHold {
  const lock = openLock(dataDir);
  try {
    lock.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    lock.close();
    if (isBusy(e)) throw new DeviceError('FERRY_DEVICE_DATA_DIR_BUSY', `a cloud is running on ${dataDir}: stop every cloud on it first`, { cause: e });
    throw e;
  }
  return { release: () => lock.close() };
}
