/**
 * @module SerialSensorSource: one PMS5003 or MH-Z19 on one serial port, as a gateway `Source`. Opens the
 * port, decodes frames with the resynchronising framers, polls when the sensor needs it, and re-opens a
 * vanished port with capped exponential back-off, all timed by the injected Clock. Nothing
 * here throws after construction: problems go to `sink.problem` and are counted in `health()`.
 *
 * States: idle -start-> opening -ok-> up -gone-> waiting -timer-> opening … ; any -stop-> stopped.
 */
import { backoffDelay, systemClock, type BackoffOptions, type Clock } from '@ferry/base';
import type { Reading, Source, SourceHealth, SourceSink } from '../sources/types.ts';
import { classifyOpenError, serialProblem, SerialSensorError, type SerialSensorErrorCode } from './errors.ts';
import { expectsAck } from './pms5003-sensor.ts';
import { openPort, type PortLink, type SerialBinding } from './port.ts';
import {
  isSerialSensorKind,
  SERIAL_SENSORS,
  type SensorDecoder,
  type SensorEvent,
  type SensorMode,
  type SensorProtocol,
  type SerialSensorKind,
} from './sensor.ts';

export interface SerialSensorSourceOptions {
  /** Device path, e.g. /dev/serial0 (Pi UART) or /dev/ttyUSB0. Readings use device `<path>#<kind>`. */
  readonly path: string;
  readonly kind: SerialSensorKind;
  /** PMS5003: 'active' (default, the sensor streams) or 'passive' (polled). MH-Z19: only 'passive'. */
  readonly mode?: SensorMode | undefined;
  /** Default 9600, as both datasheets fix it. */
  readonly baudRate?: number | undefined;
  /** Passive mode: ms between read commands. Default 5000. */
  readonly intervalMs?: number | undefined;
  /** Passive mode: ms to wait for an answer before FERRY_GW_SERIAL_NO_ANSWER. Default min(1000, intervalMs / 2). */
  readonly responseTimeoutMs?: number | undefined;
  /** Active mode: ms without a valid frame before FERRY_GW_SERIAL_SILENT (repeated each period). Default 10 000. */
  readonly silenceMs?: number | undefined;
  /** Re-open back-off. Defaults: 500 ms doubling up to 30 s. */
  readonly backoff?: BackoffOptions | undefined;
  /** serialport binding; default the native one. Tests pass @serialport/binding-mock. */
  readonly binding?: SerialBinding | undefined;
  readonly clock?: Clock | undefined;
  /** health().name; default `serial:<path>#<kind>`. */
  readonly name?: string | undefined;
}

export const SERIAL_SENSOR_DEFAULTS = { intervalMs: 5000, responseTimeoutMs: 1000, silenceMs: 10_000 } as const;

type State = 'idle' | 'opening' | 'up' | 'waiting' | 'stopped';
type Timer = { cancel(): void };

const COUNTERS = [
  'frames',
  'readings',
  'other_frames',
  'warmup_frames',
  'bad_checksum',
  'bad_frames',
  'discarded_bytes',
  'requests',
  'timeouts',
  'opens',
  'open_failures',
  'disconnects',
  'reopen_attempts',
  'reopens',
  'io_errors',
  'internal_errors',
] as const;
type Counter = (typeof COUNTERS)[number];

export class SerialSensorSource implements Source {
  readonly name: string;
  readonly device: string;
  readonly #path: string;
  readonly #protocol: SensorProtocol;
  readonly #mode: SensorMode;
  readonly #baudRate: number;
  readonly #intervalMs: number;
  readonly #responseTimeoutMs: number;
  readonly #silenceMs: number;
  readonly #backoff: BackoffOptions;
  readonly #binding: SerialBinding | undefined;
  readonly #clock: Clock;
  readonly #decoder: SensorDecoder;
  readonly #counters: Record<Counter, number> = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;

  #state: State = 'idle';
  #sink: SourceSink | undefined;
  #link: PortLink | undefined;
  #opening: Promise<void> | undefined;
  /** Failed opens since the port was last up; picks the back-off delay. */
  #failures = 0;
  /** Set once the port was lost or never opened, so the next successful open counts as a re-open. */
  #lost = false;
  #lastInputMs: number | undefined;
  /** Bumped on every open, loss and stop, so callbacks of an older port instance are ignored. */
  #gen = 0;
  #reopenTimer: Timer | undefined;
  #pollTimer: Timer | undefined;
  #answerTimer: Timer | undefined;
  #silenceTimer: Timer | undefined;

  constructor(o: SerialSensorSourceOptions) {
    const bad = (detail: string): never => {
      throw new SerialSensorError('FERRY_GW_SERIAL_BAD_OPTIONS', detail);
    };
    if (typeof o.path !== 'string' || o.path === '') bad('path must be a non-empty device path');
    if (!isSerialSensorKind(o.kind)) bad(`kind ${JSON.stringify(o.kind)} is not one of pms5003, mhz19`);
    this.#protocol = SERIAL_SENSORS[o.kind];
    this.#mode = o.mode ?? this.#protocol.modes[0] ?? 'passive';
    if (!this.#protocol.modes.includes(this.#mode)) bad(`${o.kind} has no ${this.#mode} mode (it supports ${this.#protocol.modes.join(', ')})`);
    const positive = (v: number | undefined, what: string, dflt: number): number => {
      if (v === undefined) return dflt;
      return Number.isFinite(v) && v > 0 ? v : bad(`${what} must be a positive number of ms, not ${v}`);
    };
    this.#baudRate = positive(o.baudRate, 'baudRate', this.#protocol.baudRate);
    this.#intervalMs = positive(o.intervalMs, 'intervalMs', SERIAL_SENSOR_DEFAULTS.intervalMs);
    this.#responseTimeoutMs = positive(o.responseTimeoutMs, 'responseTimeoutMs', Math.min(SERIAL_SENSOR_DEFAULTS.responseTimeoutMs, this.#intervalMs / 2));
    if (this.#responseTimeoutMs >= this.#intervalMs)
      bad(`responseTimeoutMs (${this.#responseTimeoutMs}) must be shorter than intervalMs (${this.#intervalMs})`);
    this.#silenceMs = positive(o.silenceMs, 'silenceMs', SERIAL_SENSOR_DEFAULTS.silenceMs);
    const b = o.backoff ?? {};
    positive(b.initialMs, 'backoff.initialMs', 1);
    positive(b.maxMs, 'backoff.maxMs', 1);
    if (b.factor !== undefined && !(Number.isFinite(b.factor) && b.factor >= 1)) bad(`backoff.factor must be >= 1, not ${b.factor}`);
    this.#backoff = b;
    this.#path = o.path;
    this.device = `${o.path}#${o.kind}`;
    this.name = o.name ?? `serial:${this.device}`;
    this.#binding = o.binding;
    this.#clock = o.clock ?? systemClock;
    this.#decoder = this.#protocol.createDecoder();
  }

  /**
   * Resolves after the first open attempt; a missing port is a problem and a retry, not a rejection.
   * Calling it again, or after stop(), does nothing: a stopped source is not restarted (make a new one).
   */
  async start(sink: SourceSink): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#sink = sink;
    await this.#open();
  }

  /** Cancels every timer, waits for an open in flight, and closes the port. */
  async stop(): Promise<void> {
    this.#state = 'stopped';
    this.#gen++;
    this.#stopTimers();
    this.#reopenTimer?.cancel();
    this.#reopenTimer = undefined;
    await this.#opening;
    const link = this.#link;
    this.#link = undefined;
    await link?.close();
  }

  health(): SourceHealth {
    const s = this.#decoder.stats;
    return {
      name: this.name,
      up: this.#state === 'up',
      lastInputMs: this.#lastInputMs,
      counters: { ...this.#counters, discarded_bytes: s.discardedBytes },
    };
  }

  #open(): Promise<void> {
    this.#state = 'opening';
    const gen = ++this.#gen;
    this.#decoder.reset(); // a frame cut by the unplug must not be glued to the first bytes after it
    const attempt = (async () => {
      let link: PortLink;
      try {
        link = await openPort(
          { path: this.#path, baudRate: this.#baudRate, binding: this.#binding },
          {
            data: (chunk) => {
              if (gen === this.#gen) this.#onData(chunk);
            },
            gone: (detail) => {
              if (gen === this.#gen) this.#onGone(detail);
            },
            error: (err) => {
              if (gen === this.#gen) this.#ioError(err);
            },
          },
        );
      } catch (err) {
        if (this.#state === 'stopped') return;
        this.#count('open_failures');
        this.#lost = true;
        this.#report(classifyOpenError(err), `cannot open ${this.#path}: ${(err as Error).message ?? String(err)}`);
        this.#scheduleReopen();
        return;
      }
      if (gen !== this.#gen) {
        await link.close(); // stopped, or already gone, while the open was finishing
        return;
      }
      this.#link = link;
      this.#state = 'up';
      this.#count('opens');
      if (this.#lost) this.#count('reopens');
      this.#lost = false;
      this.#failures = 0;
      this.#afterOpen();
    })();
    this.#opening = attempt;
    return attempt.finally(() => {
      if (this.#opening === attempt) this.#opening = undefined;
    });
  }

  #scheduleReopen(): void {
    this.#state = 'waiting';
    const delay = backoffDelay(this.#failures++, this.#backoff);
    this.#reopenTimer = this.#clock.setTimeout(() => {
      this.#reopenTimer = undefined;
      if (this.#state !== 'waiting') return;
      this.#count('reopen_attempts');
      void this.#open();
    }, delay);
  }

  #onGone(detail: string): void {
    this.#gen++;
    if (this.#state === 'stopped') return;
    this.#link = undefined;
    this.#stopTimers();
    this.#count('disconnects');
    this.#lost = true;
    this.#report('FERRY_GW_SERIAL_PORT_GONE', `${this.#path} went away (${detail}); re-opening with back-off`);
    this.#scheduleReopen();
  }

  #ioError(err: Error): void {
    this.#count('io_errors');
    this.#report('FERRY_GW_SERIAL_IO', `${this.#path}: ${err.message}`);
  }

  #afterOpen(): void {
    for (const cmd of this.#protocol.openCommands(this.#mode)) {
      if (expectsAck(this.#decoder)) this.#decoder.expectAck();
      this.#link?.write(cmd);
    }
    if (this.#mode === 'passive') this.#poll();
    else this.#armSilence();
  }

  /** Passive mode: one read command now, the next one intervalMs later; an answer must come within the timeout. */
  #poll(): void {
    if (this.#state !== 'up') return;
    this.#link?.write(this.#protocol.readCommand());
    this.#decoder.expectAnswer?.();
    this.#count('requests');
    this.#answerTimer?.cancel();
    this.#answerTimer = this.#clock.setTimeout(() => {
      this.#answerTimer = undefined;
      this.#count('timeouts');
      this.#report('FERRY_GW_SERIAL_NO_ANSWER', `${this.#protocol.kind} on ${this.#path} did not answer the read command within ${this.#responseTimeoutMs} ms`);
    }, this.#responseTimeoutMs);
    this.#pollTimer = this.#clock.setTimeout(() => this.#poll(), this.#intervalMs);
  }

  /** Active mode: a watchdog re-armed by every valid frame. */
  #armSilence(): void {
    this.#silenceTimer?.cancel();
    this.#silenceTimer = this.#clock.setTimeout(() => {
      this.#silenceTimer = undefined;
      if (this.#state !== 'up') return;
      this.#count('timeouts');
      this.#report('FERRY_GW_SERIAL_SILENT', `${this.#protocol.kind} on ${this.#path} sent no valid frame for ${this.#silenceMs} ms`);
      this.#armSilence();
    }, this.#silenceMs);
  }

  #stopTimers(): void {
    for (const t of [this.#pollTimer, this.#answerTimer, this.#silenceTimer]) t?.cancel();
    this.#pollTimer = this.#answerTimer = this.#silenceTimer = undefined;
  }

  #onData(chunk: Uint8Array): void {
    for (const e of this.#decoder.push(chunk)) this.#onEvent(e);
  }

  #onEvent(e: SensorEvent): void {
    if (e.type === 'error') {
      this.#count(e.error.code === 'FERRY_DECODE_BAD_CHECKSUM' ? 'bad_checksum' : 'bad_frames');
      this.#toSink((sink) => sink.problem({ code: e.error.code, message: e.error.message, device: this.device }));
      return;
    }
    this.#count('frames');
    const now = this.#clock.now();
    this.#lastInputMs = now;
    if (this.#mode === 'active') this.#armSilence();
    if (e.type === 'other') {
      this.#count('other_frames');
      return;
    }
    // An answer ends the wait (a warm-up answer too: the sensor is there); a frame arriving unasked from a
    // streaming sensor is still a valid measurement (request/response decoders refuse unasked answers).
    this.#answerTimer?.cancel();
    this.#answerTimer = undefined;
    if (e.type === 'warmup') {
      this.#count('warmup_frames');
      return;
    }
    this.#count('readings');
    const reading: Reading = {
      device: this.device,
      kind: this.#protocol.kind,
      atMs: now,
      values: e.values,
      meta: { ...e.meta, port: this.#path, mode: this.#mode },
    };
    this.#toSink((sink) => sink.reading(reading));
  }

  #count(c: Counter): void {
    this.#counters[c]++;
  }

  #report(code: SerialSensorErrorCode, detail: string): void {
    this.#toSink((sink) => sink.problem(serialProblem(code, detail, this.device)));
  }

  /**
   * Calls the sink. These calls run inside serialport's 'data' events and Clock callbacks, where an
   * exception would be uncaught and end the daemon; a throwing sink costs one reading, not the process.
   */
  #toSink(call: (sink: SourceSink) => void): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    try {
      call(sink);
    } catch (err) {
      this.#count('internal_errors');
      try {
        sink.problem(serialProblem('FERRY_GW_SERIAL_INTERNAL', `the sink threw: ${err instanceof Error ? err.message : String(err)}`, this.device));
      } catch {
        // counted above; nothing else can be done
      }
    }
  }
}
