// The OpenAPI 3.1 document, generated from the route specs of every mounted router: paths,
// parameters, request and response schemas (zod → JSON Schema), the role each operation needs.
import { z } from 'zod';
import { type AnyRouteSpec, successStatus } from './router.ts';

export interface MountedSpecs {
  /** Where the router is mounted, e.g. "/api/v1". */
  prefix: string;
  specs: readonly AnyRouteSpec[];
}

/** Headers and cookies of the three ways to authenticate, named in the document. */
export interface SecurityNames {
  sessionCookie: string;
  gatewaySignatureHeader: string;
}

const toSchema = (s: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' });

function operation(prefix: string, spec: AnyRouteSpec): Record<string, unknown> {
  const full = `${prefix}${spec.path}`;
  const params = [...full.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' } as unknown,
  }));
  if (spec.query) {
    const js = toSchema(spec.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(js.properties ?? {})) {
      params.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema });
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
    operationId: `${spec.method}${full.replace(/[/:{}-]+(\w)?/g, (_m, ch: string | undefined) => (ch ? ch.toUpperCase() : ''))}`,
    security,
    'x-brana-role': spec.access,
    parameters: params,
    responses: {
      [String(successStatus({ method: spec.method, path: full }))]: {
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
  return op;
}

export function openApiDocument(
  info: { title: string; version: string },
  mounted: readonly MountedSpecs[],
  names: SecurityNames,
) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { prefix, specs } of mounted) {
    for (const spec of specs) {
      const path = `${prefix}${spec.path}`.replace(/:([A-Za-z_]+)/g, '{$1}');
      paths[path] ??= {};
      paths[path][spec.method] = operation(prefix, spec);
    }
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
        session: { type: 'apiKey', in: 'cookie', name: names.sessionCookie },
        bearer: { type: 'http', scheme: 'bearer' },
        gatewaySignature: {
          type: 'apiKey',
          in: 'header',
          name: names.gatewaySignatureHeader,
          description:
            'Ed25519 request signature with x-brana-gateway and x-brana-timestamp; see signGatewayRequest',
        },
      },
    },
  };
}
