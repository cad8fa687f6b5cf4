/**
 * @module A worker-thread script for the cloud's SQLite workers test (not a library module): opens the
 * SQLite file on its own connection and applies its share of messages, as a second process on the same file
 * would, then posts what each message did. workerData: { dir, jobs: { kid, sq }[] }; the test finds this
 * file with require.resolve('@ferry/test-kit/sqlite-worker').
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite, SqliteReorderStore } from '@ferry/cloud/storage';

interface Job {
  kid: string;
  sq: number;
}
const { dir, jobs } = workerData as { dir: string; jobs: Job[] };
const db = openSqlite({ dir, synchronous: 'NORMAL' });
const store = new SqliteReorderStore<Job>({ db, config: { window: 4096, timeoutMs: 1e9 } });
const out: { kid: string; outcome: string; released: number[] }[] = [];
for (const j of jobs) {
  const r = store.apply(j.kid, { ep: 1, sq: j.sq, ref: j }, 0);
  out.push({ kid: j.kid, outcome: r.outcome, released: r.released.map((x) => (x.type === 'message' && x.ref.sq === x.sq ? x.sq : -1)) });
}
db.close();
parentPort!.postMessage(out);
