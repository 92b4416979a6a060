// Typed errors of @brana/provisioning. Each carries a stable `code`, whether retrying can help, the
// cause, and a fix; the CLI prints `brana-provision: <message>. Fix: <fix>` and exits 1, or 2 for usage.

export interface ProvisionErrorOptions {
  code: string;
  fix: string;
  retryable?: boolean;
  cause?: unknown;
}

export class ProvisionError extends Error {
  readonly code: string;
  readonly fix: string;
  readonly retryable: boolean;
  /** Exit status of the CLI for this error: 2 for bad usage or input, 1 for failures at run time. */
  readonly exitCode: 1 | 2 = 1;

  constructor(problem: string, options: ProvisionErrorOptions) {
    super(`${problem}. Fix: ${options.fix}`, { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.fix = options.fix;
    this.retryable = options.retryable ?? false;
  }
}

/** A flag or input the technician gave is wrong (exit 2). `where` names the flag or file position. */
export class InvalidInputError extends ProvisionError {
  override readonly exitCode = 2 as const;
  constructor(
    readonly where: string,
    problem: string,
    fix: string,
  ) {
    super(`${where}: ${problem}`, { code: 'INVALID_INPUT', fix });
  }
}

/** A file that would be overwritten exists (exit 2). */
export class FileExistsError extends ProvisionError {
  override readonly exitCode = 2 as const;
  constructor(readonly path: string) {
    super(`${path} exists`, {
      code: 'FILE_EXISTS',
      fix: 'pass --force to overwrite it, or write to an empty directory',
    });
  }
}

/** The fleet server answered with an error, or could not be reached. */
export class FleetApiError extends ProvisionError {
  constructor(
    problem: string,
    fix: string,
    readonly status: number | undefined,
    retryable: boolean,
    cause?: unknown,
  ) {
    super(problem, {
      code: status === undefined ? 'FLEET_UNREACHABLE' : `FLEET_HTTP_${status}`,
      fix,
      retryable,
      cause,
    });
  }
}

/** The gateway config failed the firmware's validation; `issues` holds every path and fix. */
export class GatewayConfigInvalidError extends ProvisionError {
  override readonly exitCode = 2 as const;
  constructor(
    readonly file: string,
    readonly issues: readonly { path: string; message: string; fix: string }[],
  ) {
    super(`${file}: config rejected (${issues.length} error${issues.length === 1 ? '' : 's'})`, {
      code: 'GATEWAY_CONFIG_INVALID',
      fix: 'correct each path listed above and run verify again',
    });
  }
}

/** The wiring check could not run (HAL would not open, bench socket missing). */
export class VerifyError extends ProvisionError {
  constructor(problem: string, fix: string, cause?: unknown) {
    super(problem, { code: 'VERIFY_FAILED', fix, cause });
  }
}
