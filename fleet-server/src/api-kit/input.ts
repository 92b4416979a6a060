// Request input for API routes: JSON bodies read with a clear error, zod issues turned into one
// BadRequestError that names the first problem's path, and the time parameters queries share.

import { formatPath } from '@brana/protocol';
import type { Context } from 'hono';
import { z } from 'zod';
import { BadRequestError } from '../errors.ts';

/** Zod issues → one BadRequestError naming the first problem's path. */
export function zodToBadRequest(
  error: z.ZodError,
  where: 'body' | 'query' | 'params',
  input?: unknown,
): BadRequestError {
  const issue = error.issues[0]!;
  let path = formatPath(issue.path);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    path = path === '(root)' ? key : `${path}.${key}`;
    message = `unknown field ${JSON.stringify(key)}; remove it (see /openapi.json for the fields)`;
  } else if (input !== undefined && issue.path.length > 0 && !hasPath(input, issue.path)) {
    message = `missing field; ${issue.message}`;
  }
  return new BadRequestError(`${where} ${path}: ${message}`, {
    code: 'invalid-input',
    path: `${where}.${path}`.replace('.(root)', ''),
    details: error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
  });
}

function hasPath(value: unknown, path: readonly PropertyKey[]): boolean {
  let cur: unknown = value;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return false;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return true;
}

/** The body's JSON, or a 400 `malformed-json` saying what is wrong with it. */
export function parseJsonText(text: string): unknown {
  if (text.trim() === '')
    throw new BadRequestError('body is empty; send a JSON object', { code: 'malformed-json', path: 'body' });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadRequestError(`body is not valid JSON: ${(e as Error).message}`, {
      code: 'malformed-json',
      path: 'body',
    });
  }
}

export async function readJsonBody(c: Context): Promise<unknown> {
  return parseJsonText(await c.req.text());
}

/** A time query parameter: Unix milliseconds or an ISO 8601 date-time. */
export const timeParam = z.union([
  z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);
