/** The metrics' label cap: the first streams get their own labels, later ones share one pair, stably. */
import { describe, expect, it } from 'vitest';
import { StreamLabels } from './metrics.ts';

describe('StreamLabels', () => {
  it('labels the first `cap` streams on their own and every later one as _other, the same way every time', () => {
    const l = new StreamLabels(2);
    expect(l.of('a', 's')).toEqual({ so: 'a', stream: 's' });
    expect(l.of('b', 's')).toEqual({ so: 'b', stream: 's' });
    expect(l.of('c', 's')).toEqual({ so: '_other', stream: '_other' });
    expect(l.of('a', 's')).toEqual({ so: 'a', stream: 's' });
    expect(l.of('c', 's')).toEqual({ so: '_other', stream: '_other' });
  });
});
