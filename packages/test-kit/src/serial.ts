/**
 * @module Test binding: @serialport/binding-mock (reached through `serialport`'s SerialPortMock, so there is
 * one mock registry) plus what it lacks for a sensor on a cable: unplug() fails the pending read the way
 * the native binding does (a non-canceled error, so serialport closes the port with a DisconnectedError)
 * and makes open() fail with ENOENT until plug(); writes are recorded and can be answered (a fake MH-Z19).
 */
import { SerialPortMock } from 'serialport';

// The package's "import" export has no types; its CommonJS one does, hence the resolution mode. Written as
// import types because Biome's parser refuses import attributes on an `import type` statement.
type BindingInterface = import('@serialport/bindings-interface', { with: { 'resolution-mode': 'require' }}).BindingInterface;
type BindingPortInterface = import('@serialport/bindings-interface', { with: { 'resolution-mode': 'require' }}).BindingPortInterface;
type OpenOptions = import('@serialport/bindings-interface', { with: { 'resolution-mode': 'require' }}).OpenOptions;

const MockBinding = SerialPortMock.binding;

class CablePort implements BindingPortInterface {
  readonly #inner: BindingPortInterface & { emitData(data: Buffer): void };
  readonly #owner: CableBinding;
  #unplug: ((err: Error) => void) | undefined;
  #unplugged = false;

  constructor(inner: BindingPortInterface & { emitData(data: Buffer): void }, owner: CableBinding) {
    this.#inner = inner;
    this.#owner = owner;
  }

  get openOptions() {
    return this.#inner.openOptions;
  }
  get isOpen(): boolean {
    return this.#inner.isOpen;
  }
  set isOpen(v: boolean) {
    this.#inner.isOpen = v;
  }

  /** Bytes from the sensor. */
  emit(bytes: Uint8Array): void {
    this.#inner.emitData(Buffer.from(bytes));
  }

  unplug(): void {
    this.#unplugged = true;
    this.#unplug?.(Object.assign(new Error('ENXIO: no such device or address, read'), { code: 'ENXIO', disconnect: true }));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (this.#unplugged) return Promise.reject(Object.assign(new Error('EBADF: bad file descriptor, read'), { code: 'EBADF' }));
    return new Promise((resolve, reject) => {
      this.#unplug = reject;
      this.#inner
        .read(buffer, offset, length)
        .then(resolve, reject)
        .finally(() => {
          this.#unplug = undefined;
        });
    });
  }
  async write(buffer: Buffer): Promise<void> {
    if (this.#unplugged) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    await this.#inner.write(buffer);
    this.#owner.wrote(this, Uint8Array.from(buffer));
  }
  update(o: Parameters<BindingPortInterface['update']>[0]): Promise<void> {
    return this.#inner.update(o);
  }
  set(o: Parameters<BindingPortInterface['set']>[0]): Promise<void> {
    return this.#inner.set(o);
  }
  get(): ReturnType<BindingPortInterface['get']> {
    return this.#inner.get();
  }
  getBaudRate(): Promise<{ baudRate: number }> {
    return this.#inner.getBaudRate();
  }
  flush(): Promise<void> {
    return this.#inner.flush();
  }
  drain(): Promise<void> {
    return this.#inner.drain();
  }
}

export class CableBinding implements BindingInterface {
  readonly #present = new Set<string>();
  readonly #open = new Map<string, CablePort>();
  /** Every write, in order, per path. */
  readonly writes = new Map<string, Uint8Array[]>();
  /** Open attempts per path (successful or not). */
  readonly opens = new Map<string, number>();
  /** Called after each write completes; a fake sensor answers here. */
  onWrite: ((path: string, bytes: Uint8Array) => void) | undefined;

  /** Creates the mock port (a fresh registry entry, so no stale lock) and lets open() find it. */
  plug(path: string): void {
    MockBinding.createPort(path, { echo: false, record: false });
    this.#present.add(path);
  }

  /** The device disappears: the open port's read fails, and open() gives ENOENT until plug(). */
  unplug(path: string): void {
    this.#present.delete(path);
    this.#open.get(path)?.unplug();
    this.#open.delete(path);
  }

  /** Sends bytes from the sensor to the open port; false if none is open. */
  emit(path: string, bytes: Uint8Array): boolean {
    const p = this.#open.get(path);
    if (p === undefined || !p.isOpen) return false;
    p.emit(bytes);
    return true;
  }

  isOpen(path: string): boolean {
    return this.#open.get(path)?.isOpen ?? false;
  }

  wrote(port: CablePort, bytes: Uint8Array): void {
    for (const [path, p] of this.#open) {
      if (p !== port) continue;
      this.writes.set(path, [...(this.writes.get(path) ?? []), bytes]);
      this.onWrite?.(path, bytes);
    }
  }

  list() {
    return MockBinding.list();
  }

  async open(options: OpenOptions): Promise<CablePort> {
    this.opens.set(options.path, (this.opens.get(options.path) ?? 0) + 1);
    if (!this.#present.has(options.path)) {
      await Promise.resolve();
      // The native binding's words (@serialport/bindings-cpp), which carry no `code`.
      throw new Error(`Error: No such file or directory, cannot open ${options.path}`);
    }
    const inner = (await MockBinding.open(options)) as unknown as BindingPortInterface & { emitData(data: Buffer): void };
    const port = new CablePort(inner, this);
    this.#open.set(options.path, port);
    return port;
  }
}
