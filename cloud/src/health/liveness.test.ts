import { describe, expect, it } from 'vitest';
import { FakeClock } from '@ferry/test-kit/clock';
import type { OpsEvent } from './events.ts';
import { DeviceLiveness } from './liveness.ts';

function rig(o: { maxDevices?: number } = {}) {
  const clock = new FakeClock(1_000_000);
  const events: OpsEvent[] = [];
  const registered = new Set(['board-1', 'board-2', 'gw-1']);
  const owners: Record<string, string> = { 'board-1': 'alice', 'gw-1': 'alice', 'board-2': 'bob' };
  const live = new DeviceLiveness({
    clock,
    known: (id) => registered.has(id),
    ownerOf: (id) => owners[id],
    notify: (e) => events.push(e),
    ...(o.maxDevices !== undefined && { maxDevices: o.maxDevices }),
  });
  return { clock, events, live, registered };
}

describe('DeviceLiveness', () => {
  it('learns a board’s interval from its traffic and marks it offline after three intervals of silence, online when it speaks again', () => {
    const { clock, events, live } = rig();
    for (let i = 0; i < 5; i++) {
      live.seen('board-1');
      clock.advance(10_000);
    }
    // Last message 10 s ago, usual interval 10 s: not yet late.
    live.sweep();
    expect(live.list()[0]).toMatchObject({ id: 'board-1', online: true, intervalMs: 10_000, messages: 5 });
    clock.advance(15_000); // 25 s silent
    live.sweep();
    expect(live.list()[0]!.online).toBe(true);
    clock.advance(6_000); // 31 s silent > 3 x 10 s
    live.sweep();
    expect(live.list()[0]!.online).toBe(false);
    expect(events).toEqual([
      {
        owner: 'alice',
        kind: 'device.offline',
        source: 'board-1',
        at: clock.now(),
        priority: 'normal',
        data: expect.objectContaining({ why: 'silent', intervalMs: 10_000 }),
      },
    ]);
    live.sweep(); // reported once
    live.seen('board-1');
    expect(events.map((e) => e.kind)).toEqual(['device.offline', 'device.online']);
  });

  it('does not judge a device whose interval it has not learnt yet', () => {
    const { clock, events, live } = rig();
    live.seen('board-1');
    live.seen('board-1', clock.now() + 1000);
    clock.advance(3_600_000);
    live.sweep();
    expect(live.list()[0]!.online).toBe(true);
    expect(events).toEqual([]);
  });

  it('follows a gateway’s own MQTT connection, whatever its traffic', () => {
    const { clock, events, live } = rig();
    live.connected('gw-1');
    for (let i = 0; i < 5; i++) {
      live.seen('gw-1');
      clock.advance(1000);
    }
    clock.advance(60_000);
    live.sweep();
    expect(live.list()[0]).toMatchObject({ id: 'gw-1', online: true, connected: true });
    live.disconnected('gw-1', false);
    expect(events).toMatchObject([{ kind: 'device.offline', source: 'gw-1', data: { why: 'connection lost' } }]);
    live.connected('gw-1');
    expect(events.map((e) => e.kind)).toEqual(['device.offline', 'device.online']);
  });

  it('counts gaps and bad signatures, tracks a gateway’s sensors under it, lists by owner, forgets removed devices', () => {
    const { live, registered } = rig();
    live.seen('board-2');
    live.gap('board-2', 3);
    live.badSignature('board-2');
    live.badSignature('stranger'); // not registered: not tracked
    live.seen('gw-1/A4:C1:38:00:00:01');
    expect(live.list('bob')).toEqual([expect.objectContaining({ id: 'board-2', owner: 'bob', gaps: 3, badSignatures: 1, messages: 1 })]);
    expect(live.list('alice').map((d) => d.id)).toEqual(['gw-1/A4:C1:38:00:00:01']);
    expect(live.list().map((d) => d.id)).not.toContain('stranger');
    registered.delete('gw-1');
    live.sweep();
    expect(live.list('alice')).toEqual([]);
  });

  it('tracks at most maxDevices entries and counts the rest', () => {
    const { live } = rig({ maxDevices: 2 });
    for (const s of ['a', 'b', 'c', 'd']) live.seen(`gw-1/${s}`);
    expect(live.counts()).toEqual({ online: 2, offline: 0, untracked: 2 });
  });
});
