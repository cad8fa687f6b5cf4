import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allowed, covers, type Identity, soTopic } from './acl.ts';

const P = 'ferry';
const dev: Identity = { kind: 'device', id: 'th-01', namespace: 'home' };
const gw: Identity = { kind: 'gateway', id: 'gw-1', boards: ['b-1', 'b-2'] };
const worker: Identity = { kind: 'worker', id: 'ferry-worker' };

describe('MQTT ACL policy', () => {
  it('grants a device its own spaces and nothing of anyone else', () => {
    for (const t of ['ferry/up/th-01/msg', 'ferry/up/th-01/tel/x', 'ferry/fn/th-01/call']) expect(allowed(dev, 'publish', t, P)).toBe(true);
    for (const f of ['ferry/fn/th-01/res', 'ferry/dn/th-01/#', 'ferry/dn/th-01/+']) expect(allowed(dev, 'subscribe', f, P)).toBe(true);
    for (const t of ['ferry/up/th-02/msg', 'ferry/fn/th-02/call', 'ferry/fn/th-01/res', 'ferry/ns/home/state/k', 'ferry/dn/th-01/x', 'ferry/gw/th-01/status'])
      expect(allowed(dev, 'publish', t, P)).toBe(false);
    for (const f of [
      '#',
      'ferry/#',
      'ferry/up/#',
      'ferry/fn/+/res',
      'ferry/dn/th-02/#',
      'ferry/ns/other/state/#',
      'ferry/ns/+/state/#',
      // Its own namespace's name too: another owner's namespace may have it (its state comes on dn/th-01).
      'ferry/ns/home/state/#',
      'ferry/ns/home/state/temp.x',
      'ferry/fn/th-01/call',
      '+/dn/th-01/#',
    ])
      expect(allowed(dev, 'subscribe', f, P)).toBe(false);
    expect(allowed(dev, 'publish', 'ferry/up/+/msg', P)).toBe(false);
    expect(allowed(dev, 'subscribe', '', P)).toBe(false);
  });
  it('grants a gateway its own spaces and its attached boards', () => {
    for (const t of ['ferry/up/gw-1/tel/d', 'ferry/up/b-1/msg', 'ferry/gw/gw-1/status', 'ferry/ctl/gw-1/res', 'ferry/fn/gw-1/call'])
      expect(allowed(gw, 'publish', t, P)).toBe(true);
    for (const f of ['ferry/ctl/gw-1/req', 'ferry/fn/gw-1/res', 'ferry/dn/gw-1/#', 'ferry/dn/b-2/#']) expect(allowed(gw, 'subscribe', f, P)).toBe(true);
    for (const t of ['ferry/up/b-3/msg', 'ferry/gw/gw-2/status', 'ferry/ctl/gw-1/req', 'ferry/ns/home/state/x', 'ferry/fn/b-1/res'])
      expect(allowed(gw, 'publish', t, P)).toBe(false);
    for (const f of ['ferry/ctl/+/req', 'ferry/dn/+/#', 'ferry/dn/b-3/#', 'ferry/up/#']) expect(allowed(gw, 'subscribe', f, P)).toBe(false);
  });
  it('grants a worker everything under the prefix, shared subscriptions included, and nothing outside', () => {
    expect(allowed(worker, 'subscribe', 'ferry/#', P)).toBe(true);
    expect(allowed(worker, 'subscribe', '$share/ferry/ferry/up/#', P)).toBe(true);
    expect(allowed(worker, 'publish', 'ferry/ns/home/state/k', P)).toBe(true);
    expect(allowed(worker, 'subscribe', '#', P)).toBe(false);
    expect(allowed(worker, 'publish', 'other/x', P)).toBe(false);
    expect(allowed(worker, 'subscribe', '$share/broken', P)).toBe(false);
  });
  it('covers: # covers its parent level, + one level, nothing covers a wider filter', () => {
    expect(covers(['a', '#'], ['a'])).toBe(true);
    expect(covers(['a', '+'], ['a', '+'])).toBe(true);
    expect(covers(['a', '+'], ['a', '#'])).toBe(false);
    expect(covers(['a', 'b'], ['a', '+'])).toBe(false);
    expect(covers(['a', 'b'], ['a', 'b', 'c'])).toBe(false);
  });

  // Another device's private topics, and filters that match one of them (some levels made wildcards).
  const id = fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/);
  const privateTopic = (x: string): fc.Arbitrary<{ access: 'publish' | 'subscribe'; topic: string }> =>
    fc.oneof(
      fc.constant({ access: 'publish' as const, topic: `${P}/up/${x}/msg` }),
      fc.constant({ access: 'publish' as const, topic: `${P}/fn/${x}/call` }),
      fc.constant({ access: 'subscribe' as const, topic: `${P}/fn/${x}/res` }),
      fc.constant({ access: 'subscribe' as const, topic: `${P}/dn/${x}/reply` }),
      fc.constant({ access: 'subscribe' as const, topic: `${P}/up/${x}/msg` }),
      fc.constant({ access: 'subscribe' as const, topic: `${P}/ctl/${x}/req` }),
    );
  const widen = (topic: string, mask: readonly number[]): string => {
    const levels = topic.split('/');
    const out: string[] = [];
    for (const [i, l] of levels.entries()) {
      const m = mask[i] ?? 0;
      if (m === 2) {
        out.push('#');
        break;
      }
      out.push(m === 1 ? '+' : l);
    }
    return out.join('/');
  };
  it('property: no device or gateway can publish on or subscribe to another identity’s private topics, wildcards included', () => {
    fc.assert(
      fc.property(
        id,
        id,
        fc.array(id, { maxLength: 3 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
        (me, other, boards, asGateway, mask) => {
          fc.pre(me !== other && !boards.includes(other));
          const who: Identity = asGateway ? { kind: 'gateway', id: me, boards } : { kind: 'device', id: me, namespace: 'home' };
          fc.assert(
            fc.property(privateTopic(other), ({ access, topic }) => {
              expect(allowed(who, access, topic, P)).toBe(false);
              if (access === 'subscribe') expect(allowed(who, 'subscribe', widen(topic, mask), P)).toBe(false);
            }),
            { numRuns: 6 },
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("service objects' stream topics (soTopic)", () => {
  const id = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[/+#]/.test(s));
  it('reads back exactly the ids it was given, out and in', () => {
    fc.assert(
      fc.property(id, id, (so, stream) => {
        expect(soTopic(P, `${P}/so/${so}/${stream}`)).toEqual({ so, stream, dir: 'out' });
        expect(soTopic(P, `${P}/so/${so}/${stream}/in`)).toEqual({ so, stream, dir: 'in' });
      }),
    );
  });
  it('never throws, and answers only a topic it rebuilds exactly, with no wildcard or empty level', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fc.constantFrom('ferry', 'so', 'x', '+', '#', '', 'in'), { maxLength: 6 }).map((l) => l.join('/')),
        ),
        (t) => {
          const r = soTopic(P, t);
          if (r === undefined) return;
          expect(`${P}/so/${r.so}/${r.stream}${r.dir === 'in' ? '/in' : ''}`).toBe(t);
          for (const l of [r.so, r.stream]) expect(l === '' || /[/+#]/.test(l)).toBe(false);
        },
      ),
    );
  });
  it('refuses wildcards, extra levels and other prefixes', () => {
    for (const t of ['ferry/so/+/s', 'ferry/so/a/#', 'ferry/so/a', 'ferry/so/a/s/out', 'ferry/so/a/s/in/x', 'other/so/a/s', 'ferry/so//s', 'ferry/so/a/+/in'])
      expect([t, soTopic(P, t)]).toEqual([t, undefined]);
  });
});
