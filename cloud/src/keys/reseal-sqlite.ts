/**
 * @module The SQLite half of a master key rotation: every sealed value of cloud.db (devices.sealed_key,
 * fn_owner.sealed_secret, the sealed token in schedule.body, the sealed secret in notify_channels.body,
 * so_subscriptions.secret) re-sealed under the new key, inside the caller's
 * transaction, so the file holds either every row under the old key or every row under the new one. A row
 * that opens under neither key aborts the transaction (FERRY_DEVICE_UNOPENABLE): nothing is changed.
 */
import type Database from 'better-sqlite3';
import { DeviceError } from '../devices/errors.ts';
import { channelIsSealed, scheduleIsSealed, type Resealer } from './resealer.ts';

export interface Counts {
  devices: number;
  owners: number;
  schedules: number;
  /** Notification channels with a secret (webhook signing keys, SMTP passwords). */
  channels: number;
  /** Composite streams' HTTP callback subscriptions. */
  callbacks: number;
}

export type Progress = (p: { readonly phase: 'sqlite' | 'redis'; readonly done: number; readonly total: number }) => void;

interface Table {
  readonly kind: keyof Counts;
  readonly table: string;
  readonly select: string;
  readonly update: string;
  readonly reseal: (r: Resealer, row: { id: string; v: Buffer | string }) => Buffer | string | null | undefined;
  /** Whether a row left as it is holds something sealed (counted); default: every row does. */
  readonly holdsSealed?: (v: string) => boolean;
}

const TABLES: readonly Table[] = [
  {
    kind: 'devices',
    table: 'devices',
    select: 'SELECT id, sealed_key AS v FROM devices',
    update: 'UPDATE devices SET sealed_key = ? WHERE id = ?',
    reseal: (r, row) => r.device(row.id, row.v as Buffer),
  },
  {
    kind: 'owners',
    table: 'fn_owner',
    select: 'SELECT owner AS id, sealed_secret AS v FROM fn_owner',
    update: 'UPDATE fn_owner SET sealed_secret = ? WHERE owner = ?',
    reseal: (r, row) => r.owner(row.id, row.v as Buffer),
  },
  {
    kind: 'schedules',
    table: 'schedule',
    select: 'SELECT id, body AS v FROM schedule',
    update: 'UPDATE schedule SET body = ? WHERE id = ?',
    reseal: (r, row) => r.schedule(row.v as string),
    holdsSealed: scheduleIsSealed,
  },
  {
    kind: 'channels',
    table: 'notify_channels',
    select: 'SELECT id, body AS v FROM notify_channels',
    update: 'UPDATE notify_channels SET body = ? WHERE id = ?',
    reseal: (r, row) => r.channel(row.v as string),
    holdsSealed: channelIsSealed,
  },
  {
    kind: 'callbacks',
    table: 'so_subscriptions',
    select: 'SELECT id, secret AS v FROM so_subscriptions',
    update: 'UPDATE so_subscriptions SET secret = ? WHERE id = ?',
    reseal: (r, row) => r.callback(row.id, row.v as string),
  },
];

/** Tables a cloud that never ran in that mode has not created yet are skipped. */
const present = (db: Database.Database): Table[] =>
  TABLES.filter((t) => db.prepare('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', t.table) !== undefined);

/**
 * Re-seals in place; call inside a transaction. Counts the rows sealed under the new key afterwards (a
 * schedule without a token, a channel without a secret hold nothing sealed and are not counted). `afterRow`
 * is a test hook.
 */
export function resealSqlite(
  db: Database.Database,
  r: Resealer,
  o: { onProgress?: Progress | undefined; afterRow?: ((n: number) => void) | undefined } = {},
): Counts {
  const tables = present(db);
  const total = tables.reduce((n, t) => n + (db.prepare(`SELECT count(*) AS n FROM ${t.table}`).get() as { n: number }).n, 0);
  const counts: Counts = { devices: 0, owners: 0, schedules: 0, channels: 0, callbacks: 0 };
  const unopenable: string[] = [];
  let done = 0;
  for (const t of tables) {
    const update = db.prepare<[Buffer | string, string]>(t.update);
    // .all(), not .iterate(): the updates below run on the same connection, which an open iterator forbids.
    for (const row of db.prepare<[], { id: string; v: Buffer | string }>(t.select).all()) {
      const out = t.reseal(r, row);
      if (out === undefined) unopenable.push(`${t.table} ${row.id}`);
      else {
        if (out !== null) update.run(out, row.id);
        if (out !== null || t.holdsSealed === undefined || t.holdsSealed(row.v as string)) counts[t.kind]++;
      }
      done++;
      o.afterRow?.(done);
      o.onProgress?.({ phase: 'sqlite', done, total });
    }
  }
  if (unopenable.length > 0) throw unopenableError(unopenable);
  return counts;
}

export function unopenableError(rows: readonly string[]): DeviceError {
  const shown = rows.slice(0, 10).join(', ');
  return new DeviceError(
    'FERRY_DEVICE_UNOPENABLE',
    `${rows.length} sealed row(s) open under neither the current nor the new master key (${shown}${rows.length > 10 ? ', ...' : ''}): sealed under another key or damaged; remove them, or set the master key they were sealed with, then run again. Nothing was changed.`,
  );
}
