/** A board over its serial port: hello, signed telemetry, thermostat behaviour, reboots, and a line full of garbage. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compactVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { peek, verify } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { KIND, MAX_ENCODED, encodeFrame } from '@ferry/serial';
import { until } from '@ferry/test-kit/until';
import { THERMOSTAT } from './src/paths.ts';
import { KEY, NEEDS_PROCESS, NEEDS_TEST_CONTROL, cleanup, closeClients, isHw, openTarget, posixOnly } from './src/target.ts';

afterEach(cleanup);
const itTc = posixOnly(NEEDS_TEST_CONTROL);
const itProc = posixOnly(NEEDS_PROCESS);

const claims = (t: string): Record<string, unknown> => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('hello', () => {
  it("answers with its id, ABI version, epoch, free memory and the running module's SHA-256", async () => {
    const { info } = await openTarget();
    expect(info.abiVersion).toBe(1);
    expect(info.boardId).toMatch(/^[A-Za-z0-9._-]{1,32}$/);
    expect(info.epoch).toBeGreaterThanOrEqual(1);
    expect(info.running).toBe(true);
    expect(info.freeMemory).toBeGreaterThan(0);
    if (!isHw) {
      expect(info.moduleSha256).toBe(createHash('sha256').update(readFileSync(THERMOSTAT)).digest('hex'));
      expect(info.moduleSize).toBe(readFileSync(THERMOSTAT).length);
      expect(info.testControl).toBe(true);
    }
  });
});

describe('signed telemetry', () => {
  itTc('every message verifies with the device key (ours and jose), in epoch/seq order', async () => {
    const { client, info } = await openTarget();
    for (let i = 0; i < 5; i++) await client.testTick(10_000);
    // Messages are read off the line as they come, not with a tick's answer: wait for them.
    await until(() => client.messages.length >= 6, 'boot + 5 telemetry messages (+ decisions)', 10_000);
    const msgs = client.messages;
    const k = hmacKey(KEY);
    for (const t of msgs) expect(verify(t, k).ok).toBe(true);
    const j = await compactVerify(msgs.at(-1)!, KEY);
    expect(j.protectedHeader['kid']).toBe(info.boardId);
    expect(
      msgs.map((t) => {
        const p = peek(t);
        return p.ok ? p.value.sq : -1;
      }),
    ).toEqual(msgs.map((_, i) => i));
  });
});

describe('thermostat under injected temperatures', () => {
  itTc('cold -> furnace on after the minimum off time; hot -> off after the minimum on time; fault -> off at once', async () => {
    const { client } = await openTarget();
    await client.testSensor(1800);
    expect(await client.testTick(10_000)).toBe(0);
    expect(await client.testTick(180_000)).toBe(1);
    expect(await client.testFurnace()).toBe(true);
    await client.testSensor(2100);
    expect(await client.testTick(10_000)).toBe(1); // hot, but the minimum on time holds
    expect(await client.testTick(180_000)).toBe(0);
    await client.testSensor(1700);
    expect(await client.testTick(180_000)).toBe(1);
    await client.testSensor('fault');
    expect(await client.testTick(10_000)).toBe(0);
    expect(await client.testFurnace()).toBe(false);
    const evs = client.messages.map((t) => claims(t)['ev']);
    expect(evs).toContain('alarm');
    expect(evs.filter((e) => e === 'dec')).toHaveLength(4);
  });

  itTc('a setpoint written over the line (COMMAND state set) is used', async () => {
    const { client } = await openTarget();
    await client.setState('cfg.sp', '24.5');
    await client.testSensor(2300);
    await client.testTick(180_000);
    expect(await client.testFurnace()).toBe(true);
    expect((claims(client.messages.at(-1)!)['d'] as Record<string, unknown>)['sp']).toBe(24.5);
    await expect(client.setState('bad key', 'x')).rejects.toMatchObject({ code: 'FERRY_SERIAL_BAD_PAYLOAD' });
  });
});

describe('reboots', () => {
  it('a reboot starts a new epoch and no (epoch, seq) pair is reused', async () => {
    const { client, info } = await openTarget();
    const e1 = info.epoch;
    if (!isHw) {
      await client.testTick(10_000);
      await client.testTick(10_000);
    }
    const e2 = await client.reboot();
    const e3 = await client.reboot();
    expect(e2).toBeGreaterThan(e1);
    expect(e3).toBeGreaterThan(e2);
    expect((await client.hello()).epoch).toBe(e3);
    // The boot message of e1 may predate our opening the port (serialport flushes the line on open,
    // as a USB-UART loses what came before): count from the ticks on.
    await client.waitForMessages(isHw ? 2 : 4);
    const pairs = client.messages.map((t) => {
      const p = peek(t);
      if (!p.ok) throw p.error;
      return `${p.value.ep}/${p.value.sq}`;
    });
    expect(new Set(pairs).size).toBe(pairs.length);
    expect(
      pairs
        .filter((p) => p.endsWith('/0'))
        .map((p) => Number(p.split('/')[0]))
        .filter((e) => e !== e1),
    ).toEqual([e2, e3]);
    if (!isHw) expect(pairs).toContain(`${e1}/2`);
  });

  itProc('the epoch survives a restart of the board process (persisted, incremented before instantiation)', async () => {
    const { board, info } = await openTarget();
    await closeClients();
    await board!.stop();
    const again = await openTarget({ stateDir: board!.stateDir });
    expect(again.info.epoch).toBe(info.epoch + 1);
  });
});

describe('real-time mode', () => {
  itTc('with --tick-ms the board ticks by itself on the real clock; every message verifies', async () => {
    const { client, info } = await openTarget({ extraArgs: ['--tick-ms', '50'] });
    expect(info.virtualClock).toBe(false);
    const msgs = await client.waitForMessages(3, 30_000); // no timing assertion: only that ticks happen
    const k = hmacKey(KEY);
    for (const t of msgs) expect(verify(t, k).ok).toBe(true);
    expect(msgs.map((t) => claims(t)['ev'])).toContain('tel');
  });
});

describe('garbage on the line', () => {
  it('garbage, bad CRCs, unknown kinds and oversized frames are refused and the board keeps answering', async () => {
    const { client } = await openTarget();
    client.writeRaw(new TextEncoder().encode('AT+RESET\r\n garbage \xff\xfe'));
    client.writeRaw(Uint8Array.from([0]));
    const bad = encodeFrame(KIND.HELLO, 77);
    bad[2]! ^= 0x10;
    client.writeRaw(bad);
    client.writeRaw(new Uint8Array(MAX_ENCODED * 4).fill(0x55)); // far past the maximum frame
    client.writeRaw(Uint8Array.from([0]));
    const rnd = new Uint8Array(20_000);
    for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 2654435761) >>> 24;
    client.writeRaw(rnd);
    client.writeRaw(Uint8Array.from([0]));
    await expect(client.request(0x42)).rejects.toMatchObject({ code: 'FERRY_SERIAL_UNKNOWN_KIND' });
    await expect(client.request(KIND.ACK)).rejects.toMatchObject({ code: 'FERRY_SERIAL_UNKNOWN_KIND' });
    await expect(client.request(KIND.UPLOAD_CHUNK, Uint8Array.from([1, 2]))).rejects.toMatchObject({ code: 'FERRY_SERIAL_UPLOAD_NOT_STARTED' });
    await expect(client.request(KIND.HELLO, Uint8Array.from([1]))).rejects.toMatchObject({ code: 'FERRY_SERIAL_BAD_PAYLOAD' });
    if (!isHw) await expect(client.request(KIND.TEST, Uint8Array.from([0x77]))).rejects.toMatchObject({ code: 'FERRY_SERIAL_BAD_PAYLOAD' });
    const info = await client.hello();
    expect(info.running).toBe(true);
    const codes = new Set(client.lineErrors.map((e) => e.code)); // the board's NACKs on seq 0
    expect(codes.has('FERRY_SERIAL_TOO_LARGE')).toBe(true);
    expect(codes.has('FERRY_SERIAL_COBS') || codes.has('FERRY_SERIAL_CRC')).toBe(true);
  });
});
