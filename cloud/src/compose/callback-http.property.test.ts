import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkUrl, isPublicAddress } from './callback-http.ts';
import { SoFlowError } from './errors.ts';

const outcome = (raw: unknown, allowPrivate: boolean): string => {
  try {
    const u = checkUrl(raw, allowPrivate);
    return u.protocol === 'http:' || u.protocol === 'https:' ? 'ok' : `bad protocol ${u.protocol}`;
  } catch (e) {
    return e instanceof SoFlowError ? e.code : `untyped ${String(e)}`;
  }
};

describe('callback URLs (property)', () => {
  it('any input is an http(s) URL or a typed refusal, never another error', () => {
    const inputs = fc.oneof(
      fc.string(),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.constantFrom('http://', 'https://[::1', 'javascript:alert(1)', 'file:///etc/passwd', 'http://u:p@host/'),
      fc.anything(),
    );
    fc.assert(
      fc.property(inputs, fc.boolean(), (raw, allowPrivate) => {
        expect(outcome(raw, allowPrivate)).toMatch(/^(ok|FERRY_SOFLOW_BAD_URL|FERRY_SOFLOW_PRIVATE_ADDRESS)$/);
      }),
    );
  });

  it('every literal address in a private, loopback or link-local range is refused by default and allowed when configured', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const privateV4 = fc.oneof(
      fc.tuple(octet, octet, octet).map(([a, b, c]) => `10.${a}.${b}.${c}`),
      fc.tuple(octet, octet, octet).map(([a, b, c]) => `127.${a}.${b}.${c}`),
      fc.tuple(fc.integer({ min: 16, max: 31 }), octet, octet).map(([a, b, c]) => `172.${a}.${b}.${c}`),
      fc.tuple(octet, octet).map(([a, b]) => `192.168.${a}.${b}`),
      fc.tuple(octet, octet).map(([a, b]) => `169.254.${a}.${b}`),
    );
    fc.assert(
      fc.property(privateV4, (ip) => {
        expect(isPublicAddress(ip)).toBe(false);
        expect(isPublicAddress(`::ffff:${ip}`)).toBe(false);
        expect(outcome(`http://${ip}:8080/x`, false)).toBe('FERRY_SOFLOW_PRIVATE_ADDRESS');
        expect(outcome(`http://[::ffff:${ip}]/x`, false)).toBe('FERRY_SOFLOW_PRIVATE_ADDRESS');
        expect(outcome(`http://${ip}:8080/x`, true)).toBe('ok');
      }),
    );
  });
});
