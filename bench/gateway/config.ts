/** @module bench:gateway's sizes (overridable from the environment), names and topics, shared by every part. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);
export const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 20_000);
/** The whole daemon is slower (SQLite per message): fewer events per run keep the bench short; rates are per event. */
export const DAEMON_EVENTS = Number(process.env['BENCH_DAEMON_EVENTS'] ?? Math.round(EVENTS / 4));
export const REPLAY_NORMAL = Number(process.env['BENCH_REPLAY'] ?? 10_000);
export const REPLAY_FULL = Number(process.env['BENCH_REPLAY_FULL'] ?? 1_500);
export const REPLAY_RUNS = 3;
export const MOVES = Number(process.env['BENCH_MOVES'] ?? 10);
export const THRESHOLD = 25.06;
export const GW = 'bench-gw';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NODE_RED_DIR = process.env['BENCH_NODE_RED_DIR'] ?? join(ROOT, '.build', 'bench-node-red');
export const NODE_RED_VERSION = '4';
export const OUT = {
  ours: 'ferry/bench/out/ours',
  untrimmed: 'ferry/bench/out/untrimmed',
  daemon: 'ferry/bench/out/daemon',
  nodered: 'ferry/bench/out/nodered',
} as const;
export const NODE_RED_IN = 'ferry/bench/nr-in';
/** The gateway's signing key, for the daemon and for the readings the replay buffers. */
export const KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
