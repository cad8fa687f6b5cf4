import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolRunner } from './pool-runner.ts';
import { runnerCases } from './runner.case.ts';
import { FunctionService } from './service.ts';
import { wat } from '@ferry/test-kit/wat';
import { codeOf, KV_WAT, owner, unwrap } from '@ferry/test-kit/functions';

runnerCases(
  'pool (2 workers)',
  (clock) => new PoolRunner({ clock, size: 2, timeoutMs: 5000 }),
  (r) => (r as PoolRunner).ready(),
);

describe('PoolRunner watchdog (short real timeouts)', () => {
  const pool = new PoolRunner({ size: 2, timeoutMs: 300 });
  const svc = new FunctionService({ runner: pool });
  const alice = owner('alice');
  let hash = '';
  const call = (exp: string, args: unknown[] = []) => svc.handleCall({ hash, export: exp, args: args as never, namespace: 'home', token: alice.token });

  beforeAll(async () => {
    unwrap(svc.register(alice.token));
    hash = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' })).hash;
    await pool.ready();
  });
  afterAll(() => pool.close());

  it('an infinite loop gets FERRY_FN_TIMEOUT, its writes are discarded, and other calls keep being served', async () => {
    const spin = call('incr_then_spin');
    // While one worker spins, the other serves: the good call (another namespace, so not queued behind
    // the spinning one) answers before the watchdog fires.
    const good = svc.handleCall({ hash, export: 'add', args: [1, 2], namespace: 'other', token: alice.token });
    expect(await Promise.race([spin.then(() => 'spin'), good.then(() => 'good')])).toBe('good');
    expect(unwrap(await good).value).toBe(3);
    const r = await spin;
    expect(codeOf(r)).toBe('FERRY_FN_TIMEOUT');
    expect(pool.restarts).toBe(1);
    // Both workers busy spinning: queued calls wait for replacements, then run.
    const spins = [call('spin'), call('incr_then_spin')];
    const queued = call('incr');
    expect((await Promise.all(spins)).map(codeOf)).toEqual(['FERRY_FN_TIMEOUT', 'FERRY_FN_TIMEOUT']);
    expect(unwrap(await queued).value).toBe(1);
    expect(pool.restarts).toBe(3);
  });

  it('workers that cannot start are not respawned forever: the pool gives up with FERRY_FN_BUSY', async () => {
    const p = new PoolRunner({ size: 2, workerUrl: new URL('./no-such-worker.ts', import.meta.url) });
    const s = new FunctionService({ runner: p, registry: svc.registry, owners: svc.owners });
    const r = await s.handleCall({ hash, export: 'add', args: [1, 2], namespace: 'home', token: alice.token });
    expect(codeOf(r)).toBe('FERRY_FN_BUSY');
    expect(r.ok ? '' : r.error.message).toMatch(/workers cannot start/);
    expect(p.restarts).toBeLessThanOrEqual(2);
    await p.close();
  });

  it('a closed pool refuses calls with FERRY_FN_BUSY', async () => {
    const p = new PoolRunner({ size: 1 });
    await p.close();
    const s = new FunctionService({ runner: p, registry: svc.registry, owners: svc.owners });
    expect(codeOf(await s.handleCall({ hash, export: 'add', args: [1, 2], namespace: 'home', token: alice.token }))).toBe('FERRY_FN_BUSY');
  });
});
