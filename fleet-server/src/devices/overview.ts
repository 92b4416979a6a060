// What the console's fleet list shows: each gateway with its site, state, config versions and
// firmware health, in one read; the sites by kind; the tags in use; a gateway's site.
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

export function sitesOfKind(sqlite: Database.Database, kind?: 'building' | 'intersection' | 'other') {
  return sqlite
    .prepare(`SELECT id, name, kind, address FROM sites WHERE (? IS NULL OR kind = ?) ORDER BY name`)
    .all(kind ?? null, kind ?? null) as { id: string; name: string; kind: string; address: string | null }[];
}

/** Every tag some gateway carries, sorted. */
export function listTags(sqlite: Database.Database): string[] {
  return sqlite.prepare('SELECT DISTINCT tag FROM gateway_tags ORDER BY tag').pluck().all() as string[];
}

/** The site of a gateway (null: none, or no such gateway), with one prepared statement. */
export function siteLookup(sqlite: Database.Database): (gatewayId: string) => string | null {
  const stmt = sqlite.prepare('SELECT site_id FROM gateways WHERE id = ?').pluck();
  return (gatewayId) => (stmt.get(gatewayId) as string | null | undefined) ?? null;
}
