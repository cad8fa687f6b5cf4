/**
 * @module BleSource: the gateway's BLE input. Scans with @stoprocent/noble, keeps adverts that
 * carry BTHome service data (UUID 0xFCD2), drops repeats, decodes them with the BTHome v2 decoder (bind
 * keys per MAC, replay counters in a persistable ReplayGuard) and emits Readings. Problems go to
 * sink.problem and are counted; nothing is thrown into the daemon. Scan upkeep (adapter state, back-off,
 * quiet watchdog) lives in scan-control.ts, the BTHome code in gateway/src/bthome/. docs/ble.md describes
 * configuration and operation.
 */
import { decodeBthome } from '../bthome/decoder.ts';
import { parseHex } from '../decoders/hex.ts';
import { ReplayGuard } from '../bthome/replay-guard.ts';
import { systemClock, type Clock } from '@ferry/base';
import type { Source, SourceHealth, SourceProblem, SourceSink } from '../sources/types.ts';
import { bthomeServiceData, Deduper, normalizeMac, packetIdOf, toReading } from '../bthome/advert.ts';
import { BleSourceError, bleProblem, type BleErrorCode } from './errors.ts';
import { defaultNoble, nobleWithBindings, type AdapterState, type HciOptions, type Noble, type NobleBindings, type Peripheral } from './noble-port.ts';
import { ScanControl, type Backoff } from './scan-control.ts';

export interface BleSourceOptions {
  /** Source name in health() and logs. Default 'ble'. */
  readonly name?: string;
  /** BTHome bind keys by MAC: { "A4:C1:38:8D:18:B2": "231d39c1d7cc1ab1aee224cd096db932" } (config ble.bind_keys). */
  readonly bindKeys?: Readonly<Record<string, string>>;
  /** Watchdog: no advert at all for this long while scanning: restart the scan. Default 120 000 (config ble.quiet_ms). */
  readonly quietMs?: number;
  /** Accept BTHome objects out of id order (config ble.allow_unordered; see docs/decoders.md). Default false. */
  readonly allowUnordered?: boolean;
  /** Identical plain service data from one MAC within this window is a repeat. Default 10 000. */
  readonly duplicateWindowMs?: number;
  /** Persisted replay state, e.g. a previous `replayEntries()`; or a guard shared with other code. */
  readonly replay?: ReplayGuard | Iterable<readonly [string, number]>;
  readonly clock?: Clock;
  /**
   * Makes the noble bindings, called at each start(). Default: none, and noble picks its bindings for the
   * platform (the HCI socket on Linux). Tests pass bindings driving noble's real code over an emulated
   * controller (@ferry/test-kit/ble).
   */
  readonly bindings?: () => NobleBindings;
  /** Options for noble's HCI socket bindings when `bindings` is not given. */
  readonly hci?: HciOptions;
  /** Retry back-off after adapter trouble or a failed scan start. Default 1 s doubling to 60 s. */
  readonly backoff?: Partial<Backoff>;
  /** Watchdog reset: wait this long for noble's 'scanStop' before starting again. Default 5 000. */
  readonly stopTimeoutMs?: number;
}

const COUNTERS = [
  'adverts',
  'bthome',
  'decoded',
  'duplicatesDropped',
  'problems',
  'watchdogResets',
  'scanRequests',
  'scanStarts',
  'unexpectedScanStops',
  'retries',
] as const;

function bad(detail: string): BleSourceError {
  return new BleSourceError('FERRY_GW_BLE_BAD_OPTIONS', detail);
}

function positive(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isFinite(n) || n <= 0) throw bad(`${name} must be a positive number of milliseconds, got ${String(v)}`);
  return n;
}

function parseBindKeys(keys: Readonly<Record<string, string>>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [mac, hex] of Object.entries(keys)) {
    const m = normalizeMac(mac);
    if (m === null) throw bad(`bind key MAC ${JSON.stringify(mac)} is not six hex bytes (AA:BB:CC:DD:EE:FF)`);
    const k = parseHex(hex);
    // bthome.io/encryption: AES-128-CCM, so the bind key is 16 bytes (32 hex digits).
    if (!k.ok || k.value.length !== 16) throw bad(`bind key for ${m} must be 32 hex digits (16 bytes)`);
    out.set(m, k.value);
  }
  return out;
}

export class BleSource implements Source {
  readonly name: string;
  /** Anti-replay state; persist `replayEntries()` and pass it back as `replay` after a restart. */
  readonly replay: ReplayGuard;
  readonly #keys: Map<string, Uint8Array>;
  readonly #clock: Clock;
  readonly #quietMs: number;
  readonly #stopTimeoutMs: number;
  readonly #backoff: Backoff;
  readonly #allowUnordered: boolean;
  readonly #dedupe: Deduper;
  readonly #makeBindings: (() => NobleBindings) | undefined;
  readonly #hci: HciOptions;
  readonly #counters = new Map<string, number>(COUNTERS.map((c) => [c, 0]));
  #sink: SourceSink | null = null;
  #noble: Noble | null = null;
  #scan: ScanControl | null = null;
  #lastInputMs: number | undefined = undefined;
  readonly #onDiscover = (p: Peripheral): void => this.#discovered(p);

  constructor(o: BleSourceOptions = {}) {
    this.name = o.name ?? 'ble';
    this.#keys = parseBindKeys(o.bindKeys ?? {});
    this.#clock = o.clock ?? systemClock;
    this.#quietMs = positive('quietMs', o.quietMs, 120_000);
    this.#stopTimeoutMs = positive('stopTimeoutMs', o.stopTimeoutMs, 5_000);
    const initialMs = positive('backoff.initialMs', o.backoff?.initialMs, 1_000);
    this.#backoff = { initialMs, maxMs: Math.max(initialMs, positive('backoff.maxMs', o.backoff?.maxMs, 60_000)) };
    this.#dedupe = new Deduper(positive('duplicateWindowMs', o.duplicateWindowMs, 10_000));
    this.#allowUnordered = o.allowUnordered ?? false;
    this.replay = o.replay instanceof ReplayGuard ? o.replay : new ReplayGuard(o.replay);
    this.#makeBindings = o.bindings;
    this.#hci = o.hci ?? {};
  }

  /** Snapshot of the replay guard for the daemon to save ([MAC, last accepted counter] pairs). */
  replayEntries(): Array<[string, number]> {
    return this.replay.entries();
  }

  /** Resolves once noble is set up; scanning itself starts when the adapter reports poweredOn. */
  async start(sink: SourceSink): Promise<void> {
    if (this.#noble !== null) return;
    this.#sink = sink;
    let noble: Noble;
    let initial: AdapterState;
    try {
      noble = this.#makeBindings === undefined ? defaultNoble(this.#hci) : nobleWithBindings(this.#makeBindings());
      initial = noble.state; // initialises the bindings here, inside the try (see Noble.state)
    } catch (e) {
      this.#problem(bleProblem('FERRY_GW_BLE_NOBLE_LOAD', `cannot load noble: ${(e as Error).message}`));
      return;
    }
    this.#noble = noble;
    noble.on('discover', this.#onDiscover);
    this.#scan = new ScanControl(
      noble,
      { clock: this.#clock, quietMs: this.#quietMs, stopTimeoutMs: this.#stopTimeoutMs, backoff: this.#backoff },
      { problem: (code: BleErrorCode, detail: string) => this.#problem(bleProblem(code, detail)), count: (c) => this.#count(c) },
    );
    this.#scan.start(initial);
  }

  /** Stops scanning and releases the adapter (noble.stop(): HCI socket and exit handlers); start() may follow. */
  async stop(): Promise<void> {
    const noble = this.#noble;
    if (noble === null) return;
    this.#scan?.stop();
    noble.removeListener('discover', this.#onDiscover);
    try {
      noble.stop();
    } catch (e) {
      this.#problem(bleProblem('FERRY_GW_BLE_INTERNAL', `noble.stop: ${(e as Error).message}`));
    }
    this.#noble = null;
    this.#scan = null;
  }

  health(): SourceHealth {
    return {
      name: this.name,
      up: this.#scan?.scanning ?? false,
      lastInputMs: this.#lastInputMs,
      counters: Object.fromEntries(this.#counters),
    };
  }

  /** The adapter state last reported by noble ('unknown' before start). */
  get adapterState(): string {
    return this.#scan?.adapterState ?? 'unknown';
  }

  #discovered(p: Peripheral): void {
    try {
      const now = this.#clock.now();
      this.#count('adverts');
      this.#scan?.activity(now);
      const serviceData = bthomeServiceData(p.advertisement);
      if (serviceData === null) return; // not BTHome: only the watchdog cares
      this.#count('bthome');
      const mac = normalizeMac(p.address) ?? p.address;
      if (this.#dedupe.isRepeat(mac, serviceData, now)) {
        this.#count('duplicatesDropped');
        return;
      }
      // The advertiser address is the nonce MAC (bthome.io/encryption); a bind key also refuses plaintext
      // adverts from that MAC (FERRY_DECODE_NOT_ENCRYPTED: no downgrade).
      const r = decodeBthome(serviceData, { key: this.#keys.get(mac), mac, replay: this.replay, allowUnordered: this.#allowUnordered });
      if (!r.ok) {
        this.#problem({ code: r.error.code, message: r.error.message, device: mac });
        return;
      }
      if (this.#dedupe.isSamePacket(mac, packetIdOf(r.value))) {
        this.#count('duplicatesDropped');
        return;
      }
      const unknown = r.value.unknownObject;
      if (unknown !== null) {
        // Newer firmware sent an object id this table lacks: the objects before it are still sound readings.
        this.#problem({
          code: 'FERRY_DECODE_UNKNOWN_OBJECT',
          message: `object id 0x${unknown.id.toString(16).padStart(2, '0')} at byte ${unknown.at} is not known; ${r.value.objects.length} object(s) before it kept, the rest of the advert skipped`,
          device: mac,
        });
        if (r.value.objects.length === 0) return;
      }
      this.#count('decoded');
      this.#lastInputMs = now;
      this.#sink?.reading(toReading(mac, r.value, now, p.rssi));
    } catch (e) {
      // A throwing sink or a malformed peripheral must not break noble's event loop (or the daemon).
      this.#problem(bleProblem('FERRY_GW_BLE_INTERNAL', `advert from ${String(p?.address)}: ${(e as Error).message}`));
    }
  }

  #count(c: string, by = 1): void {
    this.#counters.set(c, (this.#counters.get(c) ?? 0) + by);
  }

  #problem(p: SourceProblem): void {
    this.#count('problems');
    this.#count(`problems.${p.code}`);
    try {
      this.#sink?.problem(p);
    } catch {
      // The sink is the daemon's; if it throws there is nobody left to tell.
    }
  }
}
