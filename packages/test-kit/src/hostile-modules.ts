/**
 * @module Modules that attack the runner rather than the protocol, for the sandbox tests and bench:sandbox
 * (the protocol attacks are test-support.ts's BAD_MODULES). Each is a valid function module: what it does
 * to its host happens only when it runs.
 */

/** Declares up to 1024 pages (64 MiB): its namespace needs a page quota that large. */
export const HOSTILE_PAGES = 1024;

export const HOSTILE_WAT = `(module
  (memory (export "memory") 1 ${HOSTILE_PAGES})
  (func (export "abi_version") (result i32) i32.const 1)
  (func (export "spin") (loop $l (br $l)))
  (func $down (export "recurse") (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1))))
  (func (export "grow") (result i32)
    (block $full (loop $more (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1))) (br $more)))
    unreachable))`;

/**
 * A table of ten million entries: instantiating it allocates 80 MB of V8 heap at once (more while it is
 * built), so a worker with the pool's default heap cap of 128 MB aborts ("heap out of memory"). Only a registry with raised table caps
 * (TABLE_BOMB_LIMITS) accepts it: the upload checks refuse it otherwise (FERRY_ABI_LIMIT), which is the
 * first defence; the worker process is the second, for what the checks do not foresee.
 */
export const TABLE_BOMB_WAT = `(module
  (memory (export "memory") 1 1)
  (table 10000000 10000000 funcref)
  (func (export "abi_version") (result i32) i32.const 1)
  (func (export "run") (result i32) i32.const 0))`;

export const TABLE_BOMB_LIMITS = { maxTableEntries: 10_000_000 } as const;
