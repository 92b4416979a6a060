// The gateway's local API (Hono on localhost): status, journal statistics, config state, and the
// live stream of readings and events over WebSocket at /api/live.
export {
  createLocalApiApp,
  LIVE_PATH,
  type LocalApi,
  type LocalApiSources,
  startLocalApi,
} from './local-api.ts';
