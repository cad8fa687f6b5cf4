/**
 * @module The ABI conformance suite: ONE set of cases that every host of the firmware runs against the
 * real thermostat module (after hono's common.case.test.ts): the Node emulated board, the
 * posix WAMR board over a serial port, and later the cloud runtime. A host provides a small async adapter;
 * a case a host cannot run must be skipped with a stated reason, never silently.
 */
import { describe, expect, it } from 'vitest';
import { peek, signDownlink, verify, type Message } from '@ferry/message';
import { downlinkKey, hmacKey } from '@ferry/message/node';
import { ABI_VERSION } from './table.ts';

export interface ConformanceHost {
  readonly deviceId: string;
  readonly key: Uint8Array;
  /** Powers on or resets the board: the host increments its persisted epoch first. Returns that epoch. */
  boot(): Promise<number>;
  /** Lets `ms` of simulated time pass, then runs one control period (the module's tick()). Returns its result. */
  tick(ms: number): Promise<number>;
  /** Forces the temperature sensor: hundredths of °C, 'fault', or undefined for the simulated room. */
  setSensor(value: number | 'fault' | undefined): Promise<void>;
  /** Writes a state key (as the cloud or the gateway would). */
  setState(key: string, value: string): Promise<void>;
  /** Current furnace relay output. */
  furnace(): Promise<boolean>;
  /** Every message emitted so far, in order. */
  messages(): Promise<string[]>;
  /** What abi_version() returns. */
  abiVersion(): Promise<number>;
  /**
   * Hands the board a signed command token (docs/actions.md "On the board"); true when the module answered,
   * false when the host dropped it. The host's wall clock starts at 2026-01-01T00:00:00Z on power-on.
   * Absent on a host that takes no commands (the cloud's runners): the command cases are skipped, saying so.
   */
  command?(token: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface ConformanceOptions {
  /** Cases this host cannot run, with the reason (printed as the skip reason). */
  readonly skip?: Readonly<Record<string, string>>;
}

const MIN_CYCLE_MS = 180_000;
/** Every test host's wall clock at power-on (the emulated board's and the posix board's default). */
const POWER_ON_MS = Date.UTC(2026, 0, 1);

/** A command as the cloud signs it (the command contract): ev cmd, for this device, with an exp. */
function signed(h: ConformanceHost, sq: number, id: string, cmd: unknown, key: Uint8Array = h.key): string {
  const r = signDownlink(
    { aud: h.deviceId, ev: 'cmd', ep: 1_800_000_000, sq, nowMs: POWER_ON_MS, ttlMs: 3_600_000, body: { id, cmd: cmd as never } },
    downlinkKey(key, h.deviceId),
  );
  if (!r.ok) throw r.error;
  return r.value;
}

/** Registers the suite under `describe(name)`. */
export function abiConformance(name: string, factory: () => Promise<ConformanceHost>, opts: ConformanceOptions = {}): void {
  const test = (title: string, fn: (h: ConformanceHost) => Promise<void>): void => {
    const reason = opts.skip?.[title];
    if (reason !== undefined) {
      it.skip(`${title} (skipped: ${reason})`, () => undefined);
      return;
    }
    it(title, async (ctx) => {
      const h = await factory();
      try {
        if (title.includes('command') && h.command === undefined) ctx.skip('this host takes no signed commands');
        await fn(h);
      } finally {
        await h.close();
      }
    });
  };
  const verified = async (h: ConformanceHost): Promise<Message[]> => {
    const key = hmacKey(h.key);
    return (await h.messages()).map((t) => {
      const r = verify(t, key);
      if (!r.ok) throw r.error;
      return r.value;
    });
  };
  const ev = (m: Message): unknown => m.claims['ev'];
  const d = (m: Message): Record<string, unknown> => m.claims['d'] as Record<string, unknown>;

  describe(`ABI conformance: ${name}`, () => {
    test('abi_version matches the table', async (h) => {
      expect(await h.abiVersion()).toBe(ABI_VERSION);
    });

    test("boot emits a signed boot message with sq 0 in the host's epoch", async (h) => {
      const epoch = await h.boot();
      const [m, ...rest] = await verified(h);
      expect(rest).toEqual([]);
      expect(m!.header).toEqual({ kid: h.deviceId, ep: epoch, sq: 0 });
      expect(ev(m!)).toBe('boot');
      expect(d(m!)['abi']).toBe(ABI_VERSION);
    });

    test('tick reads the sensor and emits telemetry with consecutive sequence numbers', async (h) => {
      await h.boot();
      await h.setSensor(2150);
      for (let i = 0; i < 3; i++) await h.tick(10_000);
      const ms = await verified(h);
      expect(ms.map((m) => m.header.sq)).toEqual(ms.map((_, i) => i));
      const tel = ms.filter((m) => ev(m) === 'tel');
      expect(tel).toHaveLength(3);
      expect(tel.map((m) => d(m)['t'])).toEqual([21.5, 21.5, 21.5]);
    });

    test('a cold room turns the furnace on after the minimum off time, and the decision is signed', async (h) => {
      await h.boot();
      await h.setSensor(1800);
      expect(await h.tick(10_000)).toBe(0); // held: minimum off time since boot
      expect(await h.furnace()).toBe(false);
      expect(await h.tick(MIN_CYCLE_MS)).toBe(1);
      expect(await h.furnace()).toBe(true);
      const dec = (await verified(h)).filter((m) => ev(m) === 'dec');
      expect(dec.map((m) => [d(m)['heat'], d(m)['why']])).toEqual([[true, 'below setpoint - hysteresis']]);
    });

    test('the setpoint comes from state', async (h) => {
      await h.boot();
      await h.setState('cfg.sp', '23.25');
      await h.setSensor(2250);
      await h.tick(MIN_CYCLE_MS);
      const tel = (await verified(h)).filter((m) => ev(m) === 'tel');
      expect(d(tel.at(-1)!)['sp']).toBe(23.25);
      expect(await h.furnace()).toBe(true);
    });

    test('the decision uses the minimum of fresh room readings in state; stale ones are ignored', async (h) => {
      await h.boot();
      await h.setSensor(2100);
      await h.tick(MIN_CYCLE_MS);
      expect(await h.furnace()).toBe(false);
      const now = peekLastIat(await h.messages()) * 1000;
      await h.setState('temp.reader-stale', `12.00 ${now - 3_600_000}`);
      await h.tick(10_000);
      expect(await h.furnace()).toBe(false);
      await h.setState('temp.reader-a', `18.5 ${now}`);
      await h.tick(10_000);
      expect(await h.furnace()).toBe(true);
      const tel = (await verified(h)).filter((m) => ev(m) === 'tel').at(-1)!;
      expect([d(tel)['t'], d(tel)['tmin'], d(tel)['n']]).toEqual([21, 18.5, 2]);
    });

    test('a sensor fault cuts the furnace off at once, overriding the minimum on time, and raises an alarm', async (h) => {
      await h.boot();
      await h.setSensor(1800);
      await h.tick(MIN_CYCLE_MS);
      expect(await h.furnace()).toBe(true);
      await h.setSensor('fault');
      await h.tick(10_000);
      expect(await h.furnace()).toBe(false);
      const ms = await verified(h);
      expect(ms.filter((m) => ev(m) === 'alarm').map((m) => d(m)['kind'])).toEqual(['sensor']);
      expect(d(ms.filter((m) => ev(m) === 'dec').at(-1)!)['why']).toBe('cut-off: sensor fault');
    });

    test('over-temperature cuts off at once', async (h) => {
      await h.boot();
      await h.setState('cfg.sp', '35');
      await h.setSensor(2900);
      await h.tick(MIN_CYCLE_MS);
      expect(await h.furnace()).toBe(true);
      await h.setSensor(3050);
      await h.tick(10_000);
      expect(await h.furnace()).toBe(false);
      const kinds = (await verified(h)).filter((m) => ev(m) === 'alarm').map((m) => d(m)['kind']);
      expect(kinds).toEqual(['over-temperature']);
    });

    test('a signed command is applied and answered by one cmd.ack in the device own key, epoch and sequence', async (h) => {
      const epoch = await h.boot();
      const command = h.command!.bind(h);
      expect(await command(signed(h, 1, 'sp-1', { setpoint: 23.5 }))).toBe(true);
      await h.setSensor(2100);
      await h.tick(10_000);
      const ms = await verified(h);
      expect(ms.map((m) => [m.header.ep, m.header.sq, ev(m)])).toEqual([
        [epoch, 0, 'boot'],
        [epoch, 1, 'cmd.ack'],
        [epoch, 2, 'tel'],
      ]);
      expect(d(ms[1]!)).toEqual({ id: 'sp-1', status: 'acked' });
      expect(d(ms[2]!)['sp']).toBe(23.5);
    });

    test('a command that does not verify is dropped unanswered; a replayed one is answered rejected', async (h) => {
      await h.boot();
      const command = h.command!.bind(h);
      const other = new Uint8Array(32).fill(7);
      expect(await command(signed(h, 5, 'forged', { setpoint: 30 }, other))).toBe(false);
      const ok = signed(h, 6, 'once', { furnace: 'on', for_s: 60 });
      expect(await command(ok)).toBe(true);
      expect(await command(ok)).toBe(true);
      const acks = (await verified(h)).filter((m) => ev(m) === 'cmd.ack').map((m) => d(m));
      expect(acks).toEqual([
        { id: 'once', status: 'acked' },
        { id: 'once', status: 'rejected', reason: 'replayed' },
      ]);
    });

    test('a reboot starts a new epoch; no (epoch, seq) pair is ever reused', async (h) => {
      const e1 = await h.boot();
      await h.tick(10_000);
      await h.tick(10_000);
      const e2 = await h.boot();
      await h.tick(10_000);
      expect(e2).toBeGreaterThan(e1);
      const headers = (await h.messages()).map((t) => {
        const p = peek(t);
        if (!p.ok) throw p.error;
        return p.value;
      });
      expect(headers.map((x) => [x.ep, x.sq])).toEqual([
        [e1, 0],
        [e1, 1],
        [e1, 2],
        [e2, 0],
        [e2, 1],
      ]);
    });
  });
}

function peekLastIat(tokens: string[]): number {
  const last = tokens.at(-1);
  if (last === undefined) throw new Error('no message yet');
  const body = JSON.parse(Buffer.from(last.split('.')[1]!, 'base64url').toString()) as { iat: number };
  return body.iat;
}
