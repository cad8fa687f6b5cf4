/** The schedule stores conformance suite (stores.case.ts) over Memory, SQLite (a file) and a real Redis. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis } from '@ferry/test-kit/redis';
import { RedisLeaseStore, RedisScheduleStore } from '../../storage/redis/schedule-stores.ts';
import { SqliteLeaseStore, SqliteScheduleStore } from '../../storage/sqlite/schedule-stores.ts';
import { storeCases } from './stores.case.ts';
import { MemoryLeaseStore, MemoryScheduleStore } from './stores.ts';

const MASTER = new Uint8Array(32).fill(7);

storeCases('memory', async () => {
  const stores = { schedules: new MemoryScheduleStore(), leases: new MemoryLeaseStore() };
  return { open: () => stores, persistent: false, close: async () => {} };
});

storeCases('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-sched-'));
  const dbs: Database.Database[] = [];
  return {
    persistent: true,
    open: () => {
      const db = new Database(join(dir, 'cloud.db'));
      db.pragma('journal_mode = WAL');
      dbs.push(db);
      return { schedules: new SqliteScheduleStore(db, { masterKey: MASTER }), leases: new SqliteLeaseStore(db) };
    },
    close: async () => {
      for (const db of dbs) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteLeaseStore', () => {
  it('keeps the newest two leases per schedule and says who holds them', async () => {
    const db = new Database(':memory:');
    const l = new SqliteLeaseStore(db);
    for (let p = 0; p < 5; p++) expect(await l.claim('s', p, `w${p}`)).toBe(true);
    expect(db.prepare('SELECT period FROM schedule_lease ORDER BY period').pluck().all()).toEqual([3, 4]);
    expect([await l.holder('s', 4), await l.holder('s', 0)]).toEqual(['w4', undefined]);
    await expect(l.claim('s', -1, 'w')).rejects.toMatchObject({ code: 'FERRY_STORE_RANGE' });
    await expect(l.claim('s', 1.5, 'w')).rejects.toMatchObject({ code: 'FERRY_STORE_RANGE' });
    db.close();
  });

  // Regression: schedules kept the public token they run under (a bearer credential) in clear in cloud.db.
  it('stores the token a schedule runs under sealed; another master key cannot open it; an old clear row still reads', async () => {
    const db = new Database(':memory:');
    const token = 'ferry-pub.header.body.signature-of-a-bearer-token';
    const schedule = {
      id: 's1',
      owner: 'alice',
      namespace: 'home',
      hash: 'a'.repeat(64),
      export: 'tick',
      args: [],
      periodS: 60,
      writeTo: 'k',
      startMs: 0,
      token,
    };
    await new SqliteScheduleStore(db, { masterKey: MASTER }).put(schedule);
    const raw = (db.prepare('SELECT body FROM schedule').get() as { body: string }).body;
    expect(raw).not.toContain(token);
    expect((await new SqliteScheduleStore(db, { masterKey: MASTER }).get('s1'))?.token).toBe(token);
    await expect(new SqliteScheduleStore(db, { masterKey: new Uint8Array(32).fill(8) }).get('s1')).rejects.toMatchObject({ code: 'FERRY_STORE_CORRUPT' });
    db.prepare('INSERT INTO schedule (id, start_ms, body) VALUES (?, 0, ?)').run('old', JSON.stringify({ ...schedule, id: 'old' }));
    expect((await new SqliteScheduleStore(db, { masterKey: MASTER }).get('old'))?.token).toBe(token);
    db.close();
  });

  it('a corrupt schedule row is reported, not run', async () => {
    const db = new Database(':memory:');
    const s = new SqliteScheduleStore(db);
    db.prepare('INSERT INTO schedule (id, start_ms, body) VALUES (\'x\', 0, \'{"id":"x"}\')').run();
    await expect(s.list()).rejects.toMatchObject({ code: 'FERRY_STORE_CORRUPT' });
    db.close();
  });
});

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});

if (redis.ok) {
  storeCases('redis', async () => {
    const prefix = redis.prefix();
    return {
      persistent: true,
      open: () => {
        const c = redis.connect();
        const schedules = new RedisScheduleStore({ redis: c, prefix, masterKey: MASTER });
        return { schedules, leases: new RedisLeaseStore({ redis: c, prefix, schedules }) };
      },
      close: async () => {}, // the harness closes its connections and removes the prefix in afterAll
    };
  });

  describe('RedisLeaseStore', () => {
    it('a lease lives two periods of its schedule (one day for an unknown one), under a cluster-safe key', async () => {
      const c = redis.connect();
      const prefix = redis.prefix();
      const schedules = new RedisScheduleStore({ redis: c, prefix });
      const leases = new RedisLeaseStore({ redis: c, prefix, schedules });
      await schedules.put({ id: 'p60', owner: 'o', namespace: 'n', hash: 'ab'.repeat(32), export: 'f', args: [], periodS: 60, writeTo: 'k', startMs: 0 });
      expect(await leases.claim('p60', 3, 'w1')).toBe(true);
      expect(leases.key('p60')).toBe(`${prefix}lease:{p60}`);
      const ttl = await c.pttl(leases.key('p60'));
      expect(ttl).toBeGreaterThan(60_000);
      expect(ttl).toBeLessThanOrEqual(120_000);
      expect(await leases.newest('p60')).toEqual({ period: 3, worker: 'w1' });
      expect(await leases.claim('gone', 0, 'w1')).toBe(true);
      expect(await c.pttl(leases.key('gone'))).toBeGreaterThan(120_000);
      expect(() => new RedisScheduleStore({ redis: c, prefix: 'a{b}:' })).toThrow(/FERRY_STORE_CONFIG/);
    });

    it('a Redis that does not answer is FERRY_STORE_UNAVAILABLE (the scheduler logs it and tries again next tick)', async () => {
      const c = redis.connect();
      c.disconnect();
      await expect(new RedisScheduleStore({ redis: c }).list()).rejects.toMatchObject({ code: 'FERRY_STORE_UNAVAILABLE' });
      await expect(new RedisLeaseStore({ redis: c }).claim('s', 0, 'w')).rejects.toMatchObject({ code: 'FERRY_STORE_UNAVAILABLE' });
    });
  });
} else {
  describe.skip(`schedule stores on Redis: skipped, ${redis.reason}`, () => {
    it('needs redis-server', () => {});
  });
}
