import { describe, expect, it } from 'vitest';
import { decode, encode, peek, verify, verifyJws, type HmacKey } from './codec.ts';
import { MESSAGE_ERRORS } from './errors.ts';
import { errorFixtures, validFixtures, type ErrorFixture, type ValidFixture } from './fixtures.ts';
import { hexKey } from './node-hmac.ts';
import { encode as b64 } from './base64url.ts';

const lookup =
  (f: ValidFixture | ErrorFixture) =>
  (kid: string): HmacKey | undefined => {
    const hex = f.keys[kid];
    return hex === undefined ? undefined : hexKey(hex);
  };

describe('valid fixtures', () => {
  for (const f of validFixtures()) {
    it(`${f.name}: verifies to the fixture's header and claims`, () => {
      const r = verify(f.token, lookup(f));
      expect(r.ok ? r.value : r.error.message).toEqual({ header: f.header, claims: f.claims });
    });
    it(`${f.name}: the encoder reproduces the token byte for byte`, () => {
      const r = encode({ header: f.header, claims: f.claims }, hexKey(f.keys[f.header.kid]!));
      expect(r.ok ? r.value : r.error.message).toBe(f.token);
    });
    it(`${f.name}: peek reads the header; bytes input gives the same result as text`, () => {
      expect(peek(f.token)).toEqual({ ok: true, value: f.header });
      expect(verify(new TextEncoder().encode(f.token), lookup(f))).toEqual(verify(f.token, lookup(f)));
    });
  }
});

describe('error fixtures', () => {
  const fixtures = errorFixtures();
  for (const f of fixtures) {
    it(`${f.name}: ${f.code}`, () => {
      const r = verify(f.token, lookup(f));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe(f.code);
        expect(r.error.num).toBe(MESSAGE_ERRORS[f.code].num);
      }
    });
  }
  it('cover every decoding error in the catalog', () => {
    const covered = new Set(fixtures.map((f) => f.code));
    // Not decoding errors: encode's input check, the time claims (checkTimeClaims, asked for separately), and
    // the downlink claims, which only verifyDownlink checks after the codec (downlink.test.ts covers them).
    const notDecoding = new Set([
      'FERRY_MSG_ENCODE_INPUT',
      'FERRY_MSG_EXPIRED',
      'FERRY_MSG_NOT_YET_VALID',
      'FERRY_MSG_WRONG_ISSUER',
      'FERRY_MSG_WRONG_AUDIENCE',
      'FERRY_MSG_WRONG_EVENT',
    ]);
    const decodeCodes = Object.keys(MESSAGE_ERRORS).filter((c) => !notDecoding.has(c));
    expect(decodeCodes.filter((c) => !covered.has(c as never))).toEqual([]);
  });
});

describe('peek', () => {
  it('never decodes the body: a token whose body is garbage still peeks', () => {
    const f = validFixtures()[0]!;
    const [h, , s] = f.token.split('.');
    const garbage = `${h}.!!not*base64!!.${s}`;
    expect(peek(garbage)).toEqual({ ok: true, value: f.header });
    expect(decode(garbage).ok).toBe(false);
  });
});

describe('encode', () => {
  const key = hexKey('00'.repeat(32));
  it.each([
    ['iss differs from kid', { header: { kid: 'a', ep: 0, sq: 0 }, claims: { iss: 'b', iat: 0 } }],
    ['bad kid', { header: { kid: 'a b', ep: 0, sq: 0 }, claims: { iss: 'a b', iat: 0 } }],
    ['negative epoch', { header: { kid: 'a', ep: -1, sq: 0 }, claims: { iss: 'a', iat: 0 } }],
    ['NaN claim', { header: { kid: 'a', ep: 0, sq: 0 }, claims: { iss: 'a', iat: 0, t: Number.NaN } }],
    ['too large', { header: { kid: 'a', ep: 0, sq: 0 }, claims: { iss: 'a', iat: 0, x: 'y'.repeat(2000) } }],
    ['group part out of range', { header: { kid: 'a', ep: 0, sq: 0, group: { id: 1, part: 2, parts: 2 } }, claims: { iss: 'a', iat: 0 } }],
  ])('refuses %s with FERRY_MSG_ENCODE_INPUT', (_, msg) => {
    const r = encode(msg, key);
    expect(r.ok ? 'ok' : r.error.code).toBe('FERRY_MSG_ENCODE_INPUT');
  });
  it('refuses a claim that is not JSON (bigint) without throwing', () => {
    const r = encode({ header: { kid: 'a', ep: 0, sq: 0 }, claims: { iss: 'a', iat: 0, n: 1n as never } }, key);
    expect(r.ok ? 'ok' : r.error.code).toBe('FERRY_MSG_ENCODE_INPUT');
  });
});

describe('RFC examples', () => {
  // RFC 7515 Appendix A.1 (also RFC 7519 §3.1): an HS256 JWS with CRLFs in the header and payload.
  const token =
    'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const k = Buffer.from('AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow', 'base64url');
  it('RFC 7515 A.1 verifies with verifyJws and yields the RFC payload', () => {
    const r = verifyJws(token, hexKey(k.toString('hex')));
    expect(r.ok).toBe(true);
    if (r.ok) expect(JSON.parse(new TextDecoder().decode(r.value.payload))).toEqual({ iss: 'joe', exp: 1300819380, 'http://example.com/is_root': true });
  });
  it('RFC 7515 A.1 with one signature character changed fails', () => {
    const bad = token.replace('.dBj', '.eBj');
    const r = verifyJws(bad, hexKey(k.toString('hex')));
    expect(r.ok ? 'ok' : r.error.code).toBe('FERRY_MSG_BAD_SIGNATURE');
  });
  it('RFC 7515 A.1 is not a Ferry message: verify names the missing field', () => {
    const r = verify(token, hexKey(k.toString('hex')));
    expect(r.ok ? 'ok' : r.error.code).toBe('FERRY_MSG_MISSING_FIELD');
  });
  it('RFC 7515 A.1 re-spelt with non-zero trailing bits (same bytes in a lenient decoder) is refused', () => {
    const respelt = `${token.slice(0, -1)}l`; // 'k' and 'l' differ only in the 2 unused bits
    expect(Buffer.from(respelt.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
    const r = verifyJws(respelt, hexKey(k.toString('hex')));
    expect(r.ok ? 'ok' : r.error.code).toBe('FERRY_MSG_SIGNATURE_ENCODING');
  });
  it('base64url of the RFC header matches', () => {
    expect(b64(new TextEncoder().encode('{"typ":"JWT",\r\n "alg":"HS256"}'))).toBe(token.split('.')[0]);
  });
});
