/**
 * @module Real pseudo-terminals for serial integration tests: PtyDevice runs pty-provider.py (python3's
 * pty.openpty(); no extra package), which links a pty's device end at a path that the code under test
 * opens with the native serialport binding, and relays the other end to this process. Every device is
 * tracked and killed by killAllPtys() (afterEach). Simulated sensors on a PtyDevice are in sensors.ts.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readlinkSync, unlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PROVIDER = fileURLToPath(new URL('./pty-provider.py', import.meta.url));
const live = new Set<PtyDevice>();

/** Why the pty tests cannot run here, or undefined if they can. */
export function ptyUnavailable(): string | undefined {
  if (process.platform !== 'linux' && process.platform !== 'darwin') return `no pseudo-terminals on ${process.platform}`;
  const r = spawnSync('python3', ['-c', 'import pty, tty, select'], { stdio: 'ignore' });
  return r.status === 0 ? undefined : 'python3 (with the pty module) is not installed';
}

export class PtyDevice {
  readonly link: string;
  /** The pty's device end, /dev/pts/N. */
  tty = '';
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #exited: Promise<void>;
  #received: number[] = [];
  #listeners: ((bytes: Uint8Array) => void)[] = [];

  private constructor(link: string, child: ChildProcessWithoutNullStreams) {
    this.link = link;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout.on('data', (b: Buffer) => {
      const bytes = Uint8Array.from(b);
      this.#received.push(...bytes);
      for (const l of this.#listeners) l(bytes);
    });
  }

  /** Starts a provider and resolves once `link` points at its pty. */
  static async create(link: string): Promise<PtyDevice> {
    const child = spawn('python3', [PROVIDER, link], { stdio: ['pipe', 'pipe', 'pipe'] });
    const dev = new PtyDevice(link, child);
    live.add(dev);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        const m = /ready (\S+)\n/.exec(err);
        if (m?.[1] !== undefined) {
          dev.tty = m[1];
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`pty provider exited (${code}) before it was ready: ${err}`)));
    });
    return dev;
  }

  /** Bytes the port wrote so far (what the sensor received). */
  get received(): Uint8Array {
    return Uint8Array.from(this.#received);
  }

  onData(fn: (bytes: Uint8Array) => void): void {
    this.#listeners.push(fn);
  }

  /** Bytes from the sensor to the port. */
  write(bytes: Uint8Array): void {
    this.#child.stdin.write(bytes);
  }

  /**
   * Pulls the plug: the link goes first (as udev removes /dev/ttyUSB0 and its by-id link), then SIGKILL
   * hangs up the pty under the open port. Removing the link first matters: /dev/pts numbers are reused at
   * once, and a link left pointing at a dead one could lead the source into another test's pty.
   */
  async unplug(): Promise<void> {
    try {
      if (readlinkSync(this.link) === this.tty) unlinkSync(this.link);
    } catch {
      // already gone
    }
    this.#child.kill('SIGKILL');
    await this.#exited;
    live.delete(this);
  }

  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    await this.#exited;
    live.delete(this);
  }
}

export async function killAllPtys(): Promise<void> {
  await Promise.all([...live].map((d) => d.close()));
}
