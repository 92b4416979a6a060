// Errors of the software update. Each carries the machine's reason, so the shell can tell a refusal
// (this release will not be installed: bad signature, wrong platform, tampered file, full disk)
// from a failure another attempt may fix (the server went away, the download was cut short).
import { GatewayError } from '../errors.ts';
import type { FetchFailureReason, RefusalReason } from './machine.ts';

export class UpdateRefusedError extends GatewayError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    cause?: unknown,
  ) {
    super(message, { code: `UPDATE_${reason.toUpperCase().replaceAll('-', '_')}`, retryable: false, cause });
  }
}

export class UpdateFetchError extends GatewayError {
  constructor(
    readonly reason: FetchFailureReason,
    message: string,
    options: { cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message, {
      code: `UPDATE_${reason.toUpperCase().replaceAll('-', '_')}`,
      retryable: true,
      cause: options.cause,
    });
    this.retryAfterMs = options.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

/** The update settings or the installation cannot work (no restart commands, no release keys). */
export class UpdateSetupError extends GatewayError {
  constructor(problem: string, fix: string) {
    super(`${problem}. Fix: ${fix}`, { code: 'UPDATE_SETUP', retryable: false });
  }
}
