/**
 * Properties of the command path through the real firmware (the module's JSON scanner and command parser,
 * firmware/assembly/lib/json.ts and command.ts), against oracles written from docs/actions.md: any body the
 * cloud can sign is answered at most once and never traps the module; exactly the bodies with a valid id are
 * answered; a setpoint is acked exactly when it is a number in 5..35 with at most two decimals, and then
 * applied; arbitrary `cmd` values never trap and are acked only when they are one known command.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Json } from '@ferry/message';
import { acksIn, signCommand } from '@ferry/test-kit/device-commands';
import { EmulatedBoard } from './board.ts';

const key = new Uint8Array(32).map((_, i) => 3 * i + 1);
const ID = 'th-prop';

async function board(): Promise<EmulatedBoard> {
  let b: EmulatedBoard | undefined;
  b = await EmulatedBoard.create({ key, deviceId: ID, downlink: { nowMs: () => b?.clock.nowMs() ?? 0 } });
  const r = await b.boot();
  if (!r.ok) throw r.error;
  return b;
}

let sq = 0;
const token = (b: EmulatedBoard, body: Json): string =>
  signCommand({ deviceKey: key, deviceId: ID, id: '', cmd: null, body, ep: 7, sq: ++sq, nowMs: b.clock.nowMs() });

/** What the board answers to one body: the acks it emitted, and whether the module is still alive. */
async function answer(b: EmulatedBoard, body: Json): Promise<{ acks: ReturnType<typeof acksIn>; delivered: boolean }> {
  const before = b.messages.length;
  const out = await b.command(token(b, body));
  expect(b.tick().ok).toBe(true); // the module never trapped
  return { acks: acksIn(b.messages.slice(before), key), delivered: out.delivered };
}

const ID_OK = /^[A-Za-z0-9._-]{1,64}$/;
const json: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 20 }) as fc.Arbitrary<Json>;

describe('command bodies (property)', () => {
  it('a body is answered exactly once when its id is valid, never otherwise, and never traps the module', async () => {
    const b = await board();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(ID_OK), json), json, async (id, cmd) => {
        const r = await answer(b, { id: id as Json, cmd });
        const valid = typeof id === 'string' && ID_OK.test(id);
        expect(r.acks.length).toBe(valid ? 1 : 0);
        if (valid) expect(r.acks[0]!.id).toBe(id);
      }),
      { numRuns: 300 },
    );
  });

  it('a setpoint is acked exactly when it is a number in 5..35 with at most two decimals, and then applied', async () => {
    const b = await board();
    const value = fc.oneof(
      fc.double({ min: -100, max: 100, noNaN: true }),
      fc.integer({ min: -10, max: 50 }).map((n) => n / 4),
      fc.constantFrom(5, 35, 4.99, 35.01, 1e21),
    );
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const r = await answer(b, { id: 'sp', cmd: { setpoint: v } });
        const text = JSON.stringify(v);
        const ok = /^-?\d+(\.\d{1,2})?$/.test(text) && v >= 5 && v <= 35;
        expect(r.acks.map((a) => a.status)).toEqual([ok ? 'acked' : 'rejected']);
        if (ok) expect(Number(b.state.getText('cfg.sp'))).toBe(v);
      }),
      { numRuns: 300 },
    );
  });

  it('an arbitrary cmd object is acked only when it is one known command', async () => {
    const b = await board();
    const known = new Set(['setpoint', 'schedule', 'furnace', 'for_s', 'reboot']);
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(...known)), json, { maxKeys: 3 }), async (cmd) => {
        const r = await answer(b, { id: 'any', cmd });
        expect(r.acks).toHaveLength(1);
        const keys = Object.keys(cmd);
        if (r.acks[0]!.status === 'acked') expect(keys.every((k) => known.has(k))).toBe(true);
        if (keys.some((k) => !known.has(k))) expect(r.acks[0]).toMatchObject({ status: 'rejected', reason: 'unknown' });
      }),
      { numRuns: 300 },
    );
  });
});
