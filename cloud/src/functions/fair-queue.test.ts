/** The pool's fair queue on its own (fair-queue.ts): caps, who is served next, the CPU budget; an injected clock. */
import { describe, expect, it } from 'vitest';
import type { FnResult } from '@ferry/wasm-host';
import { FairQueue, type FairnessOptions } from './fair-queue.ts';

interface J {
  owner: string;
  namespace: string;
  n: number;
}

function queue(opts: FairnessOptions = {}) {
  let now = 0;
  const q = new FairQueue<J>({ now: () => now, ...opts });
  let n = 0;
  const push = (owner: string, namespace = `ns${n}`): FnResult<void> => q.push({ owner, namespace, n: n++ });
  const running = new Set<string>();
  /** Takes what may start now, marking namespaces running. */
  const take = () => {
    const t = q.take((j) => running.has(`${j.owner}/${j.namespace}`));
    if (t !== undefined) running.add(`${t.job.owner}/${t.job.namespace}`);
    return t;
  };
  const end = (j: J, ms = 1) => {
    running.delete(`${j.owner}/${j.namespace}`);
    q.finished(j.owner, ms);
  };
  return {
    q,
    push,
    take,
    end,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('FairQueue', () => {
  it('an owner runs at most maxInFlight calls; the owner with the fewest running goes first, not the oldest call', () => {
    const f = queue({ maxInFlight: 2 });
    for (let i = 0; i < 5; i++) f.push('a');
    const a1 = f.take()!;
    const a2 = f.take()!;
    expect([a1.job.n, a2.job.n]).toEqual([0, 1]);
    expect(f.take()).toBeUndefined(); // a is at its cap
    f.push('b');
    f.push('b');
    const b1 = f.take()!;
    expect(b1.job.owner).toBe('b');
    expect(b1.behind).toBe(2); // a's two running calls, nothing more
    f.end(a1.job);
    // a has 1 running, b has 1: the tie goes to the one served least recently (a was served before b).
    expect(f.take()!.job.owner).toBe('a');
    f.end(a2.job);
    expect(f.take()!.job.owner).toBe('b');
    expect(f.q.size).toBe(2);
  });

  it('calls on one namespace start in order, one at a time; other namespaces of the owner are not held up', () => {
    const f = queue({ maxInFlight: 4 });
    f.push('a', 'home');
    f.push('a', 'home');
    f.push('a', 'garage');
    const first = f.take()!;
    expect(first.job.n).toBe(0);
    expect(f.take()!.job.namespace).toBe('garage');
    expect(f.take()).toBeUndefined();
    f.end(first.job);
    expect(f.take()!.job.n).toBe(1);
  });

  it("an owner's queue is bounded (FERRY_FN_BUSY); other owners still queue", () => {
    const f = queue({ maxQueued: 2 });
    expect([f.push('a'), f.push('a'), f.push('a')].map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'ok', 'FERRY_FN_BUSY']);
    expect(f.push('b').ok).toBe(true);
  });

  it('the CPU budget: used up, calls and queued calls are refused (FERRY_FN_RATE_LIMITED) until it refills', () => {
    const f = queue({ cpuMs: 100, windowMs: 1000 });
    f.push('a');
    f.push('a');
    f.push('a');
    const t = f.take()!;
    f.end(t.job, 150); // 50 ms in debt
    expect(f.q.remainingMs('a')).toBe(-50);
    const refused = f.push('a');
    expect(refused.ok ? '' : refused.error.message).toMatch(/CPU budget of 100 ms per 1000 ms; retry in 510 ms/);
    expect(f.q.dropOverBudget().map((d) => [d.job.n, d.result.ok ? 'ok' : d.result.error.code])).toEqual([
      [1, 'FERRY_FN_RATE_LIMITED'],
      [2, 'FERRY_FN_RATE_LIMITED'],
    ]);
    expect(f.q.size).toBe(0);
    expect(f.push('b').ok).toBe(true);
    f.advance(510); // refilled 51 ms: 1 ms left
    expect(f.push('a').ok).toBe(true);
    f.advance(10_000);
    expect(f.q.remainingMs('a')).toBe(100); // never more than the budget
  });

  it('an owner whose call ran slow holds at most workers - 1 for a window; light owners may use every worker', () => {
    const f = queue({ maxInFlight: 2, workers: 2, slowMs: 100, windowMs: 1000, cpuMs: 1e6 });
    for (let i = 0; i < 4; i++) f.push('a');
    const a1 = f.take()!;
    expect(f.take()?.job.owner).toBe('a'); // quick so far: both workers
    f.end(a1.job, 100); // slow
    expect(f.q.capOf('a')).toBe(1);
    expect(f.take()).toBeUndefined(); // a still has one running
    f.advance(1000);
    expect(f.q.capOf('a')).toBe(2);
    expect(f.take()?.job.owner).toBe('a');
  });

  it('so does an owner who used more than half its budget, until it refilled past half', () => {
    const f = queue({ maxInFlight: 2, workers: 3, cpuMs: 100, windowMs: 1000 });
    for (let i = 0; i < 4; i++) f.push('a');
    f.end(f.take()!.job, 51);
    expect(f.q.capOf('a')).toBe(2); // three workers: a may still hold two
    const g = queue({ maxInFlight: 2, workers: 2, cpuMs: 100, windowMs: 1000 });
    for (let i = 0; i < 4; i++) g.push('a');
    g.end(g.take()!.job, 51);
    expect(g.q.capOf('a')).toBe(1);
    g.advance(20); // +2 ms: 51 left
    expect(g.q.capOf('a')).toBe(2);
  });

  it('drain empties every queue', () => {
    const f = queue();
    f.push('a');
    f.push('b');
    expect(f.q.drain().map((j) => j.owner)).toEqual(['a', 'b']);
    expect(f.q.size).toBe(0);
    expect(f.take()).toBeUndefined();
  });
});
