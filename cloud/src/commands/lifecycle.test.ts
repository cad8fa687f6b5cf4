/**
 * The command lifecycle against a real cloud (embedded aedes + SQLite) and lightweight devices that verify
 * each command and answer with a signed `cmd.ack`: delivery and acknowledgement, priority lanes, expiry,
 * redelivery after the visibility timeout, attempts used up, rejection, overflow, and a restart of the
 * cloud with commands still queued (nothing lost, nothing applied twice).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testCloud, until, type TestCloud } from './cloud.case.ts';

let t: TestCloud | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const send = async (c: TestCloud, body: Record<string, unknown>) => {
  const r = await c.call('POST', '/api/v1/commands', body);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body['id'] as string;
};
const state = async (c: TestCloud, id: string) => (await c.call('GET', `/api/v1/commands/${id}`)).body;

describe('command lifecycle (embedded)', () => {
  it('delivers a signed command to an online device and records its signed ack', async () => {
    t = await testCloud();
    const dev = await t.device('th-1');
    const id = await send(t, { device: 'th-1', command: { setpoint: 23.5 } });
    await until(async () => (await state(t!, id))['state'] === 'acked', 'acked');
    expect(dev.applied.get(id)).toBe(1);
    expect(await state(t, id)).toMatchObject({ device: 'th-1', command: { setpoint: 23.5 }, attempts: 1, priority: 'normal' });
  });

  it('marks a command delivered on the PUBACK of the device before its answer', async () => {
    t = await testCloud();
    const dev = await t.device('th-1', { answer: () => 'silent' });
    const id = await send(t, { device: 'th-1', command: { reboot: true } });
    await until(async () => (await state(t!, id))['state'] === 'delivered', 'delivered');
    expect(dev.applied.size).toBe(0);
  });

  it('queues for an offline device and delivers high before normal before low when it comes back', async () => {
    t = await testCloud();
    t.add('th-2');
    const low = await send(t, { device: 'th-2', command: { n: 1 }, priority: 'low' });
    const normal = await send(t, { device: 'th-2', command: { n: 2 } });
    const high = await send(t, { device: 'th-2', command: { n: 3 }, priority: 'high' });
    expect((await state(t, low))['state']).toBe('queued');
    const dev = await t.device('th-2');
    await dev.until(() => dev.order.length === 3);
    expect(dev.order).toEqual([high, normal, low]);
  });

  it('expires a command whose time to live passes while the device is away, and tells the notifier', async () => {
    t = await testCloud({ commands: { sweepMs: 50 } });
    t.add('th-3');
    const id = await send(t, { device: 'th-3', command: { n: 1 }, ttl_s: 1 });
    await until(async () => (await state(t!, id))['state'] === 'expired', 'expired', 5000);
    const dev = await t.device('th-3');
    await new Promise((r) => setTimeout(r, 200));
    expect(dev.applied.size).toBe(0);
    expect(t.events).toEqual([
      expect.objectContaining({ kind: 'command.expired', owner: 'alice', source: 'device/th-3', data: expect.objectContaining({ id }) }),
    ]);
  });

  it('sends again after the visibility timeout (a new attempt, the same (ep, sq)) and fails once attempts are used up', async () => {
    t = await testCloud({ commands: { visibilityMs: 200, maxAttempts: 3, sweepMs: 50 } });
    let seen = 0;
    const dev = await t.device('th-4', { answer: () => (++seen === 2 ? { status: 'acked' } : 'drop') });
    const id = await send(t, { device: 'th-4', command: { n: 1 } });
    await until(async () => (await state(t!, id))['state'] === 'acked', 'acked on the second delivery');
    expect([(await state(t, id))['attempts'], dev.applied.get(id)]).toEqual([2, 1]);

    // A device that took the command and never answered refuses the copies as replays: the command fails
    // after its attempts rather than being applied twice.
    dev.answerWith(() => 'silent');
    const lost = await send(t, { device: 'th-4', command: { n: 2 } });
    await until(async () => (await state(t!, lost))['state'] === 'failed', 'failed', 5000);
    expect(await state(t, lost)).toMatchObject({ attempts: 3, reason: 'attempts' });
    expect(dev.refused).toBe(2);
    expect(t.events.map((e) => e.kind)).toEqual(['command.failed']);
  });

  it('takes an answer ingest stored late (after the re-order timeout, never released) before sending again', async () => {
    t = await testCloud({ commands: { visibilityMs: 4000, sweepMs: 50 } });
    const dev = await t.device('th-8', { answer: () => 'silent' });
    const id = await send(t, { device: 'th-8', command: { n: 1 } });
    await until(async () => (await state(t!, id))['state'] !== 'queued', 'sent');
    await dev.uplink('tel', { t: 20 }, 0);
    await dev.uplink('tel', { t: 21 }, 2); // waits for 1, released past the re-order timeout (2 s) with 1 as a gap
    await until(() => t!.cloud.ingest.counters().gap === 1, 'the gap', 5000);
    await dev.uplink('cmd.ack', { id, status: 'acked' }, 1); // late: stored, not released
    await until(() => t!.cloud.ingest.counters().late_stored === 1, 'stored late', 5000);
    expect((await state(t, id))['state']).not.toBe('acked');
    await until(async () => (await state(t!, id))['state'] === 'acked', 'acked from the stored answer', 8000);
    expect(await state(t, id)).toMatchObject({ attempts: 1 });
    expect(dev.refused).toBe(0); // found before any copy was sent
  });

  it('records a rejection with its reason, and the next command goes', async () => {
    t = await testCloud();
    const dev = await t.device('th-5', {
      answer: (cmd) => ((cmd as { furnace?: string }).furnace === 'maybe' ? { status: 'rejected', reason: 'invalid' } : { status: 'acked' }),
    });
    const bad = await send(t, { device: 'th-5', command: { furnace: 'maybe' } });
    const good = await send(t, { device: 'th-5', command: { furnace: 'on', for_s: 60 } });
    await until(async () => (await state(t!, good))['state'] === 'acked', 'second acked');
    expect(await state(t, bad)).toMatchObject({ state: 'rejected', reason: 'invalid' });
    expect(dev.order).toEqual([good]);
    expect(t.events.map((e) => e.kind)).toEqual(['command.rejected']);
  });

  it('refuses a new command past the queue depth, or drops the oldest of a lower lane, as configured', async () => {
    t = await testCloud({ commands: { depth: 2 } });
    t.add('th-6');
    await send(t, { device: 'th-6', command: { n: 1 }, priority: 'low' });
    await send(t, { device: 'th-6', command: { n: 2 }, priority: 'low' });
    const full = await t.call('POST', '/api/v1/commands', { device: 'th-6', command: { n: 3 } });
    expect([full.status, full.body['code']]).toEqual([429, 'FERRY_CMD_QUEUE_FULL']);
    await t.stop();

    t = await testCloud({ commands: { depth: 2, overflow: 'drop-oldest-low-priority' } });
    t.add('th-6');
    const first = await send(t, { device: 'th-6', command: { n: 1 }, priority: 'low' });
    await send(t, { device: 'th-6', command: { n: 2 }, priority: 'low' });
    await send(t, { device: 'th-6', command: { n: 3 }, priority: 'high' });
    expect(await state(t, first)).toMatchObject({ state: 'failed', reason: 'overflow' });
    const lowAgain = await t.call('POST', '/api/v1/commands', { device: 'th-6', command: { n: 4 }, priority: 'low' });
    expect(lowAgain.status).toBe(429); // nothing of a lower lane to drop
  });

  it('keeps queued and sent commands across a restart of the cloud: each delivered once', async () => {
    t = await testCloud({ commands: { visibilityMs: 500, sweepMs: 50 } });
    const dir = t.dataDir;
    const first = await t.device('th-7');
    const keys = new Map(t.keys);
    const ids = [await send(t, { device: 'th-7', command: { n: 0 } })];
    await first.until(() => first.order.length === 1);
    await first.close(true);
    for (let i = 1; i < 5; i++) ids.push(await send(t, { device: 'th-7', command: { n: i } }));
    await t.stop();

    t = await testCloud({ commands: { visibilityMs: 500, sweepMs: 50 } }, dir);
    for (const [k, v] of keys) t.keys.set(k, v);
    const again = await t.device('th-7', { window: first.window, ep: Math.floor(Date.now() / 1000) + 1 });
    await until(async () => (await Promise.all(ids.map((id) => state(t!, id)))).every((s) => s['state'] === 'acked'), 'all acked after the restart');
    expect([...first.order, ...again.order]).toEqual(ids);
    expect(again.refused).toBe(0); // the restarted cloud signs above everything the device accepted
  });
});
