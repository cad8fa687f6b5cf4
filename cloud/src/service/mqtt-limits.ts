/**
 * @module Limits the embedded broker enforces on what clients send, before aedes parses it (docs/limits.md):
 * the largest packet, which topics may be retained and how many retained messages are kept, and a publish rate
 * per connection. aedes (and the mqtt-packet parser under it) take any packet up to MQTT's 256 MiB and buffer
 * it whole before parsing, so the size is checked here on the fixed header (MQTT 3.1.1 §2.2: one header byte,
 * then the Remaining Length, 1 to 4 bytes of 7 bits each), byte by byte as the data is read, and the
 * connection is closed the moment a packet announces more than the limit. Hand-written because neither aedes
 * nor mqtt-packet offers such a bound; it only counts bytes, never parses packets.
 */
import type { Socket } from 'node:net';

export interface MqttLimits {
  /** Largest MQTT packet accepted, bytes (fixed header included). A module upload by hash is the largest message. */
  readonly maxPacketBytes: number;
  /** Retained messages kept at most, in total; past it a publish is delivered but not retained. */
  readonly maxRetained: number;
  /** Publishes per second per connection (token bucket); past it the connection's next publish waits. */
  readonly publishesPerSecond: number;
  readonly publishBurst: number;
}

export const MQTT_LIMITS: MqttLimits = {
  maxPacketBytes: 2 * 1024 * 1024,
  maxRetained: 10_000,
  // One connection may be a gateway carrying many sensors, or a worker's bridge: the bound is for floods, far
  // above any honest publisher (the per-device rate of ingest paces each device on top of it).
  publishesPerSecond: 20_000,
  publishBurst: 20_000,
};

/**
 * Counts the packets crossing one connection and reports the first one whose Remaining Length passes
 * `maxPacketBytes`, or a Remaining Length longer than 4 bytes (malformed, §2.2.3).
 */
export class PacketSizeGuard {
  readonly #max: number;
  /** 0: at a fixed header byte; 1: in the Remaining Length; 2: in a packet's body. */
  #state: 0 | 1 | 2 = 0;
  #length = 0;
  #mult = 1;
  #lengthBytes = 0;
  #left = 0;

  constructor(maxPacketBytes: number) {
    this.#max = maxPacketBytes;
  }

  /** Feeds bytes read from the connection; returns why it must close, or undefined. */
  feed(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === 2) {
        const take = Math.min(this.#left, chunk.length - i);
        i += take;
        this.#left -= take;
        if (this.#left === 0) this.#state = 0;
        continue;
      }
      const b = chunk[i++]!;
      if (this.#state === 0) {
        this.#state = 1;
        this.#length = 0;
        this.#mult = 1;
        this.#lengthBytes = 0;
        continue;
      }
      this.#length += (b & 0x7f) * this.#mult;
      this.#mult *= 128;
      this.#lengthBytes++;
      if ((b & 0x80) !== 0) {
        if (this.#lengthBytes === 4) return 'malformed Remaining Length (more than 4 bytes)';
        continue;
      }
      const total = 1 + this.#lengthBytes + this.#length;
      if (total > this.#max) return `a ${total}-byte packet is larger than ${this.#max} bytes`;
      this.#left = this.#length;
      this.#state = this.#left === 0 ? 0 : 2;
    }
    return undefined;
  }
}

/**
 * Watches what aedes reads from `socket` (aedes pulls with socket.read() when 'readable' fires) and destroys
 * the socket before an oversized packet is buffered. Returns nothing; `onRefused` hears why.
 */
export function guardPacketSize(socket: Socket, maxPacketBytes: number, onRefused: (why: string) => void): void {
  const guard = new PacketSizeGuard(maxPacketBytes);
  const read = socket.read.bind(socket);
  socket.read = ((size?: number) => {
    const buf = read(size) as Buffer | null;
    if (buf === null) return buf;
    const why = guard.feed(buf);
    if (why === undefined) return buf;
    onRefused(why);
    socket.destroy();
    return null;
  }) as typeof socket.read;
}
