/**
 * @module BoardClient: talks to a board (an ESP32 on a USB serial port, or the posix board on a pty)
 * through the `serialport` package: hello, commands, module upload with progress, the stream of signed
 * messages. Requests carry a seq (1..65535) and wait for the ACK/NACK/INFO with the same seq; frames
 * with seq 0 (MESSAGE, LOG, receive-error NACKs) are unsolicited. Every failure is a SerialError.
 */
import { createHash } from 'node:crypto';
import { SerialPort } from 'serialport';
import { SerialError } from './errors.ts';
import { FrameDecoder, KIND, MAX_PAYLOAD, encodeFrame, type Frame } from './frame.ts';
import {
  COMMAND_OP,
  TEST_OP,
  nackError,
  parseInfo,
  parseSignedCommandAck,
  parseLog,
  readI32,
  readU32,
  sensorArgs,
  stateSet,
  testOp,
  u32,
  uploadBegin,
  uploadChunk,
  type BoardInfo,
  type LogLine,
  type SignedCommandOutcome,
} from './payloads.ts';

/** What BoardClient needs of a port; SerialPort fits, tests may pass a fake. */
export interface PortLike {
  write(data: Uint8Array): unknown;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'close', fn: () => void): unknown;
  close(cb?: (err: Error | null) => void): unknown;
}

export interface ClientOptions {
  /** Per-request timeout (default 5000 ms; uploads' commit gets 4x). */
  readonly timeoutMs?: number;
  readonly onMessage?: (token: string) => void;
  readonly onLog?: (line: LogLine) => void;
  /** Receive errors and unsolicited NACKs (garbage on the line). */
  readonly onLineError?: (e: SerialError) => void;
  /** The port closed (unplugged, board reset, or close()). */
  readonly onClose?: () => void;
  /** Keep received messages in `messages` (default true; a long-running daemon passes false). */
  readonly retainMessages?: boolean;
}

export interface UploadProgress {
  readonly sent: number;
  readonly total: number;
}

export const DEFAULT_CHUNK = 1024;

interface Pending {
  resolve: (f: Frame) => void;
  reject: (e: SerialError) => void;
  timer: NodeJS.Timeout;
}

const latin1 = new TextDecoder('latin1');

export class BoardClient {
  /** Every signed message received so far, as text, in order. */
  readonly messages: string[] = [];
  readonly logs: LogLine[] = [];
  /** Receive errors and unsolicited NACKs (garbage on the line), in order. */
  readonly lineErrors: SerialError[] = [];
  private readonly port: PortLike;
  private readonly opts: ClientOptions;
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private readonly waiters: (() => void)[] = [];
  private nextSeq = 1;
  private closed = false;

  constructor(port: PortLike, opts: ClientOptions = {}) {
    this.port = port;
    this.opts = opts;
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('close', () => this.onClose());
  }

  /** Opens a serial port (raw 115200 8N1; a pty ignores the rate). */
  static async open(path: string, opts: ClientOptions & { readonly baudRate?: number } = {}): Promise<BoardClient> {
    const port = await new Promise<SerialPort>((resolve, reject) => {
      const p: SerialPort = new SerialPort({ path, baudRate: opts.baudRate ?? 115200, autoOpen: true }, (err) =>
        err ? reject(new SerialError('FERRY_SERIAL_CLOSED', `cannot open ${path}: ${err.message}`)) : resolve(p),
      );
    });
    return new BoardClient(port, opts);
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.decoder.push(chunk)) {
      if (ev.type === 'error') {
        this.lineError(new SerialError(ev.code, 'receive error'));
        continue;
      }
      const f = ev.frame;
      if (f.seq !== 0 && (f.kind === KIND.ACK || f.kind === KIND.NACK || f.kind === KIND.INFO)) {
        const p = this.pending.get(f.seq);
        if (p === undefined) continue; // a late reply to a request that timed out
        this.pending.delete(f.seq);
        clearTimeout(p.timer);
        if (f.kind === KIND.NACK) p.reject(nackError(f.payload));
        else p.resolve(f);
      } else if (f.kind === KIND.MESSAGE) {
        const t = latin1.decode(f.payload);
        if (this.opts.retainMessages !== false) this.messages.push(t);
        this.opts.onMessage?.(t);
        for (const w of this.waiters.splice(0)) w();
      } else if (f.kind === KIND.LOG) {
        const l = parseLog(f.payload);
        if (l !== undefined) {
          this.logs.push(l);
          this.opts.onLog?.(l);
        }
      } else if (f.kind === KIND.NACK) {
        this.lineError(nackError(f.payload));
      }
    }
  }

  private lineError(e: SerialError): void {
    if (this.lineErrors.length < 1000) this.lineErrors.push(e);
    this.opts.onLineError?.(e);
  }

  private onClose(): void {
    this.closed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SerialError('FERRY_SERIAL_CLOSED', 'the port closed'));
    }
    this.pending.clear();
    this.opts.onClose?.();
  }

  /** Sends one request frame and waits for its reply (ACK/INFO resolve, NACK rejects). */
  request(kind: number, payload: Uint8Array = new Uint8Array(0), timeoutMs = this.opts.timeoutMs ?? 5000): Promise<Frame> {
    if (this.closed) return Promise.reject(new SerialError('FERRY_SERIAL_CLOSED', 'the port is closed'));
    const seq = this.nextSeq;
    this.nextSeq = this.nextSeq === 0xffff ? 1 : this.nextSeq + 1;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new SerialError('FERRY_SERIAL_TIMEOUT', `no reply to kind 0x${kind.toString(16)} seq ${seq} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, { resolve, reject, timer });
      this.port.write(encodeFrame(kind, seq, payload));
    });
  }

  /** Raw bytes onto the line (tests: garbage, oversized frames). */
  writeRaw(bytes: Uint8Array): void {
    this.port.write(bytes);
  }

  async hello(): Promise<BoardInfo> {
    const f = await this.request(KIND.HELLO);
    const info = f.kind === KIND.INFO ? parseInfo(f.payload) : undefined;
    if (info === undefined) throw new SerialError('FERRY_SERIAL_UNEXPECTED_REPLY', 'hello: no valid INFO');
    return info;
  }

  async setState(key: string, value: string): Promise<void> {
    await this.request(KIND.COMMAND, stateSet(key, value));
  }

  /**
   * Hands the board a signed command token, byte for byte (docs/serial-protocol.md SIGNED_COMMAND). The
   * board verifies it; `delivered` means its module answered (the signed cmd.ack arrives as a message
   * before this resolves), `dropped` that it did not verify. Either way the board has it.
   */
  async signedCommand(token: string | Uint8Array): Promise<SignedCommandOutcome> {
    const bytes = typeof token === 'string' ? new TextEncoder().encode(token) : token;
    const outcome = parseSignedCommandAck((await this.request(KIND.SIGNED_COMMAND, bytes)).payload);
    if (outcome === undefined) throw new SerialError('FERRY_SERIAL_UNEXPECTED_REPLY', 'signed command: expected an outcome byte');
    return outcome;
  }

  /** Reboots the board's module (a new epoch); returns the epoch. */
  async reboot(): Promise<number> {
    return this.u32Reply(await this.request(KIND.COMMAND, new Uint8Array([COMMAND_OP.REBOOT])), 'reboot');
  }

  /**
   * Uploads a module by hash: BEGIN(size, SHA-256), CHUNKs in order, COMMIT. Resolves with the new epoch
   * once the board runs the module; rejects with the board's typed NACK otherwise (the old module runs on).
   */
  async upload(
    module: Uint8Array,
    opts: { readonly chunkSize?: number; readonly sha256?: Uint8Array; readonly onProgress?: (p: UploadProgress) => void; readonly stopAfter?: number } = {},
  ): Promise<number> {
    const chunk = Math.min(opts.chunkSize ?? DEFAULT_CHUNK, MAX_PAYLOAD - 4);
    const sha = opts.sha256 ?? createHash('sha256').update(module).digest();
    await this.request(KIND.UPLOAD_BEGIN, uploadBegin(module.length, sha));
    opts.onProgress?.({ sent: 0, total: module.length });
    const stop = Math.min(opts.stopAfter ?? module.length, module.length);
    for (let off = 0; off < stop; off += chunk) {
      const part = module.subarray(off, Math.min(off + chunk, stop));
      await this.request(KIND.UPLOAD_CHUNK, uploadChunk(off, part));
      opts.onProgress?.({ sent: off + part.length, total: module.length });
    }
    const f = await this.request(KIND.UPLOAD_COMMIT, new Uint8Array(0), 4 * (this.opts.timeoutMs ?? 5000));
    return this.u32Reply(f, 'upload commit');
  }

  /** Resolves once at least `count` messages have arrived (or rejects after timeoutMs). */
  waitForMessages(count: number, timeoutMs = 5000): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.messages.length >= count) {
          clearTimeout(timer);
          resolve([...this.messages]);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => reject(new SerialError('FERRY_SERIAL_TIMEOUT', `${this.messages.length} of ${count} messages`)), timeoutMs);
      const again = (): void => {
        if (!check()) this.waiters.push(again);
      };
      again();
    });
  }

  // ---- test control (posix board with --test-control) ----

  async testBoot(): Promise<number> {
    return this.u32Reply(await this.request(KIND.TEST, testOp(TEST_OP.BOOT)), 'boot');
  }
  async testTick(ms: number): Promise<number> {
    const v = readI32((await this.request(KIND.TEST, testOp(TEST_OP.TICK, u32(ms)))).payload);
    if (v === undefined) throw new SerialError('FERRY_SERIAL_UNEXPECTED_REPLY', 'tick');
    return v;
  }
  async testAdvance(ms: number): Promise<void> {
    await this.request(KIND.TEST, testOp(TEST_OP.ADVANCE, u32(ms)));
  }
  async testSensor(value: number | 'fault' | undefined): Promise<void> {
    await this.request(KIND.TEST, testOp(TEST_OP.SENSOR, sensorArgs(value)));
  }
  async testFurnace(): Promise<boolean> {
    const p = (await this.request(KIND.TEST, testOp(TEST_OP.FURNACE))).payload;
    if (p.length !== 1) throw new SerialError('FERRY_SERIAL_UNEXPECTED_REPLY', 'furnace');
    return p[0] === 1;
  }
  async testAbiVersion(): Promise<number> {
    return this.u32Reply(await this.request(KIND.TEST, testOp(TEST_OP.ABI_VERSION)), 'abi version');
  }

  private u32Reply(f: Frame, what: string): number {
    const v = readU32(f.payload);
    if (v === undefined) throw new SerialError('FERRY_SERIAL_UNEXPECTED_REPLY', `${what}: expected a u32`);
    return v;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.port.close(() => resolve());
    });
    this.onClose();
  }
}
