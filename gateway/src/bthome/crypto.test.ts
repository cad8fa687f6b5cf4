/** @module BTHome encryption: the bthome.io/encryption example, bthome-ble's encrypted vectors, replay protection after the MIC, and tamper/round-trip properties. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBthome } from './decoder.ts';
import { bthomeNonce, formatMac, parseMac } from './crypto.ts';
import { encodeBthome, type BthomeInput } from './encoder.ts';
import { parseHex, toHex } from '../decoders/hex.ts';
import { ReplayGuard } from './replay-guard.ts';
import { ENCRYPTED_VECTORS, SPEC_ENCRYPTION_EXAMPLE, SPEC_ENCRYPTION_EXAMPLE_2, SPEC_KEY, SPEC_MAC, simplify } from './fixtures/vectors.ts';

const bytes = (hex: string): Uint8Array => {
  const r = parseHex(hex);
  if (!r.ok) throw r.error;
  return r.value;
};
const KEY = bytes(SPEC_KEY);
const opts = (extra: { replay?: ReplayGuard } = {}) => ({ key: KEY, mac: SPEC_MAC, ...extra });
const codeOf = (r: { ok: boolean; error?: { code: string } }): string => (r.ok ? 'ok' : (r.error?.code ?? '?'));

describe('BTHome encryption: bthome.io/encryption example', () => {
  it('builds the nonce 5448e68f80a5d2fc4100112233 the spec prints', () => {
    const mac = parseMac(SPEC_MAC);
    expect(mac.ok && toHex(bthomeNonce(mac.value, 0x41, bytes('00112233')))).toBe('5448e68f80a5d2fc4100112233');
  });

  it('encrypts 02CA09 03BF13 with counter 00112233 to exactly the published service data', () => {
    const r = encodeBthome(
      [
        { id: 0x02, value: 25.06 },
        { id: 0x03, value: 50.55 },
      ],
      {
        encrypt: { key: KEY, mac: SPEC_MAC, counter: SPEC_ENCRYPTION_EXAMPLE.counter },
      },
    );
    expect(r.ok && `d2fc${toHex(r.value)}`).toBe(SPEC_ENCRYPTION_EXAMPLE.serviceDataWithUuid);
    const m = encodeBthome([{ id: 0x21, value: true }], { encrypt: { key: KEY, mac: SPEC_MAC, counter: SPEC_ENCRYPTION_EXAMPLE_2.counter } });
    expect(m.ok && `d2fc${toHex(m.value)}`).toBe(SPEC_ENCRYPTION_EXAMPLE_2.serviceDataWithUuid);
  });

  it('decrypts the published service data (with its D2 FC UUID) back to 25.06 °C / 50.55 %', () => {
    const r = decodeBthome(bytes(SPEC_ENCRYPTION_EXAMPLE.serviceDataWithUuid), opts());
    expect(r.ok && [r.value.encrypted, r.value.counter, simplify(r.value.objects)]).toEqual([
      true,
      0x33221100,
      [
        [0x02, 25.06],
        [0x03, 50.55],
      ],
    ]);
  });
});

describe('BTHome encryption: bthome-ble test_parser_v2.py vectors', () => {
  for (const v of ENCRYPTED_VECTORS) {
    it(`${v.test}: ${v.hex}`, () => {
      const r = decodeBthome(bytes(v.hex), { key: v.key === undefined ? undefined : bytes(v.key), mac: v.mac });
      if (v.error !== undefined) expect(codeOf(r)).toBe(v.error);
      else expect(r.ok && simplify(r.value.objects)).toEqual(v.values);
    });
  }

  it('reads the counters the reference asserts (1122867, 1122868, 4294967295, 0, 442)', () => {
    const counter = (hex: string, key = KEY, mac = SPEC_MAC) => {
      const r = decodeBthome(bytes(hex), { key, mac });
      return r.ok ? r.value.counter : r.error.code;
    };
    expect([
      counter('41e445f3c9962b332211006c7c4519'),
      counter('413e932cc7175f34221100553876af'),
      counter('41ba0db07aeef6ffffffff21fd4600'),
      counter('41de40b50e676600000000d7cb95de'),
      counter('450aeb84467f85ba0100003188788c', bytes('90bffd73cb6b26ef58a7a8eba9232036'), 'B4:35:22:F5:3D:A4'),
    ]).toEqual([1122867, 1122868, 4294967295, 0, 442]);
  });

  it('refuses a wrong MAC, a short key and a missing MAC with their own codes', () => {
    const hex = '41a47266c95f730011223378237214';
    expect(codeOf(decodeBthome(bytes(hex), { key: KEY, mac: 'A4:C1:38:8D:18:B2' }))).toBe('FERRY_DECODE_BAD_MIC');
    expect(codeOf(decodeBthome(bytes(hex), { key: KEY.subarray(0, 15), mac: SPEC_MAC }))).toBe('FERRY_DECODE_BAD_KEY');
    expect(codeOf(decodeBthome(bytes(hex), { key: KEY }))).toBe('FERRY_DECODE_MAC_REQUIRED');
    expect(codeOf(decodeBthome(bytes(hex), { key: KEY, mac: 'not-a-mac' }))).toBe('FERRY_DECODE_BAD_MAC_ADDRESS');
  });
});

describe('BTHome replay protection (ReplayGuard in decodeBthome)', () => {
  const first = '41e445f3c9962b332211006c7c4519'; // counter 1122867
  const next = '413e932cc7175f34221100553876af'; // counter 1122868
  const older = '41723d3035fb88322211009e7414c0'; // counter 1122866

  it('accepts increasing counters (test_increasing_encryption_counter)', () => {
    const replay = new ReplayGuard();
    expect([codeOf(decodeBthome(bytes(first), opts({ replay }))), codeOf(decodeBthome(bytes(next), opts({ replay })))]).toEqual(['ok', 'ok']);
    expect(replay.last(SPEC_MAC)).toBe(1122868);
  });

  it('refuses the same advert twice and a lower counter (test_same/decreasing_encryption_counter)', () => {
    const replay = new ReplayGuard();
    decodeBthome(bytes(first), opts({ replay }));
    const again = decodeBthome(bytes(first), opts({ replay }));
    expect(codeOf(again)).toBe('FERRY_DECODE_REPLAYED');
    expect(!again.ok && again.error.message).toMatch(/1122867 .*54:48:E6:8F:80:A5.* 1122867/);
    expect(codeOf(decodeBthome(bytes(older), opts({ replay })))).toBe('FERRY_DECODE_REPLAYED');
    expect(replay.last(SPEC_MAC)).toBe(1122867);
  });

  it('refuses a counter restart (test_reset_encryption_counter: the reference tolerates it, we do not)', () => {
    const replay = new ReplayGuard();
    expect(codeOf(decodeBthome(bytes('41ba0db07aeef6ffffffff21fd4600'), opts({ replay })))).toBe('ok');
    expect(codeOf(decodeBthome(bytes('41de40b50e676600000000d7cb95de'), opts({ replay })))).toBe('FERRY_DECODE_REPLAYED');
    replay.forget(SPEC_MAC); // an operator re-pairs the device
    expect(codeOf(decodeBthome(bytes('41de40b50e676600000000d7cb95de'), opts({ replay })))).toBe('ok');
  });

  it('checks the MIC before the counter: a forged advert neither reports REPLAYED nor moves the guard', () => {
    const replay = new ReplayGuard([[SPEC_MAC, 1122867]]);
    // Counter bytes raised to ff ff ff ff without the key: MIC fails first.
    const forged = bytes('41e445f3c9962bffffffff6c7c4519');
    expect(codeOf(decodeBthome(forged, opts({ replay })))).toBe('FERRY_DECODE_BAD_MIC');
    // A replay of an old advert with a broken MIC is still BAD_MIC, not REPLAYED.
    const brokenOld = bytes('41723d3035fb88322211009e7414c1');
    expect(codeOf(decodeBthome(brokenOld, opts({ replay })))).toBe('FERRY_DECODE_BAD_MIC');
    expect(replay.last(SPEC_MAC)).toBe(1122867);
    expect(codeOf(decodeBthome(bytes(next), opts({ replay })))).toBe('ok');
  });

  it('keys the guard by the nonce MAC, so another device has its own counter', () => {
    const replay = new ReplayGuard([['54-48-e6-8f-80-a5', 5_000_000]]);
    expect(codeOf(decodeBthome(bytes(first), opts({ replay })))).toBe('FERRY_DECODE_REPLAYED');
    const shelly = decodeBthome(bytes('450aeb84467f85ba0100003188788c'), { key: bytes('90bffd73cb6b26ef58a7a8eba9232036'), mac: 'B4:35:22:F5:3D:A4', replay });
    expect(codeOf(shelly)).toBe('ok');
    expect(replay.entries()).toEqual([
      ['54:48:E6:8F:80:A5', 5_000_000],
      ['B4:35:22:F5:3D:A4', 442],
    ]);
  });
});

const arbObjects: fc.Arbitrary<BthomeInput[]> = fc.array(
  fc.oneof(
    fc.integer({ min: -32768, max: 32767 }).map((raw) => ({ id: 0x02, raw })),
    fc.integer({ min: 0, max: 65535 }).map((raw) => ({ id: 0x03, raw })),
    fc.integer({ min: 0, max: 255 }).map((raw) => ({ id: 0x3a, raw })),
    fc.uint8Array({ maxLength: 10 }).map((b) => ({ id: 0x54, bytes: b })),
  ),
  { maxLength: 6 },
);
const arbMac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map(formatMac);

describe('BTHome encryption properties', () => {
  it('round trips encrypted adverts for any key, MAC, counter and objects', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), arbMac, fc.nat({ max: 0xffff_ffff }), arbObjects, (key, mac, counter, objects) => {
        const enc = encodeBthome(objects, { encrypt: { key, mac, counter } });
        expect(enc.ok).toBe(true);
        if (!enc.ok) return;
        const plain = encodeBthome(objects);
        const dec = decodeBthome(enc.value, { key, mac });
        expect(dec.ok).toBe(true);
        if (!dec.ok || !plain.ok) return;
        expect(dec.value.counter).toBe(counter);
        const reencoded = encodeBthome(dec.value.objects);
        expect(reencoded.ok && toHex(reencoded.value)).toBe(toHex(plain.value));
      }),
      { numRuns: 300 },
    );
  });

  it('every single flipped bit of the spec example is refused', () => {
    const sealed = bytes('41a47266c95f730011223378237214');
    const accepted: number[] = [];
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const tampered = sealed.slice();
      tampered[bit >> 3] = (tampered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      if (decodeBthome(tampered, opts()).ok) accepted.push(bit);
    }
    expect(accepted).toEqual([]);
  });

  it('a flipped bit in any encrypted advert is refused (never decodes to other data)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        arbMac,
        fc.nat({ max: 0xffff_ffff }),
        arbObjects,
        fc.nat(),
        (key, mac, counter, objects, pick) => {
          const enc = encodeBthome(objects, { encrypt: { key, mac, counter } });
          if (!enc.ok) return;
          const bit = pick % (enc.value.length * 8);
          const tampered = enc.value.slice();
          tampered[bit >> 3] = (tampered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
          expect(decodeBthome(tampered, { key, mac }).ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
