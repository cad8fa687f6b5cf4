/**
 * @module BoardSource against the shared Source contract (sources/sources.case.ts), over BoardClient on an
 * in-memory port (the fake board of packages/serial's tests, reduced to what the source uses: frames in,
 * close): inputs are signed Ferry messages in MESSAGE frames, the fault is the port closing (board
 * unplugged), and a failing start is an open that is refused.
 */
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { BoardClient, KIND, encodeFrame, type PortLike } from '@ferry/serial';
import { sourceContract } from '../sources/sources.case.ts';
import { BoardSource } from './board-source.ts';
import { FakeClock } from '@ferry/test-kit/clock';

/** A board's end of the line, delivering synchronously so anything the source throws surfaces in the test. */
class FakeBoardPort implements PortLike {
  #data: ((b: Buffer) => void) | undefined;
  #close: (() => void) | undefined;
  closed = false;
  write(): boolean {
    return true;
  }
  on(event: 'data' | 'close', fn: ((b: Buffer) => void) | (() => void)): this {
    if (event === 'data') this.#data = fn as (b: Buffer) => void;
    else this.#close = fn as () => void;
    return this;
  }
  close(cb?: (err: Error | null) => void): void {
    this.unplug();
    cb?.(null);
  }
  unplug(): void {
    if (this.closed) return;
    this.closed = true;
    this.#close?.();
  }
  send(bytes: Uint8Array): void {
    if (!this.closed) this.#data?.(Buffer.from(bytes));
  }
}

const key = hmacKey(new Uint8Array(32).fill(7));
const settle = async (rounds = 5): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
};

sourceContract('BoardSource', {
  delivers: 'signed',
  rig: async ({ failing = false } = {}) => {
    const ports: FakeBoardPort[] = [];
    const source = new BoardSource({
      path: '/dev/ttyBOARD0',
      clock: new FakeClock(),
      open: async (path, opts) => {
        await Promise.resolve();
        if (failing) throw new Error(`cannot open ${path}: No such file or directory`);
        const port = new FakeBoardPort();
        ports.push(port);
        return new BoardClient(port, { ...opts, retainMessages: false });
      },
    });
    let sq = 0;
    return {
      source,
      input: async () => {
        const t = encode({ header: { kid: 'th-01', ep: 1, sq: sq++ }, claims: { iss: 'th-01', iat: 1_767_225_600, ev: 'tel', d: { t: 20.5 } } }, key);
        if (!t.ok) throw t.error;
        const token = new TextEncoder().encode(t.value);
        ports.at(-1)?.send(encodeFrame(KIND.MESSAGE, 0, token));
        await settle();
        return token;
      },
      fault: async () => {
        ports.at(-1)?.unplug();
        await settle();
      },
      settle: () => settle(),
      openHandles: () => ports.filter((p) => !p.closed).length,
    };
  },
});
