// Errors of the bench rig (wires, simulators, rig files). Each has a stable code and a fix.

import { HardwareError } from '../errors.ts';

/** A wire bus operation failed: bad line name, unknown line, closed connection, socket problem. */
export class WireError extends HardwareError {
  readonly fix: string;

  constructor(
    code: string,
    message: string,
    fix: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(`${message}. Fix: ${fix}`, { code, retryable: options.retryable ?? false, cause: options.cause });
    this.fix = fix;
  }
}

/** A simulator could not start or run: socat missing, port taken, pty not appearing. */
export class BenchError extends HardwareError {
  readonly fix: string;

  constructor(
    code: string,
    message: string,
    fix: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(`${message}. Fix: ${fix}`, { code, retryable: options.retryable ?? false, cause: options.cause });
    this.fix = fix;
  }
}
