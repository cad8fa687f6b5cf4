/**
 * @module One conformance suite for every Runner (after hono's common.case.test.ts): the
 * in-process and the pooled runner must give the same results, errors and state effects through the
 * whole call protocol. Watchdog cases live in pool-runner.test.ts (the in-process runner has no
 * preemption by design, so running them there would hang the test process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionService } from './service.ts';
import type { Clock, Runner } from './runner.ts';
import { wat } from '@ferry/test-kit/wat';
import { codeOf, KV_WAT, ManualClock, owner, unwrap } from '@ferry/test-kit/functions';

export function runnerCases(name: string, makeRunner: (clock: Clock) => Runner, prepare?: (r: Runner) => Promise<void>): void {
  describe(`Runner conformance: ${name}`, () => {
    const clock = new ManualClock();
    const runner = makeRunner(clock);
    const sign = new Uint8Array(32).fill(7);
    const svc = new FunctionService({ clock, runner, signSecretFor: (_o, caller) => (caller === 'signer' ? sign : undefined) });
    const alice = owner('alice');
    let hash = '';
    const call = (exp: string, args: unknown[] = [], token = alice.token, namespace = 'home') =>
      svc.handleCall({ hash, export: exp, args: args as never, namespace, token });

    beforeAll(async () => {
      unwrap(svc.register(alice.token));
      hash = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' })).hash;
      await prepare?.(runner);
    });
    afterAll(() => runner.close());

    it('returns typed results: i32, i64 (decimal string), f64, void', async () => {
      expect(unwrap(await call('add', [2, 40])).value).toBe(42);
      expect(unwrap(await call('add', [2 ** 31 - 1, 1])).value).toBe(-(2 ** 31));
      expect(unwrap(await call('add64', ['9007199254740000', 1n])).value).toBe('9007199254740001');
      expect(unwrap(await call('fadd', [0.5, 0.25])).value).toBe(0.75);
      expect(unwrap(await call('log')).value).toBe(null);
    });

    it('state writes persist in the namespace across calls', async () => {
      const first = unwrap(await call('incr')).value as number;
      expect(unwrap(await call('incr')).value).toBe(first + 1);
      const v = svc.namespaces.state('alice', 'home').get('counter')!;
      expect(new DataView(v.buffer, v.byteOffset).getInt32(0, true)).toBe(first + 1);
    });

    it('a call that traps leaves the namespace untouched, and the next call gets a fresh instance', async () => {
      const before = unwrap(await call('incr')).value as number;
      const r = await call('incr_then_trap');
      expect(codeOf(r)).toBe('FERRY_FN_TRAP');
      expect(r.ok ? [] : r.error.details).toContain('FERRY_ABI_TRAP');
      expect(unwrap(await call('incr')).value).toBe(before + 1);
    });

    it('key_at enumerates the namespace, new keys of the call included', async () => {
      const s = svc.namespaces.state('alice', 'home');
      for (const k of ['temp.a', 'temp.b', 'temp.c', 'tempx']) s.set(k, new Uint8Array([1]));
      expect(unwrap(await call('count_temps')).value).toBe(3);
    });

    it('dev.id is the caller: the owner for a private token, the subject for a public one', async () => {
      expect(unwrap(await call('id_len')).value).toBe('alice'.length);
      svc.whitelist.allow('alice', 'home', hash);
      const pub = alice.mint({ subject: 'kitchen-reader' }, clock.nowMs());
      expect(unwrap(await call('id_len', [], pub)).value).toBe('kitchen-reader'.length);
    });

    it('dev.sign is UNAVAILABLE unless a key is configured for the caller; sensors and actuators do not exist', async () => {
      expect(unwrap(await call('sign')).value).toBe(-7);
      svc.whitelist.allow('alice', 'home', hash);
      expect(unwrap(await call('sign', [], alice.mint({ subject: 'signer' }, clock.nowMs()))).value).toBe(32);
      expect(unwrap(await call('sensor')).value).toBe(-5);
      expect(unwrap(await call('actuate')).value).toBe(-5);
    });

    it('emits and logs are collected into the reply', async () => {
      const r = unwrap(await call('emit'));
      expect(r.value).toBe(0);
      expect(r.emits).toEqual(['counter']);
      expect(unwrap(await call('log')).logs).toEqual([{ level: 1, text: 'counter' }]);
    });

    it('clock.now_ms is the injected clock', async () => {
      clock.advance(1234);
      expect(unwrap(await call('now')).value).toBe(String(clock.nowMs()));
    });

    it('memory.grow stops at the declared maximum; a trap there is FERRY_FN_MEMORY_EXCEEDED', async () => {
      const r = await call('bomb');
      expect(codeOf(r)).toBe('FERRY_FN_MEMORY_EXCEEDED');
      expect(unwrap(await call('add', [1, 1])).value).toBe(2);
    });

    it('bad args and unknown exports are typed errors, checked before running', async () => {
      expect(codeOf(await call('add', [1]))).toBe('FERRY_FN_BAD_ARGS');
      expect(codeOf(await call('add', [1, 'x']))).toBe('FERRY_FN_BAD_ARGS');
      expect(codeOf(await call('add', [1, 1.5]))).toBe('FERRY_FN_BAD_ARGS');
      expect(codeOf(await call('add64', [1, '1e3']))).toBe('FERRY_FN_BAD_ARGS');
      expect(codeOf(await call('add64', [1, (2n ** 64n).toString()]))).toBe('FERRY_FN_BAD_ARGS');
      expect(codeOf(await call('nope'))).toBe('FERRY_FN_NO_SUCH_EXPORT');
      expect(codeOf(await call('memory'))).toBe('FERRY_FN_NO_SUCH_EXPORT');
    });

    it('concurrent calls on one namespace apply in order: no lost update', async () => {
      const before = unwrap(await call('incr')).value as number;
      const rs = await Promise.all(Array.from({ length: 20 }, () => call('incr')));
      expect(rs.map((r) => unwrap(r).value).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 20 }, (_, i) => before + i + 1));
    });

    it('many concurrent calls all complete with their own results', async () => {
      const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => call('add', [i, i])));
      expect(rs.map((r) => unwrap(r).value)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
    });
  });
}
