// Telemetry: exactly-once ingest of readings and events (on a writer thread), 15 min / 1 h / 1 day
// rollups, a gateway's last-seen time, the HTTP batch route, and the reads the API and pages use.
export { type TelemetryApiDeps, telemetryApi } from './api.ts';
export { type BodySignature, checkBodySignature, decodeTelemetry } from './batch-decoder.ts';
export {
  columnsFromRecords,
  columnsFromWire,
  type DecodedTelemetry,
  decodeTelemetryValue,
  type ReadingColumns,
  type TelemetryIn,
  telemetryOfParsed,
  toReadings,
} from './columns.ts';
export { type IngestBatch, TelemetryStore } from './ingest.ts';
export { setLastSeen } from './last-seen.ts';
export { TelemetryPipeline, type TelemetryPipelineDeps } from './pipeline.ts';
export {
  channelSeries,
  type LatestValue,
  latestValues,
  listChannels,
  type SeriesPoint,
  type SeriesResult,
} from './queries.ts';
export { ROLLUP_BUCKETS_S } from './rollups.ts';
export { TelemetryWriter } from './writer.ts';
