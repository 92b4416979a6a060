// A gateway's rollout history: the config versions it was sent, newest first, and how each ended.
import type Database from 'better-sqlite3';

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
