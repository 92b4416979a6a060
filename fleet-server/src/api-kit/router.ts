// An API feature's routes: a Hono sub-app whose routes validate bodies and queries with zod, check
// the caller's role in one place, and keep their specs for /openapi.json. A feature's api.ts makes
// one (`new ApiRouter()`), the API mount table mounts it under its prefix.
import { type Context, Hono } from 'hono';
import type { z } from 'zod';
import { assertRole, type Principal, type Role } from '../core/index.ts';
import { readJsonBody, zodToBadRequest } from './input.ts';

/** Variables every API request carries: who asks (set by the auth module's middleware). */
export interface ApiEnv {
  Variables: {
    principal: Principal | null;
  };
}

export interface RouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** Relative to where the router is mounted; `:name` for path parameters. */
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

export type AnyRouteSpec = RouteSpec<z.ZodType | undefined, z.ZodType | undefined>;

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface HandlerArgs<B, Q> {
  body: B;
  query: Q;
  principal: Principal;
  /** The user id that audit rows name ('anonymous' on public routes). */
  actor: string;
}

/** The status a successful request answers with: 201 for a POST that creates, else 200. */
export function successStatus(spec: Pick<AnyRouteSpec, 'method' | 'path'>): 200 | 201 {
  return spec.method === 'post' && !spec.path.includes('/:') ? 201 : 200;
}

const ANONYMOUS: Principal = { userId: '', username: '', role: 'viewer', via: 'session' };

export class ApiRouter {
  readonly app = new Hono<ApiEnv>();
  readonly specs: AnyRouteSpec[] = [];

  route<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
    spec: RouteSpec<B, Q>,
    handler: (c: Context<ApiEnv>, args: HandlerArgs<Infer<B>, Infer<Q>>) => unknown | Promise<unknown>,
  ): this {
    this.specs.push(spec as AnyRouteSpec);
    this.app.on(spec.method.toUpperCase(), spec.path, async (c) => {
      const principal =
        spec.access === 'public' || spec.access === 'gateway'
          ? (c.var.principal ?? ANONYMOUS)
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
      });
      if (result instanceof Response) return result;
      return c.json(result ?? { ok: true }, successStatus(spec));
    });
    return this;
  }
}
