/**
 * Signed commands through a running gateway to the posix WAMR board, end to end with the real cloud: a
 * command published on the cloud's broker (aedes, embedded) for `ferry/dn/<board>/cmd` is taken by the
 * gateway, forwarded unchanged over the pty, verified and applied by the board, and its signed cmd.ack comes
 * back through the gateway's outbox to the cloud's ingest, which verifies it with the board's key. With the
 * board unplugged, the gateway keeps the command (on disk) and delivers it when the board is back. And the
 * whole way from the operator's terminal: `ferry action send` (a real process) through the cloud's command
 * queue, the gateway and the board, until `ferry action status` says acked.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudService } from '@ferry/cloud';
import { GatewayDaemon, buildSources, parseConfig } from '@ferry/gateway';
import { signCommand } from '@ferry/test-kit/device-commands';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { freePort } from '@ferry/test-kit/ports';
import { until } from '@ferry/test-kit/until';
import { startPosixBoard } from './src/posix-board.ts';
import { cleanup, isHw } from './src/target.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'cli', 'bin', 'ferry.mjs');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await cleanup();
});

describe('commands through the gateway to a serial board', () => {
  it.skipIf(isHw)(
    'a command published on the broker is applied by the board behind the gateway and its signed ack is ingested; queued while unplugged',
    async () => {
      const mqttPort = await freePort();
      const cloud = new CloudService({ dataDir: mkdtempSync(join(tmpdir(), 'ferry-hw-cloud-')), mqttPort, httpPort: 0, log: () => undefined });
      await cloud.start();
      cleanups.push(() => cloud.stop());
      const gw = cloud.devices.add('gw-cmd', 'home', Date.now(), undefined, { kind: 'gateway' });
      const th = cloud.devices.add('th-gwc', 'home', Date.now(), undefined, { gateway: 'gw-cmd' });
      const boardKey = Uint8Array.from(Buffer.from(th.key, 'hex'));

      const link = join(mkdtempSync(join(tmpdir(), 'ferry-link-')), 'board-tty');
      const boardArgs = ['--tick-ms', '200', '--link', link];
      const board = await startPosixBoard({ key: boardKey, deviceId: 'th-gwc', extraArgs: boardArgs });
      const cfg = parseConfig({
        gateway: { id: 'gw-cmd', key: gw.key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-gw-cmd-')) },
        uplink: { url: `mqtt://127.0.0.1:${mqttPort}` },
        api: { port: 0 },
        serial: [{ path: link, kind: 'board', id: 'th-gwc' }],
      });
      const gateway = new GatewayDaemon(cfg, { sources: await buildSources(cfg), log: () => undefined });
      await gateway.start();
      cleanups.push(() => gateway.stop());

      // The cloud's side: a worker connection publishing signed commands, as the cloud's command queue will.
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, workerLogin(cloud.mqttCredential));
      cleanups.push(() => pub.endAsync(true));
      let sq = 0;
      const send = (id: string, cmd: unknown): Promise<unknown> =>
        pub.publishAsync(
          'ferry/dn/th-gwc/cmd',
          signCommand({ deviceKey: boardKey, deviceId: 'th-gwc', id, cmd: cmd as never, ep: 1_800_000_000, sq: ++sq, nowMs: Date.now() }),
          { qos: 1 },
        );
      const acks = async (): Promise<unknown[]> => (await cloud.ingest.series.query('th-gwc/cmd.ack', 0, Number.MAX_SAFE_INTEGER)).map((p) => p.value);
      const lastSetpoint = async (): Promise<unknown> =>
        ((await cloud.ingest.series.query('th-gwc/tel', 0, Number.MAX_SAFE_INTEGER)).at(-1)?.value as { sp?: unknown } | undefined)?.sp;

      await until(async () => (await lastSetpoint()) === 20, 'telemetry through the gateway');
      await until(() => gateway.health().sources.every((s) => s.up), 'the board source up');
      await send('sp-1', { setpoint: 23.5 });
      await until(async () => (await acks()).length === 1, 'the first ack in the cloud');
      expect(await acks()).toEqual([{ id: 'sp-1', status: 'acked' }]);
      await until(async () => (await lastSetpoint()) === 23.5, 'telemetry with the new setpoint');

      // Unplugged: the gateway keeps the command; plugged back, the board gets it and answers.
      await board.powerCut();
      await until(() => gateway.health().sources.every((s) => !s.up), 'the board source down');
      await send('sp-2', { setpoint: 21 });
      await until(() => gateway.commands.queued()['th-gwc'] === 1, 'the command queued at the gateway');
      const again = await startPosixBoard({ key: boardKey, deviceId: 'th-gwc', stateDir: board.stateDir, extraArgs: boardArgs });
      cleanups.push(() => again.stop());
      await until(async () => (await acks()).length === 2, 'the queued command acked after the board came back');
      expect((await acks())[1]).toEqual({ id: 'sp-2', status: 'acked' });
      expect(gateway.commands.queued()['th-gwc'] ?? 0).toBe(0);
      await until(async () => (await lastSetpoint()) === 21, 'telemetry with the queued setpoint');
      expect(gateway.commands.stats()).toMatchObject({ received: 2, forwarded: 2, refused: 0 });
    },
    90_000,
  );

  it.skipIf(isHw)(
    'ferry action send changes the setpoint of the board behind the gateway, and ferry action status says acked',
    async () => {
      const mqttPort = await freePort();
      const cloud = new CloudService({ dataDir: mkdtempSync(join(tmpdir(), 'ferry-hw-cloud-')), mqttPort, httpPort: 0, log: () => undefined });
      const { httpUrl } = await cloud.start();
      cleanups.push(() => cloud.stop());
      const gw = cloud.devices.add('gw-act', 'home', Date.now(), undefined, { kind: 'gateway' });
      const th = cloud.devices.add('th-act', 'home', Date.now(), undefined, { gateway: 'gw-act' });
      const link = join(mkdtempSync(join(tmpdir(), 'ferry-link-')), 'board-tty');
      const board = await startPosixBoard({
        key: Uint8Array.from(Buffer.from(th.key, 'hex')),
        deviceId: 'th-act',
        extraArgs: ['--tick-ms', '200', '--link', link],
      });
      cleanups.push(() => board.stop());
      const cfg = parseConfig({
        gateway: { id: 'gw-act', key: gw.key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-gw-act-')) },
        uplink: { url: `mqtt://127.0.0.1:${mqttPort}` },
        api: { port: 0 },
        serial: [{ path: link, kind: 'board', id: 'th-act' }],
      });
      const gateway = new GatewayDaemon(cfg, { sources: await buildSources(cfg), log: () => undefined });
      await gateway.start();
      cleanups.push(() => gateway.stop());
      const lastSetpoint = async (): Promise<unknown> =>
        ((await cloud.ingest.series.query('th-act/tel', 0, Number.MAX_SAFE_INTEGER)).at(-1)?.value as { sp?: unknown } | undefined)?.sp;
      await until(async () => (await lastSetpoint()) === 20, 'telemetry through the gateway');

      const env = { ...process.env, FERRY_API: httpUrl, FERRY_TOKEN: cloud.adminToken };
      const ferry = async (...args: string[]): Promise<Record<string, unknown>> =>
        JSON.parse((await run(process.execPath, [CLI, 'action', ...args], { env })).stdout) as Record<string, unknown>;
      const sent = await ferry('send', 'th-act', '--command', '{"setpoint": 23.5}', '--ttl', '60');
      expect(typeof sent['id']).toBe('string');
      let state: unknown;
      await until(async () => {
        state = (await ferry('status', sent['id'] as string))['state'];
        return state === 'acked' || state === 'rejected' || state === 'failed' || state === 'expired';
      }, 'the command to finish');
      expect(state).toBe('acked');
      await until(async () => (await lastSetpoint()) === 23.5, 'telemetry with the new setpoint');
    },
    90_000,
  );
});
