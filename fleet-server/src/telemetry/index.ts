// Telemetry: exactly-once ingest of readings and events, 15 min / 1 h / 1 day rollups, and the
// queries the API and the console use.
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
export { type IngestBatch, ROLLUP_BUCKETS_S, TelemetryStore } from './ingest.ts';
export {
  channelSeries,
  type EnergyInterval,
  type EnergyRow,
  type EventRow,
  energyPerSite,
  INTERVAL_S,
  listChannels,
  listEvents,
  type SeriesPoint,
  type SeriesResult,
} from './queries.ts';
export { TelemetryWriter } from './writer.ts';
