/**
 * @module Starts the posix WAMR board (`ferry-board serve`) as a child process on a fresh pty and state
 * directory, and stops it: gracefully (SIGTERM), or like a power cut (SIGKILL). Every board is stopped
 * and its folder removed by `stopAll()` (called from afterEach), and `--die-with-parent` ends it if
 * the test runner itself dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BOARD_BIN, THERMOSTAT } from './paths.ts';

export interface PosixBoardOptions {
  readonly key: Uint8Array;
  readonly deviceId?: string;
  readonly seed?: number;
  readonly module?: string;
  readonly autoboot?: boolean;
  readonly room?: { readonly initialC?: number; readonly noiseC?: number };
  /** Reuse a state directory (a restart after a power cut). */
  readonly stateDir?: string;
  readonly extraArgs?: readonly string[];
}

export interface PosixBoard {
  readonly pty: string;
  readonly stateDir: string;
  readonly proc: ChildProcess;
  readonly stderr: string[];
  /** Resolves with the exit code (null after a signal). */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
  /** SIGKILL: no handler runs, like pulling the plug. */
  powerCut(): Promise<void>;
}

const live = new Set<PosixBoard>();
const dirs = new Set<string>();

export async function startPosixBoard(o: PosixBoardOptions): Promise<PosixBoard> {
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), 'ferry-hw-'));
  dirs.add(stateDir);
  const keyFile = join(stateDir, 'device.key');
  writeFileSync(keyFile, Buffer.from(o.key).toString('hex'));
  const args = [
    'serve',
    '--module',
    o.module ?? THERMOSTAT,
    '--state-dir',
    stateDir,
    '--key-file',
    keyFile,
    '--device-id',
    o.deviceId ?? 'th-01',
    '--seed',
    String(o.seed ?? 1),
    '--test-control',
    '--die-with-parent',
    '--quiet',
    ...(o.autoboot === false ? ['--no-autoboot'] : []),
    ...(o.room?.initialC !== undefined ? ['--room-initial', String(o.room.initialC)] : []),
    ...(o.room?.noiseC !== undefined ? ['--room-noise', String(o.room.noiseC)] : []),
    ...(o.extraArgs ?? []),
  ];
  const proc = spawn(BOARD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => {
    stderr.push(l);
  });
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code) => resolve(code));
  });
  const pty = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (l) => {
      const m = /^serial (\S+)$/.exec(l);
      if (m) resolve(m[1]!);
    });
    void exited.then((c) => reject(new Error(`ferry-board exited (${c}) before opening its pty:\n${stderr.join('\n')}`)));
    proc.on('error', reject);
  });
  const kill = async (sig: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await exited;
    live.delete(board);
  };
  const board: PosixBoard = { pty, stateDir, proc, stderr, exited, stop: () => kill('SIGTERM'), powerCut: () => kill('SIGKILL') };
  live.add(board);
  return board;
}

/** Stops every board still running and removes every state directory. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((b) => b.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}
