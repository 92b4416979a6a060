// What the firmware processes send to the agent: readings, events and status counters. Each record
// is numbered (bootEpoch, seq) by the sending link, so the agent journals it once however often
// it arrives.
import { z } from 'zod';

export const IPC_SOURCES = ['rt', 'fieldbus'] as const;
export type IpcSource = (typeof IPC_SOURCES)[number];

/** Firmware qualities; the agent maps suspect and stale to the fleet's `uncertain`. */
export const readingQualities = ['good', 'suspect', 'stale', 'uncertain', 'bad'] as const;
export type IpcReadingQuality = (typeof readingQualities)[number];

const finiteMs = z.number().finite().nonnegative();

export const ipcReadingSchema = z.object({
  kind: z.literal('reading'),
  /** Canonical channel key `<device>.<point>`, e.g. `boiler-room.energyImportKWh`. */
  channel: z.string().min(1).max(200),
  /** Wall time of the measurement, Unix ms. */
  atMs: finiteMs,
  value: z.union([z.number(), z.string().max(200), z.null()]),
  quality: z.enum(readingQualities),
  unit: z.string().max(32).optional(),
  channelKind: z.enum(['counter', 'gauge', 'status']).optional(),
  /** Counters: the monotonic total kept across rollover, reset and restarts. */
  total: z.number().optional(),
});

export const ipcEventSchema = z.object({
  kind: z.literal('event'),
  /** Dotted lower-case type: preemption.asserted, preemption.released, preemption.rejected, fault, alarm, device.status … */
  type: z
    .string()
    .max(100)
    .regex(
      /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/,
      'expected a dotted lower-case type like preemption.asserted',
    ),
  /** Safety events (preemption, safety faults) are never evicted from the journal. */
  safety: z.boolean(),
  atMs: finiteMs,
  severity: z.enum(['info', 'warning', 'critical']).optional(),
  data: z.record(z.string(), z.unknown()).default({}),
});

export const ipcStatusSchema = z.object({
  kind: z.literal('status'),
  atMs: finiteMs,
  /** Process counters: dropped records, rejected requests by reason, polls, … */
  counters: z.record(z.string(), z.number()),
});

export const agentRecordSchema = z.discriminatedUnion('kind', [
  ipcReadingSchema,
  ipcEventSchema,
  ipcStatusSchema,
]);

export type IpcReading = z.input<typeof ipcReadingSchema>;
export type IpcEvent = z.input<typeof ipcEventSchema>;
export type IpcStatus = z.input<typeof ipcStatusSchema>;
/** What firmware hands to `AgentLink.send`. */
export type AgentRecord = z.input<typeof agentRecordSchema>;
/** A record as the agent receives it: validated, defaults filled in. */
export type ParsedAgentRecord = z.output<typeof agentRecordSchema>;

/** A record with the number its link gave it; (source, bootEpoch, seq) is unique. */
export interface SequencedRecord {
  source: IpcSource;
  bootEpoch: number;
  seq: number;
  record: ParsedAgentRecord;
}
