import { FirmwareError } from '../errors.ts';

// Errors of the fieldbus poller. Each names what is wrong, where, and what to do.

/** A device profile cannot be polled as written (a point larger than one read, an odd address). */
export class FieldbusPlanError extends FirmwareError {
  readonly pointKey: string;

  constructor(pointKey: string, problem: string, fix: string) {
    super(`point ${pointKey}: ${problem}. Fix: ${fix}`, { code: 'FIELDBUS_PLAN', retryable: false });
    this.pointKey = pointKey;
  }
}

/** The fieldbus config cannot be started (unknown profile, duplicate address, bad state file). */
export class FieldbusConfigError extends FirmwareError {
  readonly path: string;
  readonly fix: string;

  constructor(path: string, problem: string, fix: string, cause?: unknown) {
    super(`${path}: ${problem}. Fix: ${fix}`, { code: 'FIELDBUS_CONFIG', retryable: false, cause });
    this.path = path;
    this.fix = fix;
  }
}

/** The persisted fieldbus state (counter totals, pulse counts, open intervals) could not be used. */
export class FieldbusStateError extends FirmwareError {
  readonly file: string;

  constructor(file: string, problem: string, fix: string, cause?: unknown) {
    super(`${file}: ${problem}. Fix: ${fix}`, { code: 'FIELDBUS_STATE', retryable: false, cause });
    this.file = file;
  }
}
