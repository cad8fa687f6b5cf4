/**
 * Security properties of functions by hash (docs/functions.md): owners are isolated, public tokens cannot be widened, forged,
 * replayed after expiry or revocation, or flooded, and hostile modules get typed errors while the
 * service keeps serving.
 */
import { hmacKey } from '@ferry/message/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivePublicSigningSecret, parsePrivateToken } from './tokens/private-token.ts';
import { signJws } from './tokens/public-token.ts';
import { PoolRunner } from './pool-runner.ts';
import { FunctionService } from './service.ts';
import { wat } from '@ferry/test-kit/wat';
import { BAD_MODULES, codeOf, KV_WAT, ManualClock, owner, unwrap } from '@ferry/test-kit/functions';

const claimsOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('security', () => {
  const clock = new ManualClock();
  const svc = new FunctionService({ clock });
  const alice = owner('alice');
  const mallory = owner('mallory');
  let hash = '';
  const req = (token: string, over: Record<string, unknown> = {}) => ({ hash, export: 'incr', args: [], namespace: 'home', token, ...over });
  const counter = (o: string, ns = 'home') => {
    const v = svc.namespaces.state(o, ns).get('counter');
    return v === undefined ? 0 : new DataView(v.buffer, v.byteOffset).getInt32(0, true);
  };

  beforeAll(async () => {
    unwrap(svc.register(alice.token));
    unwrap(svc.register(mallory.token));
    hash = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' })).hash;
    unwrap(svc.setWhitelisted(alice.token, 'home', hash, true));
  });

  it("one owner's tokens cannot read, write or run in another owner's namespace", async () => {
    unwrap(await svc.handleCall(req(alice.token)));
    unwrap(await svc.handleCall(req(alice.token)));
    expect(counter('alice')).toBe(2);
    // Mallory's tokens name the same namespace but reach only her own (mallory, home).
    expect(unwrap(await svc.handleCall(req(mallory.token))).value).toBe(1);
    unwrap(svc.setWhitelisted(mallory.token, 'home', hash, true));
    expect(unwrap(await svc.handleCall(req(mallory.mint({}, clock.nowMs())))).value).toBe(2);
    expect(counter('alice')).toBe(2);
    expect(counter('mallory')).toBe(2);
    // Mallory cannot white-list into, nor revoke in, Alice's space.
    const alicePub = alice.mint({}, clock.nowMs());
    expect(codeOf(svc.revoke(mallory.token, alicePub))).toBe('FERRY_FN_BAD_TOKEN');
    // A token of Alice's that lists only 'home' does not open 'garage'.
    expect(codeOf(await svc.handleCall(req(alicePub, { namespace: 'garage' })))).toBe('FERRY_FN_FORBIDDEN_NAMESPACE');
    expect(codeOf(await svc.upload({ bytes: wat(KV_WAT), token: alicePub, namespace: 'garage' }))).toBe('FERRY_FN_FORBIDDEN_NAMESPACE');
  });

  it('a widened token, or one re-signed with another key, is refused', async () => {
    const pub = alice.mint({ namespaces: ['home'], rate: { perSecond: 1, burst: 1 } }, clock.nowMs());
    const [h, , s] = pub.split('.');
    const widened = `${h}.${Buffer.from(JSON.stringify({ ...claimsOf(pub), ns: ['home', 'garage'], rps: 1000, burst: 1000 })).toString('base64url')}.${s}`;
    expect(codeOf(await svc.handleCall(req(widened, { namespace: 'garage' })))).toBe('FERRY_FN_BAD_TOKEN');
    const m = unwrap(parsePrivateToken(mallory.token));
    const resigned = signJws(
      { alg: 'HS256', typ: 'JWT', kid: 'alice' },
      { ...claimsOf(pub), sub: 'mallory' },
      hmacKey(derivePublicSigningSecret(m.secret, 'mallory')),
    );
    expect(codeOf(await svc.handleCall(req(resigned)))).toBe('FERRY_FN_BAD_TOKEN');
    expect(codeOf(await svc.handleCall(req('')))).toBe('FERRY_FN_BAD_TOKEN');
  });

  it('an expired or revoked token is refused (the verification cache does not hide either)', async () => {
    const pub = alice.mint({ ttlS: 60 }, clock.nowMs());
    unwrap(await svc.handleCall(req(pub)));
    clock.advance(60_000);
    expect(codeOf(await svc.handleCall(req(pub)))).toBe('FERRY_FN_TOKEN_EXPIRED');
    const other = alice.mint({ ttlS: 60 }, clock.nowMs());
    unwrap(await svc.handleCall(req(other)));
    unwrap(svc.revoke(alice.token, other));
    expect(codeOf(await svc.handleCall(req(other)))).toBe('FERRY_FN_TOKEN_REVOKED');
    expect(unwrap(await svc.handleCall(req(alice.mint({}, clock.nowMs())))).value).toBeGreaterThan(0);
  });

  it('a flood from one token is rate limited while another token still works', async () => {
    const flood = alice.mint({ subject: 'flooder', rate: { perSecond: 5, burst: 10 } }, clock.nowMs());
    const calm = alice.mint({ subject: 'calm', rate: { perSecond: 5, burst: 10 } }, clock.nowMs());
    const codes = await Promise.all(Array.from({ length: 100 }, () => svc.handleCall(req(flood, { export: 'add', args: [1, 1] })).then(codeOf)));
    expect(codes.filter((c) => c === 'ok')).toHaveLength(10);
    expect(codes.filter((c) => c === 'FERRY_FN_RATE_LIMITED')).toHaveLength(90);
    expect(codeOf(await svc.handleCall(req(calm, { export: 'add', args: [1, 1] })))).toBe('ok');
    clock.advance(1000);
    expect(codeOf(await svc.handleCall(req(flood, { export: 'add', args: [1, 1] })))).toBe('ok');
    // Uploads (validation and compilation cost more than a call) pay from the same bucket.
    const uploader = alice.mint({ subject: 'uploader', rate: { perSecond: 1, burst: 2 } }, clock.nowMs());
    const ups = await Promise.all(Array.from({ length: 5 }, () => svc.upload({ bytes: wat(KV_WAT), token: uploader, namespace: 'home' }).then(codeOf)));
    expect(ups).toEqual(['ok', 'ok', 'FERRY_FN_RATE_LIMITED', 'FERRY_FN_RATE_LIMITED', 'FERRY_FN_RATE_LIMITED']);
  });

  // Regression: buckets and revocations were keyed by the jti alone, which the minter chooses: Mallory minted
  // tokens carrying the jti of Alice's token, drained its bucket with one call and could revoke it.
  it("another owner's token with the same jti neither drains nor revokes a victim's token", async () => {
    const victim = alice.mint({ jti: 'shared-jti', subject: 'victim', rate: { perSecond: 1, burst: 1 } }, clock.nowMs());
    const attacker = mallory.mint({ jti: 'shared-jti', subject: 'attacker', rate: { perSecond: 1, burst: 1 } }, clock.nowMs());
    unwrap(svc.setWhitelisted(mallory.token, 'home', hash, true));
    expect(codeOf(await svc.handleCall(req(attacker, { export: 'add', args: [1, 1] })))).toBe('ok'); // spends Mallory's token
    expect(codeOf(await svc.handleCall(req(victim, { export: 'add', args: [1, 1] })))).toBe('ok'); // Alice's bucket is her own
    unwrap(svc.revoke(mallory.token, attacker));
    expect(codeOf(await svc.handleCall(req(attacker)))).toBe('FERRY_FN_TOKEN_REVOKED');
    clock.advance(2000);
    expect(codeOf(await svc.handleCall(req(victim, { export: 'add', args: [1, 1] })))).toBe('ok'); // not revoked with it
  });
});

describe('hostile modules against the pooled runner: typed errors, and the service keeps serving', () => {
  const pool = new PoolRunner({ size: 2, timeoutMs: 300 });
  const svc = new FunctionService({ runner: pool });
  const alice = owner('alice');
  let hash = '';
  const call = (exp: string, args: unknown[] = [], namespace = 'home') =>
    svc.handleCall({ hash, export: exp, args: args as never, namespace, token: alice.token });

  beforeAll(async () => {
    unwrap(svc.register(alice.token));
    hash = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' })).hash;
    await pool.ready();
  });
  afterAll(() => pool.close());

  it('invalid modules are refused at upload', async () => {
    const up = (text: string) => svc.upload({ bytes: wat(text), token: alice.token, namespace: 'home' }).then(codeOf);
    expect(await up(BAD_MODULES.foreignImport)).toBe('FERRY_FN_MODULE_INVALID');
    expect(await up(BAD_MODULES.hugeMaximum)).toBe('FERRY_FN_MEMORY_EXCEEDED');
    expect(await up(BAD_MODULES.noMaximum)).toBe('FERRY_FN_MEMORY_EXCEEDED');
  });

  it('infinite loops, memory bombs and traps, interleaved with good calls', async () => {
    // Each in its own namespace, so the pool runs them side by side (calls on one namespace are serialised).
    const results = await Promise.all(
      [
        ['spin', []],
        ['add', [1, 2]],
        ['bomb', []],
        ['trap', []],
        ['spin', []],
        ['add', [3, 4]],
      ].map(([e, a], i) => call(e as string, a as number[], `ns${i}`)),
    );
    expect(results.map(codeOf)).toEqual(['FERRY_FN_TIMEOUT', 'ok', 'FERRY_FN_MEMORY_EXCEEDED', 'FERRY_FN_TRAP', 'FERRY_FN_TIMEOUT', 'ok']);
    expect(unwrap(await call('add', [20, 22])).value).toBe(42);
  });
});
