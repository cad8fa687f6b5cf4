/** The parent's record of a pool worker's caches (pool-protocol.ts): what a call sends, and what the worker forgets. */
import { describe, expect, it } from 'vitest';
import { SortedState } from './namespaces/sorted-state.ts';
import { WorkerCaches } from './pool-protocol.ts';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('WorkerCaches', () => {
  it('a module is sent once; least recently used modules past the count or the bytes are forgotten', () => {
    const c = new WorkerCaches({ modules: 2, moduleBytes: 100 });
    expect(c.needsModule('h1', 10)).toBe(true);
    expect(c.needsModule('h1', 10)).toBe(false);
    expect(c.needsModule('h2', 10)).toBe(true);
    expect(c.needsModule('h1', 10)).toBe(false); // h1 now most recent
    expect(c.needsModule('h3', 10)).toBe(true);
    expect(c.takeForget()).toEqual({ modules: ['h2'], spaces: [] });
    expect(c.takeForget()).toBeUndefined();
    expect(c.needsModule('h4', 95)).toBe(true); // over the bytes: everything older goes
    expect(c.takeForget()?.modules).toEqual(['h1', 'h3']);
  });

  it('a namespace is sent whole once, then only what changed; writes the worker committed are not sent back', () => {
    const c = new WorkerCaches();
    const s = new SortedState(100, [
      ['a', b('1')],
      ['b', b('2')],
    ]);
    expect(c.stateFor('o\0n', s)).toEqual({
      full: true,
      set: [
        ['a', b('1')],
        ['b', b('2')],
      ],
      del: [],
    });
    expect(c.stateFor('o\0n', s)).toEqual({ full: false, set: [], del: [] });
    const written = b('3');
    s.set('c', written); // the call's write, committed by the parent ...
    c.committed('o\0n', [['c', written]]); // ... and already in the worker's copy
    expect(c.stateFor('o\0n', s)).toEqual({ full: false, set: [], del: [] });
    s.set('a', b('9')); // someone else wrote (ingest projection, another worker's call)
    expect(c.stateFor('o\0n', s)).toEqual({ full: false, set: [['a', b('9')]], del: [] });
  });

  it('keys gone from the namespace are deleted in the worker; a dropped namespace is sent whole again', () => {
    const c = new WorkerCaches();
    c.stateFor(
      'o\0n',
      new SortedState(100, [
        ['a', b('1')],
        ['b', b('2')],
      ]),
    );
    const refused = b('x');
    c.committed('o\0n', [['c', refused]]); // the worker applied it; the parent's store refused it
    const now = new SortedState(100, [['a', b('1')]]);
    expect([...c.stateFor('o\0n', now).del].sort()).toEqual(['b', 'c']);
    c.drop('o\0n');
    expect(c.takeForget()).toEqual({ modules: [], spaces: ['o\0n'] });
    expect(c.stateFor('o\0n', now).full).toBe(true);
  });

  it('least recently used namespaces past the limit are forgotten', () => {
    const c = new WorkerCaches({ spaces: 2 });
    for (const n of ['x', 'y', 'x', 'z']) c.stateFor(n, new SortedState(10));
    expect(c.takeForget()).toEqual({ modules: [], spaces: ['y'] });
  });
});
