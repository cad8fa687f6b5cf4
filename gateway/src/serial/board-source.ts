/**
 * @module A Ferry board on a serial port (gateway.yaml `kind: board`): its signed messages are forwarded
 * byte for byte (the signature stays end to end, from the board to the cloud); the port is re-opened with
 * back-off when it vanishes (unplugged, board reset). Signed commands from the cloud go the other way,
 * unchanged too, in SIGNED_COMMAND frames (`signedCommand`, driven by the daemon's CommandRelay).
 */
import { peek } from '@ferry/message';
import { BoardClient, type SignedCommandOutcome } from '@ferry/serial';
import { backoffDelay, systemClock, type Clock } from '@ferry/base';
import type { Source, SourceHealth, SourceSink } from '../sources/types.ts';

export interface BoardSourceOptions {
  readonly path: string;
  readonly baudRate?: number;
  readonly clock?: Clock;
  /** Opens the board (default BoardClient.open); tests inject. */
  readonly open?: (path: string, opts: { onMessage: (t: string) => void; onClose: () => void }) => Promise<BoardClient>;
  /** The board's id (its messages' `kid`), when configured; otherwise learned from its first message. */
  readonly boardId?: string;
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
  #boardId: string | undefined;
  readonly #ready = new Set<(boardId: string) => void>();
  private readonly counters = { messages: 0, openFailures: 0, disconnects: 0, reopens: 0, internalErrors: 0 };

  constructor(opts: BoardSourceOptions) {
    this.opts = opts;
    this.name = `board:${opts.path}`;
    this.clock = opts.clock ?? systemClock;
    this.#boardId = opts.boardId;
  }

  /** The board's id: configured, or the `kid` of the first message it sent; undefined until then. */
  get boardId(): string | undefined {
    return this.#boardId;
  }

  /** Whether the port is open now. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Calls fn with the board's id whenever the board can take commands: on each (re)open once its id is known. */
  onReady(fn: (boardId: string) => void): void {
    this.#ready.add(fn);
  }

  /**
   * Hands a signed command token to the board, byte for byte; the board verifies it (the gateway cannot
   * forge one: it has no downlink key). Rejects when the port is closed or the board does not answer.
   */
  async signedCommand(token: Uint8Array): Promise<SignedCommandOutcome> {
    const c = this.client;
    if (c === undefined) throw new Error(`${this.opts.path} is not connected`);
    return c.signedCommand(token);
  }

  private ready(): void {
    const id = this.#boardId;
    if (id === undefined || this.client === undefined) return;
    for (const fn of this.#ready) this.toSink(() => fn(id));
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
      if (this.#boardId === undefined) {
        const h = peek(t);
        if (h.ok) {
          this.#boardId = h.value.kid;
          this.ready();
        }
      }
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
    this.ready();
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
