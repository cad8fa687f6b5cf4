import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkTimeClaims } from './time-claims.ts';

const code = (r: ReturnType<typeof checkTimeClaims>): string => (r.ok ? 'ok' : r.error.code);

describe('checkTimeClaims (RFC 7519 §4.1.4-5)', () => {
  it('accepts claims without exp or nbf, refuses past exp and before nbf beyond the leeway', () => {
    expect(code(checkTimeClaims({ iss: 'a', iat: 1 }, 1e9))).toBe('ok');
    expect(code(checkTimeClaims({ iss: 'a', iat: 1, exp: 100 }, 99, 0))).toBe('ok');
    expect(code(checkTimeClaims({ iss: 'a', iat: 1, exp: 100 }, 100, 0))).toBe('FERRY_MSG_EXPIRED');
    expect(code(checkTimeClaims({ iss: 'a', iat: 1, exp: 100 }, 159, 60))).toBe('ok');
    expect(code(checkTimeClaims({ iss: 'a', iat: 1, nbf: 100 }, 99, 0))).toBe('FERRY_MSG_NOT_YET_VALID');
    expect(code(checkTimeClaims({ iss: 'a', iat: 1, nbf: 100 }, 41, 60))).toBe('ok');
    expect(code(checkTimeClaims({ iss: 'a', iat: 1, exp: '100' }, 1, 0))).toBe('FERRY_MSG_CLAIMS');
  });
  it('is monotone: a token valid at some time is valid at every time between nbf and exp', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }), (nbf, span, t) => {
        const claims = { iss: 'a', iat: 0, nbf, exp: nbf + span };
        const now = nbf + (t % span);
        expect(code(checkTimeClaims(claims, now, 0))).toBe('ok');
      }),
    );
  });
});
