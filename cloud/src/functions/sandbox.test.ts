/**
 * The sandbox (docs/functions.md "Sandbox"), with real worker processes: a module that exhausts its
 * worker's heap or stack, or never returns, fails alone with a typed error, the pool replaces the worker,
 * and another owner's calls keep being answered. Fairness: an owner flooding the pool with endless loops
 * holds at most its cap of workers, and another owner's calls all complete, each having waited behind at
 * most that many; past its CPU budget the flooding owner is refused. No wall-clock assertions.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FnResult, RunOutput } from '@ferry/wasm-host';
import { HOSTILE_PAGES, HOSTILE_WAT, TABLE_BOMB_LIMITS, TABLE_BOMB_WAT } from '@ferry/test-kit/hostile-modules';
import { MemoryNamespaceStore } from './namespaces/namespace-store.ts';
import { PoolRunner, type PoolOptions } from './pool-runner.ts';
import { ModuleRegistry } from './registry.ts';
import { FunctionService } from './service.ts';
import { codeOf, KV_WAT, owner, unwrap } from '@ferry/test-kit/functions';
import { wat } from '@ferry/test-kit/wat';

type Who = ReturnType<typeof owner>;

// Worker processes start with the TypeScript loader: seconds on a loaded machine. Generous, never asserted.
const BOOT_MS = 60_000;
const CASE_MS = 60_000;

/** A pool and a service whose registry accepts the table bomb; owner A attacks, owner B is the bystander. */
function sandbox(opts: PoolOptions = {}) {
  const dispatched: { owner: string; behind: number }[] = [];
  const pool = new PoolRunner({ size: 2, ...opts, onDispatch: (e) => dispatched.push(e) });
  const namespaces = new MemoryNamespaceStore({ defaultQuota: { maxKeys: 1024, maxPages: HOSTILE_PAGES } });
  // B calls as fast as it is answered: its private token's rate limit would otherwise be what stops it.
  const svc = new FunctionService({
    runner: pool,
    namespaces,
    registry: new ModuleRegistry({ limits: TABLE_BOMB_LIMITS }),
    ownerRate: { perSecond: 1e6, burst: 1e6 },
  });
  const a = owner('attacker');
  const b = owner('bystander');
  const hashes = { hostile: '', bomb: '', kv: '' };
  const call = (who: Who, hash: string, exp: string, args: number[] = [], namespace = 'home') =>
    svc.handleCall({ hash, export: exp, args, namespace, token: who.token });
  const attack = (exp: string, namespace = 'home') => call(a, exp === 'run' ? hashes.bomb : hashes.hostile, exp, exp === 'recurse' ? [0] : [], namespace);
  /** B's reference call: state read and written, so a lost or mixed-up namespace would show. */
  const bCall = () => call(b, hashes.kv, 'incr');

  /** B calls one after another until the attack settles; returns the attack's code and B's codes. */
  async function alongside(p: Promise<FnResult<RunOutput> | readonly FnResult<RunOutput>[]>): Promise<{ attack: string; bystander: string[] }> {
    let settled = false;
    const watched = p.finally(() => {
      settled = true;
    });
    const bystander: string[] = [];
    do bystander.push(codeOf(await bCall()));
    while (!settled);
    const r = await watched;
    return { attack: Array.isArray(r) ? r.map(codeOf).join() : codeOf(r as FnResult<RunOutput>), bystander };
  }

  beforeAll(async () => {
    unwrap(svc.register(a.token));
    unwrap(svc.register(b.token));
    hashes.hostile = unwrap(await svc.upload({ bytes: wat(HOSTILE_WAT), token: a.token, namespace: 'home' })).hash;
    hashes.bomb = unwrap(await svc.upload({ bytes: wat(TABLE_BOMB_WAT), token: a.token, namespace: 'home' })).hash;
    hashes.kv = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: b.token, namespace: 'home' })).hash;
    await pool.ready();
  }, BOOT_MS);
  afterAll(() => pool.close());
  return { pool, svc, a, b, call, attack, bCall, alongside, dispatched };
}

describe('sandbox: each attack costs its own worker at most, and another owner keeps being served', () => {
  // Test-only: a 64 MiB heap, so the table bomb exhausts it within a fraction of the deadline even on a
  // loaded machine (with the default 128 MiB, V8 collects for longer before it gives up); a CPU budget the
  // attacker cannot use up (it has its own case below), so every attack reaches a worker.
  const s = sandbox({ timeoutMs: 3000, heapMb: 64, fairness: { cpuMs: 1e9 } });
  let bCount = 0;

  it(
    "a module whose instantiation exhausts the worker's heap: FERRY_FN_MEMORY_EXCEEDED, the worker is replaced",
    async () => {
      const before = s.pool.restarts;
      const r = await s.alongside(s.attack('run'));
      expect(r.attack).toBe('FERRY_FN_MEMORY_EXCEEDED');
      expect([...new Set(r.bystander)]).toEqual(['ok']);
      expect(s.pool.restarts).toBe(before + 1);
      // Every time: the module is not remembered as good, nor the worker as bad.
      expect(codeOf(await s.attack('run', 'again'))).toBe('FERRY_FN_MEMORY_EXCEEDED');
      expect(s.pool.restarts).toBe(before + 2);
      bCount += r.bystander.length;
    },
    CASE_MS,
  );

  it(
    'an endless loop: FERRY_FN_TIMEOUT, its worker is killed and replaced',
    async () => {
      const before = s.pool.restarts;
      const r = await s.alongside(s.attack('spin'));
      expect(r.attack).toBe('FERRY_FN_TIMEOUT');
      expect([...new Set(r.bystander)]).toEqual(['ok']);
      expect(s.pool.restarts).toBe(before + 1);
      bCount += r.bystander.length;
    },
    CASE_MS,
  );

  it(
    "a stack bomb stopped by V8's stack guard: FERRY_FN_TRAP, the worker keeps serving",
    async () => {
      const before = s.pool.restarts;
      const r = await s.alongside(s.attack('recurse'));
      expect(r.attack).toBe('FERRY_FN_TRAP');
      expect([...new Set(r.bystander)]).toEqual(['ok']);
      expect(s.pool.restarts).toBe(before);
      bCount += r.bystander.length;
    },
    CASE_MS,
  );

  it(
    'a memory bomb within its declared pages: FERRY_FN_MEMORY_EXCEEDED, the worker keeps serving',
    async () => {
      const before = s.pool.restarts;
      const r = await s.alongside(s.attack('grow'));
      expect(r.attack).toBe('FERRY_FN_MEMORY_EXCEEDED');
      expect([...new Set(r.bystander)]).toEqual(['ok']);
      expect(s.pool.restarts).toBe(before);
      bCount += r.bystander.length;
    },
    CASE_MS,
  );

  it(
    "all attacks at once, each in its own namespace: each fails alone with its own code; B's state is intact",
    async () => {
      const r = await s.alongside(Promise.all(['run', 'spin', 'recurse', 'grow'].map((e, i) => s.attack(e, `ns${i}`))));
      expect([...new Set(r.bystander)]).toEqual(['ok']);
      expect(r.attack).toBe('FERRY_FN_MEMORY_EXCEEDED,FERRY_FN_TIMEOUT,FERRY_FN_TRAP,FERRY_FN_MEMORY_EXCEEDED');
      bCount += r.bystander.length;
      // B's counter counted every one of B's calls: none was lost or applied twice.
      expect(unwrap(await s.bCall()).value).toBe(bCount + 1);
    },
    CASE_MS,
  );
});

/** The soft limit of the OS stack from /proc/self/limits (Linux): 'unlimited', a number of bytes, or undefined. */
function osStack(): string | undefined {
  try {
    return /^Max stack size\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

describe('sandbox: a stack bomb past the real stack crashes its worker (a V8 stack limit above the OS stack)', () => {
  // Test-only: a V8 stack limit of 1 GB, above the OS thread stack (8 MiB by default), so the recursion runs
  // off the real stack and the worker dies of SIGSEGV instead of V8's RangeError.
  const s = sandbox({ timeoutMs: 3000, stackKb: 1_000_000, fairness: { cpuMs: 1e9 } });
  const finite = osStack() !== undefined && osStack() !== 'unlimited';

  it.skipIf(!finite)(
    'FERRY_FN_TRAP, the worker is replaced, the other owner is served throughout (needs a finite ulimit -s)',
    async () => {
      const before = s.pool.restarts;
      const r = await s.alongside(s.attack('recurse'));
      expect(r.attack).toBe('FERRY_FN_TRAP');
      expect([...new Set(r.bystander)]).toEqual(['ok']);
      expect(s.pool.restarts).toBe(before + 1);
      expect(codeOf(await s.bCall())).toBe('ok');
    },
    CASE_MS,
  );
});

describe('fairness: a cap per owner and the fewest-running owner served first', () => {
  // Three workers, so A's cap of two leaves one; a budget A cannot use up here: this case is about the queue.
  const s = sandbox({ size: 3, timeoutMs: 400, fairness: { maxInFlight: 2, cpuMs: 1e9 } });

  it(
    "A floods with endless loops; every call of B completes, having waited behind at most A's cap of calls",
    async () => {
      const flood = Array.from({ length: 8 }, (_, i) => s.attack('spin', `flood${i}`));
      const bystander: string[] = [];
      for (let i = 0; i < 6; i++) bystander.push(codeOf(await s.bCall()));
      expect(bystander).toEqual(Array(6).fill('ok'));
      expect((await Promise.all(flood)).map(codeOf)).toEqual(Array(8).fill('FERRY_FN_TIMEOUT'));
      const waits = s.dispatched.filter((d) => d.owner === 'bystander').map((d) => d.behind);
      expect(waits).toHaveLength(6);
      // Queued in arrival order over all calls, B's first call would have waited behind all eight.
      expect(Math.max(...waits)).toBeLessThanOrEqual(2);
    },
    CASE_MS,
  );
});

describe('fairness: with two workers, an owner whose calls ran slow holds one', () => {
  const s = sandbox({ timeoutMs: 2000, fairness: { maxInFlight: 2, cpuMs: 1e9 } });

  it(
    "after one endless loop, A's loops take one worker at a time; B's calls are all answered on the other before the first ends",
    async () => {
      expect(codeOf(await s.attack('spin', 'first'))).toBe('FERRY_FN_TIMEOUT');
      let first = '';
      const flood = [0, 1].map((i) =>
        s.attack('spin', `hold${i}`).then((r) => {
          first ||= 'attacker';
          return r;
        }),
      );
      const bystander: string[] = [];
      for (let i = 0; i < 6; i++) bystander.push(codeOf(await s.bCall()));
      first ||= 'bystander';
      expect(bystander).toEqual(Array(6).fill('ok'));
      expect(first).toBe('bystander');
      expect((await Promise.all(flood)).map(codeOf)).toEqual(['FERRY_FN_TIMEOUT', 'FERRY_FN_TIMEOUT']);
      expect(Math.max(...s.dispatched.filter((d) => d.owner === 'bystander').map((d) => d.behind))).toBeLessThanOrEqual(1);
    },
    CASE_MS,
  );
});

describe('fairness: a CPU budget per owner', () => {
  // 600 ms per 10 minutes: two calls killed at the 400 ms deadline use it up, and it does not refill here.
  const s = sandbox({ timeoutMs: 400, fairness: { cpuMs: 600, windowMs: 600_000 } });

  it(
    'an owner past its budget is refused with FERRY_FN_RATE_LIMITED, its queued calls too; another owner is not',
    async () => {
      const codes = (await Promise.all(Array.from({ length: 4 }, (_, i) => s.attack('spin', `budget${i}`)))).map(codeOf);
      expect(codes.slice(0, 2)).toEqual(['FERRY_FN_TIMEOUT', 'FERRY_FN_TIMEOUT']);
      expect(codes[3]).toBe('FERRY_FN_RATE_LIMITED');
      expect(codes.every((c) => c === 'FERRY_FN_TIMEOUT' || c === 'FERRY_FN_RATE_LIMITED')).toBe(true);
      expect(s.pool.budgetMs('attacker')).toBeLessThan(0);
      const again = await s.attack('spin');
      expect(codeOf(again)).toBe('FERRY_FN_RATE_LIMITED');
      expect(again.ok ? '' : again.error.message).toMatch(/CPU budget of 600 ms per 600000 ms/);
      expect(codeOf(await s.bCall())).toBe('ok');
    },
    CASE_MS,
  );
});
