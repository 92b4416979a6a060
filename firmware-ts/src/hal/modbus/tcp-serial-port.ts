// A serial line reached over TCP: a serial-to-Ethernet converter in transparent mode ("RTU over
// TCP", "TCP server mode") passes the bytes of one TCP connection to its RS-485 port and back. As a
// SerialPort it lets the RTU master run unchanged over the network; `settings` describe the line
// behind the converter, which sets the 3.5-character silence between frames.
import type { Socket } from 'node:net';
import { PortClosedError } from '../../errors.ts';
import type { Clock } from '../clock/clock.ts';
import type { Unsubscribe } from '../gpio/digital.ts';
import { resolveSerialSettings } from '../serial/options.ts';
import type { SerialPort, SerialSettings } from '../serial/serial-port.ts';
import { connectTcp } from './tcp-connect.ts';

export interface TcpSerialPortOptions {
  host: string;
  port: number;
  clock: Clock;
  /** The serial line behind the converter. Default 9600 8N1. */
  settings?: Partial<SerialSettings>;
  /** Give up a connection attempt after this long. Default 3000 ms. */
  connectTimeoutMs?: number;
}

export class TcpSerialPort implements SerialPort {
  readonly path: string;
  readonly settings: Readonly<SerialSettings>;
  readonly #options: TcpSerialPortOptions;
  #socket: Socket | undefined;
  /** Sockets this port closed itself (their close is no failure). */
  readonly #closedByUs = new WeakSet<Socket>();
  readonly #dataListeners = new Set<(bytes: Buffer) => void>();
  readonly #closeListeners = new Set<(error?: Error) => void>();

  constructor(options: TcpSerialPortOptions) {
    this.#options = options;
    this.path = `tcp:${options.host}:${options.port}`;
    this.settings = resolveSerialSettings(this.path, options.settings ?? {});
  }

  get isOpen(): boolean {
    return this.#socket !== undefined && !this.#socket.destroyed;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    const socket = await connectTcp({
      host: this.#options.host,
      port: this.#options.port,
      clock: this.#options.clock,
      connectTimeoutMs: this.#options.connectTimeoutMs ?? 3000,
    });
    this.#socket = socket;
    let failure: Error | undefined;
    socket.on('data', (bytes: Buffer) => {
      for (const l of this.#dataListeners) l(bytes);
    });
    socket.on('error', (err) => {
      failure = err;
    });
    // The converter (or the network) ending the connection is the line going away by itself.
    socket.on('end', () => socket.destroy());
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      const error = this.#closedByUs.has(socket)
        ? undefined
        : new PortClosedError(
            this.path,
            `the connection ended${failure ? ` (${failure.message})` : ''}`,
            failure,
          );
      for (const l of this.#closeListeners) l(error);
    });
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    this.#closedByUs.add(socket);
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return Promise.reject(new PortClosedError(this.path));
    return new Promise<void>((resolve, reject) => {
      socket.write(bytes, (err) =>
        err ? reject(new PortClosedError(this.path, 'write failed', err)) : resolve(),
      );
    });
  }

  async drain(): Promise<void> {
    // A write resolves once the kernel has the bytes; the converter paces them onto its line.
  }

  onData(listener: (bytes: Buffer) => void): Unsubscribe {
    this.#dataListeners.add(listener);
    return () => this.#dataListeners.delete(listener);
  }

  onClose(listener: (error?: Error) => void): Unsubscribe {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }
}
