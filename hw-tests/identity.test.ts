/**
 * Same seed, same virtual clock: the posix WAMR board (C, sim_posix.c) and the Node EmulatedBoard (V8,
 * firmware/emulator) emit byte-identical signed messages, boot and reboots included. This pins the room
 * model, the xorshift32 noise, Math.round and the whole ABI across the two hosts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedBoard } from '@ferry/firmware';
import { BoardClient } from '@ferry/serial';
import { startPosixBoard, stopAll } from './src/posix-board.ts';
import { isHw } from './src/target.ts';

afterEach(stopAll);
const key = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
const d = isHw ? describe.skip : describe; // compares against the posix board's simulated room

d('posix WAMR board == Node emulated board', () => {
  it.each([
    { seed: 42, ticks: 500, room: {} },
    { seed: 3, ticks: 300, room: { noiseC: 0.6 } }, // noise wider than the hysteresis band: many switches
    { seed: 0, ticks: 200, room: { initialC: 19.6, noiseC: 0.125 } },
  ])('seed $seed, $ticks ticks, room $room: identical token lists', async ({ seed, ticks, room }) => {
    const emu = await EmulatedBoard.create({ key, seed, deviceId: 'twin-1', room });
    await emu.boot();
    const board = await startPosixBoard({ key, seed, deviceId: 'twin-1', autoboot: false, room });
    const c = await BoardClient.open(board.pty, { timeoutMs: 10_000 });
    try {
      expect(await c.testBoot()).toBe(emu.epoch);
      for (let i = 0; i < ticks; i++) {
        if (i === Math.floor(ticks / 2)) {
          // a reboot half-way: new epoch on both
          await emu.boot();
          expect(await c.testBoot()).toBe(emu.epoch);
        }
        const r = emu.tick(10_000);
        expect(await c.testTick(10_000)).toBe(r.ok ? r.value : NaN);
      }
      expect(c.messages.length).toBe(emu.messages.length);
      expect(c.messages.length).toBeGreaterThan(ticks);
      expect(c.messages).toEqual(emu.messages);
      expect(await c.testFurnace()).toBe(emu.furnaceOn);
      expect(emu.switches.length).toBeGreaterThan(0);
    } finally {
      await c.close();
    }
  });
});
