// Two SerialPorts joined back to back in memory, for unit tests of anything that speaks over a
// serial line (the Modbus RTU client, the radio receiver). Optionally paced by a Clock so that
// bytes take their wire time to arrive (bits per character / baud rate), as on a real line.
import { PortClosedError } from '../../errors.ts';
import type { Clock } from '../clock/clock.ts';
import type { Unsubscribe } from '../gpio/digital.ts';
import { resolveSerialSettings } from './options.ts';
import { type SerialPort, type SerialSettings, serialCharTimeMs } from './serial-port.ts';

export interface MemorySerialPairOptions {
  /** Names of the two ends. Default `memory:a` and `memory:b`. */
  paths?: readonly [string, string];
  settings?: Partial<SerialSettings>;
  /** When given, each chunk arrives after its wire time on this clock; otherwise on the next turn. */
  pacedBy?: Clock;
}

export class MemorySerialPort implements SerialPort {
  readonly path: string;
  readonly settings: Readonly<SerialSettings>;
  peer!: MemorySerialPort;
  #open = false;
  #lineFreeAtMs = 0;
  readonly #pacedBy: Clock | undefined;
  readonly #dataListeners = new Set<(bytes: Buffer) => void>();
  readonly #closeListeners = new Set<(error?: Error) => void>();

  constructor(path: string, settings: SerialSettings, pacedBy: Clock | undefined) {
    this.path = path;
    this.settings = settings;
    this.#pacedBy = pacedBy;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  async open(): Promise<void> {
    this.#open = true;
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    for (const l of this.#closeListeners) l(undefined);
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.#open) throw new PortClosedError(this.path);
    // Copy: the caller may reuse its buffer as soon as write resolves.
    const chunk = Buffer.from(bytes);
    const clock = this.#pacedBy;
    if (clock === undefined) {
      setImmediate(() => this.peer.deliver(chunk));
      return;
    }
    const now = clock.monotonicMs();
    const start = Math.max(now, this.#lineFreeAtMs);
    this.#lineFreeAtMs = start + chunk.length * serialCharTimeMs(this.settings);
    clock.setTimeout(() => this.peer.deliver(chunk), this.#lineFreeAtMs - now);
  }

  async drain(): Promise<void> {
    if (!this.#open) throw new PortClosedError(this.path);
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

  /** Bytes reaching a closed end are lost, as on a real line with nobody listening. */
  private deliver(chunk: Buffer): void {
    if (!this.#open) return;
    for (const l of this.#dataListeners) l(chunk);
  }
}

export function createMemorySerialPair(
  options: MemorySerialPairOptions = {},
): [MemorySerialPort, MemorySerialPort] {
  const [pathA, pathB] = options.paths ?? ['memory:a', 'memory:b'];
  const a = new MemorySerialPort(
    pathA,
    resolveSerialSettings(pathA, options.settings ?? {}),
    options.pacedBy,
  );
  const b = new MemorySerialPort(
    pathB,
    resolveSerialSettings(pathB, options.settings ?? {}),
    options.pacedBy,
  );
  a.peer = b;
  b.peer = a;
  return [a, b];
}
