/**
 * @module `ferry cloud rotate-master-key`: every secret the cloud seals under its master key (device keys,
 * owners' signing secrets, schedule tokens, notification channel and callback secrets; cloud.db and, in
 * scale-out mode, Redis) re-sealed under a new
 * random key, with every cloud on the data directory stopped (data-lock.ts). docs/cloud.md, "Rotating the
 * master key", is the operator's side. The order, and what a rerun does after a crash at each point:
 *
 * 1. Exclusive lock on the data dir; with Redis, no worker subscribed and every Redis value opens (preflight).
 * 2. One SQLite transaction: the rotation record (the new key sealed under the old one, rotation-record.ts)
 *    and every row of cloud.db re-sealed. Crash before its commit: nothing changed, a rerun starts afresh.
 *    After it: a cloud refuses to start; a rerun opens the record with the old key and goes on.
 * 3. Redis values re-sealed page by page, each value "new key first, else old" (reseal-redis.ts).
 * 4. The key handed over. File mode (`<data>/master.key`): master.key.old <- old key (0600, fsync), then
 *    master.key.new <- new key (0600, fsync), renamed over master.key (atomic; the directory fsynced).
 *    Environment mode (FERRY_MASTER_KEY set): no file; `announce` prints the new key. A crash before this
 *    step ends: master.key (or the environment) still holds the old key and the record opens with it.
 * 5. The record deleted; cloud.db vacuumed and its WAL truncated, so no page of the file keeps a value sealed
 *    under the old key. Crash before: a rerun with the new key in place recognises it (the record's key check)
 *    and only deletes the record; with the old key still in place it redoes steps 3-5 with the same new key.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import { DeviceError } from '../devices/errors.ts';
import { lockDataDirExclusive } from './data-lock.ts';
import { currentKey, keyPaths, parseKey, renameDurably, writeKeyFile } from './key-files.ts';
import { connectRedis, preflight, resealRedis, type RedisTarget } from './reseal-redis.ts';
import { resealSqlite, type Counts, type Progress } from './reseal-sqlite.ts';
import { Resealer } from './resealer.ts';
import { deleteRecord, keyCheck, openNewKey, readRecord, sealNewKey, writeRecord } from './rotation-record.ts';

/** Points between the steps above, where the tests inject crashes. */
export type RotationStep = 'sqlite' | 'redis' | 'old-key-file' | 'new-key-file' | 'renamed' | 'announced' | 'record-deleted';

export interface RotateOptions {
  readonly dataDir: string;
  /** FERRY_MASTER_KEY (environment mode) and FERRY_NEW_MASTER_KEY (a new key chosen by the operator); default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The cloud's Redis in scale-out mode: its owners and schedules are re-sealed too. */
  readonly redis?: RedisTarget | undefined;
  readonly onProgress?: Progress | undefined;
  /**
   * Hands the result to the operator. In environment mode it carries the new key and is called before the
   * record is deleted, so a crash before it returned leaves a rerun that shows the same key again.
   */
  readonly announce?: ((r: RotationResult) => void) | undefined;
  readonly nowMs?: (() => number) | undefined;
  /** Tests: called after each SQLite row, each Redis page and each step (a throw there is a crash). */
  readonly hooks?: {
    readonly afterRow?: (n: number) => void;
    readonly afterPage?: (n: number) => void;
    readonly afterStep?: (s: RotationStep) => void;
  };
}

export interface RotationResult {
  /** Rows sealed under the new key, by kind (owners and schedules: cloud.db and Redis together). */
  readonly rotated: Counts;
  /** This run finished one that was interrupted. */
  readonly resumed: boolean;
  /** Environment mode: the new key (hex); set FERRY_MASTER_KEY to it before starting the cloud. */
  readonly masterKey?: string;
  /** File mode: where the new key and the old one are. */
  readonly keyFile?: string;
  readonly oldKeyFile?: string;
  /** What the operator does next. */
  readonly next: string;
}

export async function rotateMasterKey(o: RotateOptions): Promise<RotationResult> {
  const env = o.env ?? process.env;
  if (!existsSync(join(o.dataDir, 'cloud.db'))) throw new DeviceError('FERRY_DEVICE_MASTER_KEY', `${o.dataDir} holds no cloud.db: not a cloud data directory`);
  const lock = lockDataDirExclusive(o.dataDir);
  const db = new Database(join(o.dataDir, 'cloud.db'), { fileMustExist: true });
  db.pragma('synchronous = FULL'); // the rotation's commits survive a power cut, whatever the cloud runs with
  let redis: Redis | undefined;
  try {
    db.pragma('secure_delete = ON'); // values overwritten or freed are zeroed in the file, not left in free space
    const { key: current, fromEnv } = currentKey(o.dataDir, env);
    const rec = readRecord(db);
    let oldKey: Uint8Array | undefined;
    let newKey: Uint8Array;
    if (rec === undefined) {
      oldKey = current;
      newKey = env['FERRY_NEW_MASTER_KEY'] !== undefined ? parseKey(env['FERRY_NEW_MASTER_KEY'], 'FERRY_NEW_MASTER_KEY') : randomBytes(32);
      if (keyCheck(newKey) === keyCheck(oldKey)) throw new DeviceError('FERRY_DEVICE_MASTER_KEY', 'FERRY_NEW_MASTER_KEY is the key in use');
    } else if (rec.newCheck === keyCheck(current)) {
      newKey = current; // the new key is in place: only the record is left (step 5)
    } else {
      oldKey = current;
      const opened = openNewKey(current, rec.newSealed);
      if (opened === undefined)
        throw new DeviceError(
          'FERRY_DEVICE_UNOPENABLE',
          `an interrupted rotation's record opens under neither the current master key nor is it the new one: set ${fromEnv ? 'FERRY_MASTER_KEY' : 'master.key'} to the key in use when that rotation began`,
        );
      newKey = opened;
    }
    const resealer = new Resealer(oldKey, newKey);
    if (o.redis !== undefined) {
      redis = connectRedis(o.redis);
      await preflight(redis, o.redis, resealer);
    }

    const counts = db
      .transaction(() => {
        if (rec === undefined && oldKey !== undefined)
          writeRecord(db, { newSealed: sealNewKey(oldKey, newKey), newCheck: keyCheck(newKey), startedMs: (o.nowMs ?? Date.now)() });
        return resealSqlite(db, resealer, { onProgress: o.onProgress, afterRow: o.hooks?.afterRow });
      })
      .immediate();
    o.hooks?.afterStep?.('sqlite');

    if (redis !== undefined && o.redis !== undefined) {
      const r = await resealRedis(redis, o.redis, resealer, { onProgress: o.onProgress, afterPage: o.hooks?.afterPage });
      counts.owners += r.owners;
      counts.schedules += r.schedules;
      counts.channels += r.channels;
    }
    o.hooks?.afterStep?.('redis');

    const paths = keyPaths(o.dataDir);
    let result: RotationResult;
    if (fromEnv) {
      result =
        oldKey === undefined
          ? { rotated: counts, resumed: true, next: 'FERRY_MASTER_KEY already holds the new key: start the cloud' }
          : {
              rotated: counts,
              resumed: rec !== undefined,
              masterKey: Buffer.from(newKey).toString('hex'),
              next: 'set FERRY_MASTER_KEY to masterKey wherever the cloud runs (every worker), then start it; this key is shown once',
            };
    } else {
      if (oldKey !== undefined) {
        writeKeyFile(paths.old, oldKey);
        o.hooks?.afterStep?.('old-key-file');
        writeKeyFile(paths.next, newKey);
        o.hooks?.afterStep?.('new-key-file');
        renameDurably(paths.next, paths.current);
        o.hooks?.afterStep?.('renamed');
      }
      result = {
        rotated: counts,
        resumed: rec !== undefined,
        keyFile: paths.current,
        oldKeyFile: paths.old,
        next: `start the cloud; delete ${paths.old} once it runs (and from backups: it opens copies of cloud.db taken before now)`,
      };
    }
    o.announce?.(result);
    o.hooks?.afterStep?.('announced');

    db.transaction(() => deleteRecord(db)).immediate();
    o.hooks?.afterStep?.('record-deleted');
    db.exec('VACUUM'); // rewrites every page: free pages that held old sealed values are gone too
    db.pragma('wal_checkpoint(TRUNCATE)');
    return result;
  } finally {
    db.close();
    lock.release();
    await redis?.quit().catch(() => redis?.disconnect());
  }
}
