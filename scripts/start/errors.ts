// Errors of `npm start`: each has a stable code and a message that ends with the fix, so the CLI
// prints one line and never a stack trace.

export type StartErrorCode =
  | 'BAD_OPTION'
  | 'PORT_IN_USE'
  | 'DATA_FOLDER_VERSION'
  | 'DATA_FOLDER_IN_USE'
  | 'DATA_FOLDER_UNUSABLE'
  | 'REGION_INVALID'
  | 'PART_FAILED';

export class StartError extends Error {
  readonly code: StartErrorCode;
  readonly retryable: boolean;

  constructor(code: StartErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StartError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** One line for the user: our own errors as they are, anything else with a hint where to look. */
export function describeStartFailure(err: unknown): string {
  if (err instanceof StartError) return err.message;
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0] : String(err);
  // Other packages' typed errors (code + message with a fix) are already meant for people.
  if (typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code)) return message ?? String(err);
  return `unexpected error: ${message}. Fix: run again with BRANA_DEBUG=1 for details and report it`;
}
