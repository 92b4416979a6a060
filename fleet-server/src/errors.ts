// Typed errors of the fleet server. Each has a stable `code`, an HTTP status and says how to fix it;
// the HTTP layer maps them once in app.onError, the CLI prints `message` as one line.

export interface FleetErrorOptions {
  path?: string;
  cause?: unknown;
  details?: unknown;
}

export class FleetError extends Error {
  readonly path: string;
  readonly details: unknown;
  /** When to try again, s: sent as retry-after by the HTTP layer (rate limits, a restarting writer). */
  readonly retryAfterS?: number;
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly retryable: boolean,
    options: FleetErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.path = options.path ?? '';
    this.details = options.details;
  }
}

export class BadRequestError extends FleetError {
  constructor(message: string, options: FleetErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'bad-request', 400, message, false, options);
  }
}

export class UnauthorizedError extends FleetError {
  constructor(
    message = 'sign in first: send the session cookie or an "Authorization: Bearer <token>" header',
  ) {
    super('unauthorized', 401, message, false);
  }
}

export class ForbiddenError extends FleetError {
  constructor(message: string) {
    super('forbidden', 403, message, false);
  }
}

export class NotFoundError extends FleetError {
  constructor(what: string, id: string, options: FleetErrorOptions = {}) {
    super(
      'not-found',
      404,
      `${what} ${JSON.stringify(id)} does not exist; list them to find the right id`,
      false,
      options,
    );
  }
}

export class ConflictError extends FleetError {
  constructor(message: string, options: FleetErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'conflict', 409, message, false, options);
  }
}

export class PayloadTooLargeError extends FleetError {
  constructor(limitBytes: number) {
    super(
      'payload-too-large',
      413,
      `request body is larger than ${limitBytes} bytes; send smaller batches`,
      false,
    );
  }
}

export class RateLimitedError extends FleetError {
  constructor(override readonly retryAfterS: number) {
    super('rate-limited', 429, `too many requests from this client; retry after ${retryAfterS} s`, true);
  }
}

/** The server cannot take the request now (the telemetry writer restarting); send it again. */
export class UnavailableError extends FleetError {
  constructor(
    message: string,
    override readonly retryAfterS = 1,
  ) {
    super('unavailable', 503, message, true);
  }
}

/** A gateway config that the firmware schema rejects; `details` lists every path-level error. */
export class ConfigInvalidError extends FleetError {
  constructor(errors: { path: string; message: string; fix: string }[]) {
    const first = errors[0];
    super(
      'config-invalid',
      422,
      first
        ? `config ${first.path}: ${first.message}; ${first.fix}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`
        : 'config is invalid',
      false,
      { path: first ? `config.${first.path}` : 'config', details: errors },
    );
  }
}

/** Raised at start-up (bad --db path, port in use…): the CLI prints it as one line. */
export class StartupError extends FleetError {
  constructor(message: string, options: FleetErrorOptions = {}) {
    super('startup', 1, message, false, options);
  }
}
