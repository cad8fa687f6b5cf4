/**
 * Signed commands on the Node emulated board with the real release firmware (docs/actions.md "On the board"):
 * the host verifies, the module applies and answers with a signed `cmd.ack`; tampered, wrong-key and
 * wrong-audience tokens are dropped unanswered; expired and replayed ones are answered `rejected`; the
 * replay window survives a restart of the host.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_VERDICT } from '@ferry/abi';
import { DownlinkWindow, decode, type DownlinkWindowState } from '@ferry/message';
import { acksIn, signCommand, tamper } from '@ferry/test-kit/device-commands';
import { wat } from '@ferry/test-kit/wat';
import { EmulatedBoard } from './board.ts';

const key = new Uint8Array(32).map((_, i) => i + 7);
const ID = 'th-cmd';

async function board(window?: unknown, persisted?: { state?: unknown }): Promise<EmulatedBoard> {
  let b: EmulatedBoard | undefined;
  b = await EmulatedBoard.create({
    key,
    deviceId: ID,
    seed: 3,
    room: { noiseC: 0, initialC: 19 },
    downlink: {
      nowMs: () => b?.clock.nowMs() ?? 0,
      ...(window !== undefined && { window: DownlinkWindow.from(window) }),
      onAccept: () => {
        if (persisted !== undefined && b !== undefined) persisted.state = b.downlink.window.toJSON();
      },
    },
  });
  await b.boot();
  return b;
}

let seq = 0;
const cmd = (b: EmulatedBoard, c: unknown, o: { ttlMs?: number; aud?: string; key?: Uint8Array; sq?: number; id?: string } = {}): string =>
  signCommand({
    deviceKey: o.key ?? key,
    deviceId: ID,
    id: o.id ?? `c-${++seq}`,
    cmd: c as never,
    ep: 1_800_000_000,
    sq: o.sq ?? ++seq,
    nowMs: b.clock.nowMs(),
    ...(o.ttlMs !== undefined && { ttlMs: o.ttlMs }),
    ...(o.aud !== undefined && { aud: o.aud }),
  });

const tel = (b: EmulatedBoard): Record<string, unknown> => {
  const last = b.messages
    .map((t) => decode(t))
    .filter((m) => m.ok && m.value.claims['ev'] === 'tel')
    .at(-1);
  if (last === undefined || !last.ok) throw new Error('no telemetry');
  return last.value.claims['d'] as Record<string, unknown>;
};

describe('signed commands on the emulated board', () => {
  it('sets the setpoint and answers acked with its own key and sequence', async () => {
    const b = await board();
    b.tick();
    expect(tel(b)['sp']).toBe(20);
    const before = b.messages.length;
    const out = await b.command(cmd(b, { setpoint: 23.5 }, { id: 'set-1' }));
    expect(out).toEqual({ delivered: true, verdict: COMMAND_VERDICT.APPLY, result: 0 });
    const acks = acksIn(b.messages.slice(before), key);
    expect(acks).toEqual([{ id: 'set-1', status: 'acked', ep: 1, sq: 2 }]);
    b.tick();
    expect(tel(b)['sp']).toBe(23.5);
    expect(b.state.getText('cfg.sp')).toBe('23.5');
  });

  it('applies a schedule, a bounded furnace override and a reboot', async () => {
    const b = await board();
    expect(await b.command(cmd(b, { schedule: '0000=18,1200=21' }))).toMatchObject({ result: 0 });
    expect(b.state.getText('cfg.sched')).toBe('0000=18,1200=21');
    b.state.setText('cfg.min_off_s', '0');
    b.state.setText('cfg.min_on_s', '0');
    b.room.temperatureC = 25; // warm: the thermostat alone would keep the furnace off
    expect(await b.command(cmd(b, { furnace: 'on', for_s: 60 }))).toMatchObject({ result: 0 });
    b.tick(10_000);
    expect(b.furnaceOn).toBe(true);
    for (let i = 0; i < 6; i++) b.tick(10_000);
    expect(b.furnaceOn).toBe(false); // the override ran out; the warm room switches it off
    const epoch = b.epoch;
    const before = b.messages.length;
    expect(await b.command(cmd(b, { reboot: true }, { id: 'rb' }))).toMatchObject({ result: 1 });
    expect(b.epoch).toBe(epoch + 1);
    expect(acksIn(b.messages.slice(before), key)).toEqual([{ id: 'rb', status: 'acked', ep: epoch, sq: expect.any(Number) }]);
  });

  it('rejects unknown and malformed commands with a reason, and applies nothing', async () => {
    const b = await board();
    const before = b.messages.length;
    const cases: [unknown, string][] = [
      [{ fly: true }, 'unknown'],
      [{ setpoint: 99 }, 'invalid'],
      [{ setpoint: '21' }, 'invalid'],
      [{ setpoint: 21.125 }, 'invalid'],
      [{ schedule: '25:00=1' }, 'invalid'],
      [{ furnace: 'on' }, 'invalid'],
      [{ furnace: 'on', for_s: 100_000 }, 'invalid'],
      [{ furnace: 'maybe', for_s: 10 }, 'invalid'],
      [{ reboot: false }, 'invalid'],
      [{ setpoint: 21, reboot: true }, 'invalid'],
      [{}, 'invalid'],
      ['not an object', 'invalid'],
    ];
    for (const [c, reason] of cases) expect(await b.command(cmd(b, c, { id: `bad-${reason}` }))).toMatchObject({ delivered: true, result: 2 });
    const acks = acksIn(b.messages.slice(before), key);
    expect(acks.map((a) => [a.status, a.reason])).toEqual(cases.map(([, r]) => ['rejected', r]));
    expect(b.state.getText('cfg.sp')).toBeUndefined();
  });

  it('drops tampered, wrong-key, wrong-audience and id-less tokens without an answer', async () => {
    const b = await board();
    const before = b.messages.length;
    const other = new Uint8Array(32).fill(9);
    expect(await b.command(tamper(cmd(b, { setpoint: 22 })))).toEqual({ delivered: false, reason: 'unverified' });
    expect(await b.command(cmd(b, { setpoint: 22 }, { key: other }))).toEqual({ delivered: false, reason: 'unverified' });
    expect(await b.command(cmd(b, { setpoint: 22 }, { aud: 'th-other' }))).toEqual({ delivered: false, reason: 'unverified' });
    expect(await b.command(cmd(b, { setpoint: 22 }, { id: 'no spaces allowed' }))).toMatchObject({ delivered: false });
    expect(b.messages.length).toBe(before);
    expect(b.downlink.refused.get('FERRY_MSG_BAD_SIGNATURE')).toBe(2);
    expect(b.downlink.refused.get('FERRY_MSG_WRONG_AUDIENCE')).toBe(1);
    expect(b.state.getText('cfg.sp')).toBeUndefined();
  });

  it('answers expired and replayed commands rejected, each applied at most once', async () => {
    const b = await board();
    const before = b.messages.length;
    const old = cmd(b, { setpoint: 22 }, { id: 'late', ttlMs: 1000 });
    b.advance(120_000); // past exp and the 30 s leeway
    expect(await b.command(old)).toMatchObject({ verdict: COMMAND_VERDICT.EXPIRED, result: 2 });
    const ok = cmd(b, { setpoint: 24 }, { id: 'once' });
    expect(await b.command(ok)).toMatchObject({ result: 0 });
    b.state.setText('cfg.sp', '20');
    expect(await b.command(ok)).toMatchObject({ verdict: COMMAND_VERDICT.REPLAYED, result: 2 });
    expect(await b.command(cmd(b, { setpoint: 25 }, { id: 'older', sq: 1 }))).toMatchObject({ verdict: COMMAND_VERDICT.REPLAYED });
    expect(b.state.getText('cfg.sp')).toBe('20'); // the replay changed nothing
    expect(acksIn(b.messages.slice(before), key).map((a) => `${a.id}:${a.status}:${a.reason ?? ''}`)).toEqual([
      'late:rejected:expired',
      'once:acked:',
      'once:rejected:replayed',
      'older:rejected:replayed',
    ]);
  });

  it('a module that traps on a command is reset like a watchdog would, in a new epoch; the command stays consumed', async () => {
    const trapping = wat(`(module
      (import "cmd" "read" (func $read (param i32 i32) (result i32)))
      (memory (export "memory") 1 1)
      (func (export "abi_version") (result i32) i32.const 1)
      (func (export "boot") (param i32) (result i32) i32.const 0)
      (func (export "tick") (result i32) i32.const 0)
      (func (export "command") (param i32) (result i32) (drop (call $read (i32.const 0) (i32.const 1536))) unreachable))`);
    let b: EmulatedBoard | undefined;
    b = await EmulatedBoard.create({ wasm: trapping, key, deviceId: ID, downlink: { nowMs: () => b?.clock.nowMs() ?? 0 } });
    await b.boot();
    const t = cmd(b, { setpoint: 22 });
    expect(await b.command(t)).toEqual({ delivered: false, reason: 'FERRY_ABI_TRAP' });
    expect([b.watchdogResets, b.epoch]).toEqual([1, 2]);
    expect(b.tick().ok).toBe(true);
    // Delivered again it is a replay for the host (the window took it before the module ran): never applied twice.
    expect(await b.command(t)).toEqual({ delivered: false, reason: 'FERRY_ABI_TRAP' });
    expect(b.downlink.refused.get('replayed')).toBe(1);
  });

  it('keeps its replay window across a restart of the host', async () => {
    const persisted: { state?: unknown } = {};
    const b = await board(undefined, persisted);
    const t = cmd(b, { setpoint: 22 }, { id: 'kept' });
    expect(await b.command(t)).toMatchObject({ result: 0 });
    expect((persisted.state as DownlinkWindowState | undefined)?.high['cmd']).toBeDefined();
    const again = await board(JSON.parse(JSON.stringify(persisted.state)));
    again.clock.advance(b.clock.nowMs() - again.clock.nowMs());
    const before = again.messages.length;
    expect(await again.command(t)).toMatchObject({ verdict: COMMAND_VERDICT.REPLAYED });
    expect(acksIn(again.messages.slice(before), key)).toMatchObject([{ id: 'kept', status: 'rejected', reason: 'replayed' }]);
    const fresh = await board();
    fresh.clock.advance(b.clock.nowMs() - fresh.clock.nowMs());
    expect(await fresh.command(t)).toMatchObject({ verdict: COMMAND_VERDICT.APPLY }); // without the window it would apply again
  });
});
