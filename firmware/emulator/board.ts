/**
 * @module The Node emulated board: loads the same .wasm a real board runs, implements the ABI over a
 * virtual clock, a simulated room and furnace, in-memory state and node:crypto HMAC. Deterministic for
 * a given seed: the same options give byte-identical messages.
 */
import { readFileSync } from 'node:fs';
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { AbiError, COMMAND_RESULT, STATUS } from '@ferry/abi';
import { mqttPassword } from '@ferry/message/node';
import { compile, MemoryState, ModuleInstance, type BoardPorts, type CallResult, type CompiledModule, type SensorReading } from '@ferry/wasm-host';
import { THERMOSTAT_WASM } from '../paths.ts';
import { VirtualClock } from './clock.ts';
import { DownlinkReceiver, type DownlinkReceiverOptions } from './downlink.ts';
import { Rng } from './rng.ts';
import { DEFAULT_ROOM, Room, type RoomParams } from './room.ts';

export interface BoardOptions {
  /** The firmware: bytes, an already compiled module, or a path (default: the release thermostat). */
  readonly wasm?: Uint8Array | CompiledModule | string;
  readonly deviceId?: string;
  /** HMAC key, at least 32 bytes (RFC 7518 §3.2). */
  readonly key: Uint8Array;
  readonly seed?: number;
  /** Wall clock at power-on, Unix ms (default 2026-01-01T00:00:00Z). */
  readonly startMs?: number;
  /** Simulated time between ticks (default 10 s). */
  readonly tickMs?: number;
  readonly room?: Partial<RoomParams>;
  /** State to use (e.g. shared with other boards to emulate a namespace); default a fresh one. */
  readonly state?: MemoryState;
  readonly onMessage?: (token: string) => void;
  readonly onLog?: (level: number, text: string) => void;
  /** How the host checks what the cloud sends the board (clock, a persisted replay window). */
  readonly downlink?: DownlinkReceiverOptions;
}

export class BoardError extends Error {
  readonly errors: readonly AbiError[];
  constructor(errors: readonly AbiError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'BoardError';
    this.errors = errors;
  }
}

export const DEFAULT_START_MS = Date.UTC(2026, 0, 1);

/**
 * What became of a command token: dropped without an answer (it did not verify, or the module could not
 * take it: no `command` export, a body without a valid id), or delivered with the host's verdict
 * (COMMAND_VERDICT) and the module's result (COMMAND_RESULT, or a negative status).
 */
export type CommandOutcome =
  | { readonly delivered: false; readonly reason: string }
  | { readonly delivered: true; readonly verdict: number; readonly result: number };

export class EmulatedBoard {
  readonly clock: VirtualClock;
  readonly room: Room;
  readonly state: MemoryState;
  readonly deviceId: string;
  /** Verifies what the cloud sends this board, with the downlink key derived from the board's key (online.ts, remote.ts). */
  readonly downlink: DownlinkReceiver;
  readonly messages: string[] = [];
  readonly logs: { level: number; text: string }[] = [];
  /** Furnace relay switches: uptime-independent wall times. */
  readonly switches: { atMs: number; on: boolean }[] = [];
  /** The boot counter in "NVS": survives reboots, incremented before every instantiation. */
  epoch = 0;
  /** Injected temperature (hundredths) or sensor fault; undefined = read the simulated room. */
  sensorOverride: number | 'fault' | undefined;
  watchdogResets = 0;

  private instance: ModuleInstance | undefined;
  /** The body of the command being delivered, while `command()` runs (cmd.read). */
  private commandBody: Uint8Array | undefined;
  private readonly rng: Rng;
  private readonly key: KeyObject;
  private readonly tickMs: number;
  private readonly compiled: CompiledModule;
  private readonly opts: BoardOptions;

  private constructor(compiled: CompiledModule, opts: BoardOptions) {
    if (opts.key.length < 32) throw new RangeError('device key must be at least 32 bytes (RFC 7518 §3.2)');
    this.compiled = compiled;
    this.opts = opts;
    this.deviceId = opts.deviceId ?? 'th-01';
    this.clock = new VirtualClock(opts.startMs ?? DEFAULT_START_MS);
    this.room = new Room({ ...DEFAULT_ROOM, ...opts.room });
    this.state = opts.state ?? new MemoryState();
    this.rng = new Rng(opts.seed ?? 1);
    this.key = createSecretKey(opts.key);
    this.downlink = DownlinkReceiver.forDevice(opts.key, this.deviceId, opts.downlink);
    this.tickMs = opts.tickMs ?? 10_000;
  }

  /** The board's MQTT password, derived from its key as a real board's host does (docs/cloud.md, "MQTT"). */
  mqttPassword(): string {
    return mqttPassword(this.opts.key, this.deviceId);
  }

  static async create(opts: BoardOptions): Promise<EmulatedBoard> {
    const w = opts.wasm ?? THERMOSTAT_WASM;
    let compiled: CompiledModule;
    if (typeof w === 'object' && 'module' in w) compiled = w;
    else {
      const c = await compile(typeof w === 'string' ? readFileSync(w) : w);
      if (!c.ok) throw new BoardError(c.errors);
      compiled = c.value;
    }
    return new EmulatedBoard(compiled, opts);
  }

  get furnaceOn(): boolean {
    return this.room.furnaceOn;
  }

  private ports(): BoardPorts {
    return {
      deviceId: this.deviceId,
      nowMs: () => this.clock.nowMs(),
      uptimeMs: () => this.clock.uptimeMs(),
      sensorRead: (channel): SensorReading => {
        if (channel !== 0) return { ok: false, status: STATUS.NO_SUCH_CHANNEL.value };
        const noise = this.rng.symmetric() * this.room.params.noiseC; // drawn on every read: keeps the RNG in step
        if (this.sensorOverride === 'fault') return { ok: false, status: STATUS.DEVICE_FAULT.value };
        if (this.sensorOverride !== undefined) return { ok: true, centi: this.sensorOverride };
        return { ok: true, centi: Math.round((this.room.temperatureC + noise) * 100) };
      },
      actuatorSet: (channel, value) => {
        if (channel !== 0) return STATUS.NO_SUCH_CHANNEL.value;
        if (value !== 0 && value !== 1) return STATUS.BAD_ARGUMENT.value;
        const on = value === 1;
        if (on !== this.room.furnaceOn) this.switches.push({ atMs: this.clock.nowMs(), on });
        this.room.furnaceOn = on;
        return STATUS.OK.value;
      },
      state: this.state,
      emit: (token) => {
        const t = new TextDecoder().decode(token);
        this.messages.push(t);
        this.opts.onMessage?.(t);
        return STATUS.OK.value;
      },
      sign: (data) => createHmac('sha256', this.key).update(data).digest(),
      log: (level, text) => {
        this.logs.push({ level, text });
        this.opts.onLog?.(level, text);
      },
      commandBody: () => this.commandBody,
    };
  }

  /** Powers on (or resets): epoch + 1, fresh instance, uptime restarts, then boot(epoch). */
  async boot(): Promise<CallResult> {
    this.epoch++;
    this.clock.reboot();
    const inst = await ModuleInstance.create(this.compiled, this.ports());
    if (!inst.ok) {
      this.instance = undefined;
      return inst;
    }
    this.instance = inst.value;
    return this.instance.call('boot', this.epoch);
  }

  /** Lets simulated time pass (the room evolves), without calling the firmware. */
  advance(ms: number): void {
    this.clock.advance(ms);
    this.room.step(Math.round(ms / 1000));
  }

  /** What the module's abi_version() returns (on a throwaway instance; the running one is untouched). */
  async abiVersion(): Promise<number> {
    const inst = await ModuleInstance.create(this.compiled, this.ports());
    if (!inst.ok) throw inst.error;
    const v = inst.value.call('abi_version');
    if (!v.ok) throw v.error;
    return v.value;
  }

  /** One control period: time passes (the board's tick period, or `ms`), then the firmware ticks. */
  tick(ms: number = this.tickMs): CallResult {
    this.advance(ms);
    if (this.instance === undefined) return { ok: false, error: new AbiError('FERRY_ABI_DEAD', 'board is not booted') };
    return this.instance.call('tick');
  }

  /**
   * Delivers a signed command token (docs/actions.md "On the board"): the host verifies it (downlink.ts);
   * a token that does not verify is dropped with no answer; otherwise the module gets it with the host's
   * verdict and answers with one signed `cmd.ack` message. A module asking for a reboot is rebooted after
   * its answer.
   */
  async command(token: string | Uint8Array): Promise<CommandOutcome> {
    const c = this.downlink.openCommand(token);
    if (c === undefined) return { delivered: false, reason: 'unverified' };
    if (this.instance === undefined) return { delivered: false, reason: 'not booted' };
    this.commandBody = new TextEncoder().encode(JSON.stringify(c.downlink.body));
    const r = this.instance.call('command', c.verdict);
    this.commandBody = undefined;
    if (!r.ok) {
      // Like a hardware watchdog (run()): a module that traps is re-instantiated in a new epoch.
      if (this.instance?.dead === true) {
        this.watchdogResets++;
        this.log(3, `watchdog reset after ${r.error.message}`);
        await this.boot();
      }
      return { delivered: false, reason: r.error.code };
    }
    if (r.value < 0) return { delivered: false, reason: `module status ${r.value}` };
    if (r.value === COMMAND_RESULT.REBOOT) await this.boot();
    return { delivered: true, verdict: c.verdict, result: r.value };
  }

  /**
   * Runs `ticks` control periods. Like a hardware watchdog, a trap resets the board (a new epoch) and
   * the run goes on; the resets are counted.
   */
  async run(ticks: number): Promise<void> {
    if (this.instance === undefined) await this.boot();
    for (let i = 0; i < ticks; i++) {
      const r = this.tick();
      if (!r.ok && this.instance?.dead === true) {
        this.watchdogResets++;
        this.log(3, `watchdog reset after ${r.error.message}`);
        await this.boot();
      }
    }
  }

  private log(level: number, text: string): void {
    this.logs.push({ level, text });
    this.opts.onLog?.(level, text);
  }
}
