// Typed errors of @brana/protocol: a stable `code`, whether retrying helps, the `cause`. Key
// encoding errors are @brana/hardware's KeyFormatError (the one key helper), re-exported here.
export { KeyFormatError } from '@brana/hardware';

export class ProtocolError extends Error {
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

/** A value that has no canonical JSON form (NaN, a Date, a bigint…), at `path`. */
export class CanonicalJsonError extends ProtocolError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super('canonical-json', `${path || '(root)'}: ${message}`);
  }
}
