/**
 * @module Scan upkeep through noble's real HCI bindings over the emulated controller, on a fake clock: the
 * quiet watchdog, adapter power loss and recovery with back-off, scans stopped by another process.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bthomeAdv, settle, startRig, until, type Rig } from '@ferry/test-kit/ble';
import { FakeClock } from '@ferry/test-kit/clock';
import { backoffDelay, ScanControl } from './scan-control.ts';

let rigs: Rig[] = [];
async function rig(...args: Parameters<typeof startRig>): Promise<Rig> {
  const r = await startRig(...args);
  rigs.push(r);
  return r;
}
afterEach(async () => {
  for (const r of rigs) await r.src.stop();
  rigs = [];
  vi.restoreAllMocks();
});

const MAC = 'A4:C1:38:00:11:22';
/** A plain advert with packet id `n` (so every one is new). */
const advert = (n: number): Uint8Array => bthomeAdv(`4000${(n & 0xff).toString(16).padStart(2, '0')}02ca09`);

describe('quiet watchdog', () => {
  it('leaves the scan alone while adverts flow, and restarts it after quietMs without one', async () => {
    const r = await rig({ quietMs: 120_000 });
    for (let i = 0; i < 40; i++) {
      // 20 minutes of an advert every 30 s: never quiet.
      expect(await r.send(MAC, advert(i))).toBe(true);
      await r.tick(30_000, 10_000);
    }
    expect(r.src.health().counters).toMatchObject({ watchdogResets: 0, decoded: 40 });
    expect(r.ctl.scanEnables).toBe(1);

    r.ctl.stalled = true; // the field failure: the controller "scans" but reports nothing
    await r.tick(60_000); // 90 s since the last advert
    expect(r.src.health().counters['watchdogResets']).toBe(0);
    await r.tick(30_000); // 120 s
    expect(r.sink.codes()).toEqual(['FERRY_GW_BLE_SCAN_STALLED']);
    expect(r.src.health().counters['watchdogResets']).toBe(1);
    // noble sent LE Set Scan Enable off, then on again (Core Vol 4 Part E §7.8.11).
    expect(r.ctl.scanEnables).toBe(2);
    expect(r.src.health().up).toBe(true);

    r.ctl.stalled = false;
    expect(await r.send(MAC, advert(99))).toBe(true);
    expect(r.sink.readings.at(-1)?.meta?.['packetId']).toBe(99);
  });

  it('counts any advert as life, BTHome or not, and keeps resetting while the adapter stays silent', async () => {
    const r = await rig({ quietMs: 60_000 });
    for (let i = 0; i < 10; i++) {
      await r.send('11:22:33:44:55:66', Uint8Array.from([0x02, 0x01, 0x06])); // flags only
      await r.tick(50_000, 10_000);
    }
    expect(r.src.health().counters).toMatchObject({ watchdogResets: 0, adverts: 10, bthome: 0 });
    r.ctl.stalled = true;
    await r.tick(180_000);
    expect(r.src.health().counters['watchdogResets']).toBe(3);
    expect(r.ctl.scanEnables).toBe(4);
  });

  it('recovers when the stop is confirmed only after stopTimeoutMs (the clock jumps past it)', async () => {
    const r = await rig({ quietMs: 60_000, stopTimeoutMs: 5_000, backoff: { initialMs: 1_000 } });
    r.ctl.stalled = true;
    r.clock.advance(120_000); // reset at 60 s, give-up on the stop at 65 s, before noble hears back
    await settle();
    r.ctl.stalled = false;
    await r.tick(5_000);
    expect(r.src.health().up).toBe(true);
    expect(await r.send(MAC, advert(1))).toBe(true);
    expect(r.sink.readings).toHaveLength(1);
    expect(r.src.health().counters['watchdogResets']).toBe(1);
    // The late scanStop looks like someone else's stop; it costs one back-off, not the scan.
    expect(r.sink.codes()).toEqual(['FERRY_GW_BLE_SCAN_STALLED', 'FERRY_GW_BLE_SCAN_STOPPED']);
  });
});

describe('adapter state', () => {
  it('reports poweredOff, retries with capped back-off, pauses the watchdog, and scans again when the adapter is back', async () => {
    const r = await rig({ quietMs: 60_000, backoff: { initialMs: 1_000, maxMs: 8_000 } });
    r.ctl.powerOff();
    await settle();
    expect(r.sink.codes()).toEqual(['FERRY_GW_BLE_ADAPTER_OFF']);
    expect(r.sink.problems[0]?.message).toMatch(/poweredOff/);
    expect([r.src.health().up, r.src.adapterState]).toEqual([false, 'poweredOff']);

    const retries = (): number => r.src.health().counters['retries'] ?? 0;
    for (const [wait, want] of [
      [999, 0],
      [1, 1],
      [2_000, 2],
      [4_000, 3],
      [8_000, 4],
      [8_000, 5],
      [8_000, 6],
    ] as const) {
      r.clock.advance(wait);
      expect(retries()).toBe(want);
    }
    r.clock.advance(10 * 60_000); // ten minutes down: retries continue at 8 s, no watchdog noise
    expect(retries()).toBe(6 + 75);
    expect(r.sink.codes()).toEqual(['FERRY_GW_BLE_ADAPTER_OFF']);

    const enablesBefore = r.ctl.scanEnables;
    r.ctl.powerOn(); // hci.js re-initialises the controller; noble reports poweredOn
    await until(() => r.src.health().up && r.ctl.scanEnables > enablesBefore);
    expect(await r.send(MAC, advert(1))).toBe(true);
    expect(r.sink.readings).toHaveLength(1);
    r.clock.advance(60_000);
    expect(r.src.health().counters['retries']).toBe(81); // back-off timer gone
  });

  it('reports unauthorized (no CAP_NET_RAW) as FERRY_GW_BLE_UNAUTHORIZED', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined); // noble prints its own hint
    const r = await rig();
    r.ctl.deny();
    await settle();
    expect(r.sink.codes()).toEqual(['FERRY_GW_BLE_UNAUTHORIZED']);
    expect(r.src.health().up).toBe(false);
  });

  it('restarts a scan that another process disabled, after the back-off', async () => {
    const r = await rig({ backoff: { initialMs: 2_000 } });
    r.ctl.otherHostDisablesScan(); // e.g. bluetoothd: hci.js sees the command on the raw socket
    await settle();
    expect(r.sink.codes()).toEqual(['FERRY_GW_BLE_SCAN_STOPPED']);
    expect(await r.send(MAC, advert(1))).toBe(false);
    r.clock.advance(2_000);
    await until(() => r.src.health().up);
    expect(r.src.health()).toMatchObject({ up: true, counters: { unexpectedScanStops: 1, retries: 1, scanStarts: 2 } });
    expect(await r.send(MAC, advert(1))).toBe(true);
  });

  it('backs off further when scanning is stopped again right after each restart, and resets once adverts flow', async () => {
    const r = await rig({ backoff: { initialMs: 1_000, maxMs: 60_000 } });
    const stopsAfter = async (ms: number): Promise<void> => {
      await r.tick(ms - 1, ms - 1);
      expect(r.src.health().up, `not yet restarted ${ms - 1} ms after the stop`).toBe(false);
      await r.tick(1);
      await until(() => r.src.health().up);
      r.ctl.otherHostDisablesScan();
      await settle();
    };
    r.ctl.otherHostDisablesScan();
    await settle();
    for (const ms of [1_000, 2_000, 4_000, 8_000]) await stopsAfter(ms);
    await r.tick(16_000, 16_000);
    await until(() => r.src.health().up);
    expect(await r.send(MAC, advert(1))).toBe(true); // life: the next trouble starts at 1 s again
    r.ctl.otherHostDisablesScan();
    await settle();
    await r.tick(1_000);
    await until(() => r.src.health().up);
    expect(r.src.health().counters['unexpectedScanStops']).toBe(6);
  });

  it('documents a noble limit: its HCI bindings always scan actively (hci.js setScanParameters, type 0x01)', async () => {
    const r = await rig();
    expect(r.ctl.scanTypes.length).toBeGreaterThan(0);
    expect(new Set(r.ctl.scanTypes)).toEqual(new Set([1])); // if this fails, noble learned passive scanning
    expect(r.ctl.filterDuplicates).toBe(false); // allowDuplicates: every repeat reaches us
  });
});

describe('ScanControl with a scripted noble', () => {
  it('reports each down state once per outage however the adapter flaps, and again after a poweredOn', () => {
    const noble = Object.assign(new EventEmitter(), { state: 'unknown' as const, startScanning: vi.fn(), stopScanning: vi.fn(), stop: vi.fn() });
    const problems: string[] = [];
    const sc = new ScanControl(
      noble,
      { clock: new FakeClock(), quietMs: 1_000, stopTimeoutMs: 100, backoff: { initialMs: 10, maxMs: 10 } },
      { problem: (c) => problems.push(c), count: () => undefined },
    );
    sc.start();
    for (const s of ['unsupported', 'poweredOff', 'unsupported', 'poweredOff', 'poweredOn', 'poweredOff'] as const) noble.emit('stateChange', s);
    expect(problems).toEqual(['FERRY_GW_BLE_UNSUPPORTED', 'FERRY_GW_BLE_ADAPTER_OFF', 'FERRY_GW_BLE_ADAPTER_OFF']);
    expect(noble.startScanning).toHaveBeenCalledTimes(0); // poweredOn after a down state: stop first, then start
    expect(noble.stopScanning).toHaveBeenCalledTimes(1);
    sc.stop();
    expect(noble.listenerCount('stateChange')).toBe(0);
  });

  it('turns a failed startScanning into FERRY_GW_BLE_SCAN_FAILED and retries, and a throwing noble into FERRY_GW_BLE_INTERNAL', () => {
    const clock = new FakeClock();
    let fail = true;
    const noble = Object.assign(new EventEmitter(), {
      state: 'unknown' as const,
      startScanning: vi.fn((_u: string[], _d: boolean, cb: (e?: Error) => void) => (fail ? cb(new Error('Could not start scanning')) : undefined)),
      stopScanning: vi.fn(() => {
        throw new Error('Bindings are not initialized');
      }),
      stop: vi.fn(),
    });
    const problems: string[] = [];
    const sc = new ScanControl(
      noble,
      { clock, quietMs: 1_000, stopTimeoutMs: 100, backoff: { initialMs: 10, maxMs: 10 } },
      { problem: (c) => problems.push(c), count: () => undefined },
    );
    sc.start();
    noble.emit('stateChange', 'poweredOn');
    expect(problems).toEqual(['FERRY_GW_BLE_SCAN_FAILED']);
    fail = false;
    clock.advance(10);
    expect(noble.startScanning).toHaveBeenCalledTimes(2);
    noble.emit('scanStart');
    expect(sc.scanning).toBe(true);
    clock.advance(1_000); // quiet: the watchdog's stopScanning throws
    expect(problems).toEqual(['FERRY_GW_BLE_SCAN_FAILED', 'FERRY_GW_BLE_SCAN_STALLED', 'FERRY_GW_BLE_INTERNAL']);
    sc.stop();
  });
});

describe('backoffDelay', () => {
  it('doubles from initialMs and stays at maxMs without overflowing', () => {
    const b = { initialMs: 1_000, maxMs: 60_000 };
    expect([0, 1, 2, 5, 6, 7].map((a) => backoffDelay(a, b))).toEqual([1_000, 2_000, 4_000, 32_000, 60_000, 60_000]);
    expect(backoffDelay(1e9, b)).toBe(60_000);
  });
});
