/** Interoperability with the jose library (an independent JWS implementation). */
import { SignJWT, CompactSign, compactVerify, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { verify, verifyJws } from './codec.ts';
import { validFixtures } from './fixtures.ts';
import { hmacKey } from './node-hmac.ts';

const secret = new Uint8Array(32).map((_, i) => i * 7 + 1);

describe('our tokens verify with jose', () => {
  for (const f of validFixtures()) {
    it(`${f.name}: compactVerify and jwtVerify accept it and see the same header and claims`, async () => {
      const k = Buffer.from(f.keys[f.header.kid]!, 'hex');
      const cv = await compactVerify(f.token, k);
      expect(cv.protectedHeader).toMatchObject({ alg: 'HS256', typ: 'JWT', kid: f.header.kid, ep: f.header.ep, sq: f.header.sq });
      const jv = await jwtVerify(f.token, k, { algorithms: ['HS256'] });
      expect(jv.payload).toEqual(f.claims);
    });
    it(`${f.name}: jose refuses it under another key`, async () => {
      await expect(compactVerify(f.token, secret)).rejects.toThrow();
    });
  }
});

describe('jose tokens verify with ours', () => {
  it('a JWT signed by SignJWT with Ferry header fields', async () => {
    const token = await new SignJWT({ ev: 'tel', d: { t: 20.25 } })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'js-1', ep: 9, sq: 77, grp: 3, part: 0, parts: 2 })
      .setIssuer('js-1')
      .setIssuedAt(1767225600)
      .sign(secret);
    const r = verify(token, hmacKey(secret));
    expect(r.ok ? r.value : r.error.message).toEqual({
      header: { kid: 'js-1', ep: 9, sq: 77, group: { id: 3, part: 0, parts: 2 } },
      claims: { ev: 'tel', d: { t: 20.25 }, iss: 'js-1', iat: 1767225600 },
    });
    expect(decodeProtectedHeader(token)).toMatchObject({ ep: 9, sq: 77 });
  });
  it('a general JWS from CompactSign with a binary payload verifies with verifyJws', async () => {
    const payload = new Uint8Array([0, 1, 2, 255]);
    const token = await new CompactSign(payload).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    const r = verifyJws(token, hmacKey(secret));
    expect(r.ok ? [...r.value.payload] : r.error.message).toEqual([0, 1, 2, 255]);
  });
  it('a jose token signed with another key is refused with FERRY_MSG_BAD_SIGNATURE', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'js-1', ep: 1, sq: 1 }).setIssuer('js-1').setIssuedAt(1).sign(secret);
    const r = verify(token, hmacKey(new Uint8Array(32)));
    expect(r.ok ? 'ok' : r.error.code).toBe('FERRY_MSG_BAD_SIGNATURE');
  });
});
