import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteIncidentStore } from '@ferry/base';

describe('SqliteIncidentStore on better-sqlite3', () => {
  it('keeps the newest rows only, newest first, with long messages cut', () => {
    const db = new Database(':memory:');
    const store = new SqliteIncidentStore(db, 3);
    for (let i = 0; i < 7; i++) store.record({ at: 1000 + i, component: `rule:${i}`, kind: 'failed', attempt: i, message: 'x'.repeat(i === 6 ? 2000 : 1) });
    const rows = store.list();
    expect(rows.map((r) => r.component)).toEqual(['rule:6', 'rule:5', 'rule:4']);
    expect(rows[0]!.message.length).toBe(500);
    expect(store.list(1)).toHaveLength(1);
    // A second store over the same database sees them (what a restart does).
    expect(new SqliteIncidentStore(db, 3).list().map((r) => r.at)).toEqual([1006, 1005, 1004]);
  });
});
