// The local API's routes in one table: each declares its scope and its query and body schemas, so
// that authorization, rate limits, validation (400 naming the field) and /api/openapi.json all
// come from the same declaration.
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { ApiError, badInput } from './api-error.ts';
import type { RateLimiter } from './rate-limit.ts';
import { bearerToken, type Scope, type TokenStore } from './tokens.ts';

export type Refusal =
  | 'missingToken'
  | 'unknownToken'
  | 'scope'
  | 'rateLimited'
  | 'badRequest'
  | 'tooLarge'
  | 'notFound'
  | 'conflict';

/** Refusals by reason, for /api/status: every refused request is counted. */
export type RefusalCounts = Record<Refusal, number>;

export const emptyRefusals = (): RefusalCounts => ({
  missingToken: 0,
  unknownToken: 0,
  scope: 0,
  rateLimited: 0,
  badRequest: 0,
  tooLarge: 0,
  notFound: 0,
  conflict: 0,
});

export interface Caller {
  token: string;
}

export interface RouteSpec<Q extends z.ZodType | undefined, B extends z.ZodType | undefined> {
  method: 'get' | 'post';
  /** Hono path; `:name` parameters. */
  path: string;
  summary: string;
  /** 'public': no token (health, this description). */
  scope: Scope | 'public';
  query?: Q;
  body?: B;
  /** Path parameters, checked like a query. */
  params?: z.ZodType;
  /** Described in the OpenAPI document only. */
  response?: z.ZodType;
  /** Extra statuses this route answers besides 200 and the common 400/401/403/429. */
  errors?: Record<number, string>;
}

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface Guard {
  tokens: TokenStore;
  /** Per token: reads and writes have separate buckets. */
  reads: RateLimiter;
  writes: RateLimiter;
  /** Requests with a missing or wrong token, all callers together: slows guessing. */
  refusedAuth: RateLimiter;
  refusals: RefusalCounts;
  nowMs: () => number;
}

/** Checks the bearer token of a request for `scope`; throws the ApiError to answer with. */
export function authorize(guard: Guard, header: string | undefined, scope: Scope, write: boolean): Caller {
  const now = guard.nowMs();
  const check = guard.tokens.verify(bearerToken(header));
  if (!check.ok) {
    const limited = guard.refusedAuth.take('auth', now);
    if (!limited.ok) {
      guard.refusals.rateLimited++;
      throw new ApiError(429, 'rate-limited', 'too many requests with a missing or wrong token; wait', {
        retryAfterS: Math.ceil(limited.retryAfterMs / 1000),
      });
    }
    if (check.reason === 'missing') {
      guard.refusals.missingToken++;
      throw new ApiError(
        401,
        'unauthorized',
        'this needs a token: send the header "Authorization: Bearer <token>"',
        {
          field: 'headers.authorization',
          fix: 'Node-RED reads its token from the file named by BRANA_LOCAL_API_TOKEN_FILE',
        },
      );
    }
    guard.refusals.unknownToken++;
    throw new ApiError(
      401,
      'unauthorized',
      'the token is not known to this gateway (revoked, or from an earlier start)',
      {
        field: 'headers.authorization',
        fix: 'read the token file again; the agent makes a new token at each start',
      },
    );
  }
  if (!check.scopes.has(scope)) {
    guard.refusals.scope++;
    throw new ApiError(403, 'forbidden', `token "${check.name}" lacks the ${scope} scope this needs`, {
      fix: `use a token with the ${scope} scope`,
    });
  }
  const limited = (write ? guard.writes : guard.reads).take(check.name, now);
  if (!limited.ok) {
    guard.refusals.rateLimited++;
    throw new ApiError(
      429,
      'rate-limited',
      `token "${check.name}" sent too many ${write ? 'writes' : 'requests'}; slow down`,
      {
        retryAfterS: Math.ceil(limited.retryAfterMs / 1000),
      },
    );
  }
  return { token: check.name };
}

export class RouteTable {
  readonly #specs: RouteSpec<z.ZodType | undefined, z.ZodType | undefined>[] = [];
  constructor(
    private readonly app: Hono,
    private readonly guard: Guard,
  ) {}

  add<Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
    spec: RouteSpec<Q, B>,
    handler: (args: {
      query: Out<Q>;
      body: Out<B>;
      params: Record<string, string>;
      caller: Caller | undefined;
      c: Context;
    }) => unknown,
  ): void {
    this.#specs.push(spec as RouteSpec<z.ZodType | undefined, z.ZodType | undefined>);
    this.app.on(spec.method.toUpperCase(), spec.path, async (c) => {
      const caller =
        spec.scope === 'public'
          ? undefined
          : authorize(this.guard, c.req.header('authorization'), spec.scope, spec.method === 'post');
      const params = c.req.param() as Record<string, string>;
      if (spec.params) {
        const p = spec.params.safeParse(params);
        if (!p.success) throw badInput('params', p.error);
      }
      let query: unknown;
      if (spec.query) {
        const q = spec.query.safeParse(c.req.query());
        if (!q.success) throw badInput('query', q.error);
        query = q.data;
      }
      let body: unknown;
      if (spec.body) {
        const text = await c.req.text();
        let json: unknown = {};
        if (text.trim() !== '') {
          try {
            json = JSON.parse(text);
          } catch (err) {
            throw new ApiError(400, 'bad-request', `body is not JSON (${(err as Error).message})`, {
              field: 'body',
            });
          }
        }
        const b = spec.body.safeParse(json);
        if (!b.success) throw badInput('body', b.error);
        body = b.data;
      }
      const result = await handler({ query: query as Out<Q>, body: body as Out<B>, params, caller, c });
      return result instanceof Response ? result : c.json(result as object);
    });
  }

  /** OpenAPI 3.1 description of every route in the table. */
  openApi(extra: { paths: Record<string, unknown>; description: string }) {
    const schema = (s: z.ZodType, io: 'input' | 'output') =>
      z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' });
    const paths: Record<string, Record<string, unknown>> = {};
    for (const spec of this.#specs) {
      const path = spec.path.replace(/:([A-Za-z]+)/g, '{$1}');
      const parameters: unknown[] = [...spec.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      if (spec.query) {
        const js = schema(spec.query, 'input') as {
          properties?: Record<string, { description?: string }>;
          required?: string[];
        };
        for (const [name, s] of Object.entries(js.properties ?? {})) {
          parameters.push({
            name,
            in: 'query',
            required: js.required?.includes(name) ?? false,
            description: s.description,
            schema: s,
          });
        }
      }
      const responses: Record<string, unknown> = {
        200: {
          description: 'OK',
          content: { 'application/json': { schema: spec.response ? schema(spec.response, 'output') : {} } },
        },
        400: { $ref: '#/components/responses/Error' },
      };
      if (spec.scope !== 'public') {
        responses[401] = { $ref: '#/components/responses/Error' };
        responses[403] = { $ref: '#/components/responses/Error' };
        responses[429] = { $ref: '#/components/responses/Error' };
      }
      for (const [status, description] of Object.entries(spec.errors ?? {})) {
        responses[status] = {
          description,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        };
      }
      paths[path] ??= {};
      paths[path][spec.method] = {
        summary: spec.summary,
        operationId: `${spec.method}${spec.path.replace(/[/:-]+(\w)?/g, (_m, ch: string | undefined) => (ch ? ch.toUpperCase() : ''))}`,
        security: spec.scope === 'public' ? [] : [{ token: [spec.scope] }],
        'x-brana-scope': spec.scope,
        parameters,
        ...(spec.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: schema(spec.body, 'input') } },
              },
            }
          : {}),
        responses,
      };
    }
    Object.assign(paths, extra.paths);
    return {
      openapi: '3.1.0',
      info: { title: 'Brána gateway local API', version: '1', description: extra.description },
      servers: [
        {
          url: 'http://localhost',
          description: 'Unix socket <dataDir>/local-api.sock, or localApi.port on 127.0.0.1',
        },
      ],
      paths,
      components: {
        schemas: {
          Error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string' },
              message: { type: 'string', description: 'what is wrong, naming the field' },
              field: { type: 'string', description: 'the field at fault, e.g. query.channels[2] or body.on' },
              fix: { type: 'string' },
            },
          },
        },
        responses: {
          Error: {
            description: 'Refused',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        },
        securitySchemes: {
          token: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A local API token; scopes read, relay, alarm. The agent writes the Node-RED token to <dataDir>/node-red/local-api.token.',
          },
        },
      },
    };
  }
}
