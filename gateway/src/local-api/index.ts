// The gateway's local API for Node-RED flows and technicians: Unix socket (and optional localhost
// TCP), tokens with scopes, reads, history, relay and alarm writes, and the live record stream.
export { ApiError, type ApiErrorBody } from './api-error.ts';
export { DEFAULT_LIMITS, type LocalApiLimits, STREAM_PATH } from './app.ts';
export type { Catalog, CatalogDevice, CatalogRelay } from './catalog.ts';
export type { CommittedRecord } from './committed.ts';
export type { CounterBucket, GaugeBucket, LastValue, RangeResult } from './history.ts';
export {
  issueLocalApiToken,
  type LocalApi,
  type LocalApiOptions,
  type LocalApiRecord,
  type LocalApiStats,
  startLocalApi,
} from './local-api.ts';
export { ALARM_SEVERITIES, type AlarmSeverity, type OperatorAlarm } from './operator-alarms.ts';
export { channelTopic, checkChannelPattern, checkEventPattern } from './patterns.ts';
export type { RelayCommand, RelayReply, RelaySetRequest } from './relays.ts';
export { STREAM_LIMITS, type SubscribeRequest, subscribeSchema } from './stream.ts';
export { SCOPES, type Scope } from './tokens.ts';
