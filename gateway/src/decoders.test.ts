/** @module decode(kind, bytes, opts): dispatch, option pass-through and the errors `ferry decode` will print. */
import { describe, expect, it } from 'vitest';
import { decode, DECODER_KINDS, hexReplacer, isDecoderKind, parseHex, ReplayGuard, type DecodeResult } from './decoders.ts';

/** What `ferry decode <kind> <hex> [--key <hex> --mac <addr>]` will do. */
function cli(kind: string, hex: string, key?: string, mac?: string, replay?: ReplayGuard): DecodeResult<unknown> {
  const bytes = parseHex(hex);
  if (!bytes.ok) return bytes;
  let k: Uint8Array | undefined;
  if (key !== undefined) {
    const parsed = parseHex(key);
    if (!parsed.ok) return parsed;
    k = parsed.value;
  }
  return decode(kind, bytes.value, { key: k, mac, replay });
}
const codeOf = (r: DecodeResult<unknown>): string => (r.ok ? 'ok' : r.error.code);

describe('decode(kind, bytes, opts)', () => {
  it('dispatches each kind to its decoder', () => {
    const bthome = decode('bthome', Uint8Array.from([0x40, 0x02, 0xca, 0x09]));
    expect(bthome.ok && bthome.value.objects[0]?.kind === 'number' && bthome.value.objects[0].value).toBe(25.06);
    const pms = cli('pms5003', '424d001c00050008000900050008000903f6011a002d000300010000970002b3');
    expect(pms.ok && pms.value).toMatchObject({ pm2_5_atm: 8, particles_0_3um: 1014 });
    const co2 = decode('mhz19', Uint8Array.from([0xff, 0x86, 0x02, 0x20, 0, 0, 0, 0, 0x58]));
    expect(co2.ok && co2.value.type === 'co2' && co2.value.co2Ppm).toBe(544);
  });

  it('passes key, MAC and replay guard through for encrypted BTHome', () => {
    const replay = new ReplayGuard();
    const args = ['bthome', 'd2fc41a47266c95f730011223378237214', '231d39c1d7cc1ab1aee224cd096db932', '54:48:E6:8F:80:A5'] as const;
    const first = cli(...args, replay);
    expect(first.ok && JSON.parse(JSON.stringify(first.value))).toMatchObject({ encrypted: true, counter: 0x33221100 });
    expect(codeOf(cli(...args, replay))).toBe('FERRY_DECODE_REPLAYED');
    expect(codeOf(cli('bthome', args[1], undefined, args[3]))).toBe('FERRY_DECODE_KEY_REQUIRED');
  });

  it('refuses unknown kinds and bad hex with typed errors', () => {
    const unknown = decode('sds011', new Uint8Array(0));
    expect([codeOf(unknown), !unknown.ok && unknown.error.num]).toEqual(['FERRY_DECODE_UNKNOWN_KIND', 5008]);
    expect(codeOf(cli('mhz19', 'ff8'))).toBe('FERRY_DECODE_HEX_ODD_LENGTH');
    expect(codeOf(cli('bthome', '41a4', 'zz'))).toBe('FERRY_DECODE_HEX_INVALID_CHAR');
    expect([isDecoderKind('pms5003'), isDecoderKind('toString'), DECODER_KINDS]).toEqual([true, false, ['bthome', 'pms5003', 'mhz19']]);
  });

  it('prints byte fields as hex through hexReplacer', () => {
    const raw = decode('bthome', Uint8Array.from([0x40, 0x54, 0x02, 0xab, 0xcd]));
    expect(raw.ok && JSON.stringify(raw.value.objects, hexReplacer)).toBe('[{"id":84,"name":"raw","kind":"raw","bytes":"abcd"}]');
  });
});
