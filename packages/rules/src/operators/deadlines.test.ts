/**
 * @module DeadlineQueue against a naive model (a map scanned in full): the same due entries in the same
 * (time, key) order, whatever mix of sets, moves, deletes and pops, including past the rebuild threshold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from './deadlines.ts';

type Op = { set: [string, number] } | { del: string } | { pop: number };

function naivePop(model: Map<string, number>, nowMs: number): { at: number; key: string } | undefined {
  let best: { at: number; key: string } | undefined;
  for (const [key, at] of model) if (at <= nowMs && (best === undefined || at < best.at || (at === best.at && key < best.key))) best = { at, key };
  if (best !== undefined) model.delete(best.key);
  return best;
}

describe('DeadlineQueue', () => {
  it('pops what a full scan would, in the same order', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 50 })).map((set) => ({ set })) },
      { weight: 1, arbitrary: key.map((del) => ({ del })) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 60 }).map((pop) => ({ pop })) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const queue = new DeadlineQueue();
        const model = new Map<string, number>();
        for (const o of ops) {
          if ('set' in o) {
            queue.set(...o.set);
            model.set(...o.set);
          } else if ('del' in o) {
            queue.delete(o.del);
            model.delete(o.del);
          } else {
            for (;;) {
              const got = queue.popDue(o.pop);
              expect(got).toEqual(naivePop(model, o.pop));
              if (got === undefined) break;
            }
          }
          expect(queue.size).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
