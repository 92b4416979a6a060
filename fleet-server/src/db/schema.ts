// drizzle schema of the fleet server (SQLite; the same tables map to PostgreSQL at scale).
// Times are Unix milliseconds in integer columns. Telemetry rows use integer surrogate keys for
// gateway and channel, because a narrow row repeated millions of times must stay small.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  username: text('username').notNull().unique(),
  /** scrypt$N$r$p$salt$hash (base64url parts). */
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ['admin', 'fleetOperator', 'technician', 'viewer'] }).notNull(),
  createdAt: integer('created_at').notNull(),
  disabledAt: integer('disabled_at'),
});

export const sessions = sqliteTable(
  'sessions',
  {
    /** sha256 of the cookie value; the value itself is never stored. */
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const apiTokens = sqliteTable('api_tokens', {
  id: text('id').primaryKey(),
  userId: text('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at'),
  lastUsedAt: integer('last_used_at'),
  revokedAt: integer('revoked_at'),
});

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    /** user id, or "system", or "gateway:<id>" */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    before: text('before', { mode: 'json' }),
    after: text('after', { mode: 'json' }),
  },
  (t) => [index('audit_at_idx').on(t.at), index('audit_entity_idx').on(t.entityType, t.entityId)],
);

export const sites = sqliteTable('sites', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  kind: text('kind', { enum: ['building', 'intersection', 'other'] }).notNull(),
  address: text('address'),
  createdAt: integer('created_at').notNull(),
});

export const groups = sqliteTable('groups', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  description: text('description'),
  createdAt: integer('created_at').notNull(),
});

export const gateways = sqliteTable(
  'gateways',
  {
    id: text('id').primaryKey(),
    /** Integer surrogate used by telemetry rows. */
    num: integer('num').notNull().unique(),
    name: text('name').notNull(),
    siteId: text('site_id').references(() => sites.id, { onDelete: 'set null' }),
    publicKey: text('public_key').notNull().unique(),
    status: text('status', { enum: ['active', 'revoked'] }).notNull(),
    enrolledAt: integer('enrolled_at').notNull(),
    revokedAt: integer('revoked_at'),
    lastSeenAt: integer('last_seen_at'),
    hostname: text('hostname'),
    hardware: text('hardware'),
    agentVersion: text('agent_version'),
    bootEpoch: integer('boot_epoch'),
    runningVersion: integer('running_version'),
    runningHash: text('running_hash'),
    /** The config version the gateway should run (set when a rollout stage reaches it). */
    desiredVersion: integer('desired_version'),
    applyState: text('apply_state', { enum: ['staged', 'trial', 'applied', 'failed', 'rolledBack'] }),
    applyUpdatedAt: integer('apply_updated_at'),
  },
  (t) => [index('gateways_site_idx').on(t.siteId)],
);

export const gatewayGroups = sqliteTable(
  'gateway_groups',
  {
    gatewayId: text('gateway_id')
      .notNull()
      .references(() => gateways.id, { onDelete: 'cascade' }),
    groupId: text('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.groupId] }), index('gateway_groups_group_idx').on(t.groupId)],
);

export const gatewayTags = sqliteTable(
  'gateway_tags',
  {
    gatewayId: text('gateway_id')
      .notNull()
      .references(() => gateways.id, { onDelete: 'cascade' }),
    tag: text('tag').notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.tag] }), index('gateway_tags_tag_idx').on(t.tag)],
);

export const claimTokens = sqliteTable('claim_tokens', {
  id: text('id').primaryKey(),
  /** sha256 of the token; the token is shown once at creation. */
  tokenHash: text('token_hash').notNull().unique(),
  gatewayName: text('gateway_name'),
  siteId: text('site_id').references(() => sites.id, { onDelete: 'set null' }),
  groupId: text('group_id').references(() => groups.id, { onDelete: 'set null' }),
  tags: text('tags', { mode: 'json' }).$type<string[]>(),
  createdAt: integer('created_at').notNull(),
  createdBy: text('created_by').notNull(),
  expiresAt: integer('expires_at').notNull(),
  usedAt: integer('used_at'),
  usedByGatewayId: text('used_by_gateway_id'),
  revokedAt: integer('revoked_at'),
});

export const configDocuments = sqliteTable('config_documents', {
  version: integer('version').primaryKey(),
  hash: text('hash').notNull(),
  /** The full signed document as sent to gateways (canonical JSON). */
  document: text('document').notNull(),
  comment: text('comment'),
  createdAt: integer('created_at').notNull(),
  createdBy: text('created_by').notNull(),
});

export const rollouts = sqliteTable('rollouts', {
  id: text('id').primaryKey(),
  configVersion: integer('config_version')
    .notNull()
    .references(() => configDocuments.version),
  targetKind: text('target_kind', { enum: ['group', 'tag'] }).notNull(),
  targetValue: text('target_value').notNull(),
  state: text('state', { enum: ['running', 'paused', 'aborted', 'stopped', 'completed'] }).notNull(),
  /** Share of a stage's gateways whose failed apply stops the rollout (0..1). */
  maxFailureShare: real('max_failure_share').notNull(),
  currentStage: integer('current_stage').notNull(),
  stopReason: text('stop_reason'),
  createdAt: integer('created_at').notNull(),
  createdBy: text('created_by').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const rolloutStages = sqliteTable(
  'rollout_stages',
  {
    rolloutId: text('rollout_id')
      .notNull()
      .references(() => rollouts.id, { onDelete: 'cascade' }),
    stageIndex: integer('stage_index').notNull(),
    /** Cumulative share of the targets reached by the end of this stage, in percent. */
    percent: integer('percent').notNull(),
    state: text('state', { enum: ['pending', 'active', 'done', 'stopped'] }).notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.stageIndex] })],
);

export const rolloutTargets = sqliteTable(
  'rollout_targets',
  {
    rolloutId: text('rollout_id')
      .notNull()
      .references(() => rollouts.id, { onDelete: 'cascade' }),
    gatewayId: text('gateway_id')
      .notNull()
      .references(() => gateways.id, { onDelete: 'cascade' }),
    stageIndex: integer('stage_index').notNull(),
    state: text('state', { enum: ['pending', 'delivered', 'applied', 'failed', 'rolledBack'] }).notNull(),
    errors: text('errors', { mode: 'json' }),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.rolloutId, t.gatewayId] }),
    index('rollout_targets_gw_idx').on(t.gatewayId),
  ],
);

export const channels = sqliteTable(
  'channels',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    gatewayNum: integer('gateway_num').notNull(),
    key: text('key').notNull(),
    unit: text('unit'),
    kind: text('kind', { enum: ['counter', 'gauge', 'status'] }),
  },
  (t) => [uniqueIndex('channels_gw_key_idx').on(t.gatewayNum, t.key)],
);

export const readings = sqliteTable(
  'readings',
  {
    gatewayNum: integer('gateway_num').notNull(),
    bootEpoch: integer('boot_epoch').notNull(),
    seq: integer('seq').notNull(),
    channelId: integer('channel_id').notNull(),
    ts: integer('ts').notNull(),
    value: real('value'),
    /** 0 good, 1 uncertain, 2 bad */
    quality: integer('quality').notNull(),
  },
  (t) => [
    uniqueIndex('readings_record_idx').on(t.gatewayNum, t.bootEpoch, t.seq),
    index('readings_channel_ts_idx').on(t.channelId, t.ts),
  ],
);

export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    gatewayNum: integer('gateway_num').notNull(),
    bootEpoch: integer('boot_epoch').notNull(),
    seq: integer('seq').notNull(),
    ts: integer('ts').notNull(),
    kind: text('kind').notNull(),
    severity: text('severity', { enum: ['info', 'warning', 'critical'] }).notNull(),
    data: text('data').notNull().default(sql`'{}'`),
  },
  (t) => [
    uniqueIndex('events_record_idx').on(t.gatewayNum, t.bootEpoch, t.seq),
    index('events_ts_idx').on(t.ts),
    index('events_kind_ts_idx').on(t.kind, t.ts),
  ],
);

/**
 * A WITHOUT ROWID table since migration 0001 (hand-written: drizzle cannot declare it). A change
 * to this table needs a hand-written migration too, or drizzle-kit's table rebuild drops it.
 */
export const rollups = sqliteTable(
  'rollups',
  {
    channelId: integer('channel_id').notNull(),
    /** 900, 3600 or 86400 */
    bucketS: integer('bucket_s').notNull(),
    bucketStart: integer('bucket_start').notNull(),
    count: integer('count').notNull(),
    sum: real('sum').notNull(),
    min: real('min').notNull(),
    max: real('max').notNull(),
    firstTs: integer('first_ts').notNull(),
    first: real('first').notNull(),
    lastTs: integer('last_ts').notNull(),
    last: real('last').notNull(),
  },
  (t) => [primaryKey({ columns: [t.channelId, t.bucketS, t.bucketStart] })],
);

export const ingestWatermarks = sqliteTable(
  'ingest_watermarks',
  {
    gatewayNum: integer('gateway_num').notNull(),
    bootEpoch: integer('boot_epoch').notNull(),
    /** Highest contiguous seq stored (0: none). */
    seq: integer('seq').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayNum, t.bootEpoch] })],
);

export const serverKeys = sqliteTable('server_keys', {
  id: text('id').primaryKey(),
  /** PKCS#8 PEM of the server's Ed25519 key; the file system protects this database file. */
  privateKeyPem: text('private_key_pem').notNull(),
  publicKey: text('public_key').notNull(),
  createdAt: integer('created_at').notNull(),
});
