/**
 * @module A Ferry board on a serial port (gateway.yaml `kind: board`): its signed messages are forwarded
 * byte for byte (the signature stays end to end, from the board to the cloud); the port is re-opened with
 * back-off when it vanishes (unplugged, board reset).
 */
import { BoardClient } from '@ferry/serial';
import { backoffDelay, systemClock, type Clock } from '@ferry/base';
import type { Source, SourceHealth, SourceSink } from '../sources/types.ts';

export interface BoardSourceOptions {
  readonly path: string;
  readonly baudRate?: number;
  readonly clock?: Clock;
  /** Opens the board (default BoardClient.open); tests inject. */
  readonly open?: (path: string, opts: { onMessage: (t: string) => void; onClose: () => void }) => Promise<BoardClient>;
}

export class BoardSource implements Source {
  readonly name: string;
  private readonly opts: BoardSourceOptions;
  private readonly clock: Clock;
  private client: BoardClient | undefined;
  private sink: SourceSink | undefined;
  private attempt = 0;
  private retry: { cancel(): void } | undefined;
  private stopped = false;
  private lastInputMs: number | undefined;
  private readonly counters = { messages: 0, openFailures: 0, disconnects: 0, reopens: 0 };

  constructor(opts: BoardSourceOptions) {
    this.opts = opts;
    this.name = `board:${opts.path}`;
    this.clock = opts.clock ?? systemClock;
  }

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    this.stopped = false;
    await this.open();
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const onMessage = (t: string): void => {
      this.counters.messages++;
      this.lastInputMs = this.clock.now();
      this.sink?.signed(new TextEncoder().encode(t), this.opts.path);
    };
    const onClose = (): void => {
      this.client = undefined;
      this.counters.disconnects++;
      if (!this.stopped) {
        this.sink?.problem({ code: 'FERRY_GW_SERIAL_PORT_GONE', message: `${this.opts.path} closed; re-opening`, device: this.opts.path });
        this.schedule();
      }
    };
    try {
      const open = this.opts.open ?? ((p, o) => BoardClient.open(p, { ...o, retainMessages: false, ...(this.opts.baudRate !== undefined && { baudRate: this.opts.baudRate }) }));
      this.client = await open(this.opts.path, { onMessage, onClose });
      if (this.attempt > 0) this.counters.reopens++;
      this.attempt = 0;
    } catch (e) {
      this.counters.openFailures++;
      if (this.attempt === 0) this.sink?.problem({ code: 'FERRY_GW_SERIAL_OPEN_FAILED', message: `${this.opts.path}: ${(e as Error).message}`, device: this.opts.path });
      this.schedule();
    }
  }

  private schedule(): void {
    this.retry?.cancel();
    this.retry = this.clock.setTimeout(() => { void this.open(); }, backoffDelay(this.attempt++));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.retry?.cancel();
    await this.client?.close().catch(() => undefined);
    this.client = undefined;
  }

  health(): SourceHealth {
    return { name: this.name, up: this.client !== undefined, lastInputMs: this.lastInputMs, counters: { ...this.counters } };
  }
}
