/**
 * @module The storage error catalog (4600-4699): every way a persistent port (SQLite, Redis) refuses or fails
 * has one code (FERRY_STORE_*), one number and one HTTP status: 503, as a store that fails is the server's
 * problem, never the caller's. docs/errors.md lists every catalog. The pipeline wraps a failing `apply` as
 * FERRY_INGEST_REORDER_STORE (docs/ingest.md), with the StoreError as its cause.
 */
import { defineErrors } from '@ferry/base';

const STORE = defineErrors(
  'FERRY_STORE_',
  [4600, 4699],
  {
    FERRY_STORE_CONFIG: { num: 4601, status: 503, doc: 'a store option is invalid (path, key prefix, reorder config); thrown at construction' },
    FERRY_STORE_OPEN: { num: 4602, status: 503, doc: 'the database could not be opened or its schema created' },
    FERRY_STORE_SCHEMA: { num: 4603, status: 503, doc: 'the database was written by a newer schema version than this code knows; nothing is changed' },
    FERRY_STORE_CORRUPT: { num: 4604, status: 503, doc: 'a stored state, pending row or point could not be read back (bad JSON or shape)' },
    FERRY_STORE_REF: { num: 4605, status: 503, doc: "a message reference could not be encoded (not JSON) or decoded by the store's codec" },
    FERRY_STORE_SCRIPT: { num: 4606, status: 503, doc: 'Redis answered an error (a script failed, e.g. on a corrupt state) or a reply of the wrong shape' },
    FERRY_STORE_UNAVAILABLE: { num: 4607, status: 503, doc: 'the backend did not answer (connection lost, busy, I/O error); the transport redelivers' },
    FERRY_STORE_CLOSED: { num: 4608, status: 503, doc: 'the store was used after its database was closed' },
    FERRY_STORE_POINT: { num: 4609, status: 503, doc: 'a point to append is invalid (ts not a number, or not finite for Redis; value not JSON)' },
    FERRY_STORE_RANGE: { num: 4610, status: 503, doc: 'a number the Redis script cannot carry exactly: `now` must be an integer number of ms in 0..10^13' },
  },
  { package: '@ferry/cloud', errorName: 'StoreError' },
);

export const STORE_ERRORS = STORE.codes;
export type StoreErrorCode = keyof typeof STORE_ERRORS;

/** The only error type the storage ports throw; `cause` is the driver's error when there is one. */
export class StoreError extends STORE.Error {
  constructor(code: StoreErrorCode, detail: string, cause?: unknown) {
    super(code, detail, cause === undefined ? undefined : { cause });
  }
}

export const isStoreError = (value: unknown): value is StoreError => value instanceof StoreError;

/** Runs `f`, turning any non-StoreError into `code` (driver errors keep their message and become the cause). */
export function wrap<T>(code: StoreErrorCode, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw new StoreError(code, `${what}: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}
