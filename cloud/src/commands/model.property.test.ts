/**
 * The lifecycle steps under any interleaving (fast-check): at most one command in flight, a send never goes
 * below an earlier (ep, sq) and repeats one only for the same command sent again, every command ends in
 * exactly one final state, and the target parser refuses anything else with a CommandError only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTarget } from './broadcast.ts';
import { CommandError } from './errors.ts';
import { answer, cancel, claim, emptyQueue, enqueue, sweep, type DeviceQueue, type QueuePolicy, type Step, type CommandRecord } from './model.ts';

const POLICY: QueuePolicy = { depth: 5, overflow: 'drop-oldest-low-priority', visibilityMs: 10, maxAttempts: 3 };
const op = fc.oneof(
  fc.record({
    k: fc.constant('enqueue' as const),
    p: fc.constantFrom('high' as const, 'normal' as const, 'low' as const),
    ttl: fc.integer({ min: 1, max: 100 }),
  }),
  fc.record({ k: fc.constant('claim' as const), ep: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('answer' as const), ok: fc.boolean(), replayed: fc.boolean() }),
  fc.record({ k: fc.constant('cancel' as const) }),
  fc.record({ k: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 30 }) }),
);

describe('command lifecycle steps', () => {
  it('keep their invariants under any sequence of operations', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        let q: DeviceQueue = emptyQueue('d');
        let now = 0;
        let n = 0;
        let last: [number, number, string] | undefined;
        const finals = new Map<string, string>();
        const made = new Set<string>();
        for (const o of ops) {
          let step: Step<unknown>;
          if (o.k === 'enqueue') {
            const id = `c${n++}`;
            const e = enqueue(q, { id, device: 'd', cmd: {}, priority: o.p, source: 't', createdAt: now, expiresAt: now + o.ttl }, POLICY);
            step = e;
            if ('accepted' in e.result) made.add(id);
          } else if (o.k === 'claim') {
            const claimed = claim(q, now, o.ep, POLICY);
            step = claimed;
            const c: CommandRecord | undefined = claimed.result;
            if (c !== undefined) {
              const at: [number, number, string] = [c.ep!, c.sq!, c.id];
              if (last !== undefined) {
                const up = at[0] > last[0] || (at[0] === last[0] && at[1] > last[1]);
                const same = at[0] === last[0] && at[1] === last[1] && at[2] === last[2];
                expect(up || same).toBe(true);
              }
              last = at;
            }
          } else if (o.k === 'answer') {
            const f = q.live.find((r) => r.state === 'sent');
            step = f === undefined ? sweep(q, now, POLICY) : answer(q, f.id, o.ok ? 'acked' : 'rejected', o.replayed ? 'replayed' : 'invalid', now);
          } else if (o.k === 'cancel') {
            const f = q.live[0];
            step = f === undefined ? sweep(q, now, POLICY) : cancel(q, f.id, now);
          } else {
            now += o.dt;
            step = sweep(q, now, POLICY);
          }
          for (const f of step.finished) {
            expect(finals.has(f.id)).toBe(false); // final once
            finals.set(f.id, f.state);
          }
          q = step.next;
          expect(q.live.filter((r) => r.state === 'sent' || r.state === 'delivered').length).toBeLessThanOrEqual(1);
          expect(q.live.length).toBeLessThanOrEqual(POLICY.depth);
          for (const r of q.live) expect(finals.has(r.id)).toBe(false);
        }
        // Every command made is live or final, never both, never gone.
        for (const id of made) expect(q.live.some((r) => r.id === id) !== finals.has(id)).toBe(true);
      }),
    );
  });

  it('parses a broadcast target or refuses it with a CommandError, never anything else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parseTarget(v);
        } catch (e) {
          expect(e).toBeInstanceOf(CommandError);
        }
      }),
    );
    expect(parseTarget({ devices: ['a', 'a', 'b'] })).toEqual({ devices: ['a', 'b'] });
  });
});
