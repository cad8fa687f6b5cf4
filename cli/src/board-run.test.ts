/**
 * `ferry board run` as a real process against a real cloud (embedded broker, real ingest): the board logs in
 * with the password derived from its key, receives a signed command on its dn topic, applies it and acks; the
 * ack is verified and stored by the cloud, and the board's telemetry shows the new setpoint. A forged command
 * changes nothing and is not answered. Killed (-9) and restarted on the same state, it boots into a newer epoch
 * and answers the same command again as `replayed`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCloud } from '../../cloud/src/service/test-cloud.case.ts';
import { signCommand } from '@ferry/test-kit/device-commands';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { freePort } from '@ferry/test-kit/ports';
import { until } from '@ferry/test-kit/until';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../bin/ferry.mjs');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function run(args: string[]): { proc: ChildProcess; lines: Record<string, unknown>[]; stderr: string[] } {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  });
  return { proc, lines, stderr };
}

describe('ferry board run', () => {
  it('receives a signed command over MQTT as a real process, applies it and acks through the cloud ingest', async () => {
    const mqttPort = await freePort();
    const { svc: cloud, stop } = await startTestCloud({ name: 'run-cloud', mqttPort });
    cleanups.push(stop);
    const { key } = cloud.devices.add('th-run', 'home');
    const keyBytes = Uint8Array.from(Buffer.from(key, 'hex'));
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    const state = mkdtempSync(join(tmpdir(), 'ferry-run-'));
    const board = run(['board', 'run', '--id', 'th-run', '--key', key, '--mqtt', url, '--tick', '100', '--state', state]);
    await until(() => board.lines.some((l) => l['event'] === 'online'), `the board online (stderr: ${board.stderr.join(' ')})`);

    const pub = await mqtt.connectAsync(url, workerLogin(cloud.mqttCredential));
    cleanups.push(() => pub.endAsync(true));
    const series = async (ev: string): Promise<unknown[]> => (await cloud.ingest.series.query(`th-run/${ev}`, 0, Number.MAX_SAFE_INTEGER)).map((p) => p.value);
    const setpoint = async (): Promise<unknown> => ((await series('tel')).at(-1) as { sp?: unknown } | undefined)?.sp;
    await until(async () => (await setpoint()) === 20, 'telemetry in the cloud');

    const forged = signCommand({
      deviceKey: new Uint8Array(32).fill(1),
      deviceId: 'th-run',
      id: 'forged',
      cmd: { setpoint: 30 },
      ep: 1,
      sq: 1,
      nowMs: Date.now(),
    });
    await pub.publishAsync('ferry/dn/th-run/cmd', forged, { qos: 1 });
    const real = signCommand({ deviceKey: keyBytes, deviceId: 'th-run', id: 'run-1', cmd: { setpoint: 22.5 }, ep: 1, sq: 2, nowMs: Date.now() });
    await pub.publishAsync('ferry/dn/th-run/cmd', real, { qos: 1 });
    await until(async () => (await series('cmd.ack')).length === 1, 'the ack in the cloud');
    expect(await series('cmd.ack')).toEqual([{ id: 'run-1', status: 'acked' }]);
    await until(async () => (await setpoint()) === 22.5, 'telemetry with the new setpoint');
    expect(board.lines.filter((l) => l['event'] === 'command').map((l) => l['delivered'])).toEqual([false, true]);

    // kill -9, then the same state: a new epoch, and the command already applied is answered `replayed`.
    const firstEpoch = board.lines.find((l) => l['event'] === 'online')!['epoch'] as number;
    board.proc.kill('SIGKILL');
    await new Promise((r) => board.proc.once('exit', r));
    const again = run(['board', 'run', '--id', 'th-run', '--key', key, '--mqtt', url, '--tick', '100', '--state', state]);
    await until(() => again.lines.some((l) => l['event'] === 'online'), 'the board online again');
    expect(again.lines.find((l) => l['event'] === 'online')!['epoch']).toBeGreaterThan(firstEpoch);
    await pub.publishAsync('ferry/dn/th-run/cmd', real, { qos: 1 });
    await until(async () => (await series('cmd.ack')).length === 2, 'the answer to the replay');
    expect((await series('cmd.ack'))[1]).toEqual({ id: 'run-1', status: 'rejected', reason: 'replayed' });
  }, 60_000);
});
