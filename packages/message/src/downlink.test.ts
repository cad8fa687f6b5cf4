/** Downlink messages: signing, every refusal, the replay window, and properties over random tokens (fast-check). */
import { hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { encode, peek, type Json } from './codec.ts';
import { CLOUD_SOURCE_ID, DownlinkWindow, signDownlink, verifyDownlink, type SignDownlinkInput } from './downlink.ts';
import { downlinkKey, downlinkKeyBytes, hmacKey } from './node-hmac.ts';

const deviceKey = new Uint8Array(32).map((_, i) => i);
const dk = downlinkKey(deviceKey, 'th-01');
const NOW = Date.UTC(2026, 11, 6, 5, 0, 0);
const base: SignDownlinkInput = { aud: 'th-01', ev: 'fn.res', ep: 1_796_000_000, sq: 3, nowMs: NOW, ttlMs: 60_000, body: { id: 'a.1', ok: true, value: 1875 } };
const sign = (over: Partial<SignDownlinkInput> = {}, key = dk): string => {
  const r = signDownlink({ ...base, ...over }, key);
  if (!r.ok) throw r.error;
  return r.value;
};
const codeOf = (r: { ok: boolean; error?: { code: string } }): string | undefined => (r.ok ? undefined : r.error!.code);

describe('downlink key', () => {
  it('is HKDF-SHA256(device key, "ferry/downlink/v1", id, 32) and differs per device', () => {
    const expected = new Uint8Array(hkdfSync('sha256', deviceKey, 'ferry/downlink/v1', 'th-01', 32));
    expect(downlinkKeyBytes(deviceKey, 'th-01')).toEqual(expected);
    expect(downlinkKeyBytes(deviceKey, 'th-02')).not.toEqual(expected);
    expect(() => downlinkKey(new Uint8Array(16), 'th-01')).toThrow(RangeError);
  });
});

describe('signDownlink / verifyDownlink', () => {
  it('round-trips: the cloud as source, the device as audience, ep/sq in the header, the body as d', () => {
    const t = sign();
    // The example of docs/message-format.md "Downlink".
    expect(t).toBe(
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImZlcnJ5LWNsb3VkIiwiZXAiOjE3OTYwMDAwMDAsInNxIjozfQ.eyJpc3MiOiJmZXJyeS1jbG91ZCIsImF1ZCI6InRoLTAxIiwiaWF0IjoxNzk2NTMzMjAwLCJleHAiOjE3OTY1MzMyNjAsImV2IjoiZm4ucmVzIiwiZCI6eyJpZCI6ImEuMSIsIm9rIjp0cnVlLCJ2YWx1ZSI6MTg3NX19.QF78yhCXOeGpTevdmijjsWVsBxdtJxWQ4lm10pczMdg',
    );
    expect(peek(t)).toEqual({ ok: true, value: { kid: CLOUD_SOURCE_ID, ep: base.ep, sq: 3 } });
    const v = verifyDownlink(t, dk, { aud: 'th-01', nowMs: NOW + 1000, ev: 'fn.res' });
    expect(v).toEqual({ ok: true, value: { aud: 'th-01', ev: 'fn.res', ep: base.ep, sq: 3, iat: NOW / 1000, exp: NOW / 1000 + 60, body: base.body } });
  });

  it('is a JWT any library verifies (issuer, audience, expiry)', async () => {
    const { payload } = await jwtVerify(sign(), downlinkKeyBytes(deviceKey, 'th-01'), {
      issuer: CLOUD_SOURCE_ID,
      audience: 'th-01',
      currentDate: new Date(NOW),
    });
    expect(payload).toMatchObject({ ev: 'fn.res', d: base.body });
  });

  it('refuses another audience, an expired token, another event, and anything not from the cloud', () => {
    expect(codeOf(verifyDownlink(sign(), dk, { aud: 'th-02', nowMs: NOW }))).toBe('FERRY_MSG_WRONG_AUDIENCE');
    expect(codeOf(verifyDownlink(sign(), dk, { aud: 'th-01', nowMs: NOW + 60_000 + 30_000 }))).toBe('FERRY_MSG_EXPIRED');
    expect(verifyDownlink(sign(), dk, { aud: 'th-01', nowMs: NOW + 60_000 + 29_000 }).ok).toBe(true);
    expect(codeOf(verifyDownlink(sign(), dk, { aud: 'th-01', nowMs: NOW + 61_000, leewayMs: 0 }))).toBe('FERRY_MSG_EXPIRED');
    expect(verifyDownlink(sign({ ttlMs: undefined as never }), dk, { aud: 'th-01', nowMs: NOW + 1e10 }).ok).toBe(true);
    expect(codeOf(verifyDownlink(sign({ ev: 'ns.state' }), dk, { aud: 'th-01', nowMs: NOW, ev: 'fn.res' }))).toBe('FERRY_MSG_WRONG_EVENT');
    // Signed by whoever knows the device key, as the device itself: an uplink, refused before the MAC.
    const up = encode(
      { header: { kid: 'th-01', ep: 1, sq: 1 }, claims: { iss: 'th-01', iat: NOW / 1000, aud: 'th-01', ev: 'fn.res', d: base.body } },
      hmacKey(deviceKey),
    );
    expect(codeOf(verifyDownlink(up.ok ? up.value : '', dk, { aud: 'th-01', nowMs: NOW }))).toBe('FERRY_MSG_WRONG_ISSUER');
    // The same claims as the cloud, signed with the device key instead of its downlink key.
    expect(codeOf(verifyDownlink(sign({}, hmacKey(deviceKey)), dk, { aud: 'th-01', nowMs: NOW }))).toBe('FERRY_MSG_BAD_SIGNATURE');
    // Signed for another device, replayed to this one.
    expect(codeOf(verifyDownlink(sign({}, downlinkKey(deviceKey, 'th-02')), dk, { aud: 'th-01', nowMs: NOW }))).toBe('FERRY_MSG_BAD_SIGNATURE');
    expect(codeOf(verifyDownlink('{"id":"a.1","ok":true,"value":-3900}', dk, { aud: 'th-01', nowMs: NOW }))).toBe('FERRY_MSG_SEGMENTS');
  });

  it('refuses to sign what would not verify', () => {
    expect(codeOf(signDownlink({ ...base, aud: 'a/b' }, dk))).toBe('FERRY_MSG_ENCODE_INPUT');
    expect(codeOf(signDownlink({ ...base, ev: 'boot' as never }, dk))).toBe('FERRY_MSG_ENCODE_INPUT');
    expect(codeOf(signDownlink({ ...base, body: 'x'.repeat(2000) }, dk))).toBe('FERRY_MSG_ENCODE_INPUT');
  });
});

describe('DownlinkWindow', () => {
  it('accepts only a newer (ep, sq) per event, across a restart of the host and of the cloud', () => {
    const w = new DownlinkWindow();
    expect(w.accept('fn.res', 5, 1)).toBe(true);
    expect(w.accept('fn.res', 5, 1)).toBe(false); // replay
    expect(w.accept('fn.res', 5, 0)).toBe(false); // older
    expect(w.accept('ns.state', 5, 0)).toBe(true); // kinds are apart
    expect(w.accept('fn.res', 5, 7)).toBe(true); // gaps are fine: the counter is shared by kinds
    expect(w.accept('fn.res', 6, 0)).toBe(true); // the cloud restarted: a higher epoch, sq from 0
    expect(w.accept('fn.res', 5, 9)).toBe(false); // the old epoch is over
    const restored = DownlinkWindow.from(JSON.parse(JSON.stringify(w)));
    expect(restored.accept('fn.res', 6, 0)).toBe(false);
    expect(restored.accept('ns.state', 5, 1)).toBe(true);
    expect(restored.toJSON()).toEqual({ v: 1, high: { 'fn.res': [6, 0], 'ns.state': [5, 1] } });
    expect(DownlinkWindow.from({ high: { x: [1, -1], y: 'no' } }).toJSON()).toEqual({ v: 1, high: {} });
    expect(DownlinkWindow.from(null).fresh('x', 0, 0)).toBe(true);
  });
});

describe('downlink properties', () => {
  const json = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  const input = fc.record({
    aud: fc.stringMatching(/^[A-Za-z0-9._-]{1,32}$/),
    ev: fc.constantFrom('fn.res' as const, 'ns.state' as const, 'cmd' as const),
    ep: fc.integer({ min: 0, max: 0xffff_ffff }),
    sq: fc.integer({ min: 0, max: 0xffff_ffff }),
    body: json,
  });

  it('changing any byte of a downlink message makes it refused', () => {
    fc.assert(
      fc.property(input, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, delta) => {
        const key = downlinkKey(deviceKey, m.aud);
        const t = signDownlink({ ...m, nowMs: NOW }, key);
        fc.pre(t.ok);
        const bytes = new TextEncoder().encode(t.ok ? t.value : '');
        const i = at % bytes.length;
        bytes[i] = (bytes[i]! + delta) & 0xff;
        expect(verifyDownlink(bytes, key, { aud: m.aud, nowMs: NOW }).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('a token signed with the device key (as uplinks are) never verifies as a downlink', () => {
    fc.assert(
      fc.property(input, fc.boolean(), (m, asCloud) => {
        const kid = asCloud ? CLOUD_SOURCE_ID : m.aud;
        const t = encode({ header: { kid, ep: m.ep, sq: m.sq }, claims: { iss: kid, iat: NOW / 1000, aud: m.aud, ev: m.ev, d: m.body } }, hmacKey(deviceKey));
        fc.pre(t.ok);
        const r = verifyDownlink(t.ok ? t.value : '', downlinkKey(deviceKey, m.aud), { aud: m.aud, nowMs: NOW });
        expect(codeOf(r)).toBe(asCloud ? 'FERRY_MSG_BAD_SIGNATURE' : m.aud === CLOUD_SOURCE_ID ? 'FERRY_MSG_BAD_SIGNATURE' : 'FERRY_MSG_WRONG_ISSUER');
      }),
      { numRuns: 300 },
    );
  });

  it('a downlink for one device never verifies for another', () => {
    fc.assert(
      fc.property(input, fc.stringMatching(/^[A-Za-z0-9._-]{1,32}$/), (m, other) => {
        fc.pre(other !== m.aud);
        const t = signDownlink({ ...m, nowMs: NOW }, downlinkKey(deviceKey, m.aud));
        fc.pre(t.ok);
        const token = t.ok ? t.value : '';
        expect(codeOf(verifyDownlink(token, downlinkKey(deviceKey, other), { aud: other, nowMs: NOW }))).toBe('FERRY_MSG_BAD_SIGNATURE');
        expect(codeOf(verifyDownlink(token, downlinkKey(deviceKey, m.aud), { aud: other, nowMs: NOW }))).toBe('FERRY_MSG_WRONG_AUDIENCE');
      }),
      { numRuns: 200 },
    );
  });
});
