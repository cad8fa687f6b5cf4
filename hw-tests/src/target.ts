/**
 * @module The board under test, the same way for every test file: the posix board on a fresh pty
 * (default), or the real board on HW_PORT. Tests talk to it only through a BoardClient on its serial
 * port. A real board has no test control: tests that need it skip with that reason.
 */
import { it } from 'vitest';
import { BoardClient, type BoardInfo } from '@ferry/serial';
import { HW_PORT } from './paths.ts';
import { startPosixBoard, stopAll, type PosixBoard, type PosixBoardOptions } from './posix-board.ts';

export const isHw = HW_PORT !== undefined && HW_PORT !== '';
export const NEEDS_TEST_CONTROL = 'needs test control (virtual clock, sensor injection), which only the posix board has';
export const NEEDS_PROCESS = 'kills and restarts the board process, which only the posix board is';

/** A case that runs on the posix board only; on a real board it is skipped with the reason in its title. */
export function posixOnly(reason: string): (title: string, fn: () => Promise<void>) => void {
  return (title, fn) => {
    if (isHw) it.skip(`${title} (skipped: ${reason})`, () => undefined);
    else it(title, fn);
  };
}

/** The device key: HW_KEY (hex) for a real board, else a fixed test key. */
export const KEY = isHw ? Uint8Array.from(Buffer.from(process.env['HW_KEY'] ?? '', 'hex')) : new Uint8Array(32).map((_, i) => 0x40 + i);

export interface Target {
  readonly client: BoardClient;
  readonly board: PosixBoard | undefined;
  readonly info: BoardInfo;
}

const clients = new Set<BoardClient>();

export async function connect(path: string): Promise<BoardClient> {
  const c = await BoardClient.open(path, { timeoutMs: 10_000 });
  clients.add(c);
  return c;
}

export async function openTarget(o: Partial<PosixBoardOptions> = {}): Promise<Target> {
  const board = isHw ? undefined : await startPosixBoard({ key: KEY, ...o });
  const client = await connect(isHw ? HW_PORT! : board!.pty);
  const info = await client.hello();
  return { client, board, info };
}

export async function closeClients(): Promise<void> {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
}

/** afterEach: close every client, stop every posix board, remove their folders. */
export async function cleanup(): Promise<void> {
  await closeClients();
  await stopAll();
}
