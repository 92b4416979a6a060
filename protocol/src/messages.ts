// The device wire protocol: JSON over HTTPS (enrolment, telemetry fallback) and one WebSocket per
// gateway. Every message is a strict zod object, so an unknown field is an error, not a silent drop.
import { z } from 'zod';
import {
  base64urlSchema,
  configRefSchema,
  publicKeySchema,
  sha256HexSchema,
  signatureSchema,
  signedConfigDocumentSchema,
} from './documents.ts';

export const PROTOCOL_VERSION = 1;

/** HTTP paths, relative to the server's base URL. */
export const ENROL_PATH = '/api/v1/enrol';
export const GATEWAY_WS_PATH = '/api/v1/gateway/ws';
export const GATEWAY_TELEMETRY_PATH = '/api/v1/gateway/telemetry';

/** WebSocket close codes the server uses (4000-4999 is the application range, RFC 6455 §7.4.2). */
export const CLOSE_CODES = {
  authFailed: 4001,
  revoked: 4003,
  protocolError: 4008,
  replaced: 4009,
  challengeTimeout: 4010,
} as const;

export const gatewayIdSchema = z
  .string()
  .regex(/^gw_[A-Za-z0-9_-]{8,64}$/, 'expected a gateway id like gw_…');
/** Nonces are 32 random bytes, base64url. */
export const nonceSchema = base64urlSchema.length(43, 'expected a 32-byte nonce as 43 base64url characters');

// ---------------------------------------------------------------- enrolment (HTTP)

export const enrolRequestSchema = z.strictObject({
  protocol: z.literal(PROTOCOL_VERSION),
  claimToken: z.string().min(8).max(200),
  /** The gateway's Ed25519 public key, made on the device. */
  publicKey: publicKeySchema,
  hostname: z.string().max(253).optional(),
  hardware: z.string().max(200).optional(),
  agentVersion: z.string().max(64).optional(),
});
export type EnrolRequest = z.infer<typeof enrolRequestSchema>;

export const enrolResponseSchema = z.strictObject({
  gatewayId: gatewayIdSchema,
  /** Pin this: every desired config and every session acceptance is signed with it. */
  serverPublicKey: publicKeySchema,
  siteId: z.string().nullable(),
  groupIds: z.array(z.string()),
  wsPath: z.literal(GATEWAY_WS_PATH),
});
export type EnrolResponse = z.infer<typeof enrolResponseSchema>;

// ---------------------------------------------------------------- telemetry records

/** Sequences start at 1 in each boot epoch and rise by 1 per record (readings and events share them). */
const recordKey = {
  bootEpoch: z.number().int().nonnegative(),
  seq: z.number().int().positive(),
  /** Unix time in milliseconds. */
  ts: z.number().int().nonnegative(),
};

export const readingQualitySchema = z.enum(['good', 'uncertain', 'bad']);
export const channelKindSchema = z.enum(['counter', 'gauge', 'status']);

export const readingRecordSchema = z.strictObject({
  ...recordKey,
  /** Canonical channel key, e.g. "boiler-room.energyImportKWh". */
  channel: z.string().min(1).max(200),
  value: z.number().nullable(),
  quality: readingQualitySchema,
  /** Optional channel metadata; energy queries use channels with unit "kWh" and kind "counter". */
  unit: z.string().max(32).optional(),
  kind: channelKindSchema.optional(),
});
export type ReadingRecord = z.infer<typeof readingRecordSchema>;

export const eventSeveritySchema = z.enum(['info', 'warning', 'critical']);

export const eventRecordSchema = z.strictObject({
  ...recordKey,
  /** Dotted kind: preemption.asserted, preemption.released, preemption.rejected, fault, alarm.raised … */
  kind: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/,
      'expected a dotted lower-case kind like preemption.asserted',
    ),
  severity: eventSeveritySchema,
  data: z.record(z.string(), z.unknown()).default({}),
});
export type EventRecord = z.infer<typeof eventRecordSchema>;
export type EventRecordInput = z.input<typeof eventRecordSchema>;

export const MAX_BATCH_RECORDS = 5000;

/** A channel of a column batch: the key and metadata a reading record would carry. */
export const readingChannelSchema = z.strictObject({
  key: readingRecordSchema.shape.channel,
  unit: readingRecordSchema.shape.unit,
  kind: readingRecordSchema.shape.kind,
});
export type ReadingChannel = z.infer<typeof readingChannelSchema>;

/** Reading qualities in a column batch: 0 good, 1 uncertain, 2 bad. */
export const QUALITY_CODES = ['good', 'uncertain', 'bad'] as const;
/** QUALITY_CODES the other way round. */
export const QUALITY_CODE = { good: 0, uncertain: 1, bad: 2 } as const;

const BATCH_LIMIT = `a batch holds at most ${MAX_BATCH_RECORDS} records; split it`;
const column = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_BATCH_RECORDS, BATCH_LIMIT);
const QUALITY_CODE_HINT = 'expected a quality code: 0 good, 1 uncertain, 2 bad';
const COLUMN_NAMES = ['seq', 'channel', 'bootEpoch', 'ts', 'value', 'quality'] as const;

/**
 * The readings of a batch as columns: entry i of every column is reading i, and `channel[i]`
 * points into `channels`. The same data as reading records in about a third of the bytes, and
 * cheaper to parse (arrays of numbers instead of an object per reading); gateways send this form
 * (encodeReadingColumns), the server takes either.
 */
export const readingColumnsSchema = z
  .strictObject({
    channels: column(readingChannelSchema),
    channel: column(z.number().int().nonnegative()),
    bootEpoch: column(recordKey.bootEpoch),
    seq: column(recordKey.seq),
    ts: column(recordKey.ts),
    value: column(z.number().nullable()),
    quality: column(z.number().int(QUALITY_CODE_HINT).min(0, QUALITY_CODE_HINT).max(2, QUALITY_CODE_HINT)),
  })
  .superRefine((c, ctx) => {
    const lengths = COLUMN_NAMES.map((name) => c[name].length);
    if (lengths.some((n) => n !== lengths[0]))
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `every column needs one entry per reading, but ${COLUMN_NAMES.map((name, i) => `${name} has ${lengths[i]}`).join(', ')}`,
      });
    const i = c.channel.findIndex((ch) => ch >= c.channels.length);
    if (i >= 0)
      ctx.addIssue({
        code: 'custom',
        path: ['channel', i],
        message: `points at channels[${c.channel[i]}], but channels has ${c.channels.length} ${c.channels.length === 1 ? 'entry' : 'entries'}; add that channel to channels or fix the index`,
      });
  });
export type ReadingColumnsWire = z.infer<typeof readingColumnsSchema>;

const readingsField = z.array(readingRecordSchema).max(MAX_BATCH_RECORDS).default([]);
const eventsField = z.array(eventRecordSchema).max(MAX_BATCH_RECORDS).default([]);
export const telemetryEventsSchema = eventsField;

/** A batch's size and readings form, checked the same way for an HTTP body and a WebSocket message. */
function checkBatch(
  b: { readings: unknown[]; columns?: ReadingColumnsWire | undefined; events: unknown[] },
  ctx: z.RefinementCtx,
): void {
  if (b.columns !== undefined && b.readings.length > 0)
    ctx.addIssue({
      code: 'custom',
      path: ['columns'],
      message: 'send readings either as records (readings) or as columns, not both in one batch',
    });
  const records = b.readings.length + (b.columns?.seq.length ?? 0) + b.events.length;
  if (records > MAX_BATCH_RECORDS) ctx.addIssue({ code: 'custom', path: [], message: BATCH_LIMIT });
}

export const telemetryBatchSchema = z
  .strictObject({ readings: readingsField, columns: readingColumnsSchema.optional(), events: eventsField })
  .superRefine(checkBatch);
export type TelemetryBatch = z.infer<typeof telemetryBatchSchema>;

/** Highest contiguous sequence stored for one boot epoch (0: none yet). Trim the journal up to it. */
export const ackEntrySchema = z.strictObject({
  bootEpoch: z.number().int().nonnegative(),
  seq: z.number().int().nonnegative(),
});
export type AckEntry = z.infer<typeof ackEntrySchema>;

export const telemetryAckSchema = z.strictObject({
  acks: z.array(ackEntrySchema),
  stored: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
});
export type TelemetryAck = z.infer<typeof telemetryAckSchema>;

// ---------------------------------------------------------------- apply progress

export const applyStateSchema = z.enum(['staged', 'trial', 'applied', 'failed', 'rolledBack']);
export type ApplyState = z.infer<typeof applyStateSchema>;

export const applyErrorSchema = z.strictObject({
  path: z.string(),
  message: z.string(),
  fix: z.string().optional(),
});
export type ApplyError = z.infer<typeof applyErrorSchema>;

// ---------------------------------------------------------------- WebSocket: gateway → server

/** Challenge answer. signature = Ed25519 over canonicalJson(sessionProof(...)), see session.ts. */
export const authMessageSchema = z.strictObject({
  type: z.literal('auth'),
  gatewayId: gatewayIdSchema,
  nonce: nonceSchema,
  signature: signatureSchema,
  /** A nonce of the gateway's own; the server signs it back so the gateway knows it reached its pinned server. */
  clientNonce: nonceSchema,
});

export const helloMessageSchema = z.strictObject({
  type: z.literal('hello'),
  protocol: z.literal(PROTOCOL_VERSION),
  /** What the gateway runs now; null before its first config. */
  running: configRefSchema.nullable(),
  bootEpoch: z.number().int().nonnegative(),
  agentVersion: z.string().max(64).optional(),
});

export const applyMessageSchema = z.strictObject({
  type: z.literal('apply'),
  version: z.number().int().positive(),
  hash: sha256HexSchema,
  state: applyStateSchema,
  errors: z.array(applyErrorSchema).max(200).optional(),
  detail: z.string().max(2000).optional(),
});

export const telemetryMessageSchema = z
  .strictObject({
    type: z.literal('telemetry'),
    /** Echoed in the ack so the sender can match them. */
    batchId: z.string().max(64).optional(),
    readings: readingsField,
    columns: readingColumnsSchema.optional(),
    events: eventsField,
  })
  .superRefine(checkBatch);

export const pingMessageSchema = z.strictObject({ type: z.literal('ping'), t: z.number() });
export const pongMessageSchema = z.strictObject({ type: z.literal('pong'), t: z.number() });

export const gatewayMessageSchema = z.discriminatedUnion('type', [
  authMessageSchema,
  helloMessageSchema,
  applyMessageSchema,
  telemetryMessageSchema,
  pingMessageSchema,
  pongMessageSchema,
]);
export type GatewayMessage = z.infer<typeof gatewayMessageSchema>;
export type GatewayMessageInput = z.input<typeof gatewayMessageSchema>;

// ---------------------------------------------------------------- WebSocket: server → gateway

export const challengeMessageSchema = z.strictObject({
  type: z.literal('challenge'),
  nonce: nonceSchema,
  protocol: z.literal(PROTOCOL_VERSION),
  /** Unix ms; lets a gateway without RTC notice a grossly wrong clock. */
  serverTime: z.number().int(),
});

export const sessionRefusalReasonSchema = z.enum([
  'unknown-gateway',
  'revoked',
  'bad-signature',
  'bad-nonce',
  'protocol',
]);
export type SessionRefusalReason = z.infer<typeof sessionRefusalReasonSchema>;

export const sessionMessageSchema = z.discriminatedUnion('accepted', [
  z.strictObject({
    type: z.literal('session'),
    accepted: z.literal(true),
    sessionId: z.string(),
    /** Ed25519 by the server key over canonicalJson(serverProof(gatewayId, clientNonce)). */
    serverSignature: signatureSchema,
    /** The gateway should ping at least this often; the server drops silent sessions after 3×. */
    heartbeatS: z.number().int().positive(),
  }),
  z.strictObject({
    type: z.literal('session'),
    accepted: z.literal(false),
    reason: sessionRefusalReasonSchema,
    message: z.string(),
  }),
]);

export const desiredMessageSchema = z.strictObject({
  type: z.literal('desired'),
  /** null: the server has nothing for this gateway; keep running what you run. */
  document: signedConfigDocumentSchema.nullable(),
});

export const ackMessageSchema = z.strictObject({
  type: z.literal('ack'),
  batchId: z.string().optional(),
  acks: z.array(ackEntrySchema),
});

export const errorMessageSchema = z.strictObject({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  path: z.string(),
  /** The telemetry message this error answers; nothing of that message was stored. */
  batchId: z.string().max(64).optional(),
  /**
   * With code `bad-record`: the refused record's position in that message, counting its readings
   * first (in row order, records or columns) and then its events (CONTRACTS.md, "Refused telemetry
   * records"). The gateway quarantines that record and sends the rest again.
   */
  index: z.number().int().nonnegative().optional(),
});

export const serverMessageSchema = z.union([
  challengeMessageSchema,
  sessionMessageSchema,
  desiredMessageSchema,
  ackMessageSchema,
  errorMessageSchema,
  pingMessageSchema,
  pongMessageSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ChallengeMessage = z.infer<typeof challengeMessageSchema>;
export type SessionMessage = z.infer<typeof sessionMessageSchema>;
export type DesiredMessage = z.infer<typeof desiredMessageSchema>;
export type AckMessage = z.infer<typeof ackMessageSchema>;
export type ErrorMessage = z.infer<typeof errorMessageSchema>;
export type AuthMessage = z.infer<typeof authMessageSchema>;
export type HelloMessage = z.infer<typeof helloMessageSchema>;
export type ApplyMessage = z.infer<typeof applyMessageSchema>;
export type TelemetryMessage = z.infer<typeof telemetryMessageSchema>;
