import { describe, expect, it } from 'vitest';
import type { Message } from '@ferry/message';
import type { IngestEvent } from '../ingest/index.ts';
import { placeKey, DEFAULT_PROJECTIONS, Projection, type ProjectionRule } from './projection.ts';

const released = (kid: string, ev: string, d: Record<string, unknown>, iat = 1_767_225_600): IngestEvent => ({
  type: 'message',
  kid,
  stream: `${kid}/${ev}`,
  ep: 1,
  sq: 0,
  at: 0,
  message: { header: { kid, ep: 1, sq: 0 }, claims: { iss: kid, iat, ev, d } } as unknown as Message,
});

function setup(rules: readonly ProjectionRule[], places: Record<string, { namespace: string; owner: string | undefined }>) {
  const published: [string, string][] = [];
  const ownerWrites: [string, string, string, string][] = [];
  const p = new Projection(
    rules,
    {
      placeOf: (kid) => places[kid],
      ownerState: (owner, ns) => ({
        set: (k, v) => {
          ownerWrites.push([owner, ns, k, new TextDecoder().decode(v)]);
          return 0;
        },
      }),
      publish: (topic, value) => {
        published.push([topic, value]);
      },
    },
    'ferry',
  );
  return { p, published, ownerWrites };
}

describe('namespace projection', () => {
  it('the default rule: tel.t -> temp.<kid> = "<t> <iat ms>", retained and, for an owner\'s device, in the owner\'s state', () => {
    const { p, published, ownerWrites } = setup(DEFAULT_PROJECTIONS, {
      'th-01': { namespace: 'flat', owner: 'alice' },
      'th-02': { namespace: 'home', owner: undefined },
    });
    p.apply(released('th-01', 'tel', { t: 21.5 }));
    p.apply(released('th-02', 'tel', { t: 19 }, 1_767_225_601));
    p.apply(released('th-02', 'tel', { t: '19' })); // not a number
    p.apply(released('th-02', 'boot', { t: 1 })); // another event
    p.apply(released('stranger', 'tel', { t: 1 })); // unknown device
    expect(published).toEqual([
      ['ferry/ns/flat/state/temp.th-01', '21.5 1767225600000'],
      ['ferry/ns/home/state/temp.th-02', '19 1767225601000'],
    ]);
    expect(ownerWrites).toEqual([['alice', 'flat', 'temp.th-01', '21.5 1767225600000']]);
    // Kept by owner and namespace: an owner's "flat" is not another owner's (or an unowned device's) "flat".
    expect(p.state.get(placeKey(undefined, 'home'))?.get('temp.th-02')).toBe('19 1767225601000');
    expect(p.state.get(placeKey('alice', 'flat'))?.get('temp.th-01')).toBe('21.5 1767225600000');
    expect([p.state.get('home'), p.state.get(placeKey(undefined, 'flat'))]).toEqual([undefined, undefined]);
  });

  it('other rules: another event and field, a key template, the value alone; several rules on one message', () => {
    const rules: ProjectionRule[] = [
      { event: 'env', field: 'h', key: 'hum.{kid}', form: 'value' },
      { event: 'env', field: 'co2', key: '{field}.{event}.{kid}' },
    ];
    const { p, published } = setup(rules, { s1: { namespace: 'lab', owner: undefined } });
    p.apply(released('s1', 'env', { h: 55, co2: 412 }));
    p.apply(released('s1', 'tel', { t: 20 })); // the default rule is not in the list
    expect(published).toEqual([
      ['ferry/ns/lab/state/hum.s1', '55'],
      ['ferry/ns/lab/state/co2.env.s1', '412 1767225600000'],
    ]);
  });

  it('refuses rules whose keys are not state keys or topic levels', () => {
    const bad: ProjectionRule[] = [
      { event: 'tel', field: 't', key: '' },
      { event: 'tel', field: 't', key: 'a b.{kid}' },
      { event: 'tel', field: 't', key: 'x/{kid}' },
      { event: 'tel', field: 't', key: '#' },
      { event: 'tel', field: 't', key: `${'k'.repeat(40)}.{kid}` },
      { event: '', field: 't', key: 'k' },
      { event: 'tel', field: 't', key: 'k', form: 'csv' as 'value' },
    ];
    for (const r of bad) expect(() => setup([r], {})).toThrow(TypeError);
    expect(() => setup([{ event: 'tel', field: 't', key: `${'k'.repeat(31)}.{kid}` }], {})).not.toThrow();
  });
});
