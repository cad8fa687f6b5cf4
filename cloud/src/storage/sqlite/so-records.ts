/**
 * @module Service-object records and grants on SQLite (embedded mode, in cloud.db beside the composite
 * values; docs/composite-streams.md "Hosting"): one row per object (its document as JSON text) and one per
 * grant, so objects and grants survive a restart and are installed again at start.
 */
import type Database from 'better-sqlite3';
import type { Grant } from '@ferry/compose';
import { grantKey, grantOf, type SoRecord, type SoRecordStore } from '../../compose/records.ts';

interface Row {
  id: string;
  owner: string;
  created: number;
  rev: number;
  document: string;
}

const recordOf = (r: Row): SoRecord => ({
  id: r.id,
  owner: r.owner,
  created: r.created,
  rev: r.rev,
  document: JSON.parse(r.document) as Record<string, unknown>,
});

export class SqliteSoRecords implements SoRecordStore {
  readonly #db: Database.Database;
  readonly #q: {
    put: Database.Statement<[string, string, number, number, string]>;
    get: Database.Statement<[string], Row>;
    del: Database.Statement<[string]>;
    delGrants: Database.Statement<[string]>;
    list: Database.Statement<[], Row>;
    count: Database.Statement<[string], { n: number }>;
    grants: Database.Statement<[string], { grant: string }>;
    addGrant: Database.Statement<[string, string]>;
    removeGrant: Database.Statement<[string, string]>;
  };

  constructor(db: Database.Database) {
    this.#db = db;
    db.exec(`
CREATE TABLE IF NOT EXISTS compose_sos (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, created INTEGER NOT NULL, rev INTEGER NOT NULL, document TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS compose_sos_owner ON compose_sos (owner);
CREATE TABLE IF NOT EXISTS compose_grants (so TEXT NOT NULL, grant TEXT NOT NULL, PRIMARY KEY (so, grant)) WITHOUT ROWID;`);
    this.#q = {
      put: db.prepare(
        'INSERT INTO compose_sos (id, owner, created, rev, document) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, created = excluded.created, rev = excluded.rev, document = excluded.document',
      ),
      get: db.prepare('SELECT id, owner, created, rev, document FROM compose_sos WHERE id = ?'),
      del: db.prepare('DELETE FROM compose_sos WHERE id = ?'),
      delGrants: db.prepare('DELETE FROM compose_grants WHERE so = ?'),
      list: db.prepare('SELECT id, owner, created, rev, document FROM compose_sos ORDER BY created, id'),
      count: db.prepare('SELECT count(*) AS n FROM compose_sos WHERE owner = ?'),
      grants: db.prepare('SELECT grant FROM compose_grants WHERE so = ? ORDER BY grant'),
      addGrant: db.prepare('INSERT OR IGNORE INTO compose_grants (so, grant) VALUES (?, ?)'),
      removeGrant: db.prepare('DELETE FROM compose_grants WHERE so = ? AND grant = ?'),
    };
  }

  put(rec: SoRecord): void {
    this.#q.put.run(rec.id, rec.owner, rec.created, rec.rev, JSON.stringify(rec.document));
  }
  get(id: string): SoRecord | undefined {
    const r = this.#q.get.get(id);
    return r === undefined ? undefined : recordOf(r);
  }
  delete(id: string): void {
    this.#db.transaction(() => {
      this.#q.del.run(id);
      this.#q.delGrants.run(id);
    })();
  }
  list(): readonly SoRecord[] {
    return this.#q.list.all().map(recordOf);
  }
  count(owner: string): number {
    return this.#q.count.get(owner)?.n ?? 0;
  }
  grants(so: string): readonly Grant[] {
    return this.#q.grants.all(so).map((r) => grantOf(r.grant));
  }
  addGrant(so: string, grant: Grant): boolean {
    return this.#q.addGrant.run(so, grantKey(grant)).changes > 0;
  }
  removeGrant(so: string, grant: Grant): boolean {
    return this.#q.removeGrant.run(so, grantKey(grant)).changes > 0;
  }
}
