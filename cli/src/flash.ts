/**
 * @module `ferry board upload` and its alias `ferry flash`: push a firmware module to a board over a serial
 * port (a real board's USB-UART, or the posix board's pty) with a progress bar. The module is checked
 * against the device ABI here first; the board checks again (SHA-256, imports, abi_version, boot) and
 * keeps its old module on any refusal (docs/serial-protocol.md §Upload).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { BoardClient, SerialError, type UploadProgress } from '@ferry/serial';
import { checkModule } from '@ferry/wasm-host';
import { intOption } from './key.ts';
import { UsageError } from './usage.ts';
import type { Io } from './io.ts';

interface UploadOpts {
  port?: string;
  chunk: string;
  baud: string;
  timeoutMs: string;
  force?: boolean;
  check: boolean;
}

/** Progress on a terminal: a cli-progress bar; otherwise (pipes, tests) a line per quarter. */
function progressReporter(io: Io, total: number): { update: (p: UploadProgress) => void; stop: () => void } {
  if (process.stderr.isTTY === true && io.env['FERRY_NO_PROGRESS_BAR'] === undefined) {
    const bar = new cliProgress.SingleBar(
      { format: 'upload [{bar}] {percentage}% | {value}/{total} bytes', stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (p) => bar.update(p.sent), stop: () => bar.stop() };
  }
  let shown = -1;
  return {
    update: (p) => {
      const q = Math.floor((p.sent / Math.max(1, p.total)) * 4);
      if (q > shown) {
        shown = q;
        io.err(`upload: ${p.sent}/${p.total} bytes\n`);
      }
    },
    stop: () => undefined,
  };
}

async function upload(path: string, o: UploadOpts, io: Io, setCode: (c: number) => void): Promise<void> {
  const port = o.port ?? io.env['FERRY_PORT'];
  if (port === undefined) throw new UsageError('a serial port is required: --port <path> or FERRY_PORT');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new UsageError(`cannot read ${path}`);
  }
  const chunkSize = intOption(o.chunk, '--chunk', 16, 4084);
  if (o.check) {
    const c = checkModule(bytes);
    if (!c.ok) {
      for (const e of c.errors) io.err(`${e.message}\n`);
      io.err(`ferry: ${path} does not conform to the device ABI; not uploaded (--no-check to let the board decide)\n`);
      setCode(1);
      return;
    }
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  let client: BoardClient;
  try {
    client = await BoardClient.open(port, {
      baudRate: intOption(o.baud, '--baud', 300, 4_000_000),
      timeoutMs: intOption(o.timeoutMs, '--timeout-ms', 100, 600_000),
    });
  } catch (e) {
    io.err(`ferry: ${(e as Error).message}\n`);
    setCode(1);
    return;
  }
  try {
    const before = await client.hello();
    io.out(`board ${before.boardId}: epoch ${before.epoch}, running ${before.running ? before.moduleSha256 : 'nothing'}\n`);
    if (before.running && before.moduleSha256 === sha && o.force !== true) {
      io.out(`already running ${sha}; nothing to do (--force to upload anyway)\n`);
      return;
    }
    io.out(`uploading ${path} (${bytes.length} bytes, sha256 ${sha})\n`);
    const progress = progressReporter(io, bytes.length);
    let epoch: number;
    try {
      epoch = await client.upload(bytes, { chunkSize, onProgress: progress.update });
    } finally {
      progress.stop();
    }
    const after = await client.hello();
    io.out(`ok: board ${after.boardId} runs ${after.moduleSha256} in epoch ${epoch}\n`);
    if (after.moduleSha256 !== sha) {
      io.err('ferry: the board reports another module after the upload\n');
      setCode(1);
    }
  } catch (e) {
    if (!(e instanceof SerialError)) throw e;
    io.err(`ferry: upload refused: ${e.message} (the board keeps its previous module)\n`);
    setCode(1);
  } finally {
    await client.close();
  }
}

/** The upload command under a given name: `upload` (for `ferry board upload`) or `flash` (top level). */
export function uploadCommand(io: Io, setCode: (c: number) => void, name: 'upload' | 'flash' = 'upload'): Command {
  return new Command(name)
    .description('push a firmware module to a board over a serial port (verified by SHA-256; the board swaps only if it loads, matches the ABI and boots)')
    .argument('<module.wasm>', 'the module to upload')
    .option('--port <path>', "serial device, e.g. /dev/ttyUSB0 or the posix board's /dev/pts/N (or FERRY_PORT)")
    .option('--chunk <bytes>', 'upload chunk size', '1024')
    .option('--baud <rate>', 'baud rate of a real UART', '115200')
    .option('--timeout-ms <ms>', 'reply timeout per frame', '5000')
    .option('--force', 'upload even if the board already runs this module')
    .option('--no-check', 'skip the local ABI check and let the board refuse a bad module')
    .action((path: string, o: UploadOpts) => upload(path, o, io, setCode));
}

/**
 * `ferry flash`, for main.ts. Given the program, it also adds `upload` under the existing `board` group,
 * so one line in main.ts wires both `ferry flash` and `ferry board upload`.
 */
export function flashCommand(io: Io, setCode: (c: number) => void, program?: Command): Command {
  program?.commands.find((c) => c.name() === 'board')?.addCommand(uploadCommand(io, setCode, 'upload'));
  return uploadCommand(io, setCode, 'flash');
}
