/** @module Where hw-tests find the posix board and the firmware. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * FERRY_BOARD_TARGET=rv32 (npm run test:mcu): the rv32 board under QEMU, whose build folder holds a
 * `ferry-board` launcher with the posix board's command line (firmware/host/rv32/ferry-board-rv32.sh);
 * anything else: the posix board.
 */
export const TARGET = process.env['FERRY_BOARD_TARGET'] === 'rv32' ? 'rv32' : 'posix';
export const BUILD_DIR = process.env['FERRY_BOARD_BUILD_DIR'] ?? join(REPO, TARGET === 'rv32' ? '.build/rv32' : '.build/host');
export const BOARD_BIN = join(BUILD_DIR, 'ferry-board');
export const FRAME_VECTORS_BIN = join(BUILD_DIR, 'ferry-frame-vectors');
export const BUILD_SCRIPT = join(REPO, `firmware/host/scripts/build-${TARGET}.sh`);
export const THERMOSTAT = join(REPO, 'firmware/build/thermostat.wasm');
/** HW_PORT names a real board's serial device; unset = the posix board on a pty. */
export const HW_PORT = process.env['HW_PORT'];
