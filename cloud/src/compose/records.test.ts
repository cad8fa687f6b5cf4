/** Service-object records: the store contract in memory, and the grant parser (property tests). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { soRecordsContract } from './records.case.ts';
import { grantKey, grantOf, MemorySoRecords, parseGrant } from './records.ts';

soRecordsContract('memory', () => new MemorySoRecords());

const name = fc.oneof(fc.constant('*'), fc.stringMatching(/^[A-Za-z0-9_$][A-Za-z0-9_$-]{0,20}$/));
const who = fc.stringMatching(/^[\x21-\x7e]{1,40}$/);
const grant = fc.record({ stream: name, to: fc.oneof(fc.record({ owner: who }), fc.record({ token: who })) });

describe('parseGrant', () => {
  it('takes every well-formed grant as it is, and its stored form gives it back', () => {
    fc.assert(
      fc.property(grant, (g) => {
        expect(parseGrant(g)).toEqual(g);
        expect(grantOf(grantKey(g))).toEqual(g);
      }),
    );
  });

  it('never throws on any JSON, and answers a grant or the reason', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = parseGrant(v);
        if (typeof r !== 'string') expect(parseGrant(r)).toEqual(r);
      }),
    );
  });

  it('refuses extra fields, two principals, empty names and non-strings', () => {
    for (const bad of [
      { stream: 't', to: { owner: 'bob' }, extra: 1 },
      { stream: 't', to: { owner: 'bob', token: 'x' } },
      { stream: '', to: { owner: 'bob' } },
      { stream: 't', to: { owner: '' } },
      { stream: 't', to: { owner: 7 } },
      { stream: 't/../x', to: { owner: 'bob' } },
      [{ stream: 't', to: { owner: 'bob' } }],
    ])
      expect(typeof parseGrant(bad)).toBe('string');
  });
});
