/**
 * @module Keeps noble scanning: starts a scan when the adapter is poweredOn, restarts it when it stops on its
 * own, and a watchdog that resets it when the adapter goes quiet. Every BlueZ/HCI gateway meets scans that
 * silently stop delivering adverts after hours (another process changing scan state, controller firmware
 * hangs); the only cure that works from user space is stop + start. All timing runs on the injected Clock,
 * so tests advance time instead of waiting.
 *
 * States: adapter (from noble 'stateChange') x phase: idle -> starting -> scanning -> stopping -> idle.
 */
import type { Clock } from '@ferry/base';
import type { BleErrorCode } from './errors.ts';
import type { AdapterState, Noble } from './noble-port.ts';

export interface Backoff {
  /** First retry delay, ms. */
  readonly initialMs: number;
  /** Upper bound, ms; the delay doubles per failed attempt until it gets there. */
  readonly maxMs: number;
}

/** Delay before retry `attempt` (0 = the first): initial·2^attempt, capped (no overflow after days). */
export function backoffDelay(attempt: number, b: Backoff): number {
  let d = b.initialMs;
  for (let i = 0; i < attempt && d < b.maxMs; i++) d *= 2;
  return Math.min(d, b.maxMs);
}

export interface ScanControlOptions {
  readonly clock: Clock;
  /** No advert for this long while scanning should be on: stop and restart the scan. */
  readonly quietMs: number;
  /** How long to wait for noble's 'scanStop' during a watchdog reset before starting again anyway. */
  readonly stopTimeoutMs: number;
  readonly backoff: Backoff;
}

export interface ScanControlEvents {
  problem(code: BleErrorCode, detail: string): void;
  count(counter: string): void;
}

type Phase = 'idle' | 'starting' | 'scanning' | 'stopping';
type Timer = { cancel(): void } | null;

const STATE_PROBLEM: Readonly<Record<string, BleErrorCode>> = {
  unauthorized: 'FERRY_GW_BLE_UNAUTHORIZED',
  unsupported: 'FERRY_GW_BLE_UNSUPPORTED',
};

export class ScanControl {
  readonly #noble: Noble;
  readonly #o: ScanControlOptions;
  readonly #ev: ScanControlEvents;
  #adapter: AdapterState = 'unknown';
  #phase: Phase = 'idle';
  #wanted = false;
  /** Last advert, scan start or scan request: what the quiet watchdog measures from. */
  #lastActivityMs = 0;
  #attempt = 0;
  /** Down states already reported in this outage: a flapping adapter reports each state once. */
  readonly #reportedDown = new Set<AdapterState>();
  #quietTimer: Timer = null;
  #retryTimer: Timer = null;
  #stopTimer: Timer = null;

  readonly #onState = (s: AdapterState): void => this.#guard(() => this.#stateChanged(s));
  readonly #onScanStart = (): void => this.#guard(() => this.#scanStarted());
  readonly #onScanStop = (): void => this.#guard(() => this.#scanStopped());

  constructor(noble: Noble, o: ScanControlOptions, ev: ScanControlEvents) {
    this.#noble = noble;
    this.#o = o;
    this.#ev = ev;
  }

  get adapterState(): AdapterState {
    return this.#adapter;
  }

  /** True while noble confirms a scan on a poweredOn adapter. */
  get scanning(): boolean {
    return this.#adapter === 'poweredOn' && this.#phase === 'scanning';
  }

  /**
   * Subscribes to noble; the scan starts when the adapter reports poweredOn. `initial` is noble.state read
   * just before (the bindings may already have reported a state synchronously while initialising).
   */
  start(initial: AdapterState = 'unknown'): void {
    this.#wanted = true;
    this.#lastActivityMs = this.#o.clock.now();
    this.#noble.on('stateChange', this.#onState);
    this.#noble.on('scanStart', this.#onScanStart);
    this.#noble.on('scanStop', this.#onScanStop);
    if (initial !== 'unknown') this.#onState(initial);
  }

  stop(): void {
    this.#wanted = false;
    for (const t of [this.#quietTimer, this.#retryTimer, this.#stopTimer]) t?.cancel();
    this.#quietTimer = this.#retryTimer = this.#stopTimer = null;
    this.#noble.removeListener('stateChange', this.#onState);
    this.#noble.removeListener('scanStart', this.#onScanStart);
    this.#noble.removeListener('scanStop', this.#onScanStop);
    if (this.#phase === 'scanning' || this.#phase === 'starting') this.#guard(() => this.#noble.stopScanning());
    this.#phase = 'idle';
  }

  /**
   * Called for every advert (BTHome or not): the adapter is alive. Only real adverts reset the back-off, so
   * a scan that something keeps stopping right after each start is retried ever more slowly.
   */
  activity(nowMs: number): void {
    this.#lastActivityMs = nowMs;
    this.#attempt = 0;
  }

  #stateChanged(s: AdapterState): void {
    const was = this.#adapter;
    if (s === was && s === 'poweredOn') return; // a repeat must not restart a running scan
    this.#adapter = s;
    if (s === 'poweredOn') {
      this.#retryTimer?.cancel();
      this.#retryTimer = null;
      this.#attempt = 0;
      this.#phase = 'idle';
      this.#reportedDown.clear();
      if (!this.#wanted) return;
      // Back from poweredOff & co: noble's hci bindings still believe they scan (bindings.js keeps
      // _isScanning, gap.js keeps _scanState 'started' across hci.js re-init), so a plain startScanning
      // would only echo 'scanStart'. Stop first so the controller really gets LE Set Scan Enable again.
      if (was === 'unknown') this.#requestScan();
      else this.#resetScan();
      return;
    }
    this.#phase = 'idle';
    this.#quietTimer?.cancel();
    this.#stopTimer?.cancel();
    this.#quietTimer = this.#stopTimer = null;
    if (!this.#reportedDown.has(s)) {
      // Without an adapter, noble's hci.js alternates unsupported / poweredOff as it polls the device.
      this.#reportedDown.add(s);
      this.#ev.problem(STATE_PROBLEM[s] ?? 'FERRY_GW_BLE_ADAPTER_OFF', `adapter state is ${s} (was ${was}); scanning is paused`);
    }
    if (this.#wanted) this.#scheduleRetry();
  }

  #requestScan(): void {
    if (!this.#wanted || this.#phase === 'starting' || this.#phase === 'scanning') return;
    this.#phase = 'starting';
    this.#lastActivityMs = this.#o.clock.now();
    this.#armQuiet();
    this.#ev.count('scanRequests');
    // Every service UUID and duplicates allowed: BTHome repeats each advert and the watchdog needs to see
    // all traffic, not only BTHome (lib/noble.js startScanning(serviceUuids, allowDuplicates, callback)).
    this.#noble.startScanning([], true, (error) => {
      if (error === undefined || error === null) return;
      this.#guard(() => {
        if (this.#phase === 'starting') this.#phase = 'idle';
        if (this.#adapter === 'poweredOn') this.#ev.problem('FERRY_GW_BLE_SCAN_FAILED', `startScanning failed: ${error.message}`);
        this.#scheduleRetry();
      });
    });
  }

  #scanStarted(): void {
    if (!this.#wanted) return;
    if (this.#phase !== 'scanning') this.#ev.count('scanStarts');
    this.#phase = 'scanning';
    this.#lastActivityMs = this.#o.clock.now();
    this.#armQuiet();
  }

  #scanStopped(): void {
    if (!this.#wanted) return;
    if (this.#phase === 'stopping') {
      // Our own watchdog stop finished: start again right away.
      this.#stopTimer?.cancel();
      this.#stopTimer = null;
      this.#phase = 'idle';
      this.#requestScan();
      return;
    }
    if (this.#adapter !== 'poweredOn') return; // the state change already paused us
    this.#phase = 'idle';
    this.#ev.count('unexpectedScanStops');
    this.#ev.problem('FERRY_GW_BLE_SCAN_STOPPED', 'scanning stopped without the source asking; restarting');
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#retryTimer !== null || !this.#wanted) return;
    const delay = backoffDelay(this.#attempt++, this.#o.backoff);
    this.#retryTimer = this.#o.clock.setTimeout(() => {
      this.#retryTimer = null;
      this.#guard(() => {
        if (!this.#wanted) return;
        this.#ev.count('retries');
        if (this.#adapter === 'poweredOn') this.#requestScan();
        else this.#scheduleRetry(); // noble re-initialises by itself when the adapter comes back up
      });
    }, delay);
  }

  #armQuiet(): void {
    this.#quietTimer?.cancel();
    const due = Math.max(0, this.#lastActivityMs + this.#o.quietMs - this.#o.clock.now());
    this.#quietTimer = this.#o.clock.setTimeout(() => {
      this.#quietTimer = null;
      this.#guard(() => this.#quietCheck());
    }, due);
  }

  /** Re-armed lazily: adverts only move #lastActivityMs, so a busy adapter costs no timer churn. */
  #quietCheck(): void {
    if (!this.#wanted || this.#adapter !== 'poweredOn' || this.#phase === 'idle') return;
    const quietFor = this.#o.clock.now() - this.#lastActivityMs;
    if (quietFor < this.#o.quietMs) {
      this.#armQuiet();
      return;
    }
    this.#ev.count('watchdogResets');
    this.#ev.problem('FERRY_GW_BLE_SCAN_STALLED', `no advert for ${quietFor} ms (quietMs ${this.#o.quietMs}); restarting the scan`);
    this.#resetScan();
  }

  /** Stop, then start when noble confirms the stop (#scanStopped) or after stopTimeoutMs. */
  #resetScan(): void {
    this.#phase = 'stopping';
    this.#lastActivityMs = this.#o.clock.now();
    this.#armQuiet();
    this.#stopTimer?.cancel();
    // If noble never confirms the stop, start anyway; should that only echo 'scanStart' (bindings.js
    // startScanning while _isScanning), the quiet watchdog tries again after quietMs.
    this.#stopTimer = this.#o.clock.setTimeout(() => {
      this.#stopTimer = null;
      this.#guard(() => {
        if (this.#phase !== 'stopping') return;
        this.#phase = 'idle';
        this.#requestScan();
      });
    }, this.#o.stopTimeoutMs);
    this.#noble.stopScanning();
  }

  /** noble can throw from any call (e.g. bindings not initialised); nothing escapes into noble's emitter. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#ev.problem('FERRY_GW_BLE_INTERNAL', `noble: ${(e as Error).message}`);
    }
  }
}
