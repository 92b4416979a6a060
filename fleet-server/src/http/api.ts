// The HTTP API's plumbing: a route registry that validates bodies and queries with zod, checks the
// caller's role in one place, and records every route for /openapi.json.

import { formatPath } from '@brana/protocol';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { z } from 'zod';
import {
  type Principal,
  principalFromSession,
  principalFromToken,
  type Role,
  roleAtLeast,
} from '../auth/users.ts';
import type { FleetContext } from '../context.ts';
import { BadRequestError, ForbiddenError, UnauthorizedError } from '../errors.ts';

export const SESSION_COOKIE = 'brana_session';

export interface FleetEnv {
  Variables: {
    fleet: FleetContext;
    principal: Principal | null;
  };
}

/** Reads the session cookie or bearer token and sets c.var.principal (null when neither is valid). */
export function authenticate(): MiddlewareHandler<FleetEnv> {
  return async (c, next) => {
    const fleet = c.var.fleet;
    let principal: Principal | null = null;
    const auth = c.req.header('authorization');
    if (auth?.startsWith('Bearer ')) {
      principal = principalFromToken(fleet.db, auth.slice(7).trim(), fleet.now());
      if (!principal)
        throw new UnauthorizedError('the bearer token is unknown, revoked or expired; create a new one');
    } else {
      const cookie = getCookie(c, SESSION_COOKIE);
      if (cookie) principal = principalFromSession(fleet.db, cookie, fleet.now());
    }
    c.set('principal', principal);
    await next();
  };
}

/** 401 without a principal, 403 when its role is below `role`. */
export function requireRole(role: Role): MiddlewareHandler<FleetEnv> {
  return async (c, next) => {
    assertRole(c.var.principal, role);
    await next();
  };
}

export function assertRole(principal: Principal | null, role: Role): Principal {
  if (!principal) throw new UnauthorizedError();
  if (!roleAtLeast(principal.role, role)) {
    throw new ForbiddenError(
      `this needs the ${role} role or higher; you are ${principal.role}. Ask an admin.`,
    );
  }
  return principal;
}

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

export async function readJsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
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

export interface RouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  summary: string;
  tag: string;
  /** 'public': no sign-in; 'gateway': a signed gateway request; otherwise the minimum role. */
  access: Role | 'public' | 'gateway';
  body?: B;
  query?: Q;
  response?: z.ZodType;
  /**
   * A body the handler reads itself (text/csv, or JSON it decodes on its own fast path);
   * documented with this media type.
   */
  rawBody?: string;
  /** The schema a rawBody follows, for the OpenAPI document only (the handler checks it). */
  rawBodySchema?: z.ZodType;
}

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface HandlerArgs<B, Q> {
  body: B;
  query: Q;
  principal: Principal;
  actor: string;
  fleet: FleetContext;
}

interface Registered {
  spec: RouteSpec<z.ZodType | undefined, z.ZodType | undefined>;
}

export class ApiRegistry {
  readonly routes: Registered[] = [];
  constructor(private readonly app: Hono<FleetEnv>) {}

  route<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
    spec: RouteSpec<B, Q>,
    handler: (c: Context<FleetEnv>, args: HandlerArgs<Infer<B>, Infer<Q>>) => unknown | Promise<unknown>,
  ): void {
    this.routes.push({ spec: spec as RouteSpec<z.ZodType | undefined, z.ZodType | undefined> });
    this.app.on(spec.method.toUpperCase(), spec.path, async (c) => {
      const principal =
        spec.access === 'public' || spec.access === 'gateway'
          ? (c.var.principal ?? {
              userId: '',
              username: '',
              role: 'viewer' as const,
              via: 'session' as const,
            })
          : assertRole(c.var.principal, spec.access);
      let body: unknown;
      if (spec.body) {
        const json = await readJsonBody(c);
        const parsed = spec.body.safeParse(json);
        if (!parsed.success) throw zodToBadRequest(parsed.error, 'body', json);
        body = parsed.data;
      }
      let query: unknown;
      if (spec.query) {
        const raw = c.req.query();
        const parsed = spec.query.safeParse(raw);
        if (!parsed.success) throw zodToBadRequest(parsed.error, 'query', raw);
        query = parsed.data;
      }
      const result = await handler(c, {
        body: body as Infer<B>,
        query: query as Infer<Q>,
        principal,
        actor: principal.userId || 'anonymous',
        fleet: c.var.fleet,
      });
      if (result instanceof Response) return result;
      return c.json(result ?? { ok: true }, spec.method === 'post' && !spec.path.includes('/:') ? 201 : 200);
    });
  }

  /** OpenAPI 3.1 document generated from the registered route schemas. */
  openApi(info: { title: string; version: string }) {
    const paths: Record<string, Record<string, unknown>> = {};
    const toSchema = (s: z.ZodType, io: 'input' | 'output') =>
      z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' });
    for (const { spec } of this.routes) {
      const path = spec.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      const params = [...spec.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      if (spec.query) {
        const js = toSchema(spec.query, 'input') as {
          properties?: Record<string, unknown>;
          required?: string[];
        };
        for (const [name, schema] of Object.entries(js.properties ?? {})) {
          params.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema } as never);
        }
      }
      const security =
        spec.access === 'public'
          ? []
          : spec.access === 'gateway'
            ? [{ gatewaySignature: [] }]
            : [{ session: [] }, { bearer: [] }];
      const op: Record<string, unknown> = {
        summary: spec.summary,
        tags: [spec.tag],
        operationId: `${spec.method}${spec.path.replace(/[/:{}-]+(\w)?/g, (_m, ch: string | undefined) => (ch ? ch.toUpperCase() : ''))}`,
        security,
        'x-brana-role': spec.access,
        parameters: params,
        responses: {
          [spec.method === 'post' && !spec.path.includes('/:') ? '201' : '200']: {
            description: 'OK',
            content: {
              'application/json': { schema: spec.response ? toSchema(spec.response, 'output') : {} },
            },
          },
          '4XX': {
            description: 'Error',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        },
      };
      if (spec.body) {
        op.requestBody = {
          required: true,
          content: { 'application/json': { schema: toSchema(spec.body, 'input') } },
        };
      } else if (spec.rawBody) {
        const schema = spec.rawBodySchema ? toSchema(spec.rawBodySchema, 'input') : { type: 'string' };
        op.requestBody = { required: true, content: { [spec.rawBody]: { schema } } };
      }
      paths[path] ??= {};
      paths[path][spec.method] = op;
    }
    return {
      openapi: '3.1.0',
      info,
      paths,
      components: {
        schemas: {
          Error: {
            type: 'object',
            required: ['code', 'message', 'path'],
            properties: { code: { type: 'string' }, message: { type: 'string' }, path: { type: 'string' } },
          },
        },
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          bearer: { type: 'http', scheme: 'bearer' },
          gatewaySignature: {
            type: 'apiKey',
            in: 'header',
            name: 'x-brana-signature',
            description:
              'Ed25519 request signature with x-brana-gateway and x-brana-timestamp; see signGatewayRequest',
          },
        },
      },
    };
  }
}

/** A time query parameter: Unix milliseconds or an ISO 8601 date-time. */
export const timeParam = z.union([
  z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);
