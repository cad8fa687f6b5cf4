/**
 * @module Test fixture: an emulated Bluetooth controller under noble's own HCI socket bindings, so BLE tests
 * run noble's production code from raw HCI packets upwards: lib/hci-socket/hci.js parses HCI events,
 * gap.js parses the advertising data (AD structures / EIR) into serviceData, bindings.js and noble.js turn
 * it into 'discover' peripherals. Only the kernel socket is replaced.
 *
 * How: hci.js builds its socket with `new (loadDriver(options.hciDriver))()` and loadDriver('uart')
 * lazily requires @stoprocent/bluetooth-hci-socket/lib/uart.js. We put EmulatedController in that
 * module's require.cache slot and ask for { hciDriver: 'uart', userChannel: true } (user channel: hci.js
 * then runs no 1 s isDevUp polling timer). The emulator answers every HCI command with Command Complete
 * (Core Spec Vol 4 Part E §7.7.14) and delivers adverts as LE Advertising Report events (§7.7.65.2).
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { NobleBindings } from '@ferry/gateway/ble';

const require = createRequire(import.meta.url);
const Module = require('node:module') as { new (id: string): { filename: string; loaded: boolean; exports: unknown } };

// HCI opcodes = OCF | OGF << 10 (Vol 4 Part E §5.4.1), those noble's scan path sends.
export const OP = {
  RESET: 0x0c03,
  READ_LE_HOST_SUPPORTED: 0x0c6c,
  READ_LOCAL_VERSION: 0x1001,
  READ_BD_ADDR: 0x1009,
  LE_READ_BUFFER_SIZE: 0x2002,
  LE_READ_LOCAL_SUPPORTED_FEATURES: 0x2003,
  LE_SET_SCAN_PARAMETERS: 0x200b,
  LE_SET_SCAN_ENABLE: 0x200c,
} as const;

const HCI_COMMAND_PKT = 0x01;
const HCI_EVENT_PKT = 0x04;
const EVT_CMD_COMPLETE = 0x0e;
const EVT_LE_META = 0x3e;
const LE_ADVERTISING_REPORT = 0x02;
/** Advertising report event types (§7.7.65.2): 0x00 ADV_IND (connectable), 0x03 ADV_NONCONN_IND. */
export const ADV_IND = 0x00;
export const ADV_NONCONN_IND = 0x03;

function resultFor(op: number): number[] {
  switch (op) {
    case OP.READ_LOCAL_VERSION: // HCI version 0x09 (5.0) >= 0x06, else hci.js reports 'unsupported'
      return [0x09, 0x00, 0x00, 0x09, 0x0f, 0x00, 0x00, 0x00];
    case OP.READ_BD_ADDR:
      return [0x66, 0x55, 0x44, 0x33, 0x22, 0x11];
    case OP.LE_READ_BUFFER_SIZE:
      return [0xfb, 0x00, 0x08];
    case OP.LE_READ_LOCAL_SUPPORTED_FEATURES: // no extended advertising: legacy reports
      return [0, 0, 0, 0, 0, 0, 0, 0];
    case OP.READ_LE_HOST_SUPPORTED:
      return [0x01, 0x00];
    default:
      return [];
  }
}

export class EmulatedController extends EventEmitter {
  static readonly created: EmulatedController[] = [];
  /** What isDevUp() answers; powerOff()/powerOn() flip it. */
  up = true;
  /** The field failure: the controller says it scans but delivers no report. */
  stalled = false;
  scanEnabled = false;
  filterDuplicates = false;
  stopped = false;
  /** Opcodes written by noble, in order. */
  readonly commands: number[] = [];
  /** LE Set Scan Enable commands with enable = 1. */
  scanEnables = 0;
  /** Scan type byte of each LE Set Scan Parameters (0 passive, 1 active). */
  readonly scanTypes: number[] = [];
  readonly #seen = new Set<string>();

  constructor() {
    super();
    EmulatedController.created.push(this);
  }

  // The socket API lib/hci-socket/hci.js uses.
  bindRaw(): void {}
  bindUser(): void {}
  start(): void {
    this.stopped = false;
  }
  stop(): void {
    this.stopped = true;
    this.scanEnabled = false;
  }
  isDevUp(): boolean {
    return this.up;
  }
  setFilter(): void {}

  write(pkt: Buffer): void {
    if (pkt[0] !== HCI_COMMAND_PKT || this.stopped) return;
    const op = pkt.readUInt16LE(1);
    this.commands.push(op);
    if (op === OP.LE_SET_SCAN_ENABLE) {
      this.scanEnabled = pkt[4] === 1;
      this.filterDuplicates = pkt[5] === 1;
      if (this.scanEnabled) this.scanEnables++;
      this.#seen.clear();
    }
    if (op === OP.LE_SET_SCAN_PARAMETERS) this.scanTypes.push(pkt[4] ?? -1);
    const result = resultFor(op);
    // Answer later, like a controller: noble must not depend on synchronous replies.
    setImmediate(() => {
      if (this.stopped || !this.up) return;
      this.#event(EVT_CMD_COMPLETE, [0x01, op & 0xff, op >> 8, 0x00, ...result]);
    });
  }

  /**
   * Delivers one advert (advertising data = AD structures) from `address` ("A4:C1:38:8D:18:B2") if the
   * controller is scanning; returns whether it was delivered.
   */
  advertise(address: string, advData: Uint8Array, opts: { rssi?: number; type?: number } = {}): boolean {
    if (!this.scanEnabled || this.stalled || this.stopped || !this.up) return false;
    if (this.filterDuplicates && this.#seen.has(address)) return false; // the controller's duplicate filter
    this.#seen.add(address);
    const addr = address
      .split(':')
      .map((h) => Number.parseInt(h, 16))
      .reverse(); // sent little-endian
    const rssi = (opts.rssi ?? -60) & 0xff;
    // LE Meta / LE Advertising Report: num_reports, event_type, address_type (1 random), address, length, data, rssi
    this.#event(EVT_LE_META, [LE_ADVERTISING_REPORT, 1, opts.type ?? ADV_NONCONN_IND, 0x01, ...addr, advData.length, ...advData, rssi]);
    return true;
  }

  /** The adapter goes down (rfkill, hciconfig down): hci.js polls isDevUp on 'state' and reports poweredOff. */
  powerOff(): void {
    this.up = false;
    this.scanEnabled = false;
    this.emit('state');
  }

  /** The adapter is back: hci.js re-initialises (reset, ...) and noble reports poweredOn again. */
  powerOn(): void {
    this.up = true;
    this.emit('state');
  }

  /** The kernel refuses the socket (no CAP_NET_RAW): hci.js maps EPERM to 'unauthorized'. */
  deny(): void {
    this.emit('error', Object.assign(new Error('Operation not permitted'), { code: 'EPERM' }));
  }

  /** Another process (bluetoothd) disables scanning: a raw HCI socket sees that command go by. */
  otherHostDisablesScan(): void {
    this.scanEnabled = false;
    this.emit('data', Buffer.from([HCI_COMMAND_PKT, OP.LE_SET_SCAN_ENABLE & 0xff, OP.LE_SET_SCAN_ENABLE >> 8, 0x02, 0x00, 0x01]));
  }

  #event(code: number, params: number[]): void {
    this.emit('data', Buffer.from([HCI_EVENT_PKT, code, params.length, ...params]));
  }
}

let installed = false;

/** Puts EmulatedController where noble's hci.js finds the 'uart' HCI driver (see the module comment). */
function install(): void {
  if (installed) return;
  const nobleHci = require.resolve('@stoprocent/noble/lib/hci-socket/hci.js');
  const uartPath = createRequire(nobleHci).resolve('@stoprocent/bluetooth-hci-socket/lib/uart.js');
  const m = new Module(uartPath);
  m.filename = uartPath;
  m.loaded = true;
  m.exports = EmulatedController;
  (require.cache as Record<string, unknown>)[uartPath] = m;
  installed = true;
}

/** A bindings factory for BleSource: noble's real HCI socket bindings over a fresh emulated controller. */
export function emulatedHciBindings(): NobleBindings {
  install();
  const HciBindings = require('@stoprocent/noble/lib/hci-socket/bindings.js') as new (o: object) => NobleBindings;
  return new HciBindings({ hciDriver: 'uart', userChannel: true });
}

/** The controller behind the most recently started bindings. */
export function lastController(): EmulatedController {
  const c = EmulatedController.created.at(-1);
  if (c === undefined) throw new Error('no emulated controller yet: start the source first');
  return c;
}

/** Lets setImmediate-driven HCI exchanges run until `done()` holds (or fails after `max` turns). */
export async function until(done: () => boolean, max = 200): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (done()) return;
    await new Promise((r) => setImmediate(r));
  }
  if (!done()) throw new Error('condition not reached');
}

/** Lets pending HCI exchanges finish. */
export async function settle(turns = 30): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}
