/**
 * Fault tests of operations (docs/operations.md, "Fault tests"): for each fault the cloud detects it (an
 * incident, /readyz, device liveness), raises ONE alarm that reaches a loopback webhook sink as exactly one
 * `alarm.raised` notification (no repeat, whatever the restarts and checks meanwhile), and recovers by itself:
 * /readyz green again and the alarm cleared, which the sink hears as `alarm.cleared`. Real parts throughout: the
 * supervisor, the alarm service, the notifier's webhook channel over HTTP, aedes and MQTT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { until } from '@ferry/test-kit/until';
import { alarmsOf, badInput, board, type FaultCloud, faultCloud, readyz, ruleJob, sinkKinds, stallEventLoop, subscribeSink } from './ops-faults-parts.ts';

const CHECK_MS = 100;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cloud(extra: Parameters<typeof faultCloud>[1] = {}): Promise<FaultCloud> {
  const c = await faultCloud(CHECK_MS, extra);
  cleanups.push(() => c.stop());
  return c;
}

/** Waits until the sink heard the alarm cleared, then: exactly one raise before it, nothing else. */
async function notifiedOnce(c: FaultCloud): Promise<void> {
  await until(() => sinkKinds(c.sink).includes('alarm.cleared'), 'the clear notified', 30_000);
  expect(sinkKinds(c.sink)).toEqual(['alarm.raised', 'alarm.cleared']);
}

describe('operations faults: detected, notified once, recovered', () => {
  it('a rule job killed by bad input that keeps coming (a crash loop)', async () => {
    const c = await cloud();
    const jobId = ruleJob(c.svc);
    const component = `component:rule:${jobId}`;
    await subscribeSink(c, `component-failing/${component}`);
    expect(await readyz(c.api)).toBe(200);
    const feed = badInput(c.svc, jobId);
    try {
      // Detected: the supervisor records the failure; restarted, it fails again, and escalates once.
      await until(() => c.svc.ops.incidents.list(20).some((i) => i.component === `rule:${jobId}` && i.kind === 'failed'), 'the failure recorded');
      await until(async () => (await alarmsOf(c, 'component-failing', component)).some((a) => a.status === 'active'), 'the alarm raised');
      await until(() => sinkKinds(c.sink).length > 0, 'the raise notified');
    } finally {
      feed.stop();
    }
    // Recovered: the next restart holds, the supervisor sees it healthy, the alarm clears.
    await until(async () => (await readyz(c.api)) === 200 && c.svc.rules.engine.status(jobId).failure === null, '/readyz green again');
    await until(async () => (await alarmsOf(c, 'component-failing', component))[0]?.status === 'cleared', 'the alarm cleared');
    await notifiedOnce(c);
    const kinds = c.svc.ops.incidents
      .list(100)
      .filter((i) => i.component === `rule:${jobId}`)
      .map((i) => i.kind);
    expect(kinds.filter((k) => k === 'escalated')).toHaveLength(1);
    expect(kinds[0]).toBe('recovered');
    expect(await alarmsOf(c, 'component-failing', component)).toHaveLength(1);
  });

  it('a broker outage (the external broker stopped, then back)', async () => {
    const broker = await aedesBroker();
    cleanups.push(() => broker.stop());
    const c = await cloud({ mqttUrl: broker.url });
    await subscribeSink(c, 'component-failing/component:mqtt');
    expect(await readyz(c.api)).toBe(200);
    await broker.stop();
    await until(async () => (await readyz(c.api)) === 503, '/readyz 503');
    await until(async () => (await alarmsOf(c, 'component-failing', 'component:mqtt')).some((a) => a.status === 'active'), 'the alarm raised');
    // The webhook does not need the broker: the raise is notified during the outage.
    await until(() => sinkKinds(c.sink).length > 0, 'the raise notified');
    await broker.start();
    await until(async () => (await readyz(c.api)) === 200, '/readyz green again', 20_000);
    await until(async () => (await alarmsOf(c, 'component-failing', 'component:mqtt'))[0]?.status === 'cleared', 'the alarm cleared');
    await notifiedOnce(c);
  });

  it('a silent device (a board that stops sending) to its owner, and back', async () => {
    const c = await cloud();
    const b = await board(c, 'alice', 'th-silent', 60);
    cleanups.push(() => b.close());
    await subscribeSink(c, 'device-offline/th-silent', b.token);
    await until(() => c.svc.ops.devices('alice').some((d) => d.id === 'th-silent' && d.intervalMs !== undefined), 'its interval learnt');
    b.stop();
    await until(() => c.svc.ops.devices('alice').some((d) => d.id === 'th-silent' && !d.online), 'offline after its silence');
    await until(async () => (await alarmsOf(c, 'device-offline', 'th-silent', b.token)).some((a) => a.status === 'active'), 'the alarm raised');
    await until(() => sinkKinds(c.sink).length > 0, 'the raise notified');
    expect(await readyz(c.api)).toBe(200); // a silent device is no failure of the cloud
    b.resume();
    await until(async () => (await alarmsOf(c, 'device-offline', 'th-silent', b.token))[0]?.status === 'cleared', 'the alarm cleared');
    await notifiedOnce(c);
    // Another owner's sink would have heard nothing: the global view holds no device alarm of alice's.
    expect(await alarmsOf(c, 'device-offline', 'th-silent')).toHaveLength(1);
  });

  it('a 5 s event-loop stall', async () => {
    const c = await cloud();
    await subscribeSink(c, 'component-failing/component:eventloop');
    expect(await readyz(c.api)).toBe(200);
    stallEventLoop(5000);
    await until(() => c.svc.ops.incidents.list(20).some((i) => i.component === 'eventloop' && i.kind === 'failed'), 'the stall recorded');
    expect(c.svc.ops.incidents.list(20).find((i) => i.component === 'eventloop' && i.kind === 'failed')!.message).toMatch(/stalled for \d{4,} ms/);
    // Raised, and perhaps cleared already: the loop has run quietly since.
    await until(async () => (await alarmsOf(c, 'component-failing', 'component:eventloop')).length > 0, 'the alarm raised');
    await until(() => sinkKinds(c.sink).length > 0, 'the raise notified');
    expect(await readyz(c.api)).toBe(200);
    await until(async () => (await alarmsOf(c, 'component-failing', 'component:eventloop'))[0]?.status === 'cleared', 'the alarm cleared');
    await notifiedOnce(c);
    // The stall is in the health history: the longest delay of its check period.
    const now = Date.now();
    const h = c.svc.ops.history!.query({ series: 'eventloop.delay_ms', from: now - 60_000, to: now + 1, points: 600 }, now);
    expect(Math.max(...h.points.map((p) => p[1] ?? 0))).toBeGreaterThanOrEqual(4000);
  });
});
