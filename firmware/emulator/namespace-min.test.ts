/**
 * NamespaceMinimum on an emulated thermostat board, against an in-memory transport and a fake cloud
 * (remote.rig.ts) that runs the same module bytes over its own namespace state.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decode } from '@ferry/message';
import { compile, type CompiledModule } from '@ferry/wasm-host';
import { THERMOSTAT_WASM } from '../paths.ts';
import { EmulatedBoard } from './board.ts';
import { centiText, NamespaceMinimum, NO_READING, NS_MIN_KEY } from './namespace-min.ts';
import { FakeCloud, FakeTransport, HASH, ManualTimers, MODULE, reading, START } from './remote.rig.ts';

const key = new Uint8Array(32).map((_, i) => i + 7);
let thermostat: CompiledModule;
beforeAll(async () => {
  const c = await compile(readFileSync(THERMOSTAT_WASM));
  if (!c.ok) throw c.errors[0];
  thermostat = c.value;
});

describe('NamespaceMinimum: the thermostat deciding with its namespace', () => {
  async function board(sensor: number, maxAgeS?: number): Promise<EmulatedBoard> {
    const b = await EmulatedBoard.create({ key, wasm: thermostat, startMs: START, room: { noiseC: 0 } });
    b.sensorOverride = sensor;
    b.state.setText('cfg.min_on_s', '0');
    b.state.setText('cfg.min_off_s', '0');
    if (maxAgeS !== undefined) b.state.setText('cfg.max_age_s', String(maxAgeS));
    await b.boot();
    return b;
  }
  const lastTel = (b: EmulatedBoard): Record<string, unknown> => {
    const tel = b.messages
      .map((t) => {
        const r = decode(t);
        if (!r.ok) throw r.error;
        return r.value;
      })
      .filter((m) => m.claims['ev'] === 'tel');
    return tel.at(-1)!.claims['d'] as Record<string, unknown>;
  };

  it("online the cloud's cold room turns the furnace on; offline the board decides alone, its own old answer not fed back", async () => {
    const b = await board(2100);
    const transport = new FakeTransport(key);
    const cloud = new FakeCloud(b.clock);
    cloud.modules.set(HASH, MODULE);
    transport.handler = cloud.handle;
    cloud.namespace.set('temp.bedroom', reading(1800, START));
    const nm = await NamespaceMinimum.create(b, { namespace: 'flat', token: 'tok', transport, timers: new ManualTimers() });
    const online = await nm.tick();
    expect(online.min).toMatchObject({ where: 'cloud', value: 1800 });
    expect(b.state.getText(NS_MIN_KEY)).toBe(`18.00 ${b.clock.nowMs()}`);
    expect(b.furnaceOn).toBe(true);
    expect(lastTel(b)).toMatchObject({ t: 21, tmin: 18, n: 2, heat: true });

    transport.drop();
    const offline = await nm.tick();
    // temp.ns-min (18.00, fresh) and temp.th-01 are in the board's state, but the local run does not see them.
    expect(offline.min).toMatchObject({ where: 'local', reason: 'offline', value: NO_READING });
    expect(b.state.getText(NS_MIN_KEY)).toBe(undefined);
    expect(b.furnaceOn).toBe(false);
    expect(lastTel(b)).toMatchObject({ tmin: 21, n: 1, heat: false });
  });

  it('a refusal is returned and the firmware still decides, on its own state', async () => {
    const b = await board(1800);
    const transport = new FakeTransport(key);
    const cloud = new FakeCloud(b.clock);
    cloud.whitelisted = false;
    transport.handler = cloud.handle;
    b.state.setText(NS_MIN_KEY, `15.00 ${START}`);
    const nm = await NamespaceMinimum.create(b, { namespace: 'flat', token: 'tok', transport, timers: new ManualTimers() });
    const r = await nm.tick();
    expect(r.min.ok === false && r.min.error.code).toBe('FERRY_FN_NOT_WHITELISTED');
    expect(r.tick.ok).toBe(true);
    expect(b.state.getText(NS_MIN_KEY)).toBe(undefined);
    expect(lastTel(b)).toMatchObject({ tmin: 18, heat: true });
  });

  it("the decision with the cloud's answer is the one the board makes holding the same readings (property)", async () => {
    // Readings: value (sometimes implausible or malformed) and age in 10 s steps offset by 5 s (some in the future).
    const entry = fc.record({
      value: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: -6000, max: 10000 }).map(centiText) },
        { weight: 1, arbitrary: fc.constantFrom('x', '12.345', '') },
      ),
      ageS: fc.integer({ min: -3, max: 70 }).map((k) => k * 10 + 5),
    });
    const rooms = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/), entry, { maxKeys: 30 });
    await fc.assert(
      fc.asyncProperty(rooms, fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1000, max: 3000 }), async (rs, maxAge10, own) => {
        const maxAgeS = maxAge10 * 10;
        const [withCloud, alone] = [await board(own, maxAgeS), await board(own, maxAgeS)];
        const transport = new FakeTransport(key);
        const cloud = new FakeCloud(withCloud.clock);
        cloud.modules.set(HASH, MODULE);
        transport.handler = cloud.handle;
        for (const [room, e] of Object.entries(rs)) {
          const v = new TextEncoder().encode(`${e.value} ${START - e.ageS * 1000}`);
          cloud.namespace.set(`temp.${room}`, v);
          alone.state.set(`temp.${room}`, v);
        }
        const nm = await NamespaceMinimum.create(withCloud, { namespace: 'flat', token: 'tok', transport, timers: new ManualTimers() });
        const r = await nm.tick(0);
        expect(r.min.ok && r.min.where).toBe('cloud');
        alone.tick(0);
        const [a, b] = [lastTel(withCloud), lastTel(alone)];
        expect({ tmin: a['tmin'], heat: a['heat'] }).toEqual({ tmin: b['tmin'], heat: b['heat'] });
        expect(withCloud.furnaceOn).toBe(alone.furnaceOn);
      }),
      { numRuns: 60 },
    );
  });
});
