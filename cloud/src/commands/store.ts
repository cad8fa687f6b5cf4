/**
 * @module The command store port (docs/actions.md "Lifecycle", docs/storage.md): one device's queue is
 * read, changed by a pure step of model.ts and written back atomically (SQLite: one transaction; Redis: one
 * compare-and-set script), with the index from command id to device, the finished commands (kept for
 * status queries) and the due index the sweep timer reads. Implemented in cloud/src/storage/sqlite and
 * cloud/src/storage/redis; both pass commands/store.case.ts.
 */
import type { CommandRecord, DeviceQueue, Step } from './model.ts';

/** What a broadcast reached: one command per device, and who asked. */
export interface BroadcastRecord {
  readonly id: string;
  readonly owner?: string | undefined;
  readonly createdAt: number;
  /** The target as asked (`{devices}`, `{namespace}`, `{tags}` or `{all: true}`). */
  readonly target: unknown;
  readonly commands: readonly { readonly device: string; readonly id: string }[];
}

export interface CommandStore {
  /**
   * Applies `f` to the device's queue atomically and stores what it gives: the queue, the finished
   * commands, the id index and the due time. `f` must be pure: Redis runs it again when another worker
   * changed the queue meanwhile.
   */
  update<T>(device: string, f: (q: DeviceQueue) => Step<T>): Promise<Step<T>>;
  queue(device: string): Promise<DeviceQueue>;
  /** A command by id, live or finished (finished ones are kept for FINISHED_RETENTION_MS). */
  get(id: string): Promise<CommandRecord | undefined>;
  /** Devices whose queue needs a sweep at `now` (an expiry or a visibility timeout), at most `limit`. */
  due(now: number, limit: number): Promise<string[]>;
  putBroadcast(b: BroadcastRecord): Promise<void>;
  broadcast(id: string): Promise<BroadcastRecord | undefined>;
  /**
   * Ids of commands made for devices of `owner` (`''`: devices of no owner; `null`: every owner), newest
   * first, at most `limit`, those of `device` only when it is given: the index behind the list routes.
   */
  recent(owner: string | null, limit: number, device?: string): Promise<string[]>;
  /** The broadcasts of `owner` (as in `recent`), newest first, at most `limit`. */
  broadcasts(owner: string | null, limit: number): Promise<BroadcastRecord[]>;
  /** Forgets finished commands and broadcasts older than the retention. */
  prune(now: number): Promise<void>;
}

/** How long a finished command and a broadcast stay readable: a week. */
export const FINISHED_RETENTION_MS = 7 * 24 * 3600 * 1000;
