/** Scenario tests: the real release firmware in the emulated board, with the simulated room. */
import { compactVerify, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { decode, verify, type Message } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { EmulatedBoard, type BoardOptions } from './board.ts';

const key = new Uint8Array(32).map((_, i) => i + 100);
const make = (o: Partial<BoardOptions> = {}): Promise<EmulatedBoard> => EmulatedBoard.create({ key, seed: 11, ...o });
const decoded = (b: EmulatedBoard): Message[] =>
  b.messages.map((t) => {
    const r = decode(t);
    if (!r.ok) throw r.error;
    return r.value;
  });
const ofKind = (b: EmulatedBoard, ev: string): Message[] => decoded(b).filter((m) => m.claims['ev'] === ev);
const data = (m: Message): Record<string, number | boolean | string> => m.claims['d'] as Record<string, number | boolean | string>;

describe('thermostat scenarios', () => {
  it('the room cools, the furnace turns on, the room warms past setpoint + hysteresis, the furnace turns off', async () => {
    const b = await make({ room: { initialC: 22, noiseC: 0 } });
    await b.run(6 * 360); // 6 simulated hours
    const dec = ofKind(b, 'dec');
    expect(dec.length).toBeGreaterThanOrEqual(4);
    expect(data(dec[0]!)['heat']).toBe(true);
    for (const m of dec) {
      const d = data(m);
      // On only at or below sp - h (19.5), off only at or above sp + h (20.5).
      if (d['heat'] === true) expect(d['t']).toBeLessThanOrEqual(19.5);
      else expect(d['t']).toBeGreaterThanOrEqual(20.5);
    }
    // The room really warmed and cooled (the model, not just the messages).
    const firstOn = dec[0]!.header.sq;
    const temps = ofKind(b, 'tel')
      .filter((m) => m.header.sq > firstOn)
      .map((m) => data(m)['t'] as number);
    expect(Math.min(...temps)).toBeGreaterThan(19.3);
    expect(Math.max(...temps)).toBeLessThan(20.8);
    expect(b.switches.length).toBe(dec.length);
  });

  it('minimum on and off times hold under noisy readings', async () => {
    // ±0.6 °C noise is larger than the ±0.5 hysteresis band: without the guard it would chatter.
    const b = await make({ room: { noiseC: 0.6 }, seed: 3 });
    await b.run(12 * 360);
    expect(b.switches.length).toBeGreaterThan(10);
    for (let i = 1; i < b.switches.length; i++) {
      expect(b.switches[i]!.atMs - b.switches[i - 1]!.atMs).toBeGreaterThanOrEqual(180_000);
    }
    expect(b.logs.filter((l) => l.text.startsWith('holding')).length).toBeGreaterThan(0); // the guard was exercised
  });

  it('shorter minimum times from state are honoured exactly', async () => {
    const b = await make({ room: { noiseC: 0.6 }, seed: 5 });
    b.state.setText('cfg.min_on_s', '60');
    b.state.setText('cfg.min_off_s', '60');
    await b.run(6 * 360);
    const gaps = b.switches.slice(1).map((s, i) => s.atMs - b.switches[i]!.atMs);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(60_000);
    expect(Math.min(...gaps)).toBeLessThan(180_000); // the default would have forbidden this
  });

  it('a simulated reboot starts a new epoch; sequence numbers never repeat within an epoch', async () => {
    const b = await make();
    await b.run(50);
    await b.boot();
    await b.run(30);
    await b.boot();
    await b.run(5);
    const hs = decoded(b).map((m) => m.header);
    expect(new Set(hs.map((h) => `${h.ep}/${h.sq}`)).size).toBe(hs.length);
    for (const ep of [1, 2, 3]) {
      const sqs = hs.filter((h) => h.ep === ep).map((h) => h.sq);
      expect(sqs).toEqual(sqs.map((_, i) => i)); // 0, 1, 2 ... without gaps or repeats
    }
    expect(b.epoch).toBe(3);
  });

  it('every message verifies with our verifier, and a sample with jose', async () => {
    const b = await make();
    await b.run(200);
    const k = hmacKey(key);
    expect(b.messages.filter((t) => !verify(t, k).ok)).toEqual([]);
    for (const t of b.messages.filter((_, i) => i % 40 === 0)) {
      const r = await compactVerify(t, key);
      expect(r.protectedHeader['kid']).toBe('th-01');
      const j = await jwtVerify(t, key, { algorithms: ['HS256'], issuer: 'th-01' });
      expect(j.payload).toEqual(decode(t).ok ? (decode(t) as { value: Message }).value.claims : undefined);
    }
    await expect(jwtVerify(b.messages[1]!, new Uint8Array(32))).rejects.toThrow();
  });

  it('is deterministic for a seed, and the seed matters', async () => {
    const run = async (seed: number): Promise<string[]> => {
      const b = await make({ seed });
      await b.run(300);
      return b.messages;
    };
    const [a, a2, c] = await Promise.all([run(9), run(9), run(10)]);
    expect(a2).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('follows the daily schedule in local time, including before the first entry', async () => {
    // 2026-01-01T00:00Z; tz +60 min. 06:00 local = 05:00Z.
    const b = await make({ room: { noiseC: 0 } });
    b.state.setText('cfg.sched', '0600=21.5,2200=17');
    b.state.setText('cfg.tz_min', '60');
    await b.run(1);
    expect(data(ofKind(b, 'tel').at(-1)!)['sp']).toBe(17); // 01:00 local: yesterday's 22:00 entry
    b.advance(5 * 3_600_000);
    await b.run(1);
    expect(data(ofKind(b, 'tel').at(-1)!)['sp']).toBe(21.5);
  });

  it('a malformed schedule falls back to cfg.sp', async () => {
    const b = await make();
    b.state.setText('cfg.sp', '19.25');
    b.state.setText('cfg.sched', '6am=21');
    await b.run(1);
    expect(data(ofKind(b, 'tel').at(-1)!)['sp']).toBe(19.25);
  });
});
