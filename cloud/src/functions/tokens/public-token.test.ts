import { jwtVerify, SignJWT } from 'jose';
import { hmacKey } from '@ferry/message/node';
import { describe, expect, it } from 'vitest';
import { codeOf, publicSpec, unwrap } from '@ferry/test-kit/functions';
import { Owners } from './owners.ts';
import { derivePublicSigningSecret, generatePrivateToken, parsePrivateToken } from './private-token.ts';
import { MAX_TOKEN_LIFETIME_S, mintPublicToken, signJws, verifyPublicToken } from './public-token.ts';

const NOW = Date.UTC(2026, 10, 22, 12);
const setup = () => {
  const owners = new Owners();
  const alice = generatePrivateToken('alice');
  const mallory = generatePrivateToken('mallory');
  unwrap(owners.register(alice));
  unwrap(owners.register(mallory));
  const keyOf = (o: string) => owners.publicKey(o);
  return { owners, alice, mallory, keyOf };
};
const parts = (t: string) => t.split('.') as [string, string, string];
const claimsOf = (t: string) => JSON.parse(Buffer.from(parts(t)[1], 'base64url').toString()) as Record<string, unknown>;
const withClaims = (t: string, c: object) => `${parts(t)[0]}.${Buffer.from(JSON.stringify(c)).toString('base64url')}.${parts(t)[2]}`;

describe('public tokens', () => {
  it('mint and verify carry every permission', () => {
    const { alice, keyOf } = setup();
    const fn = 'a'.repeat(64);
    const t = unwrap(mintPublicToken(alice, publicSpec({ functions: [fn], schedule: { minPeriodS: 60 }, jti: 'jti-00001' }), NOW));
    expect(unwrap(verifyPublicToken(t, keyOf))).toEqual({
      owner: 'alice',
      subject: 'room-1',
      jti: 'jti-00001',
      issuedAtS: NOW / 1000,
      expiresAtS: NOW / 1000 + 3600,
      namespaces: ['home'],
      functions: [fn],
      rate: { perSecond: 100, burst: 100 },
      schedule: { minPeriodS: 60 },
    });
  });

  it('is a standard HS256 JWT: jose verifies it with the derived key (independent cross-check)', async () => {
    const { alice } = setup();
    const t = unwrap(mintPublicToken(alice, publicSpec(), NOW));
    const { secret } = unwrap(parsePrivateToken(alice));
    const r = await jwtVerify(t, derivePublicSigningSecret(secret, 'alice'), { algorithms: ['HS256'], currentDate: new Date(NOW) });
    expect(r.payload).toMatchObject({ iss: 'alice', sub: 'room-1', ns: ['home'] });
    expect(r.protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'alice' });
  });

  it('a widened token (claims changed, signature kept) is refused', () => {
    const { alice, keyOf } = setup();
    const t = unwrap(mintPublicToken(alice, publicSpec({ functions: ['a'.repeat(64)] }), NOW));
    const c = claimsOf(t);
    for (const widened of [
      { ...c, ns: ['home', 'garage'] },
      { ...c, rps: 1_000_000 },
      { ...c, exp: (c['exp'] as number) + 1e6 },
      { ...c, sch: 1 },
      (({ fn: _, ...rest }) => rest)(c),
    ]) {
      const r = verifyPublicToken(withClaims(t, widened), keyOf);
      expect(codeOf(r)).toBe('FERRY_FN_BAD_TOKEN');
      expect(r.ok ? [] : r.error.details).toEqual(['FERRY_MSG_BAD_SIGNATURE']);
    }
  });

  it("a token re-signed with another owner's key, or with the private secret itself, is refused", async () => {
    const { alice, mallory, keyOf } = setup();
    const c = claimsOf(unwrap(mintPublicToken(alice, publicSpec(), NOW)));
    const m = unwrap(parsePrivateToken(mallory));
    const forged = signJws(
      { alg: 'HS256', typ: 'JWT', kid: 'alice' },
      { ...c, ns: ['home', 'garage'] },
      hmacKey(derivePublicSigningSecret(m.secret, 'mallory')),
    );
    expect(codeOf(verifyPublicToken(forged, keyOf))).toBe('FERRY_FN_BAD_TOKEN');
    const viaJose = await new SignJWT({ ...c }).setProtectedHeader({ alg: 'HS256', kid: 'alice' }).sign(m.secret);
    expect(codeOf(verifyPublicToken(viaJose, keyOf))).toBe('FERRY_FN_BAD_TOKEN');
    const a = unwrap(parsePrivateToken(alice));
    const withRaw = signJws({ alg: 'HS256', typ: 'JWT', kid: 'alice' }, c, hmacKey(a.secret));
    expect(codeOf(verifyPublicToken(withRaw, keyOf))).toBe('FERRY_FN_BAD_TOKEN');
  });

  it('alg none, another alg, a kid/iss mismatch, an unknown owner and garbage are refused', () => {
    const { alice, keyOf } = setup();
    const t = unwrap(mintPublicToken(alice, publicSpec(), NOW));
    const c = claimsOf(t);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(codeOf(verifyPublicToken(`${b64({ alg: 'none', kid: 'alice' })}.${parts(t)[1]}.`, keyOf))).toBe('FERRY_FN_BAD_TOKEN');
    expect(codeOf(verifyPublicToken(`${b64({ alg: 'HS512', kid: 'alice' })}.${parts(t)[1]}.${parts(t)[2]}`, keyOf))).toBe('FERRY_FN_BAD_TOKEN');
    const { secret } = unwrap(parsePrivateToken(alice));
    const key = hmacKey(derivePublicSigningSecret(secret, 'alice'));
    expect(codeOf(verifyPublicToken(signJws({ alg: 'HS256', kid: 'alice' }, { ...c, iss: 'mallory' }, key), keyOf))).toBe('FERRY_FN_BAD_TOKEN');
    expect(codeOf(verifyPublicToken(signJws({ alg: 'HS256', kid: 'alice' }, { ...c, ns: [] }, key), keyOf))).toBe('FERRY_FN_BAD_TOKEN');
    expect(codeOf(verifyPublicToken(unwrap(mintPublicToken(generatePrivateToken('carol'), publicSpec(), NOW)), keyOf))).toBe('FERRY_FN_BAD_TOKEN');
    for (const g of ['', 'x', 'a.b.c', `${parts(t)[0]}..`, t + t]) expect(codeOf(verifyPublicToken(g, keyOf))).toBe('FERRY_FN_BAD_TOKEN');
  });

  it('minting refuses malformed permissions', () => {
    const { alice } = setup();
    for (const bad of [
      { namespaces: [] },
      { namespaces: ['Home'] },
      { functions: ['xyz'] },
      { functions: [] },
      { rate: { perSecond: 0, burst: 1 } },
      { rate: { perSecond: 1.5, burst: 1 } },
      { schedule: { minPeriodS: 0 } },
      { ttlS: 0 },
      { subject: 'a b' },
      { jti: 'short' },
    ])
      expect(codeOf(mintPublicToken(alice, publicSpec(bad as never), NOW))).toBe('FERRY_FN_BAD_PERMISSIONS');
    expect(codeOf(mintPublicToken('nope', publicSpec(), NOW))).toBe('FERRY_FN_BAD_TOKEN');
  });
});

describe('token lifetime', () => {
  // Regression: public tokens could be minted to live ten years.
  it('mint refuses more than 90 days; a token claiming longer does not verify', () => {
    const priv = generatePrivateToken('alice');
    const spec = { subject: 'd', namespaces: ['home'], rate: { perSecond: 1, burst: 1 } };
    const long = mintPublicToken(priv, { ...spec, ttlS: MAX_TOKEN_LIFETIME_S + 1 }, 0);
    expect(long.ok ? 'ok' : long.error.code).toBe('FERRY_FN_BAD_PERMISSIONS');
    expect(mintPublicToken(priv, { ...spec, ttlS: MAX_TOKEN_LIFETIME_S }, 0).ok).toBe(true);
    const p = parsePrivateToken(priv);
    if (!p.ok) throw p.error;
    const key = hmacKey(derivePublicSigningSecret(p.value.secret, 'alice'));
    const forged = signJws(
      { alg: 'HS256', typ: 'JWT', kid: 'alice' },
      { iss: 'alice', sub: 'd', jti: 'AAAAAAAAAAAAAAAA', iat: 0, exp: 10 * 31_536_000, ns: ['home'], rps: 1, burst: 1 },
      key,
    );
    const v = verifyPublicToken(forged, () => key);
    expect(v.ok ? 'ok' : v.error.message).toMatch(/lives longer than/);
  });
});
