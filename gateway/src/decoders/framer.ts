/**
 * @module A streaming framer for fixed-length UART frames with start bytes (PMS5003, MH-Z19): takes chunks
 * split anywhere, finds the start bytes, waits for a whole frame, and on a bad frame skips ONE byte and
 * searches again, so a real frame that begins inside a corrupt one is still found. Errors are returned and
 * counted, never thrown.
 */
import type { DecodeErrorCode, DecodeResult } from './errors.ts';

export interface FramerStats {
  /** Frames decoded successfully. */
  readonly frames: number;
  /** Candidate frames refused, by error code (e.g. FERRY_DECODE_BAD_CHECKSUM). */
  readonly errors: Readonly<Partial<Record<DecodeErrorCode, number>>>;
  /** Bytes thrown away while searching for start bytes (garbage, plus one byte per refused frame). */
  readonly discardedBytes: number;
}

export interface FrameFormat<T> {
  /** Start bytes every frame begins with. */
  readonly header: readonly number[];
  /** Total frame size, header included. */
  readonly frameBytes: number;
  /** Decodes exactly `frameBytes` bytes that begin with `header`. */
  readonly decode: (frame: Uint8Array) => DecodeResult<T>;
}

export class StreamFramer<T> {
  readonly #format: FrameFormat<T>;
  #pending: Uint8Array = new Uint8Array(0);
  #frames = 0;
  #errors: Partial<Record<DecodeErrorCode, number>> = {};
  #discarded = 0;

  constructor(format: FrameFormat<T>) {
    this.#format = format;
  }

  /** Feeds a chunk; returns the frames (and frame errors) completed by it, in stream order. */
  push(chunk: Uint8Array): Array<DecodeResult<T>> {
    const { header, frameBytes, decode } = this.#format;
    const buf = new Uint8Array(this.#pending.length + chunk.length);
    buf.set(this.#pending, 0);
    buf.set(chunk, this.#pending.length);
    const out: Array<DecodeResult<T>> = [];
    let i = 0;
    for (;;) {
      const h = findHeader(buf, i, header);
      this.#discarded += h - i;
      i = h;
      if (buf.length - i < frameBytes) break; // wait for the rest (or for more of a partial header)
      const result = decode(buf.subarray(i, i + frameBytes));
      out.push(result);
      if (result.ok) {
        this.#frames++;
        i += frameBytes;
      } else {
        this.#errors[result.error.code] = (this.#errors[result.error.code] ?? 0) + 1;
        this.#discarded++;
        i++; // resynchronise: skip one byte and search for the next start bytes
      }
    }
    this.#pending = buf.slice(i);
    return out;
  }

  get stats(): FramerStats {
    return { frames: this.#frames, errors: { ...this.#errors }, discardedBytes: this.#discarded };
  }

  /** Bytes held while waiting for the rest of a frame. */
  get buffered(): number {
    return this.#pending.length;
  }

  /** Drops buffered bytes (e.g. after the port was reopened); keeps the counters. */
  reset(): void {
    this.#pending = new Uint8Array(0);
  }
}

/**
 * Index of the first position >= from where `header` starts, or where a proper prefix of it runs to the
 * end of `buf` (so a header split across chunks is kept); buf.length if neither.
 */
function findHeader(buf: Uint8Array, from: number, header: readonly number[]): number {
  for (let i = from; i < buf.length; i++) {
    let j = 0;
    while (j < header.length && i + j < buf.length && buf[i + j] === header[j]) j++;
    if (j === header.length || i + j === buf.length) return i;
  }
  return buf.length;
}
