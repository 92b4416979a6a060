// Typed errors of the rt loop. Each says what is wrong and what to do.
import { FirmwareError } from '../errors.ts';

/** The config cannot drive the rt loop (no preemption section, a missing profile, a bad line). */
export class RtConfigError extends FirmwareError {
  constructor(
    readonly path: string,
    problem: string,
    readonly fix: string,
  ) {
    super(`${path}: ${problem}. Fix: ${fix}`, { code: 'RT_CONFIG_INVALID', retryable: false });
  }
}

/** An input or output of the rt loop could not be opened. */
export class RtStartError extends FirmwareError {
  constructor(what: string, fix: string, cause?: unknown) {
    super(`${what}. Fix: ${fix}`, { code: 'RT_START_FAILED', retryable: true, cause });
  }
}
