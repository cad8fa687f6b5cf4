/**
 * @module BleSource end to end through noble's real code (hci.js -> gap.js EIR parser -> bindings.js ->
 * noble.js) over an emulated controller, with the real BTHome vectors (bthome/fixtures/vectors.ts).
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { ADV_IND, bthomeAdv, hex, lastController, RecordingSink, settle, startRig, type Rig } from '@ferry/test-kit/ble';
import { BTHOME_OBJECTS } from '../bthome/objects.ts';
import {
  ENCRYPTED_VECTORS,
  PLAIN_VECTORS,
  SPEC_ENCRYPTION_EXAMPLE,
  SPEC_FORMAT_EXAMPLE_ADV,
  SPEC_KEY,
  SPEC_MAC,
  type BthomeVector,
} from '../bthome/fixtures/vectors.ts';
import { ReplayGuard } from '../bthome/replay-guard.ts';
import { BleSource } from './ble-source.ts';

let rigs: Rig[] = [];
async function rig(...args: Parameters<typeof startRig>): Promise<Rig> {
  const r = await startRig(...args);
  rigs.push(r);
  return r;
}
afterEach(async () => {
  for (const r of rigs) await r.src.stop();
  rigs = [];
});

const macFor = (i: number): string => `C0:FF:EE:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`.toUpperCase();

/** A vector's expected [id, value] pairs as Reading values / meta.packetId (see toReading). */
function expected(v: BthomeVector): { values: Record<string, unknown>; packetId?: number } {
  const values: Record<string, unknown> = {};
  let packetId: number | undefined;
  for (const [id, value] of v.values ?? []) {
    if (id === 0) {
      packetId = value as number;
      continue;
    }
    const name = BTHOME_OBJECTS.get(id)?.name ?? '?';
    let key = name;
    for (let n = 2; key in values; n++) key = `${name}_${n}`;
    values[key] = value === null ? expect.stringMatching(/^unknown_\d+$/) : value;
  }
  return packetId === undefined ? { values } : { values, packetId };
}

describe('BleSource: BTHome adverts through noble', () => {
  it('decodes the bthome.io/format example advertisement byte for byte', async () => {
    const r = await rig();
    expect(await r.send('A4:C1:38:8D:18:B2', hex(SPEC_FORMAT_EXAMPLE_ADV), { rssi: -71 })).toBe(true);
    expect(r.sink.readings).toEqual([
      {
        device: 'A4:C1:38:8D:18:B2',
        kind: 'bthome',
        atMs: r.clock.now(),
        values: { temperature: 25, humidity: 50.55 },
        meta: { rssi: -71, encrypted: false, 'unit.temperature': '°C', 'unit.humidity': '%' },
      },
    ]);
    expect(r.src.health()).toMatchObject({ name: 'ble', up: true, lastInputMs: r.clock.now(), counters: { adverts: 1, bthome: 1, decoded: 1, problems: 0 } });
  });

  const plainOk = PLAIN_VECTORS.filter((v) => v.error === undefined && v.unknownObject === undefined);
  it(`gives the reference values for all ${plainOk.length} plain vectors of bthome-ble`, async () => {
    const r = await rig();
    for (const [i, v] of plainOk.entries()) {
      await r.send(macFor(i), bthomeAdv(v.hex));
      const got = r.sink.readings.at(-1);
      expect(got?.device, v.test).toBe(macFor(i));
      const want = expected(v);
      expect(got?.values, v.test).toMatchObject(want.values);
      expect(
        Object.keys(got?.values ?? {}).filter((k) => !k.endsWith('_steps') && !k.endsWith('_args')),
        v.test,
      ).toHaveLength(Object.keys(want.values).length);
      expect(got?.meta?.['packetId'], v.test).toBe(want.packetId);
    }
    expect(r.sink.problems).toEqual([]);
    expect(r.src.health().counters).toMatchObject({ decoded: plainOk.length });
  });

  const plainBad = PLAIN_VECTORS.filter((v) => v.error !== undefined);
  it(`reports the ${plainBad.length} refused plain vectors as problems with the decoder's code, never throws`, async () => {
    const r = await rig();
    for (const [i, v] of plainBad.entries()) await r.send(macFor(i), bthomeAdv(v.hex));
    expect(r.sink.readings).toEqual([]);
    expect(r.sink.problems.map((p) => [p.code, p.device])).toEqual(plainBad.map((v, i) => [v.error, macFor(i)]));
    expect(r.src.health().counters).toMatchObject({ problems: plainBad.length, 'problems.FERRY_DECODE_OBJECT_ORDER': 3, 'problems.FERRY_DECODE_TRUNCATED': 1 });
  });

  // Regression: an object id newer than the table refused the whole advert, so a sensor on newer firmware lost
  // every reading. Now the objects before it are a reading, and the stop is a counted problem.
  it('keeps the readings before an unknown object id and counts the stop as a problem', async () => {
    const r = await rig();
    const partial = PLAIN_VECTORS.filter((v) => v.unknownObject !== undefined);
    for (const [i, v] of partial.entries()) await r.send(macFor(i), bthomeAdv(v.hex));
    expect(r.sink.readings.map((x) => [x.device, x.values, x.meta?.['unknownObjectId']])).toEqual([[macFor(1), { battery: 93 }, 0xfe]]);
    expect(r.sink.problems.map((p) => [p.code, p.device])).toEqual(partial.map((_, i) => ['FERRY_DECODE_UNKNOWN_OBJECT', macFor(i)]));
  });

  it('accepts out-of-order objects when allowUnordered is set', async () => {
    const v = PLAIN_VECTORS.find((x) => x.test === 'test_bthome_double_voltage_different_object_id');
    const r = await rig({ allowUnordered: true });
    await r.send(macFor(1), bthomeAdv(v?.hex ?? ''));
    expect(r.sink.problems).toEqual([]);
    expect(r.sink.readings[0]?.values).toMatchObject({ power: 0, voltage: 231.7, battery: 51, voltage_2: 3.305 });
  });
});

describe('BleSource: encrypted adverts', () => {
  const good = ENCRYPTED_VECTORS.filter((v) => v.error === undefined);
  it.each(good.map((v) => [v.test, v]))('%s decodes with the bind key of its MAC', async (_name, v) => {
    const mac = v.mac ?? SPEC_MAC;
    const r = await rig({ bindKeys: { [mac]: v.key ?? '' } });
    await r.send(mac, bthomeAdv(v.hex));
    expect(r.sink.problems).toEqual([]);
    const got = r.sink.readings[0];
    expect(got?.device).toBe(mac);
    expect(got?.meta).toMatchObject({ encrypted: true, counter: expect.any(Number) });
    const want = expected(v);
    expect(got?.values).toMatchObject(want.values);
    expect(got?.meta?.['packetId']).toBe(want.packetId);
  });

  it('gives the spec example with its counter and rssi in meta', async () => {
    const r = await rig({ bindKeys: { [SPEC_MAC.toLowerCase()]: SPEC_KEY.toUpperCase() } });
    await r.send(SPEC_MAC, bthomeAdv(SPEC_ENCRYPTION_EXAMPLE.serviceDataWithUuid.slice(4)), { rssi: -80 });
    expect(r.sink.readings.map((x) => [x.values, x.meta])).toEqual([
      [
        { temperature: 25.06, humidity: 50.55 },
        { rssi: -80, encrypted: true, counter: SPEC_ENCRYPTION_EXAMPLE.counter, 'unit.temperature': '°C', 'unit.humidity': '%' },
      ],
    ]);
  });

  it('reports FERRY_DECODE_BAD_MIC with a wrong key, KEY_REQUIRED without one, NOT_ENCRYPTED for a plaintext advert from a keyed MAC', async () => {
    const r = await rig({ bindKeys: { [SPEC_MAC]: '814aac74c4f17b6c1581e1ab87816b99', 'A4:C1:38:8D:18:B2': SPEC_KEY } });
    await r.send(SPEC_MAC, bthomeAdv('41a47266c95f730011223378237214'));
    await r.send('11:22:33:44:55:66', bthomeAdv('41a47266c95f730011223378237214'));
    await r.send('A4:C1:38:8D:18:B2', bthomeAdv('4002ca0903bf13'));
    expect(r.sink.readings).toEqual([]);
    expect(r.sink.problems.map((p) => [p.code, p.device])).toEqual([
      ['FERRY_DECODE_BAD_MIC', SPEC_MAC],
      ['FERRY_DECODE_KEY_REQUIRED', '11:22:33:44:55:66'],
      ['FERRY_DECODE_NOT_ENCRYPTED', 'A4:C1:38:8D:18:B2'],
    ]);
    expect(r.src.health().counters['problems.FERRY_DECODE_BAD_MIC']).toBe(1);
  });

  // bthome-ble tests/test_v2_encryption.py test_increasing/decreasing_encryption_counter, counters 0x00112233/34/32.
  const inc1 = '41e445f3c9962b332211006c7c4519';
  const inc2 = '413e932cc7175f34221100553876af';
  const dec2 = '41723d3035fb88322211009e7414c0';

  it('refuses replayed and older counters with FERRY_DECODE_REPLAYED; a byte-identical copy is only a duplicate', async () => {
    const r = await rig({ bindKeys: { [SPEC_MAC]: SPEC_KEY } });
    await r.send(SPEC_MAC, bthomeAdv(inc1));
    await r.send(SPEC_MAC, bthomeAdv(inc2));
    await r.send(SPEC_MAC, bthomeAdv(inc2)); // the device's own repeat
    await r.send(SPEC_MAC, bthomeAdv(inc1)); // an attacker replaying a recorded advert
    await r.send(SPEC_MAC, bthomeAdv(dec2));
    expect(r.sink.readings.map((x) => x.meta?.['counter'])).toEqual([0x00112233, 0x00112234]);
    expect(r.sink.codes()).toEqual(['FERRY_DECODE_REPLAYED', 'FERRY_DECODE_REPLAYED']);
    expect(r.src.health().counters).toMatchObject({ duplicatesDropped: 1, decoded: 2 });
    expect(r.src.replayEntries()).toEqual([[SPEC_MAC, 0x00112234]]);
  });

  it('keeps refusing replays after a restart when the daemon restores replayEntries()', async () => {
    const first = await rig({ bindKeys: { [SPEC_MAC]: SPEC_KEY } });
    await first.send(SPEC_MAC, bthomeAdv(inc2));
    const saved = first.src.replayEntries();
    const second = await rig({ bindKeys: { [SPEC_MAC]: SPEC_KEY }, replay: saved });
    await second.send(SPEC_MAC, bthomeAdv(inc1));
    expect(second.sink.codes()).toEqual(['FERRY_DECODE_REPLAYED']);
    const shared = new ReplayGuard();
    const third = await rig({ bindKeys: { [SPEC_MAC]: SPEC_KEY }, replay: shared });
    await third.send(SPEC_MAC, bthomeAdv(inc1));
    expect(shared.last(SPEC_MAC)).toBe(0x00112233);
  });
});

describe('BleSource: filtering and duplicates', () => {
  it('ignores adverts without BTHome service data but counts them for the watchdog', async () => {
    const r = await rig();
    await r.send('11:11:11:11:11:11', hex(`0201061aff4c000215${'00'.repeat(21)}`)); // iBeacon manufacturer data
    await r.send('22:22:22:22:22:22', hex('020106 0816 1a18 aabbccddee')); // Service Data for 0x181A, not 0xFCD2
    await r.send('33:33:33:33:33:33', hex('0201060b094449592d73656e736f72')); // name only
    expect(r.sink.readings).toEqual([]);
    expect(r.sink.problems).toEqual([]);
    expect(r.src.health().counters).toMatchObject({ adverts: 3, bthome: 0 });
  });

  it('drops repeats of one packet id (bthome.io "Packet ID") and takes the next one', async () => {
    const r = await rig();
    const mac = 'A4:C1:38:00:11:22';
    await r.send(mac, bthomeAdv('400009015d025d0903b718'));
    await r.send(mac, bthomeAdv('400009015d025d0903b718'));
    await r.send(mac, bthomeAdv('400009015d025e0903b718')); // same packet id 9, other bytes: still the same packet
    await r.send(mac, bthomeAdv('40000a015d025e0903b718')); // packet id 10
    expect(r.sink.readings.map((x) => x.meta?.['packetId'])).toEqual([9, 10]);
    expect(r.src.health().counters).toMatchObject({ bthome: 4, decoded: 2, duplicatesDropped: 2 });
  });

  it('drops identical plain adverts without packet id only within duplicateWindowMs of the first copy', async () => {
    const r = await rig({ duplicateWindowMs: 5_000 });
    const mac = 'A4:C1:38:00:11:22';
    for (let t = 0; t < 12; t++) {
      await r.send(mac, bthomeAdv('4002ca0903bf13'));
      r.clock.advance(1_000);
    }
    expect(r.sink.readings).toHaveLength(3); // t = 0, 5, 10 s: a constant value still reports
    expect(r.src.health().counters['duplicatesDropped']).toBe(9);
  });

  it('drops the stale service data noble merges into a later advert that has none', async () => {
    const r = await rig();
    const mac = 'A4:C1:38:00:11:22';
    await r.send(mac, bthomeAdv('4002ca0903bf13'));
    await r.send(mac, hex('0201060b094449592d73656e736f72')); // same device, an advert with only its name
    expect(r.sink.readings).toHaveLength(1);
    expect(r.src.health().counters).toMatchObject({ adverts: 2, bthome: 2, duplicatesDropped: 1 });
  });

  it('takes connectable adverts once noble reports them (gap.js waits for a scan response or a second report)', async () => {
    const r = await rig();
    await r.send('A4:C1:38:00:11:22', bthomeAdv('400001 02ca09'), { type: ADV_IND });
    await r.send('A4:C1:38:00:11:22', bthomeAdv('400002 02ca09'), { type: ADV_IND });
    expect(r.sink.readings.map((x) => x.meta?.['packetId'])).toEqual([2]);
  });
});

describe('BleSource: lifecycle and robustness', () => {
  it('keeps running when the sink throws, reporting FERRY_GW_BLE_INTERNAL', async () => {
    const sink = new RecordingSink();
    sink.reading = () => {
      throw new Error('sink broke');
    };
    const r = await rig({}, sink);
    await r.send('A4:C1:38:00:11:22', bthomeAdv('4002ca0903bf13'));
    await r.send('A4:C1:38:00:11:23', bthomeAdv('4002ca0903bf13'));
    expect(sink.codes()).toEqual(['FERRY_GW_BLE_INTERNAL', 'FERRY_GW_BLE_INTERNAL']);
    expect(r.src.health().up).toBe(true);
  });

  it('reports FERRY_GW_BLE_NOBLE_LOAD when the bindings cannot be made, and start() still resolves', async () => {
    const sink = new RecordingSink();
    const src = new BleSource({
      bindings: () => {
        throw new Error('No native build was found');
      },
    });
    await expect(src.start(sink)).resolves.toBeUndefined();
    expect(sink.codes()).toEqual(['FERRY_GW_BLE_NOBLE_LOAD']);
    expect(src.health().up).toBe(false);
  });

  it('catches bindings whose start() throws (noble would call it from process.nextTick otherwise)', async () => {
    const sink = new RecordingSink();
    const bindings = Object.assign(new EventEmitter(), {
      start: () => {
        throw new Error('Unsupported platform');
      },
      startScanning: () => undefined,
      stopScanning: () => undefined,
    });
    const src = new BleSource({ bindings: () => bindings });
    await src.start(sink);
    await settle();
    expect(sink.codes()).toEqual(['FERRY_GW_BLE_NOBLE_LOAD']);
    expect(sink.problems[0]?.message).toMatch(/Unsupported platform/);
  });

  it('stop() disables scanning, releases the socket and the process exit handlers; start() scans again', async () => {
    const exitListeners = process.listenerCount('exit');
    const r = await rig();
    expect(process.listenerCount('exit')).toBe(exitListeners + 1);
    await r.src.stop();
    await settle();
    expect([r.ctl.stopped, r.src.health().up, process.listenerCount('exit')]).toEqual([true, false, exitListeners]);
    await r.src.start(r.sink);
    await settle();
    const again = lastController();
    expect(again).not.toBe(r.ctl);
    expect(r.src.health().up).toBe(true);
    again.advertise('A4:C1:38:00:11:22', bthomeAdv('4002ca0903bf13'));
    expect(r.sink.readings).toHaveLength(1);
  });

  it('refuses bad options at construction with FERRY_GW_BLE_BAD_OPTIONS', () => {
    expect(() => new BleSource({ bindKeys: { 'A4:C1:38:00:11': SPEC_KEY } })).toThrow(/FERRY_GW_BLE_BAD_OPTIONS.*six hex bytes/);
    expect(() => new BleSource({ bindKeys: { [SPEC_MAC]: 'abcd' } })).toThrow(/FERRY_GW_BLE_BAD_OPTIONS.*32 hex digits/);
    expect(() => new BleSource({ quietMs: 0 })).toThrow(/FERRY_GW_BLE_BAD_OPTIONS.*quietMs/);
  });
});
