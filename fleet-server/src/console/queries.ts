// Read-only queries the console needs beyond the fleet server's own (telemetry/queries.ts): the
// fleet overview with firmware health, each channel's latest value, counters per site for any unit
// (water), the night-flow minimum, and the gateways of a site. Plain prepared SQL on the same tables.
import type Database from 'better-sqlite3';

export type GatewayState = 'online' | 'offline' | 'never' | 'applying' | 'rolledBack' | 'failed' | 'revoked';

export interface GatewayStateInput {
  status: 'active' | 'revoked';
  lastSeenAt: number | null;
  desiredVersion: number | null;
  runningVersion: number | null;
  applyState: 'staged' | 'trial' | 'applied' | 'failed' | 'rolledBack' | null;
}

/** What the fleet list shows as a gateway's state; the first that holds wins. */
export function gatewayState(g: GatewayStateInput, online: boolean): GatewayState {
  if (g.status === 'revoked') return 'revoked';
  const behind = g.desiredVersion !== null && g.desiredVersion !== g.runningVersion;
  if (behind && g.applyState === 'rolledBack') return 'rolledBack';
  if (behind && g.applyState === 'failed') return 'failed';
  if (online && behind) return 'applying';
  if (online) return 'online';
  return g.lastSeenAt === null ? 'never' : 'offline';
}

/** Firmware health counters a gateway reports as channels named `<anything>.<counter>`. */
export const HEALTH_COUNTERS = ['deadlineMisses', 'droppedEvents', 'busErrors'] as const;
export type HealthCounter = (typeof HEALTH_COUNTERS)[number];
export type Health = Partial<Record<HealthCounter, number>>;

export interface FleetRow {
  id: string;
  name: string;
  siteId: string | null;
  siteName: string | null;
  siteKind: string | null;
  hostname: string | null;
  status: 'active' | 'revoked';
  lastSeenAt: number | null;
  runningVersion: number | null;
  desiredVersion: number | null;
  applyState: GatewayStateInput['applyState'];
  applyUpdatedAt: number | null;
  agentVersion: string | null;
  health: Health;
}

export function fleetOverview(sqlite: Database.Database): FleetRow[] {
  const rows = sqlite
    .prepare(
      `SELECT g.id, g.num, g.name, g.site_id AS siteId, s.name AS siteName, s.kind AS siteKind, g.hostname, g.status,
              g.last_seen_at AS lastSeenAt, g.running_version AS runningVersion, g.desired_version AS desiredVersion,
              g.apply_state AS applyState, g.apply_updated_at AS applyUpdatedAt, g.agent_version AS agentVersion
       FROM gateways g LEFT JOIN sites s ON s.id = g.site_id ORDER BY g.name, g.id`,
    )
    .all() as (Omit<FleetRow, 'health'> & { num: number })[];
  // Health counters are cumulative: the latest reading of each is the figure to show.
  const health = sqlite
    .prepare(
      `SELECT c.gateway_num AS num, c.key,
              (SELECT r.value FROM readings r WHERE r.channel_id = c.id ORDER BY r.ts DESC LIMIT 1) AS value
       FROM channels c
       WHERE c.key LIKE '%deadlineMisses' OR c.key LIKE '%droppedEvents' OR c.key LIKE '%busErrors'`,
    )
    .all() as { num: number; key: string; value: number | null }[];
  const byNum = new Map<number, Health>();
  for (const h of health) {
    const counter = HEALTH_COUNTERS.find((k) => h.key === k || h.key.endsWith(`.${k}`));
    if (!counter || h.value === null) continue;
    const entry = byNum.get(h.num) ?? {};
    entry[counter] = (entry[counter] ?? 0) + h.value;
    byNum.set(h.num, entry);
  }
  return rows.map(({ num, ...r }) => ({ ...r, health: byNum.get(num) ?? {} }));
}

export interface LatestValue {
  channel: string;
  unit: string | null;
  kind: string | null;
  ts: number | null;
  value: number | null;
  quality: number | null;
}

export function latestValues(sqlite: Database.Database, gatewayId: string): LatestValue[] {
  return sqlite
    .prepare(
      `SELECT c.key AS channel, c.unit, c.kind, r.ts, r.value, r.quality
       FROM channels c JOIN gateways g ON g.num = c.gateway_num
       LEFT JOIN readings r ON r.rowid = (SELECT rowid FROM readings WHERE channel_id = c.id ORDER BY ts DESC LIMIT 1)
       WHERE g.id = ? ORDER BY c.key`,
    )
    .all(gatewayId) as LatestValue[];
}

export interface CounterRow {
  siteId: string;
  /** Unix ms */
  start: number;
  amount: number;
}

/**
 * Consumption per site and bucket from counter channels with one of `units` (e.g. m3 for water),
 * from the rollups: a bucket's amount is its last value minus the previous bucket's last value; a
 * counter that went backwards (meter replaced) counts only its rise inside the bucket.
 */
export function counterPerSite(
  sqlite: Database.Database,
  q: {
    units: readonly string[];
    bucketS: 900 | 3600 | 86400;
    from: number;
    to: number;
    siteId?: string | undefined;
  },
): CounterRow[] {
  const unitList = q.units.map(() => '?').join(', ');
  // CROSS JOIN fixes the join order: matching channels first, then each one's rollups by primary
  // key range (channel, bucket width, start), already in the order the window function needs.
  // Letting the planner start from rollups scans every bucket of every channel.
  return sqlite
    .prepare(
      `WITH b AS (
         SELECT g.site_id AS siteId, r.channel_id, r.bucket_start, r.first, r.last,
                lag(r.last) OVER (PARTITION BY r.channel_id ORDER BY r.bucket_start) AS prev
         FROM channels c
         JOIN gateways g ON g.num = c.gateway_num
         CROSS JOIN rollups r ON r.channel_id = c.id AND r.bucket_s = ? AND r.bucket_start >= ? AND r.bucket_start < ?
         WHERE c.kind = 'counter' AND c.unit IN (${unitList}) AND g.site_id IS NOT NULL
           AND (? IS NULL OR g.site_id = ?)
       )
       SELECT siteId, bucket_start AS start,
              sum(max(0, CASE WHEN prev IS NULL OR last < prev THEN last - first ELSE last - prev END)) AS amount
       FROM b WHERE bucket_start >= ?
       GROUP BY siteId, bucket_start ORDER BY siteId, bucket_start`,
    )
    .all(
      q.bucketS,
      q.from - q.bucketS * 1000,
      q.to,
      ...q.units,
      q.siteId ?? null,
      q.siteId ?? null,
      q.from,
    ) as CounterRow[];
}

export function sitesOfKind(sqlite: Database.Database, kind?: 'building' | 'intersection' | 'other') {
  return sqlite
    .prepare(`SELECT id, name, kind, address FROM sites WHERE (? IS NULL OR kind = ?) ORDER BY name`)
    .all(kind ?? null, kind ?? null) as { id: string; name: string; kind: string; address: string | null }[];
}

/** Config versions a gateway was sent in rollouts, newest first, with how each ended there. */
export function gatewayConfigHistory(sqlite: Database.Database, gatewayId: string) {
  return sqlite
    .prepare(
      `SELECT r.config_version AS version, r.id AS rolloutId, t.state, t.updated_at AS updatedAt, d.comment
       FROM rollout_targets t JOIN rollouts r ON r.id = t.rollout_id
       JOIN config_documents d ON d.version = r.config_version
       WHERE t.gateway_id = ? ORDER BY r.created_at DESC LIMIT 100`,
    )
    .all(gatewayId) as {
    version: number;
    rolloutId: string;
    state: string;
    updatedAt: number;
    comment: string | null;
  }[];
}
