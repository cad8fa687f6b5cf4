/**
 * The parts of the operations fault tests and of bench:ops (docs/operations.md, "Fault tests"): a cloud whose
 * notifier may reach a loopback webhook sink, a subscription of that sink to the alarm events of one source,
 * and the four faults: a rule job killed by bad input that keeps coming (a crash loop), a broker outage (an
 * external aedes broker stopped), a board that stops sending, and an event-loop stall. Everything is real:
 * the supervisor, the alarm service, the notifier and its webhook channel, HTTP to the sink.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { ADMIN_TOKEN, call } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { CloudService, type CloudOptions } from '../cloud/src/service/service.ts';
import { type HttpSink, httpSink } from '../cloud/src/notify/test-sinks.case.ts';

export interface FaultCloud {
  readonly svc: CloudService;
  readonly api: string;
  readonly mqttUrl: string;
  readonly sink: HttpSink;
  stop(): Promise<void>;
}

/** A cloud checking every `checkPeriodMs`, with a loopback webhook sink its notifier may reach. */
export async function faultCloud(checkPeriodMs: number, extra: Partial<CloudOptions> = {}): Promise<FaultCloud> {
  const sink = await httpSink();
  const svc = new CloudService({
    adminToken: ADMIN_TOKEN,
    dataDir: mkdtempSync(join(tmpdir(), 'ferry-ops-faults-')),
    mqttPort: 0,
    httpPort: 0,
    functionRunner: 'in-process',
    log: () => undefined,
    notify: { allowPrivateAddresses: true, tickMs: 25 },
    ...extra,
    health: { checkPeriodMs, liveness: { minIntervalMs: 50 }, eventLoop: { quietMs: Math.max(1000, 10 * checkPeriodMs) }, ...extra.health },
  });
  const { httpUrl: api, mqttUrl } = await svc.start();
  return {
    svc,
    api,
    mqttUrl,
    sink,
    stop: async () => {
      await svc.stop();
      await sink.close();
    },
  };
}

/** Subscribes the sink (a webhook channel of `token`'s owner, global for a global token) to the alarm events of sources matching `source`. */
export async function subscribeSink(c: FaultCloud, source: string, token = ADMIN_TOKEN): Promise<void> {
  const ch = await call(c.api, 'POST', '/api/v1/notify/channels', token, { kind: 'webhook', name: 'ops-sink', config: { url: c.sink.url, timeoutMs: 2000 } });
  if (ch.status !== 201) throw new Error(`channel: ${ch.status} ${JSON.stringify(ch.body)}`);
  const sub = await call(c.api, 'POST', '/api/v1/notify/subscriptions', token, {
    channelId: (ch.body as { id: string }).id,
    kinds: ['alarm.*'],
    source,
  });
  if (sub.status !== 201) throw new Error(`subscription: ${sub.status} ${JSON.stringify(sub.body)}`);
}

/** The kinds of the alarm notifications the sink received, in order (each delivery once: repeats of one delivery id dropped). */
export function sinkKinds(sink: HttpSink): string[] {
  const seen = new Set<string>();
  const kinds: string[] = [];
  for (const r of sink.received) {
    const id = String(r.headers['ferry-delivery']);
    if (seen.has(id)) continue;
    seen.add(id);
    kinds.push((JSON.parse(r.body) as { event: { kind: string } }).event.kind);
  }
  return kinds;
}

export interface AlarmView {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly status: 'active' | 'acknowledged' | 'cleared';
  readonly count: number;
  /** When it was raised (Unix ms, the cloud's clock). */
  readonly firstMs: number;
}

/** The alarms of `type` on `source` the token sees, newest first. */
export async function alarmsOf(c: FaultCloud, type: string, source: string, token = ADMIN_TOKEN): Promise<AlarmView[]> {
  const r = await call(c.api, 'GET', `/api/v1/alarms?type=${encodeURIComponent(type)}&source=${encodeURIComponent(source)}`, token);
  return r.status === 200 ? (r.body as { alarms: AlarmView[] }).alarms : [];
}

/** `/readyz`'s status, 0 when it does not answer within a second. */
export async function readyz(api: string): Promise<number> {
  try {
    return (await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(1000) })).status;
  } catch {
    return 0;
  }
}

/** A rule job on `faults/+` that stops (an error streak) on every record without its field: returns its id. */
export function ruleJob(svc: CloudService): string {
  const { jobId } = svc.rules.engine.install({
    headers: { runtime: 'cloud', targetResource: 'faults', jobType: 'single-filter' },
    jobConfig: { connectors: { input: 'faults/+', output: 'faults-out' }, jobProps: { condition: 'gt', threshold: 1, fieldName: 'temp' } },
  });
  svc.rules.engine.start(jobId);
  return jobId;
}

/** Bad input for the rule job until stopped: each restart fails again at once (a crash loop). */
export function badInput(svc: CloudService, jobId: string): { stop(): void } {
  const feed = (): void => {
    for (let i = 0; svc.rules.engine.status(jobId).failure === null && i < 10_000; i++) svc.rules.input('faults/a', { other: 1 }, Date.now());
  };
  feed();
  const timer = setInterval(feed, 10);
  return { stop: () => clearInterval(timer) };
}

/** A board of `owner` sending signed telemetry every `everyMs` through a worker connection (as a gateway forwards it). */
export async function board(
  c: FaultCloud,
  owner: string,
  id: string,
  everyMs: number,
): Promise<{ token: string; stop(): void; resume(): void; close(): Promise<void> }> {
  const o = await call(c.api, 'POST', '/api/owners', ADMIN_TOKEN, { id: owner });
  const token = (o.body as { privateToken: string }).privateToken;
  const dev = (await call(c.api, 'POST', '/api/devices', token, { id, namespace: 'home' })).body as { key: string };
  const key = hmacKey(Buffer.from(dev.key, 'hex'));
  const client: MqttClient = await mqtt.connectAsync(c.mqttUrl, workerLogin(c.svc.mqttCredential));
  let sq = 0;
  const send = (): void => {
    const t = encode({ header: { kid: id, ep: 1, sq }, claims: { iss: id, iat: Math.floor(Date.now() / 1000), ev: 'tel', d: { t: 20 } } }, key);
    if (!t.ok) throw t.error;
    sq++;
    client.publish(`ferry/up/${id}/msg`, t.value, { qos: 1 });
  };
  let timer: NodeJS.Timeout | undefined;
  const resume = (): void => {
    send();
    timer ??= setInterval(send, everyMs);
  };
  resume();
  return {
    token,
    stop: () => {
      clearInterval(timer);
      timer = undefined;
    },
    resume,
    close: async () => {
      clearInterval(timer);
      await client.endAsync();
    },
  };
}

/** Blocks this thread's event loop for `ms` without spinning (a hung loop, as a synchronous call that never yields). */
export function stallEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
