/**
 * The notifier against real parts on loopback: a webhook server (signature, retries, a server that hangs,
 * dead letters and replay), an SMTP server that accepts and one that refuses, an MQTT broker with a real
 * subscriber, de-duplication, a failing channel beside a working one, and restarts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { DELIVERY_HEADER, SIGNATURE_HEADER, verifyWebhook } from './channel-webhook.ts';
import type { NotifyEvent } from './types.ts';
import { NOTIFY_LIMITS } from './event.ts';
import { httpSink, rig, smtpSink, until, type Rig } from './test-sinks.case.ts';

const file = (): string => join(mkdtempSync(join(tmpdir(), 'ferry-notify-')), 'cloud.db');
const offline = (source = 'dev-1', at = Date.now()): NotifyEvent => ({
  owner: 'alice',
  kind: 'device.offline',
  source,
  at,
  priority: 'high',
  data: { lastSeen: 1234 },
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const started = (r: Rig): Rig => {
  r.notifier.start();
  cleanups.push(() => r.notifier.stop());
  return r;
};

describe('webhook channel', () => {
  it('POSTs the rendered event signed with HMAC-SHA256 over the time and body, and records the acknowledgement', async () => {
    const sink = await httpSink();
    cleanups.push(() => sink.close());
    const r = started(rig(file()));
    const { channel, secret } = await r.channel({ kind: 'webhook', config: { url: sink.url } });
    await r.subscribe({ channelId: channel.id, kinds: ['device.*'], template: { subject: '{{source}} offline', body: 'last seen {{data.lastSeen}}' } });
    await r.notifier.accept(offline());
    await until(() => sink.received.length === 1, 'the webhook call');
    const got = sink.received[0]!;
    const nowS = Math.floor(Date.now() / 1000);
    expect(verifyWebhook(secret!, got.body, got.headers[SIGNATURE_HEADER] as string, nowS)).toBe(true);
    expect(verifyWebhook('another-secret-of-32-characters!', got.body, got.headers[SIGNATURE_HEADER] as string, nowS)).toBe(false);
    expect(verifyWebhook(secret!, got.body.replace('dev-1', 'dev-2'), got.headers[SIGNATURE_HEADER] as string, nowS)).toBe(false);
    expect(verifyWebhook(secret!, got.body, got.headers[SIGNATURE_HEADER] as string, nowS + 3600)).toBe(false); // replayed an hour later
    const body = JSON.parse(got.body) as { delivery: string; subject: string; body: string; event: NotifyEvent };
    expect([body.subject, body.body, body.event.kind, body.event.source]).toEqual(['dev-1 offline', 'last seen 1234', 'device.offline', 'dev-1']);
    expect(got.headers[DELIVERY_HEADER]).toBe(body.delivery);
    await until(async () => (await r.notifier.store.getDelivery(body.delivery))?.state === 'acked', 'the ack');
    expect((await r.notifier.store.getDelivery(body.delivery))?.attempts).toBe(0);
  });

  it('retries a failing webhook with back-off and keeps the same delivery id on every attempt', async () => {
    const sink = await httpSink();
    cleanups.push(() => sink.close());
    sink.answer = (n) => (n < 3 ? 503 : 204);
    const r = started(rig(file()));
    const { channel } = await r.channel({ kind: 'webhook', config: { url: sink.url } });
    await r.subscribe({ channelId: channel.id, kinds: ['*'] });
    await r.notifier.accept(offline());
    await until(() => sink.received.length === 3, 'three attempts');
    expect(new Set(sink.received.map((x) => x.headers[DELIVERY_HEADER])).size).toBe(1);
    const [d] = await r.notifier.store.listDeliveries({ owner: 'alice' }, undefined, 10);
    await until(async () => (await r.notifier.store.getDelivery(d!.id))?.state === 'acked', 'the ack');
    const done = await r.notifier.store.getDelivery(d!.id);
    expect([done?.attempts, done?.lastError?.startsWith('FERRY_NOTIFY_WEBHOOK')]).toEqual([2, true]);
  });

  it('times out a server that never answers, makes it a dead letter after the last attempt, and replays it', async () => {
    const sink = await httpSink();
    cleanups.push(() => sink.close());
    sink.answer = () => 'hang';
    const r = started(rig(file()));
    const { channel } = await r.channel({ kind: 'webhook', config: { url: sink.url, timeoutMs: 150 } });
    await r.subscribe({ channelId: channel.id, kinds: ['*'] });
    await r.notifier.accept(offline());
    await until(async () => (await r.notifier.store.listDeliveries({ owner: 'alice' }, 'dead', 10)).length === 1, 'the dead letter');
    const [dead] = await r.notifier.store.listDeliveries({ owner: 'alice' }, 'dead', 10);
    expect([dead?.attempts, dead?.lastError?.split(':')[0]]).toEqual([3, 'FERRY_NOTIFY_TIMEOUT']);
    expect(sink.received).toHaveLength(3);
    sink.answer = () => 200;
    expect(await r.notifier.store.replay(dead!.id, Date.now())).toBe(true);
    r.notifier.kick();
    await until(async () => (await r.notifier.store.getDelivery(dead!.id))?.state === 'acked', 'the replayed delivery acked');
    expect(sink.received).toHaveLength(4);
  });

  it('refuses a loopback webhook unless the cloud allows private addresses, when saved and when sending', async () => {
    const sink = await httpSink();
    cleanups.push(() => sink.close());
    const strict = rig(file(), { allowPrivateAddresses: false });
    const { channelFrom } = await import('./config.ts');
    const opts = { owner: 'alice', sealer: strict.sealer, allowPrivate: false, now: 1 };
    for (const url of [sink.url, 'http://10.1.2.3/x', 'http://169.254.169.254/latest', 'http://[::1]/x', 'ftp://example.com/x'])
      expect(() => channelFrom({ kind: 'webhook', config: { url } }, opts)).toThrow(/FERRY_NOTIFY_ADDRESS/);
    // A name that resolves to loopback passes the save-time check and is refused at connection time.
    const { channel } = channelFrom({ kind: 'webhook', config: { url: sink.url.replace('127.0.0.1', 'localtest.invalid') } }, { ...opts, allowPrivate: true });
    const viaName = { ...channel, config: { ...channel.config, url: sink.url.replace('127.0.0.1', 'localhost') } } as typeof channel;
    const m = { subject: '', body: '', event: { ...offline(), id: 'e' } };
    await expect(strict.notifier.sendNow(viaName, 'd', m)).rejects.toThrow(/FERRY_NOTIFY_ADDRESS/);
    expect(sink.received).toHaveLength(0);
    // The same for SMTP: 127.1 is no literal address to the save-time check, and resolves to 127.0.0.1.
    const smtp = await smtpSink();
    cleanups.push(() => smtp.close());
    const mail = channelFrom({ kind: 'email', config: { host: '127.1', port: smtp.port, from: 'f@example.com', to: ['t@example.com'] } }, opts).channel;
    await expect(strict.notifier.sendNow(mail, 'd', m)).rejects.toThrow(/FERRY_NOTIFY_ADDRESS/);
    expect(smtp.mails).toHaveLength(0);
  });
});

describe('email channel', () => {
  it('sends through a real SMTP server on loopback; its acceptance is the acknowledgement', async () => {
    const smtp = await smtpSink();
    cleanups.push(() => smtp.close());
    const r = started(rig(file()));
    const { channel } = await r.channel({ kind: 'email', config: { host: '127.0.0.1', port: smtp.port, from: 'ferry@example.com', to: ['ops@example.com'] } });
    await r.subscribe({
      channelId: channel.id,
      kinds: ['device.offline'],
      template: { subject: 'Offline: {{source}}', body: 'Seen last at {{data.lastSeen}}.' },
    });
    await r.notifier.accept(offline('boiler'));
    await until(() => smtp.mails.length === 1, 'the mail');
    expect(smtp.mails[0]!.to).toEqual(['ops@example.com']);
    expect(smtp.mails[0]!.data).toContain('Subject: Offline: boiler');
    expect(smtp.mails[0]!.data).toContain('Seen last at 1234.');
    await until(async () => (await r.notifier.store.listDeliveries({ owner: 'alice' }, 'acked', 10)).length === 1, 'the ack');
  });

  it('retries an SMTP server that refuses, then keeps the delivery as a dead letter naming the refusal', async () => {
    const smtp = await smtpSink();
    cleanups.push(() => smtp.close());
    smtp.refuse = 550;
    const r = started(rig(file()));
    const { channel } = await r.channel({ kind: 'email', config: { host: '127.0.0.1', port: smtp.port, from: 'ferry@example.com', to: ['ops@example.com'] } });
    await r.subscribe({ channelId: channel.id, kinds: ['*'] });
    await r.notifier.accept(offline());
    await until(async () => (await r.notifier.store.listDeliveries({ owner: 'alice' }, 'dead', 10)).length === 1, 'the dead letter');
    const [dead] = await r.notifier.store.listDeliveries({ owner: 'alice' }, 'dead', 10);
    expect(dead?.lastError).toMatch(/^FERRY_NOTIFY_SMTP: .*550/);
    expect(smtp.mails).toHaveLength(0);
  });
});

describe('mqtt channel', () => {
  it("publishes QoS 1 under the owner's notify space; a real subscriber receives it and the PUBACK acknowledges", async () => {
    const broker = await aedesBroker();
    cleanups.push(() => broker.stop());
    const cloud = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    cleanups.push(
      () => cloud.endAsync(true),
      () => sub.endAsync(true),
    );
    const got: { topic: string; payload: string }[] = [];
    sub.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
    await sub.subscribeAsync('ferry/notify/#', { qos: 1 });
    const r = started(rig(file(), { mqtt: () => cloud }));
    const { channel } = await r.channel({ kind: 'mqtt', config: { topic: 'alarms/house' } });
    await r.subscribe({ channelId: channel.id, kinds: ['alarm.*'] });
    await r.notifier.accept({ owner: 'alice', kind: 'alarm.raised', source: 'temp/kitchen', at: Date.now(), data: { value: 31 } });
    await r.notifier.accept(offline()); // not subscribed: not sent
    await until(() => got.length === 1, 'the MQTT message');
    expect(got[0]!.topic).toBe('ferry/notify/alice/alarms/house');
    expect((JSON.parse(got[0]!.payload) as { event: NotifyEvent }).event.data).toEqual({ value: 31 });
    await until(async () => (await r.notifier.store.listDeliveries({ owner: 'alice' }, 'acked', 10)).length === 1, 'the ack');
    await r.notifier.idle();
    expect(got).toHaveLength(1);
  });
});

describe('subscriptions and channels together', () => {
  it('sends one notification per de-duplication key inside the quiet repeat interval', async () => {
    const sink = await httpSink();
    cleanups.push(() => sink.close());
    const r = started(rig(file()));
    const { channel } = await r.channel({ kind: 'webhook', config: { url: sink.url } });
    await r.subscribe({ channelId: channel.id, kinds: ['device.offline'], dedupKey: '{{kind}}/{{source}}', repeatS: 60 });
    const t = Date.now();
    for (const [source, at] of [
      ['dev-1', t],
      ['dev-1', t + 1000],
      ['dev-2', t + 2000],
      ['dev-1', t + 61_000],
    ] as const)
      await r.notifier.accept(offline(source, at));
    await r.notifier.idle();
    await until(() => sink.received.length === 3, 'three calls');
    await r.notifier.idle();
    expect(sink.received.map((x) => (JSON.parse(x.body) as { event: NotifyEvent }).event.source).sort()).toEqual(['dev-1', 'dev-1', 'dev-2']);
    expect(r.notifier.counters.suppressed).toBe(1);
  });

  it('skips a stored subscription whose template no longer parses, and delivers the event to the others', async () => {
    const sink = await httpSink();
    cleanups.push(() => sink.close());
    const r = started(rig(file()));
    const { channel } = await r.channel({ kind: 'webhook', config: { url: sink.url } });
    const good = await r.subscribe({ channelId: channel.id, kinds: ['*'] });
    const stored = await r.notifier.store.getSubscription(good);
    await r.notifier.store.putSubscription({ ...stored!, id: 'broken', template: { subject: '{{', body: '' } });
    await r.notifier.accept(offline());
    await until(() => sink.received.length === 1, 'the good subscription delivered');
    await r.notifier.accept(offline('dev-2'));
    await until(() => sink.received.length === 2, 'the next event delivered too');
    expect((await r.notifier.store.inbox(10)).length).toBe(0);
  });

  it('keeps delivering to a working channel while another hangs, and matches kinds, sources and priorities', async () => {
    const good = await httpSink();
    const bad = await httpSink();
    bad.answer = () => 'hang';
    const r = started(rig(file()));
    cleanups.push(
      () => good.close(),
      () => bad.close(),
    ); // before the notifier stops: its hung attempt ends
    const slow = await r.channel({ kind: 'webhook', config: { url: bad.url, timeoutMs: 30_000 } });
    const fast = await r.channel({ kind: 'webhook', config: { url: good.url } });
    await r.subscribe({ channelId: slow.channel.id, kinds: ['*'] });
    await r.subscribe({ channelId: fast.channel.id, kinds: ['device.offline'], source: 'dev-*', minPriority: 'normal' });
    for (let i = 0; i < 12; i++) await r.notifier.accept(offline(`dev-${i}`));
    await r.notifier.accept({ ...offline('dev-x'), priority: 'low' }); // below the minimum
    await r.notifier.accept(offline('pump-1')); // another source
    await until(() => good.received.length === 12, 'twelve calls to the working channel');
    expect(bad.received.length).toBeGreaterThan(0);
    expect(bad.received.length).toBeLessThanOrEqual(8); // its in-flight cap, the rest wait their turn
  });
});

describe('restarts', () => {
  it('delivers after a restart what was accepted before it, and never sends an acknowledged delivery again', async () => {
    const sink = await httpSink();
    cleanups.push(() => sink.close());
    const db = file();
    const first = rig(db);
    const { channel } = await first.channel({ kind: 'webhook', config: { url: sink.url } });
    await first.subscribe({ channelId: channel.id, kinds: ['*'] });
    await first.notifier.accept(offline('before-start')); // accepted while the loop is not running
    first.db.close(); // the process dies before sending anything
    const second = started(rig(db));
    await until(() => sink.received.length === 1, 'the delivery after the restart');
    await second.notifier.accept(offline('second'));
    await until(async () => (await second.notifier.store.listDeliveries({ owner: 'alice' }, 'acked', 10)).length === 2, 'both acked');
    await second.notifier.stop();
    second.db.close();
    const third = started(rig(db));
    await third.notifier.accept(offline('third'));
    await until(() => sink.received.length === 3, 'the third');
    await third.notifier.idle();
    expect(sink.received.map((x) => (JSON.parse(x.body) as { event: NotifyEvent }).event.source)).toEqual(['before-start', 'second', 'third']);
  });

  it('renews the lease while an attempt runs longer than it, so another worker on the same store does not send it too', async () => {
    const sink = await httpSink();
    sink.answer = () => 'hang';
    const db = file();
    const first = started(rig(db, { leaseMs: 300 }));
    cleanups.push(() => sink.close());
    const { channel } = await first.channel({ kind: 'webhook', config: { url: sink.url, timeoutMs: 30_000 } });
    await first.subscribe({ channelId: channel.id, kinds: ['*'] });
    await first.notifier.accept(offline());
    await until(() => sink.received.length === 1, 'the attempt in flight');
    const second = started(rig(db, { leaseMs: 300 }));
    const [d] = await second.notifier.store.listDeliveries({ owner: 'alice' }, undefined, 10);
    const leasedUntil = d!.nextAt;
    // Three leases' worth of time pass while the attempt hangs; the first worker keeps its lease.
    await until(async () => ((await second.notifier.store.getDelivery(d!.id))?.nextAt ?? 0) > leasedUntil + 900, 'the lease renewed past three lease times');
    expect(sink.received).toHaveLength(1);
    sink.release(200);
    await until(async () => (await second.notifier.store.getDelivery(d!.id))?.state === 'acked', 'the delivery acked');
    await Promise.all([first.notifier.idle(), second.notifier.idle()]);
    expect(sink.received).toHaveLength(1);
  });

  it('hands back on stop the deliveries that wait for a slot of their channel, due at once for the next start', async () => {
    const sink = await httpSink();
    sink.answer = () => 'hang';
    cleanups.push(() => sink.close());
    const db = file();
    const first = started(rig(db, { leaseMs: 60_000 }));
    const { channel } = await first.channel({ kind: 'webhook', config: { url: sink.url, timeoutMs: 300 } });
    await first.subscribe({ channelId: channel.id, kinds: ['*'] });
    for (let i = 0; i < NOTIFY_LIMITS.inFlightPerChannel + 4; i++) await first.notifier.accept(offline(`dev-${i}`));
    await until(() => sink.received.length === NOTIFY_LIMITS.inFlightPerChannel, 'the channel full');
    const store = first.notifier.store;
    await until(async () => (await store.listDeliveries({ owner: 'alice' }, 'sending', 50)).length === NOTIFY_LIMITS.inFlightPerChannel + 4, 'all leased');
    await first.notifier.stop();
    // The attempts in flight timed out (retried later); the waiting ones were never tried and are due now.
    const queued = await store.listDeliveries({ owner: 'alice' }, 'queued', 50);
    expect(await store.listDeliveries({ owner: 'alice' }, 'sending', 50)).toEqual([]);
    const untried = queued.filter((q) => q.attempts === 0);
    expect(untried).toHaveLength(4);
    expect(untried.every((q) => q.nextAt <= Date.now())).toBe(true);
    sink.answer = () => 200;
    const second = started(rig(db, { leaseMs: 60_000 }));
    await until(async () => (await second.notifier.store.listDeliveries({ owner: 'alice' }, 'acked', 50)).length >= 4, 'the handed-back ones sent');
  });

  it('sends again a delivery whose worker died in the middle of the attempt, once its lease ran out', async () => {
    const sink = await httpSink();
    sink.answer = () => 'hang';
    const db = file();
    const first = started(rig(db, { leaseMs: 300 }));
    cleanups.push(() => sink.close()); // before the notifiers stop: the first one's hung attempt ends
    const { channel } = await first.channel({ kind: 'webhook', config: { url: sink.url, timeoutMs: 30_000 } });
    await first.subscribe({ channelId: channel.id, kinds: ['*'] });
    await first.notifier.accept(offline());
    await until(() => sink.received.length === 1, 'the first attempt in flight');
    // The first worker dies mid-attempt: its store is gone, so it neither renews its lease nor records the
    // outcome; another worker takes the delivery over once the lease runs out.
    first.db.close();
    sink.answer = () => 200;
    const second = started(rig(db, { leaseMs: 300 }));
    const [d] = await second.notifier.store.listDeliveries({ owner: 'alice' }, undefined, 10);
    await until(async () => (await second.notifier.store.getDelivery(d!.id))?.state === 'acked', 'the delivery acked by the second worker');
    expect(sink.received).toHaveLength(2);
    expect(new Set(sink.received.map((x) => x.headers[DELIVERY_HEADER]))).toEqual(new Set([d!.id]));
  });
});
