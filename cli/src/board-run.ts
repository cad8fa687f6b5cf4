/**
 * @module `ferry board run`: one emulated board online until SIGINT/SIGTERM (docs/actions.md "On the board").
 * The release firmware runs under the Node host in real time; the board logs in to the broker as its id
 * with the password derived from its key (as the cloud expects), publishes its signed messages on
 * `<prefix>/up/<id>/msg`, and takes signed commands from `<prefix>/dn/<id>/cmd`: the host verifies each one,
 * the module applies it and answers with a signed `cmd.ack`. Prints one JSON line per event. With
 * `--state <dir>` the boot epoch and the command replay window survive a restart; without it the epoch is
 * the Unix second at start, which also grows across restarts.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { DownlinkWindow } from '@ferry/message';
import { EmulatedBoard, goOnline, THERMOSTAT_WASM, type CommandOutcome } from '@ferry/firmware';
import { intOption, keyBytes } from './key.ts';
import { UsageError } from './usage.ts';
import type { Io } from './io.ts';

interface RunOptions {
  readonly id: string;
  readonly key?: string;
  readonly mqtt: string;
  readonly tick: string;
  readonly prefix: string;
  readonly state?: string;
  readonly wasm: string;
  readonly seed: string;
}

const readJson = (path: string): unknown => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
};

/** Written whole and renamed into place, so a kill leaves the old file or the new one. */
const writeJson = (path: string, value: unknown): void => {
  writeFileSync(`${path}.tmp`, JSON.stringify(value), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
};

export function boardRunCommand(io: Io): Command {
  return new Command('run')
    .description('run one emulated board online: signed telemetry up, signed commands down, acks up (until SIGINT/SIGTERM)')
    .requiredOption('--id <id>', 'the device id, as registered with the cloud')
    .option('--key <hex>', 'the device key in hex (or FERRY_KEY)')
    .requiredOption('--mqtt <url>', "the cloud's broker, e.g. mqtt://127.0.0.1:1883")
    .option('--tick <ms>', 'control period, real milliseconds', '10000')
    .option('--prefix <p>', 'topic prefix', 'ferry')
    .option('--state <dir>', 'keep the boot epoch and the command replay window here across restarts')
    .option('--wasm <path>', 'firmware module', THERMOSTAT_WASM)
    .option('--seed <n>', 'random seed for sensor noise', '1')
    .action(async (o: RunOptions) => {
      if (!/^[A-Za-z0-9._-]{1,32}$/.test(o.id)) throw new UsageError('--id must be 1..32 of [A-Za-z0-9._-]');
      const key = keyBytes(o.key, io);
      const tickMs = intOption(o.tick, '--tick', 50, 3_600_000);
      const line = (event: string, data: Record<string, unknown>): void => io.out(`${JSON.stringify({ event, ...data })}\n`);
      if (o.state !== undefined) mkdirSync(o.state, { recursive: true, mode: 0o700 });
      const file = (name: string): string | undefined => (o.state === undefined ? undefined : join(o.state, name));
      const windowFile = file('commands.json');
      const epochFile = file('epoch.json');
      let board: EmulatedBoard | undefined;
      board = await EmulatedBoard.create({
        wasm: o.wasm,
        key,
        deviceId: o.id,
        seed: intOption(o.seed, '--seed', 0, 0xffff_ffff),
        startMs: Date.now(),
        tickMs,
        downlink: {
          ...(windowFile !== undefined && { window: DownlinkWindow.from(readJson(windowFile)) }),
          // Persisted before the module sees the command, so a kill never lets it apply twice.
          onAccept: () => {
            if (windowFile !== undefined && board !== undefined) writeJson(windowFile, board.downlink.window.toJSON());
          },
        },
        onLog: (level, text) => {
          if (level >= 2) io.err(`board log: ${text}\n`);
        },
      });
      const b = board;
      // A pair (epoch, seq) must never repeat for this id, restarts included (docs/abi.md).
      const persisted = epochFile === undefined ? 0 : Number((readJson(epochFile) as { epoch?: unknown } | undefined)?.epoch ?? 0);
      b.epoch = Math.max(Math.floor(Date.now() / 1000), Number.isInteger(persisted) ? persisted : 0);
      if (epochFile !== undefined) writeJson(epochFile, { epoch: b.epoch + 1 });
      const boot = await b.boot();
      if (!boot.ok) throw new UsageError(`the firmware does not boot: ${boot.error.message}`);
      const online = await goOnline(b, { url: o.mqtt, namespace: 'default', prefix: o.prefix, mirror: false });
      const cmdTopic = `${o.prefix}/dn/${o.id}/cmd`;
      let chain = Promise.resolve();
      let epochSaved = b.epoch;
      const settle = async (): Promise<void> => {
        if (epochFile !== undefined && b.epoch !== epochSaved) {
          writeJson(epochFile, { epoch: b.epoch + 1 }); // a reboot command started a new epoch
          epochSaved = b.epoch;
        }
        await online.flush();
      };
      online.client.on('message', (topic, payload) => {
        if (topic !== cmdTopic) return;
        chain = chain.then(async () => {
          const out: CommandOutcome = await b.command(payload);
          await settle();
          line('command', { ...out });
        });
      });
      await online.client.subscribeAsync(cmdTopic, { qos: 1 });
      await online.flush();
      line('online', { id: o.id, epoch: b.epoch, topic: cmdTopic });
      const timer = setInterval(() => {
        chain = chain.then(async () => {
          const r = b.tick(tickMs);
          if (!r.ok) {
            // A trapped module is re-instantiated in a new epoch, as a board's watchdog does.
            io.err(`board: ${r.error.message}; rebooting\n`);
            await b.boot();
          }
          await settle();
        });
      }, tickMs);
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      clearInterval(timer);
      await chain.catch(() => undefined);
      await online.close();
    });
}
