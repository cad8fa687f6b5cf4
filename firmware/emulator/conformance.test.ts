/** The emulated board runs the shared ABI conformance suite against the release firmware. */
import { abiConformance } from '@ferry/abi/conformance';
import { EmulatedBoard } from './board.ts';

abiConformance('Node emulated board', async () => {
  const key = new Uint8Array(32).map((_, i) => 255 - i);
  let clock = (): number => 0;
  const b = await EmulatedBoard.create({ key, deviceId: 'conf-1', seed: 7, downlink: { nowMs: () => clock() } });
  clock = () => b.clock.nowMs();
  return {
    deviceId: b.deviceId,
    key,
    boot: async () => {
      const r = await b.boot();
      if (!r.ok) throw r.error;
      return b.epoch;
    },
    tick: async (ms) => {
      const r = b.tick(ms);
      if (!r.ok) throw r.error;
      return r.value;
    },
    setSensor: async (v) => {
      b.sensorOverride = v;
    },
    setState: async (k, v) => {
      b.state.setText(k, v);
    },
    furnace: async () => b.furnaceOn,
    messages: async () => [...b.messages],
    abiVersion: () => b.abiVersion(),
    command: async (token) => (await b.command(token)).delivered,
    close: async () => undefined,
  };
});
