/** Service-object records and grants on Redis: the SoRecordStore contract, and the change log workers read. */
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis } from '@ferry/test-kit/redis';
import { soRecordsContract } from '../../compose/records.case.ts';
import { RedisSoRecords } from './so-records.ts';

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});

// Without redis-server: skipped with the reason (startRedis fails instead when CI=true).
if (!redis.ok) describe.skip(`Redis service-object records: skipped, ${redis.reason}`, () => undefined);
else {
  const client = redis.connect();
  soRecordsContract('redis', () => new RedisSoRecords(client, redis.prefix()));

  it('notes every change in a log a worker reads past the last change it took in', async () => {
    const s = new RedisSoRecords(client, redis.prefix());
    const rec = (id: string, rev: number) => ({ id, owner: 'alice', created: 1, rev, document: { streams: {} } });
    const start = await s.changedSince(0);
    expect(start.ids).toEqual([]);
    await s.put(rec('a', 1));
    await s.put(rec('b', 1));
    const first = await s.changedSince(start.seq);
    expect(first.ids).toEqual(['a', 'b']);
    await s.put(rec('a', 2));
    await s.delete('b');
    const next = await s.changedSince(first.seq);
    expect(next.ids).toEqual(['a', 'b']);
    expect(next.seq).toBe(first.seq + 2);
    expect(await s.changedSince(next.seq)).toEqual({ seq: next.seq, ids: [] });
  });
}
