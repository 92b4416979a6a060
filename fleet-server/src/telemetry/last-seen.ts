// A gateway's last-seen time: set by the WebSocket hub when a session opens or closes, and with
// its telemetry (on the telemetry writer's thread, or on the event loop where there is none).
import type Database from 'better-sqlite3';

const statements = new WeakMap<Database.Database, Database.Statement>();

export function setLastSeen(sqlite: Database.Database, gatewayId: string, at: number): void {
  let stmt = statements.get(sqlite);
  if (!stmt) {
    stmt = sqlite.prepare('UPDATE gateways SET last_seen_at = ? WHERE id = ?');
    statements.set(sqlite, stmt);
  }
  stmt.run(at, gatewayId);
}
