// One mapping from errors to API answers: a FleetError is { code, message, path, details? } with
// its status (and retry-after when it has one); anything else is logged and answered `internal`,
// never with a stack trace.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../core/index.ts';
import { FleetError } from '../errors.ts';

export function apiErrorHandler(log: Logger): ErrorHandler {
  return (err: Error, c: Context) => {
    if (err instanceof FleetError) {
      if (err.retryAfterS !== undefined) c.header('retry-after', String(err.retryAfterS));
      const body: Record<string, unknown> = { code: err.code, message: err.message, path: err.path };
      if (err.details !== undefined) body.details = err.details;
      return c.json(body, err.status as 400);
    }
    if (err instanceof HTTPException) {
      return c.json(
        { code: `http-${err.status}`, message: err.message || 'request refused', path: c.req.path },
        err.status,
      );
    }
    log.error('request failed', {
      method: c.req.method,
      path: c.req.path,
      error: String(err),
      stack: err.stack,
    });
    return c.json(
      { code: 'internal', message: 'internal error; the server log has the details', path: '' },
      500,
    );
  };
}

export const apiNotFound: NotFoundHandler = (c) =>
  c.json(
    {
      code: 'not-found',
      message: `no route ${c.req.method} ${c.req.path}; see /openapi.json`,
      path: c.req.path,
    },
    404,
  );
