/**
 * @module `ferry cloud rotate-master-key`: re-seals every secret of a stopped cloud under a new master key
 * (@ferry/cloud rotateMasterKey; docs/cloud.md, "Rotating the master key"). Prints one JSON object on stdout:
 * the counts, and in environment mode (FERRY_MASTER_KEY set) the new key, shown once. Progress goes to
 * stderr. Exit 1 when refused (a cloud holds the data dir, a row that opens under no key), 2 on usage errors.
 */
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { DeviceError, rotateMasterKey } from '@ferry/cloud';
import type { Io } from './io.ts';

type Progress = (p: { readonly phase: 'sqlite' | 'redis'; readonly done: number; readonly total: number }) => void;

/** A cli-progress bar per phase on a terminal; otherwise (pipes, tests) a line per quarter of each phase. */
function progress(io: Io): { update: Progress; stop: () => void } {
  if (process.stderr.isTTY === true && io.env['FERRY_NO_PROGRESS_BAR'] === undefined) {
    let bar: cliProgress.SingleBar | undefined;
    let phase = '';
    return {
      update: (p) => {
        if (p.phase !== phase) {
          bar?.stop();
          phase = p.phase;
          bar = new cliProgress.SingleBar({ format: `${p.phase} [{bar}] {value}/{total} rows`, stream: process.stderr }, cliProgress.Presets.shades_classic);
          bar.start(p.total, 0);
        }
        bar?.update(p.done);
      },
      stop: () => bar?.stop(),
    };
  }
  const shown = new Map<string, number>();
  return {
    update: (p) => {
      const q = Math.floor((p.done / Math.max(1, p.total)) * 4);
      if (q > (shown.get(p.phase) ?? -1)) {
        shown.set(p.phase, q);
        io.err(`rotate-master-key: ${p.phase} ${p.done}/${p.total} rows\n`);
      }
    },
    stop: () => undefined,
  };
}

export function rotateCommand(io: Io, setCode: (c: number) => void): Command {
  return new Command('rotate-master-key')
    .description('with every cloud on --data stopped: re-seal device keys, owner secrets and schedule tokens under a new master key')
    .option('--data <dir>', 'data directory (SQLite, master key)', './data/cloud')
    .option('--redis <url>', "the cloud's Redis in scale-out mode: its owners and schedules are re-sealed too")
    .action(async (o: { data: string; redis?: string }) => {
      const bar = progress(io);
      try {
        await rotateMasterKey({
          dataDir: o.data,
          env: io.env,
          ...(o.redis !== undefined && { redis: { url: o.redis } }),
          onProgress: bar.update,
          announce: (r) => {
            bar.stop();
            io.out(`${JSON.stringify(r)}\n`);
          },
        });
      } catch (e) {
        bar.stop();
        if (!(e instanceof DeviceError)) throw e;
        io.err(`${JSON.stringify({ code: e.code, num: e.num, message: e.message })}\n`);
        setCode(1);
      }
    });
}
