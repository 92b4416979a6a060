// Errors the local API answers with: an HTTP status, a stable code, the field at fault (as a path
// into the query, body or URL) and what to do. Nothing else (no stack, no internals) reaches a client.
import type { z } from 'zod';

export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
  fix?: string;
}

export class ApiError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503;
  readonly code: string;
  readonly field: string | undefined;
  readonly fix: string | undefined;
  readonly retryAfterS: number | undefined;

  constructor(
    status: ApiError['status'],
    code: string,
    message: string,
    options: { field?: string; fix?: string; retryAfterS?: number } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = options.field;
    this.fix = options.fix;
    this.retryAfterS = options.retryAfterS;
  }

  body(): ApiErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.fix === undefined ? {} : { fix: this.fix }),
    };
  }
}

/** `a.b[2].c` from a zod path. */
export function fieldPath(where: string, path: readonly PropertyKey[]): string {
  let out = where;
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : `${out ? '.' : ''}${String(seg)}`;
  return out;
}

/** The first zod issue as a 400 naming its field. */
export function badInput(where: 'query' | 'body' | 'params', error: z.ZodError): ApiError {
  const issue = error.issues[0]!;
  let path = issue.path;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path = [...path, issue.keys[0]!];
    message = `unknown field; remove it (the fields are in /api/openapi.json)`;
  } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    message = `missing; ${issue.message.replace(/, received undefined$/, '')}`;
  }
  const field = fieldPath(where, path);
  return new ApiError(400, 'bad-request', `${field}: ${message}`, { field });
}
