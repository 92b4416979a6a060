// Typed errors of @brana/release. Every error has a stable `code`, says whether retrying can help,
// keeps its `cause`, and its message names what is wrong, where, and ends with "Fix: …".

export class ReleaseError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: string,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
  }
}

/** A manifest that is not what it claims: malformed, signed by an unknown key, badly signed. */
export class ManifestError extends ReleaseError {
  constructor(
    code: 'manifest-malformed' | 'manifest-unknown-key' | 'manifest-bad-signature',
    readonly where: string,
    problem: string,
    fix: string,
  ) {
    super(code, `${where}: ${problem}. Fix: ${fix}`);
  }
}

/** A file of a release directory that does not match its manifest entry (or is not listed). */
export class ReleaseFileError extends ReleaseError {
  constructor(
    code: 'file-missing' | 'file-size' | 'file-hash' | 'file-unlisted',
    readonly path: string,
    problem: string,
    fix: string,
  ) {
    super(code, `${path}: ${problem}. Fix: ${fix}`);
  }
}

/** The release cannot be built from this checkout for this platform. */
export class BuildError extends ReleaseError {
  constructor(problem: string, fix: string, cause?: unknown) {
    super('build', `${problem}. Fix: ${fix}`, { cause });
  }
}

/** A key file that cannot be read or is not an Ed25519 key of the right kind. */
export class KeyFileError extends ReleaseError {
  constructor(
    readonly file: string,
    problem: string,
    fix: string,
    cause?: unknown,
  ) {
    super('key-file', `${file}: ${problem}. Fix: ${fix}`, { cause });
  }
}

/** Bad usage of the CLI (a flag, a version string); exit code 2. */
export class UsageError extends ReleaseError {
  constructor(problem: string, fix: string) {
    super('usage', `${problem}. Fix: ${fix}`);
  }
}
