/** @module The IdentityStore port on SQLite: API tokens and invitations in the cloud's database (cloud.db). */
import type Database from 'better-sqlite3';
import type { ApiTokenRecord, IdentityStore, InvitationRecord } from '../../identity/identity.ts';

interface TokenRow {
  id: string;
  owner: string | null;
  role: string;
  name: string;
  verifier: Buffer;
  created_ms: number;
  expires_ms: number;
  revoked_ms: number | null;
}

const token = (r: TokenRow): ApiTokenRecord => ({
  id: r.id,
  owner: r.owner ?? undefined,
  role: r.role as ApiTokenRecord['role'],
  name: r.name,
  verifier: r.verifier,
  createdMs: r.created_ms,
  expiresMs: r.expires_ms,
  revokedMs: r.revoked_ms ?? undefined,
});

export class SqliteIdentityStore implements IdentityStore {
  private readonly db: Database.Database;
  constructor(db: Database.Database) {
    this.db = db;
    db.exec(`
CREATE TABLE IF NOT EXISTS api_token (
  id TEXT PRIMARY KEY, owner TEXT, role TEXT NOT NULL, name TEXT NOT NULL, verifier BLOB NOT NULL,
  created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, revoked_ms INTEGER
);
CREATE TABLE IF NOT EXISTS invitation (
  verifier BLOB PRIMARY KEY, owner TEXT NOT NULL, expires_ms INTEGER NOT NULL, used_ms INTEGER
);`);
  }
  putToken(r: ApiTokenRecord): void {
    this.db
      .prepare('INSERT INTO api_token (id, owner, role, name, verifier, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(r.id, r.owner ?? null, r.role, r.name, r.verifier, r.createdMs, r.expiresMs);
  }
  getToken(id: string): ApiTokenRecord | undefined {
    const r = this.db.prepare('SELECT * FROM api_token WHERE id = ?').get(id) as TokenRow | undefined;
    return r === undefined ? undefined : token(r);
  }
  listTokens(owner: string | undefined): ApiTokenRecord[] {
    const rows =
      owner === undefined
        ? (this.db.prepare('SELECT * FROM api_token ORDER BY created_ms').all() as TokenRow[])
        : (this.db.prepare('SELECT * FROM api_token WHERE owner = ? ORDER BY created_ms').all(owner) as TokenRow[]);
    return rows.map(token);
  }
  revokeToken(id: string, nowMs: number): boolean {
    return this.db.prepare('UPDATE api_token SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL').run(nowMs, id).changes === 1;
  }
  putInvitation(r: InvitationRecord): void {
    this.db.prepare('INSERT INTO invitation (verifier, owner, expires_ms) VALUES (?, ?, ?)').run(r.verifier, r.owner, r.expiresMs);
  }
  useInvitation(verifier: Uint8Array, nowMs: number): string | undefined {
    // One statement: two concurrent redemptions cannot both see it unused.
    const r = this.db
      .prepare('UPDATE invitation SET used_ms = ? WHERE verifier = ? AND used_ms IS NULL AND expires_ms > ? RETURNING owner')
      .get(nowMs, verifier, nowMs) as { owner: string } | undefined;
    return r?.owner;
  }
}
