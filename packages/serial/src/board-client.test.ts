/** BoardClient against an in-memory fake board (no ports, no processes): replies, NACK mapping, timeouts, unsolicited frames. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BoardClient, type PortLike } from './board-client.ts';
import { FrameDecoder, KIND, encodeFrame, type Frame } from './frame.ts';
import { u32 } from './payloads.ts';

/** A fake board: decodes what the client writes and answers through `reply`. */
class FakePort implements PortLike {
  private readonly dec = new FrameDecoder();
  private data: ((b: Buffer) => void) | undefined;
  private closeFn: (() => void) | undefined;
  readonly received: Frame[] = [];
  private readonly reply: (f: Frame, send: (kind: number, seq: number, p?: Uint8Array) => void) => void;
  constructor(reply: (f: Frame, send: (kind: number, seq: number, p?: Uint8Array) => void) => void) {
    this.reply = reply;
  }
  write(bytes: Uint8Array): boolean {
    for (const e of this.dec.push(bytes))
      if (e.type === 'frame') {
        this.received.push(e.frame);
        this.reply(e.frame, (k, s, p) => this.push(encodeFrame(k, s, p)));
      }
    return true;
  }
  push(bytes: Uint8Array): void {
    queueMicrotask(() => this.data?.(Buffer.from(bytes)));
  }
  on(event: 'data' | 'close', fn: ((b: Buffer) => void) | (() => void)): this {
    if (event === 'data') this.data = fn as (b: Buffer) => void;
    else this.closeFn = fn as () => void;
    return this;
  }
  close(cb?: (err: Error | null) => void): void {
    this.closeFn?.();
    cb?.(null);
  }
}

const nack = (code: number, text: string): Uint8Array => Uint8Array.from([code & 0xff, code >> 8, ...new TextEncoder().encode(text)]);
const info = (): Uint8Array => {
  const p = new Uint8Array(48 + 5);
  const dv = new DataView(p.buffer);
  dv.setUint16(0, 1, true);
  dv.setUint32(2, 7, true);
  dv.setUint32(6, 1000, true);
  dv.setUint32(10, 9300, true);
  p.fill(0xab, 14, 46);
  p[46] = 0b101;
  p[47] = 5;
  p.set(new TextEncoder().encode('th-01'), 48);
  return p;
};

afterEach(() => {
  vi.useRealTimers();
});

describe('BoardClient', () => {
  it('parses INFO, collects MESSAGE and LOG frames, maps NACKs to catalog errors', async () => {
    const port = new FakePort((f, send) => {
      if (f.kind === KIND.HELLO) {
        send(KIND.MESSAGE, 0, new TextEncoder().encode('a.b.c'));
        send(KIND.LOG, 0, Uint8Array.from([1, 104, 105]));
        send(KIND.INFO, f.seq, info());
      } else send(KIND.NACK, f.seq, nack(6105, 'hash differs'));
    });
    const c = new BoardClient(port);
    expect(await c.hello()).toMatchObject({
      abiVersion: 1,
      epoch: 7,
      freeMemory: 1000,
      moduleSize: 9300,
      moduleSha256: 'ab'.repeat(32),
      testControl: true,
      virtualClock: false,
      running: true,
      boardId: 'th-01',
    });
    expect(c.messages).toEqual(['a.b.c']);
    expect(c.logs).toEqual([{ level: 1, text: 'hi' }]);
    await expect(c.request(KIND.UPLOAD_COMMIT)).rejects.toMatchObject({
      code: 'FERRY_SERIAL_UPLOAD_HASH',
      num: 6105,
      message: 'FERRY_SERIAL_UPLOAD_HASH: hash differs',
    });
  });

  it('uploads in order with progress and returns the epoch from the commit ACK', async () => {
    let received = 0;
    const port = new FakePort((f, send) => {
      if (f.kind === KIND.UPLOAD_CHUNK) {
        received += f.payload.length - 4;
        send(KIND.ACK, f.seq, u32(received));
      } else send(KIND.ACK, f.seq, f.kind === KIND.UPLOAD_COMMIT ? u32(42) : u32(0));
    });
    const c = new BoardClient(port);
    const progress: number[] = [];
    const mod = Uint8Array.from({ length: 2500 }, (_, i) => i & 0xff);
    expect(await c.upload(mod, { chunkSize: 1000, onProgress: (p) => progress.push(p.sent) })).toBe(42);
    expect(progress).toEqual([0, 1000, 2000, 2500]);
    expect(port.received.map((f) => f.kind)).toEqual([KIND.UPLOAD_BEGIN, KIND.UPLOAD_CHUNK, KIND.UPLOAD_CHUNK, KIND.UPLOAD_CHUNK, KIND.UPLOAD_COMMIT]);
    expect(new DataView(port.received[3]!.payload.buffer, port.received[3]!.payload.byteOffset).getUint32(0, true)).toBe(2000);
  });

  it('times out without a reply, ignores a late reply, and fails pending requests on close', async () => {
    vi.useFakeTimers();
    const port = new FakePort(() => undefined);
    const c = new BoardClient(port, { timeoutMs: 100 });
    const p = c.request(KIND.HELLO);
    const check = expect(p).rejects.toMatchObject({ code: 'FERRY_SERIAL_TIMEOUT' });
    await vi.advanceTimersByTimeAsync(150);
    await check;
    port.push(encodeFrame(KIND.ACK, 1)); // the late reply: no one waits for it
    const q = c.request(KIND.HELLO);
    const check2 = expect(q).rejects.toMatchObject({ code: 'FERRY_SERIAL_CLOSED' });
    await c.close();
    await check2;
    await expect(c.hello()).rejects.toMatchObject({ code: 'FERRY_SERIAL_CLOSED' });
  });

  it('records line errors (garbage NACKs on seq 0 and receive errors)', async () => {
    const port = new FakePort(() => undefined);
    const c = new BoardClient(port);
    port.push(Uint8Array.from([0x09, 1, 2, 0]));
    port.push(encodeFrame(KIND.NACK, 0, nack(6001, 'bad CRC')));
    await new Promise<void>((r) => {
      queueMicrotask(r);
    }); // after the two queued deliveries
    expect(c.lineErrors.map((e) => e.code)).toEqual(['FERRY_SERIAL_COBS', 'FERRY_SERIAL_CRC']);
  });
});
