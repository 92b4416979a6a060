// The plumbing every API feature uses: a router that validates input with zod and checks roles,
// the OpenAPI document built from its specs, rate limits, body reading and the client's address.
export { clientKey } from './client.ts';
export { apiErrorHandler, apiNotFound } from './errors.ts';
export { parseJsonText, readJsonBody, timeParam, zodToBadRequest } from './input.ts';
export { bodySizeLimit, clientRateLimit } from './limits.ts';
export { type MountedSpecs, openApiDocument, type SecurityNames } from './openapi.ts';
export { type BucketLimits, RateLimiter, takeToken } from './rate-limit.ts';
export { readBodyLimited } from './request-body.ts';
export {
  type AnyRouteSpec,
  type ApiEnv,
  ApiRouter,
  type HandlerArgs,
  type RouteSpec,
  successStatus,
} from './router.ts';
