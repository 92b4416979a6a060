// A serial line as a duplex byte stream. Framing (Modbus RTU gaps, radio frame delimiters)
// belongs to the protocol on top; this layer only moves bytes and knows the line settings.
import type { Unsubscribe } from '../gpio/digital.ts';

export type Parity = 'none' | 'even' | 'odd';

export interface SerialSettings {
  baudRate: number;
  dataBits: 7 | 8;
  parity: Parity;
  stopBits: 1 | 2;
}

export const DEFAULT_SERIAL_SETTINGS: Readonly<SerialSettings> = {
  baudRate: 9600,
  dataBits: 8,
  parity: 'none',
  stopBits: 1,
};

/** Bits on the wire per character: start + data + parity + stop (11 for 8E1, 10 for 8N1). */
export function bitsPerChar(settings: SerialSettings): number {
  return 1 + settings.dataBits + (settings.parity === 'none' ? 0 : 1) + settings.stopBits;
}

/** Time to send one character, ms. */
export function serialCharTimeMs(settings: SerialSettings): number {
  return (bitsPerChar(settings) * 1000) / settings.baudRate;
}

export interface SerialPort {
  /** Device path (`/dev/ttyAMA0`, a pty such as `/dev/pts/5`) or a memory pair's name. */
  readonly path: string;
  readonly settings: Readonly<SerialSettings>;
  readonly isOpen: boolean;
  /** Opens the port. Throws `PortOpenError` naming the path and what to do. */
  open(): Promise<void>;
  /** Closes the port; pending writes fail with `PortClosedError`. Idempotent. */
  close(): Promise<void>;
  /** Queues bytes; resolves once the OS has them. Throws `PortClosedError` when closed. */
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves once every queued byte has been handed to the line (tcdrain). */
  drain(): Promise<void>;
  /** Calls `listener` with each chunk of received bytes, in order. */
  onData(listener: (bytes: Buffer) => void): Unsubscribe;
  /** Calls `listener` when the port closes; `error` is set when it closed by itself (unplugged). */
  onClose(listener: (error?: Error) => void): Unsubscribe;
}
