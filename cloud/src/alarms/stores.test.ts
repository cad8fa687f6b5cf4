/** The alarm store contract on SQLite and on Redis (a real redis-server on loopback), and SQLite across a reopen. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis } from '@ferry/test-kit/redis';
import { applyTransition } from './lifecycle.ts';
import { RedisAlarmStore } from './redis-store.ts';
import { SqliteAlarmStore } from './sqlite-store.ts';
import { alarmStoreContract } from './stores.case.ts';

alarmStoreContract('sqlite', () => new SqliteAlarmStore(new Database(':memory:')));

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});
// Without redis-server: skipped with the reason (startRedis fails instead when CI=true).
if (!redis.ok) describe.skip(`Redis alarm store: skipped, ${redis.reason}`, () => undefined);
else {
  const client = redis.connect();
  alarmStoreContract('redis', () => new RedisAlarmStore({ redis: client, prefix: redis.prefix() }));
}

describe('SqliteAlarmStore', () => {
  it('keeps alarms and the transitions seen across a reopen of the database', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-alarm-')), 'cloud.db');
    const db = new Database(file);
    const tr = { kind: 'raise', type: 'hot', source: 'd1', severity: 'minor', atMs: 5, rule: 'r', reason: 'x' } as const;
    const a = applyTransition(undefined, tr, { owner: 'o', newId: () => 'a1', command: true })!;
    expect(new SqliteAlarmStore(db).save(a, 'k1')).toBe('ok');
    db.close();
    const again = new SqliteAlarmStore(new Database(file));
    expect(again.openAlarm('o', 'hot', 'd1')?.commandDue).toBe(true);
    expect(again.save({ ...a, version: 2 }, 'k1')).toBe('duplicate');
  });
});
