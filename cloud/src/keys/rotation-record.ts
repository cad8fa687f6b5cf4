/**
 * @module The record of a master key rotation in progress: one row of `master_key_rotation` in cloud.db,
 * written in the same transaction that re-seals the database's rows and deleted once the new key is in place
 * (rotate-master-key.ts). While it exists it says: every row of cloud.db is sealed under the new key, Redis
 * rows under the new or the old one, and the new key is `new_sealed` opened with the old one (AES-256-GCM
 * under a key derived from the old master key, sealed-secret.ts). So a run killed at any point after that
 * commit loses no key: a rerun with the old key opens the record and finishes. `new_check` recognises the new
 * key itself (an HMAC of a fixed label, which reveals nothing of the key) once the operator has installed it.
 * A cloud does not start while the record exists (data-lock.ts).
 */
import { createHmac } from 'node:crypto';
import type Database from 'better-sqlite3';
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';

const TABLE = 'master_key_rotation';
const SCHEMA = `CREATE TABLE IF NOT EXISTS ${TABLE} (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  new_sealed BLOB NOT NULL,
  new_check  TEXT NOT NULL,
  started_ms INTEGER NOT NULL
)`;

export interface RotationRecord {
  readonly newSealed: Uint8Array;
  readonly newCheck: string;
  readonly startedMs: number;
}

/** A key check value: tells two keys apart without revealing either. */
export const keyCheck = (key: Uint8Array): string => createHmac('sha256', key).update('ferry master key check').digest('hex');

const recordSealer = (oldKey: Uint8Array): SecretSealer => new SecretSealer(oldKey, 'ferry master key rotation');

export const sealNewKey = (oldKey: Uint8Array, newKey: Uint8Array): Buffer => recordSealer(oldKey).seal('master.key', newKey);

export const openNewKey = (oldKey: Uint8Array, sealed: Uint8Array): Uint8Array | undefined => recordSealer(oldKey).open('master.key', sealed);

const hasTable = (db: Database.Database): boolean => db.prepare('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', TABLE) !== undefined;

/** Whether a rotation is unfinished; reads only, so a starting cloud writes nothing to find out. */
export function rotationPending(db: Database.Database): boolean {
  return hasTable(db) && db.prepare(`SELECT 1 FROM ${TABLE}`).get() !== undefined;
}

export function readRecord(db: Database.Database): RotationRecord | undefined {
  if (!hasTable(db)) return undefined;
  const row = db.prepare<[], { new_sealed: Buffer; new_check: string; started_ms: number }>(`SELECT new_sealed, new_check, started_ms FROM ${TABLE}`).get();
  return row === undefined ? undefined : { newSealed: new Uint8Array(row.new_sealed), newCheck: row.new_check, startedMs: row.started_ms };
}

/** Inside the caller's transaction. */
export function writeRecord(db: Database.Database, r: RotationRecord): void {
  db.exec(SCHEMA);
  db.prepare(`INSERT OR REPLACE INTO ${TABLE} (id, new_sealed, new_check, started_ms) VALUES (1, ?, ?, ?)`).run(r.newSealed, r.newCheck, r.startedMs);
}

export function deleteRecord(db: Database.Database): void {
  if (hasTable(db)) db.exec(`DELETE FROM ${TABLE}`);
}
