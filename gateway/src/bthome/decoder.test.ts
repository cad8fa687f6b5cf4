/** @module BTHome v2 decoder and encoder: the reference parser's plain vectors, edge cases, and fast-check properties (never throws, round trip). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBthome, parseBthomeObjects } from './decoder.ts';
import { BTHOME_OBJECTS, rawRange } from './objects.ts';
import { encodeBthome, encodeBthomeAdvertisingData, type BthomeInput } from './encoder.ts';
import { parseHex, toHex } from '../decoders/hex.ts';
import { PLAIN_VECTORS, SPEC_FORMAT_EXAMPLE_ADV, simplify } from './fixtures/vectors.ts';

const bytes = (hex: string): Uint8Array => {
  const r = parseHex(hex);
  if (!r.ok) throw r.error;
  return r.value;
};

describe('BTHome v2 plain adverts: bthome-ble test_parser_v2.py vectors', () => {
  for (const v of PLAIN_VECTORS) {
    it(`${v.test}: ${v.hex}`, () => {
      const r = decodeBthome(bytes(v.hex));
      if (v.error !== undefined) {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error.code).toBe(v.error);
      } else {
        expect(r.ok && simplify(r.value.objects)).toEqual(v.values);
        expect(r.ok && r.value.unknownObject?.id).toBe(v.unknownObject);
      }
    });
  }

  it('reads the device information byte: version 2, trigger-based flag, MAC in payload', () => {
    const sleepy = decodeBthome(bytes('4404138a01'));
    expect(sleepy.ok && [sleepy.value.version, sleepy.value.encrypted, sleepy.value.triggerBased, sleepy.value.counter]).toEqual([2, false, true, null]);
    const withMac = decodeBthome(bytes('42b2188d38c1a404138a01'));
    expect(withMac.ok && withMac.value.mac).toBe('A4:C1:38:8D:18:B2');
    expect(withMac.ok && withMac.value.triggerBased).toBe(false);
  });

  // Regression: an object id newer than our table made the WHOLE advert fail, losing the readings before it.
  it('an unknown object id costs only the objects after it, and says where decoding stopped', () => {
    const r = decodeBthome(bytes('4002ca0903bf13fe0102'));
    expect(r.ok && simplify(r.value.objects)).toEqual([
      [0x02, 25.06],
      [0x03, 50.55],
    ]);
    expect(r.ok && r.value.unknownObject).toEqual({ id: 0xfe, at: 6 });
    expect(decodeBthome(bytes('4002ca09')).ok && decodeBthome(bytes('4002ca09'))).toMatchObject({ value: { unknownObject: null } });
  });

  it('decodes a command object: opcode event, argument bytes; unknown opcodes are kept by number', () => {
    const r = decodeBthome(bytes('403be203aabb'));
    expect(r.ok && r.value.objects).toEqual([{ id: 0x3b, name: 'command', kind: 'command', raw: 3, event: 'step_up', args: Uint8Array.from([0xaa, 0xbb]) }]);
    const unknownOp = decodeBthome(bytes('403b0009'));
    expect(unknownOp.ok && unknownOp.value.objects[0]).toMatchObject({ kind: 'command', raw: 9, event: null });
    expect(decodeBthome(bytes('403b0301aa')).ok || decodeBthome(bytes('403b0301aa'))).toMatchObject({ ok: false, error: { code: 'FERRY_DECODE_TRUNCATED' } });
  });

  it('names the version in the error message', () => {
    const version = decodeBthome(bytes('e102000c0404138a01'));
    expect(!version.ok && version.error.message).toMatch(/version 7/);
  });

  it('decodes out-of-order adverts only when allowUnordered is set (reference fixtures that only warn)', () => {
    const dv = decodeBthome(bytes('4000010b0000004a0d0901330ce90c'), { allowUnordered: true });
    expect(dv.ok && simplify(dv.value.objects)).toEqual([
      [0x00, 1],
      [0x0b, 0],
      [0x4a, 231.7],
      [0x01, 51],
      [0x0c, 3.305],
    ]);
    const triple = decodeBthome(bytes('4002ca0902cf0902cf0803b71803b717015d'), { allowUnordered: true });
    expect(triple.ok && simplify(triple.value.objects)).toEqual([
      [0x02, 25.06],
      [0x02, 25.11],
      [0x02, 22.55],
      [0x03, 63.27],
      [0x03, 60.71],
      [0x01, 93],
    ]);
  });

  it('keeps units, raw integers and dimmer steps', () => {
    const r = decodeBthome(bytes('4002ca093c0103'));
    expect(r.ok && r.value.objects).toEqual([
      { id: 0x02, name: 'temperature', kind: 'number', raw: 2506, value: 25.06, unit: '°C' },
      { id: 0x3c, name: 'dimmer', kind: 'dimmer', raw: 1, event: 'rotate_left', steps: 3 },
    ]);
  });

  it('decodes the device information objects of bthome.io/format (0xF0..0xF2)', () => {
    const r = decodeBthome(bytes('40f00100f100010204f2000106'));
    expect(r.ok && simplify(r.value.objects)).toEqual([
      [0xf0, 1],
      [0xf1, '4.2.1.0'],
      [0xf2, '6.1.0'],
    ]);
  });

  it('skips a leading D2 FC UUID and refuses empty or truncated input', () => {
    expect(decodeBthome(bytes('d2fc4002ca09')).ok).toBe(true);
    const codes = ['', 'd2fc', '4053', '40530548', '42b2188d'].map((h) => {
      const r = decodeBthome(bytes(h));
      return r.ok ? 'ok' : r.error.code;
    });
    expect(codes).toEqual(Array(5).fill('FERRY_DECODE_TRUNCATED'));
  });

  it('accepts an empty object list and a zero-length text object', () => {
    const r = decodeBthome(bytes('405300'));
    expect(r.ok && r.value.objects).toEqual([{ id: 0x53, name: 'text', kind: 'text', text: '' }]);
    expect(parseBthomeObjects(new Uint8Array(0))).toEqual({ ok: true, value: { objects: [], unknownObject: null } });
  });
});

describe('BTHome encoder', () => {
  it('reproduces the bthome.io/format advertising payload example byte for byte', () => {
    const sd = encodeBthome([
      { id: 0x02, value: 25 },
      { id: 0x03, value: 50.55 },
    ]);
    expect(sd.ok && toHex(sd.value)).toBe('4002c40903bf13');
    const adv = sd.ok ? encodeBthomeAdvertisingData(sd.value, { name: 'DIY-sensor' }) : sd;
    expect(adv.ok && toHex(adv.value)).toBe(SPEC_FORMAT_EXAMPLE_ADV);
  });

  it('sorts objects by id (stable), as the format requires', () => {
    const r = encodeBthome([
      { id: 0x03, raw: 1 },
      { id: 0x02, raw: 2 },
      { id: 0x02, raw: 3 },
    ]);
    expect(r.ok && toHex(r.value)).toBe('40020200020300030100');
  });

  it('refuses values that do not fit, unknown ids, and oversized adverts', () => {
    const codes = [
      encodeBthome([{ id: 0x01, raw: 256 }]),
      encodeBthome([{ id: 0x02, value: 400 }]), // 40000 > sint16
      encodeBthome([{ id: 0x02, raw: 1.5 }]),
      encodeBthome([{ id: 0x53, text: 'x'.repeat(256) }]),
      encodeBthome([{ id: 0x53, raw: 1 }]),
      encodeBthome([{ id: 0x3c, raw: 1, steps: 300 }]),
      encodeBthome([{ id: 0xfe, raw: 0 }]),
      encodeBthomeAdvertisingData(new Uint8Array(30)),
    ].map((r) => (r.ok ? 'ok' : r.error.code));
    expect(codes).toEqual([...Array(6).fill('FERRY_DECODE_OUT_OF_RANGE'), 'FERRY_DECODE_UNKNOWN_OBJECT', 'FERRY_DECODE_OUT_OF_RANGE']);
  });
});

/** Arbitrary valid encoder input for one known object id. */
const arbInput: fc.Arbitrary<BthomeInput> = fc.constantFrom(...BTHOME_OBJECTS.values()).chain((o): fc.Arbitrary<BthomeInput> => {
  if (o.format === 'text') return fc.string({ unit: 'grapheme', maxLength: 20 }).map((text) => ({ id: o.id, text }));
  if (o.format === 'raw') return fc.uint8Array({ maxLength: 20 }).map((b) => ({ id: o.id, bytes: b }));
  const { min, max } = rawRange(o);
  if (o.format === 'dimmer') return fc.record({ id: fc.constant(o.id), raw: fc.integer({ min, max }), steps: fc.integer({ min: 0, max: 255 }) });
  if (o.format === 'command') return fc.record({ id: fc.constant(o.id), raw: fc.integer({ min, max }), args: fc.uint8Array({ maxLength: 31 }) });
  return fc.integer({ min, max }).map((raw) => ({ id: o.id, raw }));
});

describe('BTHome properties', () => {
  it('never throws on arbitrary bytes, with or without a key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }), { nil: undefined }),
        fc.boolean(),
        (data, key, loose) => {
          const r = decodeBthome(data, { key, mac: '11:22:33:44:55:66', allowUnordered: loose });
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on an advert-shaped prefix followed by arbitrary object bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x40, 0x44), fc.uint8Array({ maxLength: 40 }), (info, objs) => {
        const r = decodeBthome(Uint8Array.from([info, ...objs]), { allowUnordered: true });
        if (!r.ok) expect(r.error.code).toMatch(/^FERRY_DECODE_(UNKNOWN_OBJECT|TRUNCATED|BAD_TEXT)$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('round trips: decode(encode(objects)) gives the objects back (sorted), and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.array(arbInput, { maxLength: 8 }), fc.boolean(), (inputs, trigger) => {
        const enc = encodeBthome(inputs, { triggerBased: trigger });
        expect(enc.ok).toBe(true);
        if (!enc.ok) return;
        const dec = decodeBthome(enc.value);
        expect(dec.ok).toBe(true);
        if (!dec.ok) return;
        expect(dec.value.triggerBased).toBe(trigger);
        const sorted = [...inputs].sort((a, b) => a.id - b.id);
        expect(dec.value.objects.map((o) => o.id)).toEqual(sorted.map((i) => i.id));
        const again = encodeBthome(dec.value.objects, { triggerBased: trigger });
        expect(again.ok && toHex(again.value)).toBe(toHex(enc.value));
      }),
      { numRuns: 500 },
    );
  });

  it('scaled values survive value -> raw -> value for every numeric object', () => {
    const numeric = [...BTHOME_OBJECTS.values()].filter((o) => o.format === 'uint' || o.format === 'sint');
    fc.assert(
      fc.property(
        fc.constantFrom(...numeric).chain((o) => fc.tuple(fc.constant(o), fc.integer(rawRange(o)))),
        ([o, raw]) => {
          const first = decodeBthome(encodeOk([{ id: o.id, raw }]));
          const obj = first.ok ? first.value.objects[0] : undefined;
          expect(obj?.kind).toBe('number');
          if (obj?.kind !== 'number') return;
          expect(toHex(encodeOk([{ id: o.id, value: obj.value }]))).toBe(toHex(encodeOk([{ id: o.id, raw }])));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

function encodeOk(inputs: readonly BthomeInput[]): Uint8Array {
  const r = encodeBthome(inputs);
  if (!r.ok) throw r.error;
  return r.value;
}
