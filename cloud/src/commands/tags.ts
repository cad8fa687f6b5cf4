/**
 * @module Device tags (docs/actions.md "Broadcast"): a few key/value pairs per device in cloud.db (which
 * scale-out workers share, as they share the device registry), set as a whole with
 * `PUT /api/v1/devices/{id}/tags`, matched by a broadcast's `{tags: {...}}` target (every pair must match).
 */
import type Database from 'better-sqlite3';
import { CommandError } from './errors.ts';

export const MAX_TAGS = 32;
const TAG_KEY = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_TAG_VALUE = 128;

export class DeviceTags {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
    db.exec('CREATE TABLE IF NOT EXISTS device_tags (device TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (device, key))');
  }

  /** Replaces the device's tags. */
  set(device: string, tags: Readonly<Record<string, string>>): void {
    const rows = Object.entries(checkTags(tags));
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM device_tags WHERE device = ?').run(device);
      const put = this.#db.prepare('INSERT INTO device_tags (device, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of rows) put.run(device, k, v);
    })();
  }

  get(device: string): Record<string, string> {
    const rows = this.#db.prepare('SELECT key, value FROM device_tags WHERE device = ? ORDER BY key').all(device) as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  /** The devices carrying every pair of `query`. */
  matching(query: Readonly<Record<string, string>>): Set<string> {
    const pairs = Object.entries(checkTags(query));
    if (pairs.length === 0) return new Set();
    const sql = `SELECT device FROM device_tags WHERE ${pairs.map(() => '(key = ? AND value = ?)').join(' OR ')} GROUP BY device HAVING COUNT(*) = ?`;
    const rows = this.#db.prepare(sql).all(...pairs.flat(), pairs.length) as { device: string }[];
    return new Set(rows.map((r) => r.device));
  }

  /** Forgets a removed device's tags. */
  remove(device: string): void {
    this.#db.prepare('DELETE FROM device_tags WHERE device = ?').run(device);
  }
}

/** Tags as the API takes them: at most MAX_TAGS pairs, keys 1..64 of [A-Za-z0-9._-], string values up to 128 characters. */
export function checkTags(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CommandError('FERRY_CMD_BAD_REQUEST', 'tags must be an object of strings');
  const e = Object.entries(v);
  if (e.length > MAX_TAGS) throw new CommandError('FERRY_CMD_BAD_REQUEST', `at most ${MAX_TAGS} tags`);
  for (const [k, x] of e)
    if (!TAG_KEY.test(k) || typeof x !== 'string' || x.length > MAX_TAG_VALUE)
      throw new CommandError('FERRY_CMD_BAD_REQUEST', `tag ${JSON.stringify(k)}: keys are 1..64 of [A-Za-z0-9._-], values strings of at most ${MAX_TAG_VALUE}`);
  return v as Record<string, string>;
}
