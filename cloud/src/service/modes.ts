/**
 * @module Where the cloud keeps its state, the part of the two running modes (docs/cloud.md "Running modes")
 * that differs in storage: embedded, SQLite files under the data dir (ingest.sqlite for re-order state and
 * time series, cloud.db for devices, functions and schedules); scale-out, Redis shared by N workers (one Lua
 * script per message; function state replicated to every worker; schedules and leases). The broker is the
 * other part (intake.ts: aedes in process, or an external one).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import type { FunctionService } from '../functions/index.ts';
import type { LeaseStore, ScheduleStore } from '../functions/schedules/stores.ts';
import type { Arrival, ReorderStore, TimeSeriesStore } from '../ingest/index.ts';
import type { NotifyStore } from '../notify/types.ts';
import { SqliteNotifyStore } from '../storage/sqlite/notify-store.ts';
import { RedisNotifyStore } from '../storage/redis/notify-store.ts';
import { RedisCommandStore } from '../storage/redis/command-store.ts';
import { SqliteCommandStore } from '../storage/sqlite/command-store.ts';
import type { CommandStore } from '../commands/store.ts';
import { arrivalCodec } from '../storage/ref-codec.ts';
import { openSqlite } from '../storage/sqlite/db.ts';
import { sqliteFunctionStores } from '../storage/sqlite/function-stores.ts';
import { SqliteReorderStore } from '../storage/sqlite/reorder-store.ts';
import { SqliteLeaseStore, SqliteScheduleStore } from '../storage/sqlite/schedule-stores.ts';
import { SqliteTimeSeries } from '../storage/sqlite/time-series.ts';
import { redisFunctionStores } from '../storage/redis/function-stores.ts';
import { RedisReorderStore } from '../storage/redis/reorder-store.ts';
import { RedisLeaseStore, RedisScheduleStore } from '../storage/redis/schedule-stores.ts';
import { RedisTimeSeries } from '../storage/redis/time-series.ts';
import type { ComposeStore } from '@ferry/compose';
import type { OutputRelay, SoRecordStore } from '../compose/records.ts';
import { SqliteComposeStore } from '../storage/sqlite/compose-store.ts';
import { SqliteSoRecords } from '../storage/sqlite/so-records.ts';
import { RedisComposeStore } from '../storage/redis/compose-store.ts';
import { WaveBuffer } from '../compose/scale-out/wave-store.ts';
import { RedisSoRecords } from '../storage/redis/so-records.ts';
import { RedisOutputRelay } from '../storage/redis/output-relay.ts';

/** The stores FunctionService keeps (spread into its options). */
export type FunctionStores = Pick<FunctionService, 'registry' | 'owners' | 'namespaces' | 'whitelist' | 'revocations'>;

export interface StateParts {
  readonly reorder: ReorderStore<Arrival>;
  readonly series: TimeSeriesStore;
  /** SQLite: one transaction per message, so a release is stored in the commit that takes it out of the buffer. */
  readonly transaction?: <T>(f: () => T) => T;
  /** SQLite: runs `f` in one transaction, for the group commit of the uplink of one event-loop turn (uplink.ts). */
  readonly groupCommit?: (f: () => void) => void;
  readonly functions: FunctionStores;
  readonly schedules: { readonly store: ScheduleStore; readonly leases: LeaseStore };
  /** Composite streams: values, and service-object records with their grants (cloud.db, or Redis). */
  /**
   * Composite streams: values, and service-object records with their grants (cloud.db, or Redis). Scale-out
   * also leases each connected component to one worker, whose waves its WaveBuffer commits (compose/scale-out).
   */
  readonly compose: {
    readonly store: ComposeStore;
    readonly records: SoRecordStore;
    readonly relay?: OutputRelay;
    readonly lease?: { readonly redis: Redis; readonly buffer: WaveBuffer };
    /** Writes at once, outside any wave (`store` itself embedded): the values moved objects compute on a gateway. */
    readonly direct?: ComposeStore;
  };
  /** Notification channels, subscriptions and deliveries (docs/notifications.md "Storage"). */
  readonly notify: NotifyStore;
  /** Commands to devices (docs/actions.md); scale-out also shares who was seen lately on its own connection. */
  readonly commands: { readonly store: CommandStore; readonly redis?: Redis };
  /** Before the first message or call. */
  start(): Promise<void>;
  /** Reaches the store (readiness, docs/operations.md); throws or rejects when it cannot. */
  ping(): void | Promise<void>;
  close(): Promise<void>;
}

/**
 * cloud.db: devices, owners, modules, white-lists, namespace state, schedules. The same durability choice as
 * the ingest file (--sync): NORMAL survives a process crash, FULL a power cut.
 */
export function openCloudDb(dataDir: string, synchronous: 'FULL' | 'NORMAL'): Database.Database {
  const db = new Database(join(dataDir, 'cloud.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  return db;
}

/**
 * Embedded: re-order state and series in `<dataDir>/ingest.sqlite`; owners, modules, white-lists, namespace
 * state, revocations, schedules and leases in cloud.db, so they survive a restart.
 */
export function sqliteState(o: { dataDir: string; synchronous: 'FULL' | 'NORMAL'; cloudDb: Database.Database; masterKey: Uint8Array }): StateParts {
  const store = openSqlite({ dir: o.dataDir, file: 'ingest.sqlite', synchronous: o.synchronous });
  const tx = store.transaction((f: () => unknown) => f());
  return {
    reorder: new SqliteReorderStore<Arrival>({ db: store, codec: arrivalCodec() }),
    series: new SqliteTimeSeries(store),
    transaction: <T>(f: () => T): T => tx.immediate(f) as T,
    groupCommit: (f) => {
      tx.immediate(f);
    },
    functions: sqliteFunctionStores(o.cloudDb, { masterKey: o.masterKey }),
    schedules: { store: new SqliteScheduleStore(o.cloudDb, { masterKey: o.masterKey }), leases: new SqliteLeaseStore(o.cloudDb) },
    compose: { store: new SqliteComposeStore(o.cloudDb), records: new SqliteSoRecords(o.cloudDb) },
    notify: new SqliteNotifyStore(o.cloudDb),
    commands: { store: new SqliteCommandStore(o.cloudDb) },
    start: async () => {},
    ping: () => {
      store.prepare('SELECT 1').get();
    },
    close: async () => {
      store.close();
    },
  };
}

/**
 * Scale-out: everything shared through Redis. Releases go through the per-device outbox: a worker killed
 * between taking and storing them has them released again after the lease (ingest/ports.ts `confirm`); the
 * series ignores a point stored twice. The function stores are a write-through copy per worker (every
 * worker needs the same master key: a shared data dir or FERRY_MASTER_KEY).
 */
export function redisState(o: { url: string; masterKey: Uint8Array; log: (msg: string) => void }): StateParts {
  const redis = new Redis(o.url, { maxRetriesPerRequest: 3 });
  const reorder = new RedisReorderStore<Arrival>({ redis, codec: arrivalCodec(), onIndexError: (e) => o.log(`ingest: due index: ${e.message}`) });
  const functions = redisFunctionStores(redis, { masterKey: o.masterKey, subscriber: redis.duplicate(), onError: (e) => o.log(`functions: ${e.message}`) });
  const store = new RedisScheduleStore({ redis, masterKey: o.masterKey });
  const relay = new RedisOutputRelay(redis);
  const cmdRedis = redis.duplicate(); // the commands close their own connection
  const direct = new RedisComposeStore({ redis });
  const buffer = new WaveBuffer(direct);
  return {
    reorder,
    series: new RedisTimeSeries({ redis }),
    functions,
    schedules: { store, leases: new RedisLeaseStore({ redis, schedules: store }) },
    compose: { store: buffer, records: new RedisSoRecords(redis), relay, lease: { redis, buffer }, direct },
    notify: new RedisNotifyStore({ redis }),
    commands: { store: new RedisCommandStore({ redis: cmdRedis }), redis: cmdRedis },
    start: async () => {
      await functions.load(); // the shared function stores, before any call can arrive (MQTT or HTTP)
      await reorder.reindex(); // a worker that died between a step and its due-index update left a source unindexed
    },
    ping: async () => {
      await redis.ping();
    },
    close: async () => {
      await functions.close().catch(() => undefined);
      await relay.close();
      await redis.quit().catch(() => undefined);
    },
  };
}
