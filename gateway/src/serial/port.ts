/**
 * @module The only file that touches the `serialport` package (raw device imports stay private
 * behind a typed wrapper). Opens one port 8N1 with an injectable binding (default: the native
 * @serialport/bindings-cpp that `serialport` auto-detects; tests: @serialport/binding-mock or a wrapper of
 * it) and reports bytes, disconnects and errors through three callbacks.
 */
import { SerialPort } from 'serialport';

// The package's "import" export has no types; its CommonJS one does, hence the resolution mode. Written as an
// import type because Biome's parser refuses import attributes on an `import type` statement.
type BindingInterface = import('@serialport/bindings-interface', { with: { 'resolution-mode': 'require' }}).BindingInterface;

/** Any serialport binding: `MockBinding`, a test wrapper of it, or the native one (the default). */
export type SerialBinding = BindingInterface;

export interface PortOptions {
  readonly path: string;
  readonly baudRate: number;
  readonly binding?: SerialBinding | undefined;
}

export interface PortHandlers {
  data(chunk: Uint8Array): void;
  /** The port closed without close() being called (unplugged: a read failed and serialport closed it). */
  gone(detail: string): void;
  /** A read/write error that did not (yet) close the port. */
  error(err: Error): void;
}

export interface PortLink {
  /** Queues bytes; a failure arrives through `error` (and `gone` if the port closed because of it). */
  write(bytes: Uint8Array): void;
  /** Closes the port; never rejects. Calls no handler afterwards. */
  close(): Promise<void>;
}

type SerialPortOptions = ConstructorParameters<typeof SerialPort>[0];

/** Opens the port, or rejects with the binding's error (see classifyOpenError). */
export async function openPort(o: PortOptions, h: PortHandlers): Promise<PortLink> {
  // serialport 13's SerialPort spreads its options over `{ binding: DetectedBinding }` (dist/serialport.js),
  // so a `binding` given here replaces the native one; its type leaves `binding` out, hence the widening.
  const options: SerialPortOptions = {
    path: o.path,
    baudRate: o.baudRate,
    dataBits: 8, // PMS5003 datasheet Appendix I and MH-Z19B manual: 9600 bps, 8 data bits, 1 stop bit, no parity
    stopBits: 1,
    parity: 'none',
    autoOpen: false,
    ...(o.binding === undefined ? {} : ({ binding: o.binding } as Partial<SerialPortOptions>)),
  };
  const port = new SerialPort(options);
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));

  let done = false; // after close() or gone: no more callbacks
  const gone = (detail: string): void => {
    if (done) return;
    done = true;
    h.gone(detail);
  };
  port.on('data', (b: Buffer) => {
    if (!done) h.data(new Uint8Array(b.buffer, b.byteOffset, b.length));
  });
  // 'close' with a DisconnectedError (err.disconnected) when a read failed, e.g. ENXIO/EBADF/EIO on unplug.
  port.on('close', (err: Error | null) => gone(err?.message ?? 'the port closed'));
  port.on('error', (err: Error) => {
    if (done) return;
    h.error(err);
    if (!port.isOpen) gone(err.message);
  });

  return {
    write(bytes) {
      if (done) return;
      port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) => {
        if (err && !done) h.error(err);
      });
    },
    async close() {
      if (done && !port.isOpen) return;
      done = true;
      if (!port.isOpen) return;
      await new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}
