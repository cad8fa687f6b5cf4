/**
 * @module Server-sent event streams (the WHATWG HTML "Server-sent events" format) for the API's live routes:
 * open streams counted per owner against a quota, a keep-alive comment so proxies do not close an idle stream,
 * a reader that falls too far behind let go rather than buffered without bound, and every stream ended when
 * the server closes. The routes (composite-stream values, alarms, live telemetry) say only what they send.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;
/** Bytes queued for a reader before it is let go (docs/limits.md). */
export const SSE_MAX_BUFFERED = 1024 * 1024;

export interface SseStream {
  /** Sends one event; a reader with more than SSE_MAX_BUFFERED bytes waiting is ended instead. */
  send(event: string, data: unknown, id?: string): void;
  /** Ends the stream (once); with a reason, an `end` event carrying it goes first. */
  end(reason?: string): void;
  readonly ended: boolean;
}

export class SseStreams {
  readonly #open = new Map<string, number>();
  readonly #closers = new Set<() => void>();
  readonly #perOwner: number;

  constructor(app: FastifyInstance, perOwner: number) {
    this.#perOwner = perOwner;
    app.addHook('onClose', async () => {
      for (const c of [...this.#closers]) c();
    });
  }

  /** Whether `who` (an owner, or `global:<credential>`) may open one more stream. */
  full(who: string): boolean {
    return (this.#open.get(who) ?? 0) >= this.#perOwner;
  }

  /**
   * Takes the reply over and opens a stream counted for `who` (check `full` first: nothing that can throw may
   * lie between). `onEnd` runs once when it ends, however it ends: the reader leaving, `end`, the server closing.
   */
  open(req: FastifyRequest, reply: FastifyReply, who: string, hello: string, onEnd: () => void): SseStream {
    this.#open.set(who, (this.#open.get(who) ?? 0) + 1);
    reply.hijack();
    const raw: ServerResponse = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    raw.write(`: ${hello}\n\n`);
    let ended = false;
    const end = (reason?: string): void => {
      if (ended) return;
      ended = true;
      onEnd();
      clearInterval(keepalive);
      this.#closers.delete(close);
      const left = (this.#open.get(who) ?? 1) - 1;
      if (left <= 0) this.#open.delete(who);
      else this.#open.set(who, left);
      if (reason !== undefined && !raw.writableEnded) raw.write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
      raw.end();
    };
    const close = (): void => end('the server is closing');
    this.#closers.add(close);
    const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    req.raw.on('close', () => end());
    raw.on('close', () => end());
    return {
      send: (event, data, id) => {
        if (ended) return;
        if (raw.writableLength > SSE_MAX_BUFFERED) return end();
        raw.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      end,
      get ended() {
        return ended;
      },
    };
  }
}
