// Counter figures of closed buckets kept in memory, so the energy pages read only the open tail
// from SQLite on each load. A year of day rollups is tens of thousands of scattered row reads
// (the rollups table is a rowid table with its key in a separate index); past buckets only
// change when late readings arrive (a gateway's journal resent after an outage), and every
// ingest announces its readings on the fleet bus, which drops the affected entries here.
import type Database from 'better-sqlite3';
import type { FleetBus } from '../core/index.ts';
import { type CounterRow, counterPerSite } from './counters.ts';

type CounterQuery = Parameters<typeof counterPerSite>[1];

interface Entry {
  siteId: string | null;
  from: number;
  closedEnd: number;
  rows: CounterRow[];
}

const MAX_ENTRIES = 256;

export class CounterCache {
  private readonly entries = new Map<string, Entry>();
  private readonly siteOf: Database.Statement;
  hits = 0;
  misses = 0;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly fleet: { bus: FleetBus; now(): number },
  ) {
    this.siteOf = sqlite.prepare('SELECT site_id FROM gateways WHERE id = ?').pluck();
    fleet.bus.on('telemetry', (e) => {
      if (this.entries.size === 0 || e.readings.length === 0) return;
      let oldest = Number.POSITIVE_INFINITY;
      for (const r of e.readings) if (r.ts < oldest) oldest = r.ts;
      const site = this.siteOf.get(e.gatewayId) as string | null | undefined;
      for (const [key, entry] of this.entries) {
        // A reading changes its bucket and, through the lag, the bucket after it.
        if (oldest < entry.closedEnd && (entry.siteId === null || entry.siteId === site))
          this.entries.delete(key);
      }
    });
  }

  get(q: CounterQuery): CounterRow[] {
    const bucketMs = q.bucketS * 1000;
    // Buckets that ended more than one bucket ago count as closed.
    const closedEnd = Math.min(q.to, Math.floor(this.fleet.now() / bucketMs) * bucketMs - bucketMs);
    if (closedEnd <= q.from) return counterPerSite(this.sqlite, q);
    const key = [q.units.join(','), q.bucketS, q.siteId ?? '', q.from, closedEnd].join('|');
    let entry = this.entries.get(key);
    if (entry) this.hits++;
    else {
      this.misses++;
      entry = {
        siteId: q.siteId ?? null,
        from: q.from,
        closedEnd,
        rows: counterPerSite(this.sqlite, { ...q, to: closedEnd }),
      };
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, entry);
    }
    if (closedEnd >= q.to) return entry.rows;
    const tail = counterPerSite(this.sqlite, { ...q, from: closedEnd });
    // Plain code-unit order like SQLite's ORDER BY (localeCompare is far slower on 36 k rows).
    return [...entry.rows, ...tail].sort((a, b) =>
      a.siteId < b.siteId ? -1 : a.siteId > b.siteId ? 1 : a.start - b.start,
    );
  }
}
