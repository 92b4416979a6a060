// What a master makes of the bytes a device sends back, without any I/O: the RTU answer to the one
// request outstanding on a line, and Modbus TCP answers matched to their requests by transaction
// id. These take bytes from the wire, so they never throw on them: every outcome is a value, and
// every refusal names the byte offset where the answer went wrong (the fuzz bench holds them to it).
import {
  crc16Modbus,
  decodeResponse,
  type MbapFrame,
  MbapFramer,
  ModbusFrameError,
  type ModbusRequest,
  type ModbusResponse,
} from '@brana/hardware';

/** The request an answer is awaited for. */
export interface AwaitedAnswer {
  unitId: number;
  functionCode: number;
  /** Quantity of a bit read (FC01/02), to trim the padding of the last byte. */
  bitQuantity?: number;
}

/** What the answer to `request` sent to `unitId` must look like. */
export function awaitedAnswer(unitId: number, request: ModbusRequest): AwaitedAnswer {
  return {
    unitId,
    functionCode: request.fc,
    ...(request.fc === 1 || request.fc === 2 ? { bitQuantity: request.quantity } : {}),
  };
}

export type AnswerOutcome =
  | { kind: 'answer'; response: ModbusResponse }
  | { kind: 'crc'; detail: string; offset: number }
  | { kind: 'bad'; detail: string; offset: number };

/** An RTU scan also says "not complete yet". `length`: bytes the outcome used. */
export type RtuScan = { kind: 'more' } | (AnswerOutcome & { length: number });

/** Length of a normal RTU answer: unit + PDU + CRC (spec sections 6.1-6.12). */
export function rtuAnswerLength(functionCode: number, quantity: number): number {
  switch (functionCode) {
    case 1:
    case 2:
      return 5 + Math.ceil(quantity / 8);
    case 3:
    case 4:
      return 5 + 2 * quantity;
    default:
      return 8;
  }
}

const EXCEPTION_LENGTH = 5;

const hex = (n: number, digits = 2) => `0x${n.toString(16).padStart(digits, '0')}`;

/** The PDU of an answer decoded as a client does; a malformed one becomes `bad` at its offset (+ `base`). */
function decodePdu(pdu: Uint8Array, awaited: AwaitedAnswer, base: number): AnswerOutcome {
  try {
    return { kind: 'answer', response: decodeResponse(pdu, awaited.bitQuantity) };
  } catch (e) {
    if (!(e instanceof ModbusFrameError)) throw e;
    const detail = e.message.replace(/ \(at byte \d+\)\. Fix: .*$/s, '');
    return { kind: 'bad', detail: `${detail} at byte ${base + e.offset}`, offset: base + e.offset };
  }
}

/**
 * Looks for the answer to `awaited` at the start of `rx` (the bytes received since the request
 * went out). `expectedLength` is the normal answer's length (`rtuAnswerLength`). Returns `more`
 * while the answer may still be incomplete.
 */
export function scanRtuAnswer(rx: Uint8Array, awaited: AwaitedAnswer, expectedLength: number): RtuScan {
  if (rx.length < 2) return { kind: 'more' };
  const fc = rx[1]!;
  const isException = fc === (awaited.functionCode | 0x80);
  if (!isException && fc !== awaited.functionCode) {
    return {
      kind: 'bad',
      detail: `function code ${hex(fc)} at byte 1 in answer to FC${awaited.functionCode}`,
      offset: 1,
      length: 2,
    };
  }
  const length = isException ? EXCEPTION_LENGTH : expectedLength;
  if (rx.length < length) return { kind: 'more' };
  const want = crc16Modbus(rx, 0, length - 2);
  const got = rx[length - 2]! | (rx[length - 1]! << 8);
  if (want !== got) {
    return {
      kind: 'crc',
      detail: `CRC ${hex(got, 4)} at byte ${length - 2}, expected ${hex(want, 4)}`,
      offset: length - 2,
      length,
    };
  }
  if (rx[0] !== awaited.unitId) {
    return { kind: 'bad', detail: `answer from unit ${rx[0]} at byte 0`, offset: 0, length };
  }
  return { ...decodePdu(rx.subarray(1, length - 2), awaited, 1), length };
}

/** A Modbus TCP answer checked against its request: same unit, same function (or its exception). */
export function checkMbapAnswer(frame: MbapFrame, awaited: AwaitedAnswer): AnswerOutcome {
  // The unit id is byte 6 of the MBAP header, the function code byte 7.
  if (frame.unit !== awaited.unitId) {
    return { kind: 'bad', detail: `answer from unit ${frame.unit} at byte 6`, offset: 6 };
  }
  const fc = frame.pdu[0] ?? 0;
  if (fc !== awaited.functionCode && fc !== (awaited.functionCode | 0x80)) {
    return {
      kind: 'bad',
      detail: `function code ${hex(fc)} at byte 7 in answer to FC${awaited.functionCode}`,
      offset: 7,
    };
  }
  return decodePdu(frame.pdu, awaited, 7);
}

export type MbapRead = { frames: MbapFrame[] } | { frames: MbapFrame[]; broken: string; offset: number };

/**
 * Splits the bytes of a Modbus TCP connection into MBAP frames. A header that breaks the protocol
 * (protocol id not 0, impossible length) leaves the stream without a way to find the next frame:
 * the read reports `broken` with the offset in the stream, and the connection must be closed.
 */
export class MbapAnswerReader {
  readonly #framer = new MbapFramer();
  #broken: { broken: string; offset: number } | undefined;

  push(chunk: Uint8Array): MbapRead {
    if (this.#broken) return { frames: [], ...this.#broken };
    try {
      return { frames: this.#framer.push(chunk) };
    } catch (e) {
      if (!(e instanceof ModbusFrameError)) throw e;
      this.#broken = {
        broken: `${e.message.replace(/ \(at byte \d+\)\. Fix: .*$/s, '')} at byte ${e.offset} of the stream`,
        offset: e.offset,
      };
      return { frames: [], ...this.#broken };
    }
  }
}
