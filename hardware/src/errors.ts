// Typed errors of @brana/hardware. Every error carries a stable `code`, says whether retrying can
// help (`retryable`), keeps the underlying `cause`, and its message ends with what to do about it.

export interface HardwareErrorOptions {
  code: string;
  retryable?: boolean;
  cause?: unknown;
}

/** Base of every error this package throws on purpose. */
export class HardwareError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  override readonly cause: unknown;

  constructor(message: string, options: HardwareErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    this.cause = options.cause;
  }
}

/** One thing wrong in a profile file: where (file, path inside it, line) and how to fix it. */
export interface ProfileIssue {
  /** Path inside the document, e.g. `points[3].address`; `''` for the document itself. */
  path: string;
  message: string;
  fix: string;
  /** 1-based line and column in the file, when known. */
  line?: number;
  column?: number;
}

export function formatProfileIssue(file: string, issue: ProfileIssue): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.column ?? 1}`;
  const path = issue.path === '' ? '' : ` ${issue.path}:`;
  return `${where}:${path} ${issue.message}. Fix: ${issue.fix}`;
}

/**
 * A device or board profile (or a rig file using the same machinery) is invalid.
 * `file`, `path` and `fix` describe the first issue; `issues` holds all of them.
 */
export class ProfileError extends HardwareError {
  readonly file: string;
  readonly path: string;
  readonly fix: string;
  readonly issues: readonly ProfileIssue[];

  constructor(file: string, issues: readonly ProfileIssue[], cause?: unknown) {
    const first = issues[0] ?? { path: '', message: 'invalid profile', fix: 'check the file' };
    const more =
      issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
    super(formatProfileIssue(file, first) + more, { code: 'PROFILE_INVALID', retryable: false, cause });
    this.file = file;
    this.path = first.path;
    this.fix = first.fix;
    this.issues = issues.length > 0 ? issues : [first];
  }

  /** Every issue, one line each, for CLIs that list them all. */
  describeAll(): string {
    return this.issues.map((i) => formatProfileIssue(this.file, i)).join('\n');
  }
}

/**
 * The platform lacks what a backend needs (no GPIO sysfs, no serial port, not Linux).
 * HAL backends in other packages throw this too, so callers can catch one class.
 */
export class UnsupportedPlatformError extends HardwareError {
  /** What is missing, e.g. `gpio-sysfs`. */
  readonly feature: string;
  readonly fix: string;

  constructor(feature: string, message: string, fix: string, cause?: unknown) {
    super(`${message}. Fix: ${fix}`, { code: 'UNSUPPORTED_PLATFORM', retryable: false, cause });
    this.feature = feature;
    this.fix = fix;
  }
}

/** A value cannot be encoded to, or registers cannot be decoded as, the requested register type. */
export class RegisterCodecError extends HardwareError {
  readonly fix: string;

  constructor(message: string, fix: string, cause?: unknown) {
    super(`${message}. Fix: ${fix}`, { code: 'REGISTER_CODEC', retryable: false, cause });
    this.fix = fix;
  }
}

/** GPIO sysfs exists but no chip matches the board's SoC label. */
export class GpioChipNotFoundError extends HardwareError {
  readonly fix: string;
  readonly labelsSeen: readonly string[];

  constructor(message: string, fix: string, labelsSeen: readonly string[]) {
    super(`${message}. Fix: ${fix}`, { code: 'GPIO_CHIP_NOT_FOUND', retryable: false });
    this.fix = fix;
    this.labelsSeen = labelsSeen;
  }
}
