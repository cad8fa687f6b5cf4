/**
 * Per-owner limits of the function service (docs/functions.md "Limits"): the module quota (count and total
 * bytes, FERRY_FN_QUOTA), the schedule quota, and the call rate of the owner's private token.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler } from './schedules/scheduler.ts';
import { FunctionService } from './service.ts';
import { BAD_MODULES, codeOf, KV_WAT, ManualClock, owner, unwrap } from '@ferry/test-kit/functions';
import { wat } from '@ferry/test-kit/wat';

/** KV_WAT made unique by a data segment: same behaviour, another hash, about the same size. */
const variant = (i: number): Uint8Array => wat(KV_WAT.replace('(data (i32.const 16) "temp.")', `(data (i32.const 16) "temp.") (data (i32.const 300) "v${i}")`));

function setup(opts: ConstructorParameters<typeof FunctionService>[0] = {}) {
  const clock = new ManualClock();
  const svc = new FunctionService({ clock, ...opts });
  const alice = owner('alice');
  const bob = owner('bob');
  unwrap(svc.register(alice.token));
  unwrap(svc.register(bob.token));
  const upload = (who: { token: string }, bytes: Uint8Array) => svc.upload({ bytes, token: who.token, namespace: 'home' });
  return { clock, svc, alice, bob, upload };
}

describe('module quota per owner', () => {
  it('counts modules: past the count, a new hash is refused with FERRY_FN_QUOTA; a re-upload and other owners are not', async () => {
    const { svc, alice, bob, upload } = setup({ moduleQuota: { maxModules: 2, maxBytes: 1 << 20 } });
    unwrap(await upload(alice, variant(1)));
    unwrap(await upload(alice, variant(2)));
    const third = await upload(alice, variant(3));
    expect(codeOf(third)).toBe('FERRY_FN_QUOTA');
    expect(third.ok ? '' : third.error.message).toMatch(/already has 2 modules \(quota 2\)/);
    expect(codeOf(await upload(alice, variant(1)))).toBe('ok'); // content-addressed: nothing new to store
    expect(codeOf(await upload(bob, variant(3)))).toBe('ok');
    expect(codeOf(await upload(bob, variant(1)))).toBe('ok'); // stored already, but counted for bob too
    expect(svc.moduleLedger.usage('alice').modules).toBe(2);
    expect(svc.moduleLedger.usage('bob').modules).toBe(2);
  });

  it("counts bytes, a public token's uploads count for its owner, and a refused upload costs nothing", async () => {
    const size = variant(1).length;
    const { svc, alice, clock, upload } = setup({ moduleQuota: { maxModules: 64, maxBytes: 2 * size + 10 } });
    expect(codeOf(await upload(alice, wat(BAD_MODULES.foreignImport)))).toBe('FERRY_FN_MODULE_INVALID');
    expect(svc.moduleLedger.usage('alice')).toEqual({ modules: 0, bytes: 0 });
    unwrap(await upload(alice, variant(1)));
    unwrap(await svc.upload({ bytes: variant(2), token: alice.mint({}, clock.nowMs()), namespace: 'home' }));
    expect(svc.moduleLedger.usage('alice')).toEqual({ modules: 2, bytes: 2 * size });
    const r = await upload(alice, variant(3));
    expect(codeOf(r)).toBe('FERRY_FN_QUOTA');
    expect(r.ok ? '' : r.error.message).toMatch(/more would pass the quota/);
  });

  it('concurrent uploads cannot all pass the check: the quota is charged before validation', async () => {
    const { upload, alice } = setup({ moduleQuota: { maxModules: 3, maxBytes: 1 << 20 } });
    const codes = (await Promise.all(Array.from({ length: 8 }, (_, i) => upload(alice, variant(10 + i))))).map(codeOf);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(3);
    expect(codes.filter((c) => c === 'FERRY_FN_QUOTA')).toHaveLength(5);
  });

  it('defaults: 64 modules, 16 MiB', async () => {
    const { upload, alice } = setup();
    for (let i = 0; i < 64; i++) unwrap(await upload(alice, variant(i)));
    expect(codeOf(await upload(alice, variant(64)))).toBe('FERRY_FN_QUOTA');
  });
});

describe('schedule quota per owner', () => {
  it('past maxPerOwner schedules, create is refused with FERRY_FN_QUOTA; removing one makes room; other owners are not affected', async () => {
    const { svc, clock, alice, bob, upload } = setup();
    const hash = unwrap(await upload(alice, wat(KV_WAT))).hash;
    unwrap(await upload(bob, wat(KV_WAT)));
    const sch = new Scheduler({ service: svc, clock, workerId: 'w1', maxPerOwner: 2 });
    const req = (token: string) => ({ token, namespace: 'home', hash, export: 'incr', args: [], periodS: 60, writeTo: 'x' });
    const first = unwrap(await sch.create(req(alice.token)));
    unwrap(await sch.create(req(alice.token)));
    const r = await sch.create(req(alice.token));
    expect(codeOf(r)).toBe('FERRY_FN_QUOTA');
    expect(r.ok ? '' : r.error.message).toMatch(/already has 2 schedules \(quota 2\)/);
    expect(codeOf(await sch.create(req(bob.token)))).toBe('ok');
    unwrap(await sch.remove(alice.token, first.id));
    expect(codeOf(await sch.create(req(alice.token)))).toBe('ok');
  });
});

describe('call rate of the private token', () => {
  it("an owner's private-token calls and uploads take from one bucket per owner; another owner has their own", async () => {
    const { svc, clock, alice, bob, upload } = setup({ ownerRate: { perSecond: 5, burst: 10 } });
    const hash = unwrap(await upload(alice, wat(KV_WAT))).hash; // one take
    const call = (who: { token: string }) => svc.handleCall({ hash, export: 'add', args: [1, 2], namespace: 'home', token: who.token }).then(codeOf);
    const codes = await Promise.all(Array.from({ length: 20 }, () => call(alice)));
    expect(codes.filter((c) => c === 'ok')).toHaveLength(9);
    expect(codes.filter((c) => c === 'FERRY_FN_RATE_LIMITED')).toHaveLength(11);
    expect(codeOf(await upload(alice, variant(1)))).toBe('FERRY_FN_RATE_LIMITED');
    expect(await call(bob)).toBe('ok');
    // A public token of alice's has its own bucket, not the owner's.
    unwrap(svc.setWhitelisted(alice.token, 'home', hash, true)); // not rate limited: an owner's setting, not a call
    expect(await svc.handleCall({ hash, export: 'add', args: [1, 2], namespace: 'home', token: alice.mint({}, clock.nowMs()) }).then(codeOf)).toBe('ok');
    clock.advance(1000);
    expect(await call(alice)).toBe('ok');
  });

  it('default: 1000 calls/s with a burst of 1000', async () => {
    const { svc, alice, upload } = setup();
    const hash = unwrap(await upload(alice, wat(KV_WAT))).hash;
    const codes = await Promise.all(
      Array.from({ length: 1001 }, () => svc.handleCall({ hash, export: 'add', args: [1, 2], namespace: 'home', token: alice.token }).then(codeOf)),
    );
    expect(codes.filter((c) => c === 'ok')).toHaveLength(999);
  });
});
