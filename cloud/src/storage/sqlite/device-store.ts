/** @module The DeviceStore port on SQLite: the `devices` table of the cloud's database (cloud.db). */
import type Database from 'better-sqlite3';
import type { DeviceRecord, DeviceStore } from '../../devices/registry.ts';

export class SqliteDeviceStore implements DeviceStore {
  private readonly db: Database.Database;
  constructor(db: Database.Database) {
    this.db = db;
    db.exec('CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, namespace TEXT NOT NULL, created_ms INTEGER NOT NULL, sealed_key BLOB NOT NULL)');
    // Added after the first release: older files get the column (NULL: no owner).
    const cols = db.prepare('PRAGMA table_info(devices)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'owner')) db.exec('ALTER TABLE devices ADD COLUMN owner TEXT');
    // Added with MQTT authentication: older rows are boards (kind NULL reads as 'device') on no gateway.
    if (!cols.some((c) => c.name === 'kind')) db.exec('ALTER TABLE devices ADD COLUMN kind TEXT');
    if (!cols.some((c) => c.name === 'gateway')) db.exec('ALTER TABLE devices ADD COLUMN gateway TEXT');
  }
  put(r: DeviceRecord): boolean {
    return (
      this.db
        .prepare('INSERT OR IGNORE INTO devices (id, namespace, created_ms, sealed_key, owner, kind, gateway) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(r.id, r.namespace, r.createdMs, r.sealedKey, r.owner ?? null, r.kind ?? null, r.gateway ?? null).changes === 1
    );
  }
  get(id: string): DeviceRecord | undefined {
    const r = this.db
      .prepare('SELECT id, namespace, owner, kind, gateway, created_ms AS createdMs, sealed_key AS sealedKey FROM devices WHERE id = ?')
      .get(id) as DeviceRecord | undefined;
    return r;
  }
  list(): DeviceRecord[] {
    return this.db
      .prepare('SELECT id, namespace, owner, kind, gateway, created_ms AS createdMs, sealed_key AS sealedKey FROM devices ORDER BY id')
      .all() as DeviceRecord[];
  }
  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM devices WHERE id = ?').run(id).changes === 1;
  }
}
