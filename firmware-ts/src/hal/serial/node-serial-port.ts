// A real serial port (Pi UART, USB adapter, or a pseudo-terminal on the bench) through
// @serialport/stream with the native @serialport/bindings-cpp. On Linux the binding puts the tty
// in raw mode, so every byte value (0x00, XON/XOFF, CR, LF) passes unchanged.
import { createRequire } from 'node:module';
import { UnsupportedPlatformError } from '@brana/hardware';
import type { SerialPortStream } from '@serialport/stream';
import { PortClosedError, PortOpenError } from '../../errors.ts';
import type { Unsubscribe } from '../gpio/digital.ts';
import { resolveSerialSettings } from './options.ts';
import type { SerialPort, SerialSettings } from './serial-port.ts';

export interface NodeSerialPortOptions extends Partial<SerialSettings> {
  /** `/dev/ttyAMA0`, `/dev/serial0`, `/dev/ttyUSB0`, or a pty path such as `/dev/pts/7`. */
  path: string;
}

const require = createRequire(import.meta.url);

type StreamModule = typeof import('@serialport/stream');
type BindingsModule = typeof import('@serialport/bindings-cpp');

function loadNative(): {
  Stream: StreamModule['SerialPortStream'];
  binding: ReturnType<BindingsModule['autoDetect']>;
} {
  try {
    const stream = require('@serialport/stream') as StreamModule;
    const bindings = require('@serialport/bindings-cpp') as BindingsModule;
    return { Stream: stream.SerialPortStream, binding: bindings.autoDetect() };
  } catch (e) {
    throw new UnsupportedPlatformError(
      'serial',
      'the native serial port binding (@serialport/bindings-cpp) cannot load here',
      'run npm rebuild @serialport/bindings-cpp, or use a memory serial pair (createMemorySerialPair) in tests',
      e,
    );
  }
}

function openFix(path: string, e: unknown): string {
  const msg = String((e as Error)?.message ?? e);
  if (/ENOENT|No such file/i.test(msg)) {
    return `check the path; on a Pi the UART is /dev/serial0 (enable it with raspi-config), USB adapters appear as /dev/ttyUSB*; on the bench use the pty path brana-bench printed`;
  }
  if (/EACCES|Permission denied/i.test(msg))
    return `add this user to the dialout group (sudo usermod -aG dialout $USER), then log in again`;
  if (/EBUSY|Resource busy|lock/i.test(msg))
    return `another process holds ${path}; stop it (e.g. a serial console on the UART)`;
  return 'check the device path and that the device is connected';
}

export class NodeSerialPort implements SerialPort {
  readonly path: string;
  readonly settings: Readonly<SerialSettings>;
  #stream: SerialPortStream | undefined;
  readonly #dataListeners = new Set<(bytes: Buffer) => void>();
  readonly #closeListeners = new Set<(error?: Error) => void>();
  /** Writes and drains waiting for the binding; failed when the stream closes under them. */
  readonly #inFlight = new Set<(err: Error) => void>();
  #closing = false;

  constructor(options: NodeSerialPortOptions) {
    this.path = options.path;
    this.settings = resolveSerialSettings(options.path, options);
  }

  get isOpen(): boolean {
    return this.#stream?.isOpen === true && !this.#closing;
  }

  async open(): Promise<void> {
    if (this.#stream !== undefined) return;
    const { Stream, binding } = loadNative();
    const stream = new Stream({
      binding,
      path: this.path,
      baudRate: this.settings.baudRate,
      dataBits: this.settings.dataBits,
      parity: this.settings.parity,
      stopBits: this.settings.stopBits,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => {
      stream.open((err) => {
        if (err) {
          reject(
            new PortOpenError(
              this.path,
              `cannot open serial port (${err.message})`,
              openFix(this.path, err),
              err,
            ),
          );
        } else resolve();
      });
    });
    this.#stream = stream;
    this.#closing = false;
    stream.on('data', (chunk: Buffer) => {
      for (const l of this.#dataListeners) l(chunk);
    });
    // A close this object did not ask for is a lost line: a USB adapter unplugged, the bench's pty
    // gone. The binding reports it as a disconnect, or the next write fails with EIO and the
    // stream destroys itself; 'close' may come twice. Listeners hear once, with the reason.
    let lastError: Error | undefined;
    stream.on('error', (err: Error) => {
      lastError = err;
    });
    let notified = false;
    stream.on('close', (err?: Error) => {
      if (err) lastError ??= err;
      if (notified) return;
      notified = true;
      const unexpected = !this.#closing;
      if (this.#stream === stream) this.#stream = undefined;
      for (const abort of [...this.#inFlight])
        abort(new PortClosedError(this.path, 'the port closed', lastError));
      setImmediate(() => {
        const error = unexpected
          ? new PortClosedError(this.path, 'the device disconnected', lastError)
          : undefined;
        for (const l of this.#closeListeners) l(error);
      });
    });
  }

  async close(): Promise<void> {
    const stream = this.#stream;
    if (stream === undefined || this.#closing) return;
    this.#closing = true;
    await new Promise<void>((resolve) => {
      if (!stream.isOpen) {
        resolve();
        return;
      }
      stream.close(() => resolve());
    });
    this.#stream = undefined;
    this.#closing = false;
  }

  write(bytes: Uint8Array): Promise<void> {
    const stream = this.#usable();
    if (stream === undefined) return Promise.reject(new PortClosedError(this.path));
    return this.#settle((done) => {
      stream.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) =>
        done(err ? new PortClosedError(this.path, `write failed (${err.message})`, err) : undefined),
      );
    });
  }

  drain(): Promise<void> {
    const stream = this.#usable();
    if (stream === undefined) return Promise.reject(new PortClosedError(this.path));
    return this.#settle((done) => {
      stream.drain((err) =>
        done(err ? new PortClosedError(this.path, `drain failed (${err.message})`, err) : undefined),
      );
    });
  }

  /** The stream, if it can take a write now. A closed SerialPortStream would queue writes until reopened. */
  #usable(): SerialPortStream | undefined {
    const stream = this.#stream;
    if (stream === undefined || this.#closing || !stream.isOpen || stream.closing || stream.destroyed)
      return undefined;
    return stream;
  }

  /** Runs a callback-style operation that the port closing must also end (it can race the close). */
  #settle(start: (done: (err?: Error) => void) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const abort = (err: Error) => done(err);
      const done = (err?: Error) => {
        if (!this.#inFlight.delete(abort)) return;
        if (err) reject(err);
        else resolve();
      };
      this.#inFlight.add(abort);
      start(done);
    });
  }

  onData(listener: (bytes: Buffer) => void): Unsubscribe {
    const wrapped = (b: Buffer) => listener(b);
    this.#dataListeners.add(wrapped);
    return () => this.#dataListeners.delete(wrapped);
  }

  onClose(listener: (error?: Error) => void): Unsubscribe {
    const wrapped = (e?: Error) => listener(e);
    this.#closeListeners.add(wrapped);
    return () => this.#closeListeners.delete(wrapped);
  }
}
