/**
 * Alarm notifications across a kill -9 of the cloud (docs/operations.md "Alarms", notifications): a cloud
 * process raises an alarm from a board's telemetry; its webhook notification fails once and waits for its
 * retry; the process is killed with SIGKILL then and started again on the same data. The notification is
 * delivered once after the restart, the restart raises nothing new and sends nothing else, and the clear
 * that follows is notified once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { ADMIN_TOKEN, call } from '@ferry/test-kit/http';
import { deviceLogin } from '@ferry/test-kit/mqtt-login';
import { DELIVERY_HEADER } from '../cloud/src/notify/channel-webhook.ts';
import { httpSink, until } from '../cloud/src/notify/test-sinks.case.ts';

const CHILD = join(import.meta.dirname, 'alarms-kill.child.ts');
const IAT = 1_767_225_600;

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

async function start(dataDir: string): Promise<{ proc: ChildProcess; mqttUrl: string; api: string }> {
  // One process (node with tsx's loader), not the tsx launcher, whose child a SIGKILL of it would leave running.
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^ready (\S+) (\S+)$/m.exec(out);
      if (m !== null) resolve({ proc, mqttUrl: m[1]!, api: m[2]! });
    });
    proc.once('exit', (code) => reject(new Error(`the cloud exited with ${String(code)}: ${err}`)));
  });
}

async function kill(cloud: { proc: ChildProcess; api: string }): Promise<void> {
  const exited = new Promise((r) => cloud.proc.once('exit', r));
  cloud.proc.kill('SIGKILL');
  await exited;
  // The cloud itself is gone, not only a launcher in front of it: its API no longer answers.
  await expect(fetch(`${cloud.api}/healthz`)).rejects.toThrow();
}

describe('alarm notifications across a kill -9 of the cloud', () => {
  it('delivers the pending notification once after the restart, raises nothing again, then notifies the clear once', async () => {
    const sink = await httpSink();
    sink.answer = (n) => (n === 1 ? 500 : 200); // the first attempt fails: the delivery waits for its retry
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-alarms-kill-'));
    let cloud = await start(dataDir);
    const made = await call(cloud.api, 'POST', '/api/devices', ADMIN_TOKEN, { id: 'k1', namespace: 'home' });
    const key = (made.body as { key: string }).key;
    const ch = await call(cloud.api, 'POST', '/api/v1/notify/channels', ADMIN_TOKEN, { kind: 'webhook', config: { url: sink.url } });
    await call(cloud.api, 'POST', '/api/v1/notify/subscriptions', ADMIN_TOKEN, {
      channelId: (ch.body as { id: string }).id,
      kinds: ['alarm.*'],
      source: 'hot/*',
    });
    const rule = await call(cloud.api, 'POST', '/api/v1/alarm-rules', ADMIN_TOKEN, {
      name: 'hot',
      type: 'hot',
      severity: 'critical',
      source: { kind: 'telemetry', device: 'k1' },
      value: 'temp',
      condition: { op: '>', threshold: 30 },
    });
    expect(rule.status).toBe(201);
    let sq = 0;
    const send = async (mqttUrl: string, temp: number): Promise<void> => {
      const c = await mqtt.connectAsync(mqttUrl, { ...deviceLogin('k1', key), reconnectPeriod: 0 });
      sq++;
      const tok = encode({ header: { kid: 'k1', ep: 1, sq }, claims: { iss: 'k1', iat: IAT + sq, ev: 'tel', d: { temp } } }, hmacKey(Buffer.from(key, 'hex')));
      if (!tok.ok) throw tok.error;
      await c.publishAsync('ferry/up/k1/msg', tok.value, { qos: 1 });
      await c.endAsync(true);
    };
    await send(cloud.mqttUrl, 40);
    await until(() => sink.received.length === 1, 'the first (failed) attempt');
    // Killed once the failure is recorded and the delivery waits for its retry.
    await until(async () => {
      const q = (await call(cloud.api, 'GET', '/api/v1/notify/deliveries?state=queued', ADMIN_TOKEN)).body as { attempts: number }[];
      return q.length === 1 && q[0]!.attempts === 1;
    }, 'the failure recorded');
    await kill(cloud);

    cloud = await start(dataDir);
    await until(() => sink.received.length === 2, 'the retry after the restart');
    await new Promise((r) => setTimeout(r, 2000)); // sweeps, notifier rounds and a retry interval go by
    expect(sink.received.length).toBe(2);
    const ids = sink.received.map((r) => r.headers[DELIVERY_HEADER]);
    expect(ids[0]).toBe(ids[1]); // the same delivery, sent again, not a second notification
    const listed = (await call(cloud.api, 'GET', '/api/v1/alarms?type=hot', ADMIN_TOKEN)).body as { alarms: { status: string; count: number }[] };
    expect(listed.alarms.map((a) => [a.status, a.count])).toEqual([['active', 1]]);

    await kill(cloud); // and once more, with nothing pending
    cloud = await start(dataDir);
    await send(cloud.mqttUrl, 20);
    await until(() => sink.received.length === 3, 'the clear');
    await new Promise((r) => setTimeout(r, 500));
    const kinds = sink.received.map((r) => (JSON.parse(r.body) as { event: { kind: string } }).event.kind);
    expect(kinds).toEqual(['alarm.raised', 'alarm.raised', 'alarm.cleared']);
    cloud.proc.kill('SIGTERM');
    await sink.close();
  }, 90_000);
});
