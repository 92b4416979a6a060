import { HardwareError } from '../errors.ts';

/** Bytes that are not a valid Modbus frame: bad CRC, wrong length, bad MBAP header. */
export class ModbusFrameError extends HardwareError {
  /** Byte offset inside the frame or stream where the problem is. */
  readonly offset: number;
  readonly fix: string;

  constructor(message: string, offset: number, fix: string) {
    super(`${message} (at byte ${offset}). Fix: ${fix}`, { code: 'MODBUS_FRAME', retryable: true });
    this.offset = offset;
    this.fix = fix;
  }
}
