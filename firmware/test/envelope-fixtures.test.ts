/** The AssemblyScript envelope builder produces the same bytes as the TypeScript encoder. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, type Claims, type Json } from '@ferry/message';
import { validFixtures } from '@ferry/message/fixtures';
import { hmacKey } from '@ferry/message/node';
import { harness } from '@ferry/test-kit/envelope-harness';

describe('AssemblyScript envelope vs fixtures', async () => {
  for (const f of validFixtures()) {
    const key = Buffer.from(f.keys[f.header.kid]!, 'hex');
    const build = await harness(key);
    it(`${f.name}: byte-identical token`, () => {
      expect(build(f.header, f.claims)).toBe(f.token);
    });
  }
});

describe('AssemblyScript envelope vs TypeScript encoder on random claims', async () => {
  const key = new Uint8Array(32).fill(3);
  const build = await harness(key);
  const ts = hmacKey(key);
  // Numbers as the firmware writes them: integers within ±2^53, or hundredths (fixed-point).
  const num = fc.oneof(
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.integer({ min: -1e9, max: 1e9 }).map((c) => c / 100),
  );
  const leaf: fc.Arbitrary<Json> = fc.oneof(fc.constant(null), fc.boolean(), num, fc.string({ unit: 'binary', maxLength: 12 }));
  const tree = fc.letrec<{ v: Json }>((t) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(t('v'), { maxLength: 4 }),
      fc.dictionary(
        fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'),
        t('v'),
        { maxKeys: 4 },
      ),
    ),
  })).v;
  it('matches for any claims tree (escapes, unicode, nesting, fixed-point)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ maxLength: 6 }).filter((k) => !['iss', 'iat', '__proto__'].includes(k)),
          tree,
          { maxKeys: 5 },
        ),
        fc.nat(),
        (extra, sq) => {
          const claims = { iss: 'dev-1', iat: 1767225600, ...extra } as Claims;
          const header = { kid: 'dev-1', ep: 1, sq };
          const t = encode({ header, claims }, ts);
          if (!t.ok) return; // over the size limit: the builder refuses too (tested below)
          expect(build(header, claims)).toBe(t.value);
        },
      ),
      { numRuns: 300 },
    );
  });
  it('refuses a body that does not fit instead of overflowing', () => {
    expect(() => build({ kid: 'dev-1', ep: 1, sq: 1 }, { iss: 'dev-1', iat: 1, blob: 'x'.repeat(1500) })).toThrow(/status -3/);
  });
});
