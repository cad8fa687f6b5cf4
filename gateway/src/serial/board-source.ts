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
  /** Between start() and stop(); a second start() must not open a second connection. */
  private running = false;
  /** Bumped by stop(), so an open still in flight from before it is closed instead of kept. */
  private generation = 0;
  private lastInputMs: number | undefined;
  private readonly counters = { messages: 0, openFailures: 0, disconnects: 0, reopens: 0, internalErrors: 0 };

  constructor(opts: BoardSourceOptions) {
    this.opts = opts;
    this.name = `board:${opts.path}`;
    this.clock = opts.clock ?? systemClock;
  }

  /** Resolves after the first open attempt; a port that cannot be opened is a problem and a retry. */
  async start(sink: SourceSink): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.sink = sink;
    await this.open();
  }

  private async open(): Promise<void> {
    if (!this.running) return;
    const generation = this.generation;
    const onMessage = (t: string): void => {
      this.counters.messages++;
      this.lastInputMs = this.clock.now();
      this.toSink((sink) => sink.signed(new TextEncoder().encode(t), this.opts.path));
    };
    const onClose = (): void => {
      this.client = undefined;
      this.counters.disconnects++;
      if (this.running) {
        this.toSink((sink) => sink.problem({ code: 'FERRY_GW_SERIAL_PORT_GONE', message: `${this.opts.path} closed; re-opening`, device: this.opts.path }));
        this.schedule();
      }
    };
    let client: BoardClient;
    try {
      const open =
        this.opts.open ??
        ((p, o) => BoardClient.open(p, { ...o, retainMessages: false, ...(this.opts.baudRate !== undefined && { baudRate: this.opts.baudRate }) }));
      client = await open(this.opts.path, { onMessage, onClose });
    } catch (e) {
      this.counters.openFailures++;
      if (this.attempt === 0)
        this.toSink((sink) =>
          sink.problem({ code: 'FERRY_GW_SERIAL_OPEN_FAILED', message: `${this.opts.path}: ${(e as Error).message}`, device: this.opts.path }),
        );
      if (generation === this.generation) this.schedule();
      return;
    }
    if (generation !== this.generation) {
      await client.close().catch(() => undefined); // stopped while the port was opening
      return;
    }
    this.client = client;
    if (this.attempt > 0) this.counters.reopens++;
    this.attempt = 0;
  }

  /**
   * Calls the sink. These calls run inside the port's data and close events, where an exception would be
   * uncaught and end the daemon; a throwing sink costs one message, not the process.
   */
  private toSink(call: (sink: SourceSink) => void): void {
    const sink = this.sink;
    if (sink === undefined) return;
    try {
      call(sink);
    } catch (e) {
      this.counters.internalErrors++;
      try {
        sink.problem({ code: 'FERRY_GW_SERIAL_INTERNAL', message: `the sink threw: ${e instanceof Error ? e.message : String(e)}`, device: this.opts.path });
      } catch {
        // counted above; nothing else can be done
      }
    }
  }

  private schedule(): void {
    this.retry?.cancel();
    this.retry = this.clock.setTimeout(
      () => {
        void this.open();
      },
      backoffDelay(this.attempt++),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    this.retry?.cancel();
    await this.client?.close().catch(() => undefined);
    this.client = undefined;
  }

  health(): SourceHealth {
    return { name: this.name, up: this.client !== undefined, lastInputMs: this.lastInputMs, counters: { ...this.counters } };
  }
}
