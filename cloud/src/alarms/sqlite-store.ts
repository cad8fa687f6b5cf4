/**
 * @module The alarm store on SQLite (embedded; the cloud's cloud.db): rules and alarms as JSON beside the
 * columns they are looked up by. `open_key` is unique, so one (owner, type, source) has at most one open
 * alarm; the transition keys seen are kept 7 days (a replayed transition is older than that never).
 */
import type Database from 'better-sqlite3';
import { ALARM_LIMITS, type AlarmFilter, type AlarmRule, type AlarmStore, type SaveResult, type Scope, type StoredAlarm } from './types.ts';

/** How long a transition key is remembered (ms). */
export const TRANSITION_KEEP_MS = 7 * 86_400_000;

export const openKey = (owner: string | undefined, type: string, source: string): string => JSON.stringify([owner ?? '', type, source]);

export class SqliteAlarmStore implements AlarmStore {
  readonly #db: Database.Database;
  readonly #save: (a: StoredAlarm, transition: string | undefined) => SaveResult;

  constructor(db: Database.Database) {
    this.#db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS alarm_rules (id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_ms INTEGER NOT NULL, json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS alarms (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, open_key TEXT UNIQUE, live INTEGER NOT NULL, status TEXT NOT NULL,
        first_ms INTEGER NOT NULL, version INTEGER NOT NULL, json TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS alarms_owner ON alarms (owner, first_ms);
      CREATE INDEX IF NOT EXISTS alarms_cleared ON alarms (owner, status, first_ms);
      CREATE INDEX IF NOT EXISTS alarms_live ON alarms (live) WHERE live = 1;
      CREATE TABLE IF NOT EXISTS alarm_transitions (key TEXT PRIMARY KEY, at_ms INTEGER NOT NULL);
    `);
    const version = db.prepare<[string], { version: number }>('SELECT version FROM alarms WHERE id = ?');
    const openHeld = db.prepare<[string, string], { id: string }>('SELECT id FROM alarms WHERE open_key = ? AND id != ?');
    const seen = db.prepare<[string], { key: string }>('SELECT key FROM alarm_transitions WHERE key = ?');
    const remember = db.prepare('INSERT INTO alarm_transitions (key, at_ms) VALUES (?, ?)');
    const forget = db.prepare('DELETE FROM alarm_transitions WHERE at_ms < ?');
    const upsert = db.prepare(
      `INSERT INTO alarms (id, owner, open_key, live, status, first_ms, version, json) VALUES (@id, @owner, @openKey, @live, @status, @firstMs, @version, @json)
       ON CONFLICT(id) DO UPDATE SET open_key = @openKey, live = @live, status = @status, version = @version, json = @json`,
    );
    const cleared = db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM alarms WHERE owner = ? AND status = 'cleared'");
    const prune = db.prepare(
      `DELETE FROM alarms WHERE id IN
        (SELECT id FROM alarms WHERE owner = ? AND status = 'cleared' ORDER BY first_ms DESC LIMIT -1 OFFSET ?)`,
    );
    this.#save = db.transaction((a: StoredAlarm, transition: string | undefined): SaveResult => {
      if (transition !== undefined && seen.get(transition) !== undefined) return 'duplicate';
      if ((version.get(a.id)?.version ?? 0) !== a.version - 1) return 'conflict';
      const open = a.status !== 'cleared';
      const key = openKey(a.owner, a.type, a.source);
      if (open && openHeld.get(key, a.id) !== undefined) return 'conflict';
      upsert.run({
        id: a.id,
        owner: a.owner ?? '',
        openKey: open ? key : null,
        live: open || a.pending.length > 0 || a.commandDue === true ? 1 : 0,
        status: a.status,
        firstMs: a.firstMs,
        version: a.version,
        json: JSON.stringify(a),
      });
      if (transition !== undefined) {
        remember.run(transition, a.lastMs);
        forget.run(a.lastMs - TRANSITION_KEEP_MS);
      }
      if (!open && (cleared.get(a.owner ?? '')?.n ?? 0) > ALARM_LIMITS.clearedPerOwner) prune.run(a.owner ?? '', ALARM_LIMITS.clearedPerOwner);
      return 'ok';
    });
  }

  putRule(r: AlarmRule): void {
    this.#db
      .prepare('INSERT INTO alarm_rules (id, owner, created_ms, json) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json')
      .run(r.id, r.owner ?? '', r.createdMs, JSON.stringify(r));
  }
  getRule(id: string): AlarmRule | undefined {
    const row = this.#db.prepare<[string], { json: string }>('SELECT json FROM alarm_rules WHERE id = ?').get(id);
    return row === undefined ? undefined : (JSON.parse(row.json) as AlarmRule);
  }
  listRules(scope: Scope): readonly AlarmRule[] {
    const rows =
      scope === 'all'
        ? this.#db.prepare<[], { json: string }>('SELECT json FROM alarm_rules ORDER BY created_ms, id').all()
        : this.#db.prepare<[string], { json: string }>('SELECT json FROM alarm_rules WHERE owner = ? ORDER BY created_ms, id').all(scope.owner ?? '');
    return rows.map((r) => JSON.parse(r.json) as AlarmRule);
  }
  deleteRule(id: string): void {
    this.#db.prepare('DELETE FROM alarm_rules WHERE id = ?').run(id);
  }

  getAlarm(id: string): StoredAlarm | undefined {
    const row = this.#db.prepare<[string], { json: string }>('SELECT json FROM alarms WHERE id = ?').get(id);
    return row === undefined ? undefined : (JSON.parse(row.json) as StoredAlarm);
  }
  openAlarm(owner: string | undefined, type: string, source: string): StoredAlarm | undefined {
    const row = this.#db.prepare<[string], { json: string }>('SELECT json FROM alarms WHERE open_key = ?').get(openKey(owner, type, source));
    return row === undefined ? undefined : (JSON.parse(row.json) as StoredAlarm);
  }
  listAlarms(scope: Scope, filter: AlarmFilter, limit: number): readonly StoredAlarm[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (scope !== 'all') {
      where.push('owner = ?');
      args.push(scope.owner ?? '');
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      args.push(filter.status);
    }
    // The rest is filtered on the JSON: few alarms per owner (docs/limits.md) and rare queries.
    const sql = `SELECT json FROM alarms ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY first_ms DESC, id DESC`;
    const out: StoredAlarm[] = [];
    for (const row of this.#db.prepare<(string | number)[], { json: string }>(sql).iterate(...args)) {
      const a = JSON.parse(row.json) as StoredAlarm;
      if (matches(a, filter)) out.push(a);
      if (out.length >= limit) break;
    }
    return out;
  }
  openCount(owner: string | undefined): number {
    return this.#db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM alarms WHERE owner = ? AND open_key IS NOT NULL').get(owner ?? '')?.n ?? 0;
  }
  live(): readonly StoredAlarm[] {
    return this.#db
      .prepare<[], { json: string }>('SELECT json FROM alarms WHERE live = 1 ORDER BY first_ms')
      .all()
      .map((r) => JSON.parse(r.json) as StoredAlarm);
  }
  save(a: StoredAlarm, transition?: string): SaveResult {
    return this.#save(a, transition);
  }
}

/** Whether an alarm passes a listing's filter. */
export function matches(a: StoredAlarm, f: AlarmFilter): boolean {
  return (
    (f.status === undefined || a.status === f.status) &&
    (f.severity === undefined || a.severity === f.severity) &&
    (f.type === undefined || a.type === f.type) &&
    (f.source === undefined || a.source === f.source)
  );
}
