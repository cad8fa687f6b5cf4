/**
 * Signed commands on the posix WAMR board over its serial port (docs/actions.md "On the board"): the C host
 * verifies the token with the downlink key in the HAL, the module applies it and answers with a signed
 * cmd.ack; tampered, wrong-key and wrong-audience tokens are dropped unanswered; expired and replayed ones
 * are answered rejected; the replay window survives a restart of the board process.
 */
import fc from 'fast-check';
import { afterEach, describe, expect } from 'vitest';
import { encode, type Json } from '@ferry/message';
import { downlinkKey } from '@ferry/message/node';
import { acksIn, signCommand, tamper } from '@ferry/test-kit/device-commands';
import { wat } from '@ferry/test-kit/wat';
import { startPosixBoard } from './src/posix-board.ts';
import { KEY, NEEDS_TEST_CONTROL, cleanup, connect, openTarget, posixOnly } from './src/target.ts';

afterEach(cleanup);
const itTc = posixOnly(NEEDS_TEST_CONTROL);

const ID = 'th-cmd';
const START_MS = Date.UTC(2026, 0, 1); // the posix board's virtual clock at power-on
let sq = 0;
const cmd = (c: unknown, o: { id?: string; nowMs?: number; ttlMs?: number; aud?: string; key?: Uint8Array; sq?: number } = {}): string =>
  signCommand({
    deviceKey: o.key ?? KEY,
    deviceId: ID,
    id: o.id ?? `c-${sq + 1}`,
    cmd: c as never,
    ep: 1_800_000_000,
    sq: o.sq ?? ++sq,
    nowMs: o.nowMs ?? START_MS,
    ...(o.ttlMs !== undefined && { ttlMs: o.ttlMs }),
    ...(o.aud !== undefined && { aud: o.aud }),
  });

const lastTel = (messages: readonly string[]): Record<string, unknown> => {
  for (const t of [...messages].reverse()) {
    const c = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { ev: string; d: Record<string, unknown> };
    if (c.ev === 'tel') return c.d;
  }
  throw new Error('no telemetry');
};

describe('signed commands on the posix WAMR board', () => {
  itTc('a setpoint command is verified, applied and acked with the board key; telemetry shows the new setpoint', async () => {
    const { client, info } = await openTarget({ deviceId: ID });
    await client.testTick(10_000);
    expect(lastTel(client.messages)['sp']).toBe(20);
    const before = client.messages.length;
    // The answer takes the board's next sequence number (the boot message may have gone before the port was open).
    const next = JSON.parse(Buffer.from(client.messages.at(-1)!.split('.')[0]!, 'base64url').toString()).sq + 1;
    expect(await client.signedCommand(cmd({ setpoint: 23.5 }, { id: 'sp-1' }))).toBe('delivered');
    expect(acksIn(client.messages.slice(before), KEY)).toEqual([{ id: 'sp-1', status: 'acked', ep: info.epoch, sq: next }]);
    await client.testTick(10_000);
    expect(lastTel(client.messages)['sp']).toBe(23.5);
  });

  itTc('drops tampered, wrong-key and wrong-audience tokens without an answer, and garbage with a typed NACK', async () => {
    const { client } = await openTarget({ deviceId: ID });
    const before = client.messages.length;
    expect(await client.signedCommand(tamper(cmd({ setpoint: 22 })))).toBe('dropped');
    expect(await client.signedCommand(cmd({ setpoint: 22 }, { key: new Uint8Array(32).fill(3) }))).toBe('dropped');
    expect(await client.signedCommand(cmd({ setpoint: 22 }, { aud: 'th-other' }))).toBe('dropped');
    expect(await client.signedCommand('not.a.token')).toBe('dropped');
    await expect(client.signedCommand(new Uint8Array(0))).rejects.toMatchObject({ code: 'FERRY_SERIAL_BAD_PAYLOAD' });
    expect(client.messages.length).toBe(before);
    await client.testTick(10_000);
    expect(lastTel(client.messages)['sp']).toBe(20); // nothing was applied
  });

  itTc('answers expired and replayed commands rejected, rejects unknown ones, and reboots on command', async () => {
    const { client, info } = await openTarget({ deviceId: ID });
    const before = client.messages.length;
    const late = cmd({ setpoint: 22 }, { id: 'late', ttlMs: 1000 });
    await client.testAdvance(120_000); // past exp and the 30 s leeway
    expect(await client.signedCommand(late)).toBe('delivered');
    const now = START_MS + 120_000;
    const once = cmd({ setpoint: 24 }, { id: 'once', nowMs: now });
    expect(await client.signedCommand(once)).toBe('delivered');
    expect(await client.signedCommand(once)).toBe('delivered');
    expect(await client.signedCommand(cmd({ fly: true }, { id: 'odd', nowMs: now }))).toBe('delivered');
    expect(await client.signedCommand(cmd({ reboot: true }, { id: 'rb', nowMs: now }))).toBe('delivered');
    expect(acksIn(client.messages.slice(before), KEY).map((a) => `${a.id}:${a.status}:${a.reason ?? ''}`)).toEqual([
      'late:rejected:expired',
      'once:acked:',
      'once:rejected:replayed',
      'odd:rejected:unknown',
      'rb:acked:',
    ]);
    expect((await client.hello()).epoch).toBe(info.epoch + 1);
  });

  itTc('random tokens and random signed bodies never crash the C host: answered exactly when authentic with a valid id', async () => {
    const { client } = await openTarget({ deviceId: ID });
    const ID_OK = /^[A-Za-z0-9._-]{1,64}$/;
    const json = fc.jsonValue({ maxDepth: 20 }) as fc.Arbitrary<Json>;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        expect(await client.signedCommand(bytes)).toBe('dropped');
      }),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.stringMatching(ID_OK), fc.string({ maxLength: 70 }), json), json, async (id, c) => {
        const before = client.messages.length;
        const t = signCommand({
          deviceKey: KEY,
          deviceId: ID,
          id: '',
          cmd: null,
          body: { id: id as Json, cmd: c },
          ep: 1_900_000_000,
          sq: ++sq,
          nowMs: START_MS,
        });
        const valid = typeof id === 'string' && ID_OK.test(id);
        expect(await client.signedCommand(t)).toBe(valid ? 'delivered' : 'dropped');
        expect(acksIn(client.messages.slice(before), KEY).map((a) => a.id)).toEqual(valid ? [id] : []);
      }),
      { numRuns: 150 },
    );
    expect((await client.hello()).running).toBe(true);
  });

  itTc('reads exp as a NumericDate with a fraction, and answers invalid without one', async () => {
    const { client } = await openTarget({ deviceId: ID });
    const signed = (id: string, exp: number | undefined): string => {
      const claims = { iss: 'ferry-cloud', aud: ID, iat: START_MS / 1000, ...(exp !== undefined && { exp }), ev: 'cmd', d: { id, cmd: { setpoint: 21 } } };
      const r = encode({ header: { kid: 'ferry-cloud', ep: 1_950_000_000, sq: ++sq }, claims }, downlinkKey(KEY, ID));
      if (!r.ok) throw r.error;
      return r.value;
    };
    const before = client.messages.length;
    await client.signedCommand(signed('in-time', START_MS / 1000 + 0.25));
    await client.signedCommand(signed('no-exp', undefined));
    await client.testAdvance(31_000); // past exp + the 30 s leeway by a fraction of a second
    await client.signedCommand(signed('late', START_MS / 1000 + 0.25));
    expect(acksIn(client.messages.slice(before), KEY).map((a) => `${a.id}:${a.status}:${a.reason ?? ''}`)).toEqual([
      'in-time:acked:',
      'no-exp:rejected:invalid',
      'late:rejected:expired',
    ]);
  });

  itTc('a module that traps on a command is rebooted in a new epoch; one with a command of the wrong signature is refused at upload', async () => {
    const { client } = await openTarget({ deviceId: ID });
    const base = `(import "cmd" "read" (func $read (param i32 i32) (result i32)))
      (memory (export "memory") 1 1)
      (func (export "abi_version") (result i32) i32.const 1)
      (func (export "boot") (param i32) (result i32) i32.const 0)
      (func (export "tick") (result i32) i32.const 0)`;
    await expect(client.upload(wat(`(module ${base} (func (export "command") (result i32) i32.const 0))`))).rejects.toMatchObject({
      code: 'FERRY_SERIAL_UPLOAD_REJECTED',
    });
    const epoch = await client.upload(
      wat(`(module ${base} (func (export "command") (param i32) (result i32) (drop (call $read (i32.const 0) (i32.const 1536))) unreachable))`),
    );
    expect(await client.signedCommand(cmd({ setpoint: 22 }, { id: 'boom' }))).toBe('dropped');
    const info = await client.hello();
    expect([info.epoch, info.running]).toEqual([epoch + 1, true]);
  });

  itTc('keeps its replay window across a restart of the board process', async () => {
    const { client, board } = await openTarget({ deviceId: ID });
    const t = cmd({ setpoint: 22 }, { id: 'kept' });
    expect(await client.signedCommand(t)).toBe('delivered');
    await client.close();
    await board!.stop();
    const again = await startPosixBoard({ key: KEY, deviceId: ID, stateDir: board!.stateDir });
    const c2 = await connect(again.pty);
    await c2.hello();
    const before = c2.messages.length;
    expect(await c2.signedCommand(t)).toBe('delivered');
    expect(acksIn(c2.messages.slice(before), KEY)).toMatchObject([{ id: 'kept', status: 'rejected', reason: 'replayed' }]);
  });
});
