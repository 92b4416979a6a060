// Wire-time arithmetic of Modbus RTU (Modbus over Serial Line V1.02, section 2.5.1.1).
// A character is 11 bits: start, 8 data, parity or a second stop bit, stop.

/** Time one character takes on the wire, in milliseconds. */
export function charTimeMs(baud: number, bitsPerChar = 11): number {
  return (bitsPerChar * 1000) / baud;
}

/** The t3.5 inter-frame silence: 3.5 characters, fixed at 1.75 ms above 19200 Bd. */
export function t35Ms(baud: number): number {
  return baud > 19200 ? 1.75 : 3.5 * charTimeMs(baud);
}

/** The t1.5 inter-character limit: 1.5 characters, fixed at 0.75 ms above 19200 Bd. */
export function t15Ms(baud: number): number {
  return baud > 19200 ? 0.75 : 1.5 * charTimeMs(baud);
}

/** Time a frame of `bytes` characters takes on the wire, in milliseconds. */
export function frameTimeMs(bytes: number, baud: number): number {
  return bytes * charTimeMs(baud);
}

export interface RtuTransaction {
  baud: number;
  requestBytes: number;
  responseBytes: number;
  /** The slave's turnaround between the end of the request and the start of its answer. */
  turnaroundMs: number;
}

/**
 * Shortest time of one request/response transaction on an RTU line:
 * T = (request + response)·t_char + 2·t3.5 + turnaround. For a read of N registers that is
 * (13 + 2N)·t_char + 2·t3.5 + turnaround (8-byte request, 5 + 2N byte response).
 */
export function rtuTransactionTimeMs(t: RtuTransaction): number {
  return frameTimeMs(t.requestBytes + t.responseBytes, t.baud) + 2 * t35Ms(t.baud) + t.turnaroundMs;
}
