/** The ONE ABI conformance suite (packages/abi/src/conformance.case.ts), run against the posix WAMR board over its serial port. */
import { afterEach, it } from 'vitest';
import { abiConformance } from '@ferry/abi/conformance';
import { BoardClient } from '@ferry/serial';
import { startPosixBoard, stopAll } from './src/posix-board.ts';
import { NEEDS_TEST_CONTROL, isHw } from './src/target.ts';

afterEach(stopAll);

const key = new Uint8Array(32).map((_, i) => 255 - i); // as the emulated board's adapter uses

if (isHw) {
  it.skip(`ABI conformance over serial (skipped: ${NEEDS_TEST_CONTROL})`, () => undefined);
} else {
  abiConformance('posix WAMR board over serial', async () => {
    const board = await startPosixBoard({ key, deviceId: 'conf-1', seed: 7, autoboot: false });
    const c = await BoardClient.open(board.pty, { timeoutMs: 10_000 });
    return {
      deviceId: 'conf-1',
      key,
      boot: () => c.testBoot(),
      tick: (ms) => c.testTick(ms),
      setSensor: (v) => c.testSensor(v),
      setState: (k, v) => c.setState(k, v),
      furnace: () => c.testFurnace(),
      // Messages precede the ACK of the request that made them on the one ordered line: all are in.
      messages: async () => [...c.messages],
      abiVersion: () => c.testAbiVersion(),
      command: async (token) => (await c.signedCommand(token)) === 'delivered',
      close: async () => {
        await c.close();
        await board.stop();
      },
    };
  });
}
