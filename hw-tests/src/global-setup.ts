/**
 * Builds the posix board when needed (firmware/host/scripts/build-posix.sh is incremental: CMake and
 * Ninja rebuild only what changed) and checks the firmware exists. Skipped with HW_PORT, except that the
 * C framing filter is still built for frame-vectors.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BUILD_DIR, BUILD_SCRIPT, THERMOSTAT } from './paths.ts';

export default function setup(): void {
  if (process.env['FERRY_SKIP_BUILD'] !== '1') {
    // FERRY_CMAKE_ARGS, e.g. "-DFERRY_FAST_INTERP=OFF" with FERRY_BOARD_BUILD_DIR=.build/host-classic.
    const extra = (process.env['FERRY_CMAKE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
    const r = spawnSync(BUILD_SCRIPT, extra, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, BUILD_DIR } });
    if (r.status !== 0) throw new Error(`${BUILD_SCRIPT} failed (status ${r.status}); see its output above`);
  }
  if (!existsSync(THERMOSTAT)) throw new Error(`no ${THERMOSTAT}: run npm run build:firmware`);
}
