import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.ts';
import { type Component, type Incident, Supervisor, type SupervisorEvent } from './supervisor.ts';

/** Time moves only when the test says so; sweeps are called by hand (base cannot use the test kit's FakeClock). */
function handClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => 1_000_000 + c.t,
    monotonic: () => c.t,
    setTimeout: () => ({ cancel: () => undefined }),
  };
  return c;
}

function rig(o: { escalateAfter?: number } = {}) {
  const clock = handClock();
  const incidents: Incident[] = [];
  const events: SupervisorEvent[] = [];
  const sup = new Supervisor({
    clock,
    incidents: { record: (i) => incidents.push(i) },
    backoff: { initialMs: 100, maxMs: 400, factor: 2 },
    escalateAfter: o.escalateAfter ?? 3,
    onEvent: (e) => events.push(e),
  });
  return { clock, incidents, events, sup };
}

/** A component that is down until `fixAfter` restarts have been tried (Infinity: never comes back). */
function flaky(name: string, fixAfter: number) {
  const c = { down: false, restarts: 0 };
  const comp: Component = {
    name,
    check: () => (c.down ? 'down' : undefined),
    restart: () => {
      c.restarts++;
      if (c.restarts >= fixAfter) c.down = false;
      else throw new Error(`restart ${c.restarts} failed`);
    },
  };
  return { c, comp };
}

describe('Supervisor', () => {
  it('restarts a failed component at once and records failed, restarted, recovered', async () => {
    const { sup, incidents, events } = rig();
    const { c, comp } = flaky('rule:a', 1);
    sup.add(comp);
    await sup.sweep();
    expect(incidents).toEqual([]);
    c.down = true;
    await sup.sweep();
    expect(c.restarts).toBe(1);
    expect(sup.failing()).toEqual(['rule:a']); // confirmed healthy only at the next check
    await sup.sweep();
    expect(sup.failing()).toEqual([]);
    expect(incidents.map((i) => i.kind)).toEqual(['failed', 'restarted', 'recovered']);
    expect(events).toEqual([]); // one restart fixed it: nothing to escalate
  });

  it('escalates a crash loop: every restart passes the check right after it, yet it fails again before the next sweep', async () => {
    const { sup, incidents, events, clock } = rig({ escalateAfter: 3 });
    let down = true;
    sup.add({
      name: 'rule:loop',
      check: () => (down ? 'FERRY_RULES_JOB_FAILED' : undefined),
      restart: () => {
        down = false;
      },
    });
    for (let i = 0; i < 6; i++) {
      await sup.sweep();
      down = true; // its bad input is still there: it fails again at once
      clock.t += 400;
    }
    expect(incidents.map((i) => i.kind)).toEqual(['failed', 'restarted', 'restarted', 'restarted', 'escalated', 'restarted', 'restarted', 'restarted']);
    expect(events.map((e) => e.kind)).toEqual(['component.failing']);
    down = false;
    await sup.sweep();
    expect(events.map((e) => e.kind)).toEqual(['component.failing', 'component.recovered']);
  });

  it('backs off between failing restarts, escalates once, and reports the recovery once', async () => {
    const { sup, incidents, events, clock } = rig({ escalateAfter: 3 });
    const { c, comp } = flaky('mqtt', 5);
    sup.add(comp);
    c.down = true;
    await sup.sweep(); // attempt 1 at t=0
    await sup.sweep(); // too early: back-off 100 ms
    expect(c.restarts).toBe(1);
    clock.t = 100;
    await sup.sweep(); // attempt 2; next after 200 ms
    clock.t = 250;
    await sup.sweep();
    expect(c.restarts).toBe(2);
    clock.t = 300;
    await sup.sweep(); // attempt 3: escalates
    expect(events.map((e) => [e.kind, e.source, e.priority])).toEqual([['component.failing', 'mqtt', 'high']]);
    clock.t = 10_000;
    await sup.sweep(); // attempt 4
    clock.t = 20_000;
    await sup.sweep(); // attempt 5 succeeds
    await sup.sweep(); // seen healthy
    expect(c.restarts).toBe(5);
    expect(events.map((e) => e.kind)).toEqual(['component.failing', 'component.recovered']);
    expect(incidents.filter((i) => i.kind === 'restart-failed').map((i) => i.attempt)).toEqual([1, 2, 3, 4]);
    expect(incidents.at(-1)).toMatchObject({ kind: 'recovered', attempt: 5 });
  });

  it('caps the delay, counts a throwing check as failing, and forgets a component that goes away', async () => {
    const { sup, clock } = rig();
    let present = true;
    let restarts = 0;
    sup.add(() =>
      present
        ? [
            {
              name: 'rule:x',
              check: () => {
                throw new Error('check exploded');
              },
              restart: () => {
                restarts++;
              },
            },
          ]
        : [],
    );
    for (let i = 0; i < 10; i++) {
      await sup.sweep();
      clock.t += 400; // the cap: every sweep is due
    }
    expect(restarts).toBe(10);
    expect(sup.status()).toEqual([{ name: 'rule:x', ok: false, since: 1_000_000, attempts: 10, message: 'check exploded' }]);
    present = false;
    await sup.sweep();
    expect(sup.failing()).toEqual([]);
    expect(sup.status()).toEqual([]);
  });

  it('keeps supervising when the notifier throws', async () => {
    const clock = handClock();
    const sup = new Supervisor({
      clock,
      incidents: { record: () => undefined },
      escalateAfter: 1,
      onEvent: () => {
        throw new Error('notifier down');
      },
    });
    const { c, comp } = flaky('source:ble', Number.POSITIVE_INFINITY);
    sup.add(comp);
    c.down = true;
    await expect(sup.sweep()).resolves.toBeUndefined();
    expect(sup.failing()).toEqual(['source:ble']);
  });
});

describe('Supervisor.status', () => {
  it('reports the last sweep, or each component checked now', async () => {
    const { sup } = rig();
    const { c, comp } = flaky('mqtt', 1);
    sup.add(comp);
    c.down = true;
    expect(sup.status()).toEqual([{ name: 'mqtt', ok: true }]); // not swept yet
    expect(sup.status(true)).toEqual([{ name: 'mqtt', ok: false, message: 'down' }]);
    await sup.sweep(); // restarted: healthy now, failing until the next sweep sees it
    expect(sup.status()[0]!.ok).toBe(false);
    expect(sup.status(true)).toEqual([{ name: 'mqtt', ok: true }]);
  });
});
