/**
 * The SQLite ports: the ReorderStore and TimeSeriesStore conformance suites, restart survival (windows
 * remembered, so replays are refused after a restart), the Message refs of the real pipeline, and errors.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ingest } from '../../ingest/pipeline.ts';
import { reorderStoreCases } from '../../ingest/reorder-store.case.ts';
import { keyOf, token } from '@ferry/test-kit/ingest';
import type { Arrival } from '../../ingest/ports.ts';
import type { IngestEvent } from '../../ingest/steps.ts';
import { StoreError } from '../errors.ts';
import { arrivalCodec } from '../ref-codec.ts';
import { openSqlite, type SqliteDb } from './db.ts';
import { SqliteReorderStore } from './reorder-store.ts';
import { SqliteTimeSeries } from './time-series.ts';
import { timeSeriesCases } from '../time-series.case.ts';

// A RAM disk where there is one: the property suites open hundreds of files; the semantics do not need a disk.
const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ferry-sqlite-'));
let n = 0;
const freshDir = (): string => join(root, `db${n++}`);
/**
 * Property suites make hundreds of stores: keep only the newest database open, and use synchronous=NORMAL
 * there (fsync per commit is durability, not semantics; FULL is tested below and is the default).
 */
let last: SqliteDb | undefined;
const fresh = (): SqliteDb => {
  last?.close();
  last = openSqlite({ dir: freshDir(), synchronous: 'NORMAL' });
  return last;
};
afterAll(() => {
  last?.close();
  rmSync(root, { recursive: true, force: true });
});

reorderStoreCases('sqlite', (config) => new SqliteReorderStore<string>({ db: fresh(), config }));
timeSeriesCases('sqlite', () => new SqliteTimeSeries(fresh()));

describe('openSqlite', () => {
  it('uses WAL and synchronous=FULL by default, NORMAL on request, and records the schema version', () => {
    const dir = freshDir();
    const db = openSqlite({ dir });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.prepare("SELECT value FROM ferry_meta WHERE key = 'schema_version'").get()).toEqual({ value: '1' });
    db.close();
    const db2 = openSqlite({ dir, synchronous: 'NORMAL' });
    expect(db2.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    db2.close();
  });
  it('refuses bad options and a newer schema, with typed errors', () => {
    expect(() => openSqlite({ dir: '' })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_CONFIG' }));
    expect(() => openSqlite({ dir: freshDir(), file: '../x' })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_CONFIG' }));
    expect(() => openSqlite({ dir: freshDir(), synchronous: 'OFF' as 'FULL' })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_CONFIG' }));
    const dir = freshDir();
    const db = openSqlite({ dir });
    db.prepare("UPDATE ferry_meta SET value = '99' WHERE key = 'schema_version'").run();
    db.close();
    expect(() => openSqlite({ dir })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_SCHEMA', num: 4603 }));
    const file = join(root, `file${n++}`);
    writeFileSync(file, 'not a directory');
    expect(() => openSqlite({ dir: join(file, 'sub') })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_OPEN' }));
    const notDb = freshDir();
    mkdirSync(notDb);
    writeFileSync(join(notDb, 'ferry.sqlite'), 'this is not a database file, just text long enough to fill a header......');
    expect(() => openSqlite({ dir: notDb })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_OPEN' }));
  });
});

describe('SqliteReorderStore across a restart', () => {
  const cfg = { window: 8, timeoutMs: 50, groupTimeoutMs: 200, maxOpenGroups: 2 };
  it('remembers windows, buffers and groups: replays and duplicates are refused after reopening the file', () => {
    const dir = freshDir();
    let db = openSqlite({ dir });
    let s = new SqliteReorderStore<string>({ db, config: cfg });
    for (let sq = 0; sq < 20; sq++) s.apply('a', { ep: 3, sq, ref: `a${sq}` }, 0);
    s.apply('a', { ep: 3, sq: 22, ref: 'a22' }, 1); // buffered, waits for 20 and 21
    s.apply('b', { ep: 1, sq: 0, group: { id: 5, part: 0, parts: 2 }, ref: 'b0' }, 1); // an open group
    const before = s.state('a');
    db.close();
    expect(() => s.apply('a', { ep: 3, sq: 1, ref: 'x' }, 2)).toThrow(expect.objectContaining({ code: 'FERRY_STORE_CLOSED' }));

    db = openSqlite({ dir });
    s = new SqliteReorderStore<string>({ db, config: cfg });
    expect(s.state('a')).toEqual(before);
    expect(s.apply('a', { ep: 3, sq: 2, ref: 'old' }, 2)).toEqual({ outcome: 'replay', released: [] });
    expect(s.apply('a', { ep: 3, sq: 19, ref: 'again' }, 2)).toEqual({ outcome: 'duplicate', released: [] });
    expect(s.apply('a', { ep: 2, sq: 30, ref: 'old epoch' }, 2)).toEqual({ outcome: 'late', released: [] });
    expect(s.apply('a', { ep: 3, sq: 22, ref: 'again' }, 2)).toEqual({ outcome: 'duplicate', released: [] });
    const r = s.apply('a', { ep: 3, sq: 20, ref: 'a20' }, 2);
    expect(r.released).toEqual([{ type: 'message', ep: 3, sq: 20, at: 2, ref: 'a20' }]);
    const g = s.apply('b', { ep: 1, sq: 1, group: { id: 5, part: 1, parts: 2 }, ref: 'b1' }, 3);
    expect(g.released).toMatchObject([{ type: 'group', id: 5, complete: true, members: [{ ref: 'b0' }, { ref: 'b1' }] }]);
    // The due index survived too: the buffered 22 times out by tick alone.
    expect(s.tick(51)).toEqual([
      {
        kid: 'a',
        released: [
          { type: 'gap', ep: 3, from: 21, to: 22 },
          { type: 'message', ep: 3, sq: 22, at: 1, ref: 'a22' },
        ],
      },
    ]);
    db.close();
  });

  it('the real pipeline over SQLite: Message refs round-trip, and a restarted process refuses replays', () => {
    const dir = freshDir();
    const make = (db: SqliteDb) =>
      new Ingest({
        keys: keyOf,
        reorder: new SqliteReorderStore<Arrival>({ db, codec: arrivalCodec() }),
        series: new SqliteTimeSeries(db),
        clock: { now: () => 1_000 },
      });
    let db = openSqlite({ dir });
    let ingest = make(db);
    const t1 = token('dev1', 1, 1, undefined, { t: 21.5, s: 'ü' });
    expect(ingest.ingest(t1)).toMatchObject({ status: 'accepted', released: 0 });
    const seen: unknown[] = [];
    ingest.subscribe((e) => {
      seen.push(e);
    });
    expect(ingest.ingest(token('dev1', 1, 0))).toMatchObject({ status: 'accepted', released: 2 });
    expect(seen).toMatchObject([
      { type: 'message', sq: 0 },
      { type: 'message', sq: 1, message: { header: { kid: 'dev1', ep: 1, sq: 1 }, claims: { d: { t: 21.5, s: 'ü' } } } },
    ]);
    db.close();

    db = openSqlite({ dir });
    ingest = make(db);
    expect(ingest.ingest(t1)).toMatchObject({ status: 'duplicate' });
    expect(ingest.series.query('dev1/tel', 0, Infinity)).toMatchObject([
      { sq: 0, value: { sq: 0 } },
      { sq: 1, value: { t: 21.5, s: 'ü' } },
    ]);
    db.close();
  });

  it('a held message keeps the topic it arrived on in the buffer, across a restart; a bare Message ref reads back without one', () => {
    const dir = freshDir();
    const make = (db: SqliteDb) =>
      new Ingest({
        keys: keyOf,
        reorder: new SqliteReorderStore<Arrival>({ db, codec: arrivalCodec() }),
        series: new SqliteTimeSeries(db),
        clock: { now: () => 1_000 },
      });
    let db = openSqlite({ dir });
    const before = make(db);
    expect(before.ingest(token('dev2', 1, 2), { topic: 'ferry/up/dev2/late' })).toMatchObject({ status: 'accepted', released: 0 });
    expect(before.ingest(token('dev2', 1, 1))).toMatchObject({ status: 'accepted', released: 0 });
    // sq 1 as a store without topics kept it: the bare Message.
    db.prepare("UPDATE reorder_pending SET ref = json_extract(ref, '$.message') WHERE kid = 'dev2' AND sq = 1").run();
    db.close();

    db = openSqlite({ dir });
    const ingest = make(db);
    const seen: IngestEvent[] = [];
    ingest.subscribe((e) => {
      seen.push(e);
    });
    expect(ingest.ingest(token('dev2', 1, 0), { topic: 'ferry/up/dev2/first' })).toMatchObject({ status: 'accepted', released: 3 });
    expect(seen.map((e) => e.type === 'message' && [e.sq, e.topic, e.message.header.sq])).toEqual([
      [0, 'ferry/up/dev2/first', 0],
      [1, undefined, 1],
      [2, 'ferry/up/dev2/late', 2],
    ]);
    db.close();
  });

  it('refuses a ref that is not JSON and a corrupt state row, with typed errors', () => {
    const db = openSqlite({ dir: freshDir() });
    const s = new SqliteReorderStore<unknown>({ db });
    expect(() => s.apply('a', { ep: 0, sq: 0, ref: undefined }, 0)).toThrow(expect.objectContaining({ code: 'FERRY_STORE_REF' }));
    expect(() => s.apply('a', { ep: 0, sq: 0, ref: 10n }, 0)).toThrow(expect.objectContaining({ code: 'FERRY_STORE_REF' }));
    s.apply('a', { ep: 0, sq: 0, ref: 'x' }, 0);
    db.prepare("UPDATE reorder_source SET seen = '{oops' WHERE kid = 'a'").run();
    expect(() => s.apply('a', { ep: 0, sq: 1, ref: 'y' }, 0)).toThrow(StoreError);
    expect(() => s.apply('a', { ep: 0, sq: 1, ref: 'y' }, 0)).toThrow(expect.objectContaining({ code: 'FERRY_STORE_CORRUPT', num: 4604 }));
    expect(() => new SqliteReorderStore({ db, config: { window: 0 } })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_CONFIG' }));
    const ts = new SqliteTimeSeries(db);
    expect(() => ts.append('s', { ts: Number.NaN, kid: 'a', ep: 0, sq: 0, value: 1 })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_POINT' }));
    expect(() => ts.append('s', { ts: 1, kid: 'a', ep: 0, sq: 0, value: 1n })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_POINT' }));
    db.close();
  });
});

describe('Ingest over SQLite with one transaction per message (IngestOptions.transaction)', () => {
  const setup = (failing: { on: boolean }) => {
    const db = openSqlite({ dir: freshDir(), synchronous: 'NORMAL' });
    const series = new SqliteTimeSeries(db);
    const flaky = {
      append: (stream: string, p: Parameters<SqliteTimeSeries['append']>[1]) => {
        if (failing.on) throw new StoreError('FERRY_STORE_UNAVAILABLE', 'disk full (injected)');
        series.append(stream, p);
      },
      query: (stream: string, from: number, to: number) => series.query(stream, from, to),
    };
    const reorder = new SqliteReorderStore<Arrival>({ db, config: { window: 8, timeoutMs: 50 } });
    const events: string[] = [];
    const ing = new Ingest({ keys: keyOf, reorder, series: flaky, transaction: (f) => db.transaction(f).immediate() });
    ing.subscribe((e) => {
      if (e.type === 'message') events.push(`${e.kid}/${e.sq}`);
    });
    return { db, series, reorder, ing, events };
  };

  it('a failed append rolls the whole step back: not acknowledged, not dispatched, and its redelivery is accepted', () => {
    const failing = { on: false };
    const { db, series, reorder, ing, events } = setup(failing);
    expect(ing.ingest(token('a', 1, 1), 1)).toMatchObject({ status: 'accepted', released: 0 }); // buffered, waits for 0
    failing.on = true;
    // 0 would release 0 and 1; the append fails, so neither leaves the buffer nor reaches a subscriber.
    expect(ing.ingest(token('a', 1, 0), 2)).toMatchObject({ status: 'failed', error: { code: 'FERRY_INGEST_STORE' } });
    expect(events).toEqual([]);
    expect(reorder.state('a')).toMatchObject({ next: 0, pending: [{ sq: 1 }] });
    expect(ing.counters()).toMatchObject({ accepted: 1, released: 0, store_error: 1 });
    failing.on = false;
    expect(ing.ingest(token('a', 1, 0), 3)).toMatchObject({ status: 'accepted', released: 2 }); // not a duplicate
    expect(events).toEqual(['a/0', 'a/1']);
    // By arrival time (ts): 1 arrived first and waited for 0.
    expect(series.query('a/tel', 0, Infinity).map((p) => p.sq)).toEqual([1, 0]);
    expect(ing.counters()).toMatchObject({ accepted: 2, released: 2, store_error: 1 });
    db.close();
  });

  it('a timeout release is stored in the same commit too; a failed one is rolled back and released by the next tick', () => {
    const failing = { on: false };
    const { db, series, ing, events } = setup(failing);
    ing.ingest(token('a', 1, 2), 0); // waits for 0 and 1 until 50
    failing.on = true;
    expect(ing.tick(60)).toBe(0);
    expect(events).toEqual([]);
    failing.on = false;
    expect(ing.tick(61)).toBe(2); // the gap [0, 2) and message 2
    expect(events).toEqual(['a/2']);
    expect(series.query('a/tel', 0, Infinity).map((p) => p.sq)).toEqual([2]);
    db.close();
  });
});
