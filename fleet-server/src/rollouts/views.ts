// What operators see of rollouts: one with its stages and per-state counts, the newest ones, and
// each target gateway's state with the errors it reported.
import { desc, eq } from 'drizzle-orm';
import { type FleetDb, schema } from '../db/index.ts';
import { NotFoundError } from '../errors.ts';
import type { TargetState } from './plan.ts';

const { rolloutStages, rollouts, rolloutTargets } = schema;

export function rolloutView(db: FleetDb, id: string) {
  const r = db.select().from(rollouts).where(eq(rollouts.id, id)).get();
  if (!r) throw new NotFoundError('rollout', id);
  const stages = db
    .select()
    .from(rolloutStages)
    .where(eq(rolloutStages.rolloutId, id))
    .orderBy(rolloutStages.stageIndex)
    .all();
  const targets = db
    .select({ stage: rolloutTargets.stageIndex, state: rolloutTargets.state })
    .from(rolloutTargets)
    .where(eq(rolloutTargets.rolloutId, id))
    .all();
  const count = (stage: number | null) => {
    const c: Record<TargetState, number> = {
      pending: 0,
      delivered: 0,
      applied: 0,
      failed: 0,
      rolledBack: 0,
    };
    for (const t of targets) if (stage === null || t.stage === stage) c[t.state]++;
    return c;
  };
  return {
    id: r.id,
    configVersion: r.configVersion,
    target: { kind: r.targetKind, value: r.targetValue },
    state: r.state,
    currentStage: r.currentStage,
    maxFailureShare: r.maxFailureShare,
    stopReason: r.stopReason,
    createdAt: r.createdAt,
    createdBy: r.createdBy,
    updatedAt: r.updatedAt,
    counts: count(null),
    stages: stages.map((s) => ({
      index: s.stageIndex,
      percent: s.percent,
      state: s.state,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      counts: count(s.stageIndex),
    })),
  };
}

export function listRolloutIds(db: FleetDb, limit: number): string[] {
  return db
    .select({ id: rollouts.id })
    .from(rollouts)
    .orderBy(desc(rollouts.createdAt))
    .limit(limit)
    .all()
    .map((r) => r.id);
}

export function rolloutTargetRows(db: FleetDb, id: string) {
  return db
    .select({
      gatewayId: rolloutTargets.gatewayId,
      stage: rolloutTargets.stageIndex,
      state: rolloutTargets.state,
      errors: rolloutTargets.errors,
      updatedAt: rolloutTargets.updatedAt,
    })
    .from(rolloutTargets)
    .where(eq(rolloutTargets.rolloutId, id))
    .orderBy(rolloutTargets.stageIndex, rolloutTargets.gatewayId)
    .all();
}

export type RolloutView = ReturnType<typeof rolloutView>;
export type RolloutTargetRow = ReturnType<typeof rolloutTargetRows>[number];
