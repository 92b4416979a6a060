// The event log as gateways sent it (preemptions, faults, alarms, fieldbus events…): filtered by
// site, gateway, kind with its sub-kinds, and time, newest first.
import type Database from 'better-sqlite3';

export interface EventRow {
  gatewayId: string;
  siteId: string | null;
  bootEpoch: number;
  seq: number;
  ts: number;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  data: Record<string, unknown>;
}

/** `kind` matches itself and its dotted children: "preemption" finds "preemption.asserted". */
export function listEvents(
  sqlite: Database.Database,
  q: {
    siteId?: string | undefined;
    gatewayId?: string | undefined;
    kind?: string | undefined;
    from: number;
    to: number;
    limit: number;
  },
): EventRow[] {
  const rows = sqlite
    .prepare(
      `SELECT g.id AS gatewayId, g.site_id AS siteId, e.boot_epoch AS bootEpoch, e.seq, e.ts, e.kind, e.severity, e.data
       FROM events e JOIN gateways g ON g.num = e.gateway_num
       WHERE e.ts >= @from AND e.ts < @to
         AND (@site IS NULL OR g.site_id = @site)
         AND (@gw IS NULL OR g.id = @gw)
         AND (@kind IS NULL OR e.kind = @kind OR substr(e.kind, 1, length(@kind) + 1) = @kind || '.')
       ORDER BY e.ts DESC, e.id DESC LIMIT @limit`,
    )
    .all({
      from: q.from,
      to: q.to,
      site: q.siteId ?? null,
      gw: q.gatewayId ?? null,
      kind: q.kind ?? null,
      limit: q.limit,
    }) as (Omit<EventRow, 'data'> & { data: string })[];
  return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }));
}
