// Rollouts around the pure planner: load and store the plan state, carry out its actions (assign
// the desired config, push it to gateways online now), batch apply reports per event-loop turn so
// that thousands of reports cost one plan each turn, and audit every change.
import { randomUUID } from 'node:crypto';
import type { ApplyError, SignedConfigDocument } from '@brana/protocol';
import type { Database, Statement } from 'better-sqlite3';
import { and, desc, eq, inArray } from 'drizzle-orm';
import { writeAudit } from '../audit/index.ts';
import { getConfigDocument } from '../configs/index.ts';
import { type FleetDb, schema, writeTx } from '../db/index.ts';
import { requireGroup, targetGatewayIds } from '../devices/index.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.ts';
import {
  assignStages,
  plan,
  type RolloutAction,
  type RolloutInput,
  type RolloutPlanState,
  type RolloutRunState,
  startRollout,
} from './plan.ts';
import {
  listRolloutIds,
  type RolloutTargetRow,
  type RolloutView,
  rolloutTargetRows,
  rolloutView,
} from './views.ts';

const { rolloutStages, rollouts, rolloutTargets } = schema;

export interface RolloutDeps {
  /** The connection under `db`, for prepared statements. */
  sqlite: Database;
  /** Sends the document to the gateway if it is online; true when sent. */
  push(gatewayId: string, doc: SignedConfigDocument): boolean;
  now(): number;
  onChange?: (rolloutId: string) => void;
  onError?: (err: unknown) => void;
}

export interface CreateRolloutInput {
  configVersion: number;
  target: { group: string } | { tag: string };
  /** Cumulative percentages per stage, the last one 100; default [10, 100]. */
  stages?: number[] | undefined;
  /** Share of a stage whose failed apply stops the rollout; default 0.1. */
  maxFailureShare?: number | undefined;
}

export type ReportState = 'delivered' | 'applied' | 'failed' | 'rolledBack';

interface Cached {
  plan: RolloutPlanState;
  configVersion: number;
  targetIds: ReadonlySet<string>;
}

const ACTIVE: RolloutRunState[] = ['running', 'paused'];

export class RolloutService {
  private readonly cache = new Map<string, Cached>();
  private readonly queue = new Map<string, { inputs: RolloutInput[]; errors: Map<string, ApplyError[]> }>();
  private flushScheduled = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;

  // Per-target writes as prepared statements: a 10,000-gateway stage writes 10,000 rows.
  private readonly sql: { target: Statement; desired: Statement };

  constructor(
    private readonly db: FleetDb,
    private readonly deps: RolloutDeps,
  ) {
    const sqlite = deps.sqlite;
    this.sql = {
      target: sqlite.prepare(
        'UPDATE rollout_targets SET state = ?, updated_at = ?, errors = ? WHERE rollout_id = ? AND gateway_id = ?',
      ),
      desired: sqlite.prepare('UPDATE gateways SET desired_version = ? WHERE id = ?'),
    };
  }

  create(input: CreateRolloutInput, actor: string) {
    const stages = input.stages ?? [10, 100];
    stages.forEach((p, i) => {
      if (!Number.isInteger(p) || p < 1 || p > 100 || (i > 0 && p <= stages[i - 1]!)) {
        throw new BadRequestError(
          `stages[${i}] must be a whole percentage above the one before it, up to 100`,
          {
            path: `stages[${i}]`,
          },
        );
      }
    });
    if (stages[stages.length - 1] !== 100) {
      throw new BadRequestError('the last stage must reach 100 %; end stages with 100', {
        path: `stages[${stages.length - 1}]`,
      });
    }
    const maxFailureShare = input.maxFailureShare ?? 0.1;
    const doc = getConfigDocument(this.db, input.configVersion);
    const kind = 'group' in input.target ? 'group' : 'tag';
    const value = 'group' in input.target ? input.target.group : input.target.tag;
    if (kind === 'group') requireGroup(this.db, value, 'target.group');
    const ids = targetGatewayIds(this.db, kind, value);
    if (ids.length === 0) {
      throw new BadRequestError(
        `no active gateway is in ${kind} ${JSON.stringify(value)}; nothing to roll out to`,
        {
          path: `target.${kind}`,
        },
      );
    }
    const busy = this.db
      .select({ gatewayId: rolloutTargets.gatewayId, rolloutId: rolloutTargets.rolloutId })
      .from(rolloutTargets)
      .innerJoin(rollouts, eq(rollouts.id, rolloutTargets.rolloutId))
      .where(inArray(rollouts.state, ACTIVE))
      .all()
      .find((b) => ids.includes(b.gatewayId));
    if (busy) {
      throw new ConflictError(
        `gateway ${busy.gatewayId} is in rollout ${busy.rolloutId}, which is still running or paused; finish or abort it first`,
        { code: 'rollout-overlap', path: 'target' },
      );
    }
    const id = `ro_${randomUUID()}`;
    const now = this.deps.now();
    const targets = assignStages(ids, stages);
    const started = startRollout(targets, stages.length, maxFailureShare);
    writeTx(this.db, (tx) => {
      tx.insert(rollouts)
        .values({
          id,
          configVersion: input.configVersion,
          targetKind: kind,
          targetValue: value,
          state: 'running',
          maxFailureShare,
          currentStage: -1,
          createdAt: now,
          createdBy: actor,
          updatedAt: now,
        })
        .run();
      stages.forEach((percent, stageIndex) =>
        tx.insert(rolloutStages).values({ rolloutId: id, stageIndex, percent, state: 'pending' }).run(),
      );
      for (const t of targets) {
        tx.insert(rolloutTargets)
          .values({
            rolloutId: id,
            gatewayId: t.gatewayId,
            stageIndex: t.stage,
            state: 'pending',
            updatedAt: now,
          })
          .run();
      }
      writeAudit(tx, {
        actor,
        action: 'rollout.create',
        entityType: 'rollout',
        entityId: id,
        after: {
          configVersion: input.configVersion,
          target: { kind, value },
          stages,
          maxFailureShare,
          gateways: ids.length,
        },
      });
    });
    this.cache.set(id, {
      plan: { ...started.state, targets: targets.map((t) => ({ ...t })) },
      configVersion: doc.version,
      targetIds: new Set(ids),
    });
    // Persist the started state through the same path every later step takes.
    this.applyResult(
      id,
      { ...started.state, currentStage: -1, targets },
      started.state,
      started.actions,
      new Map(),
      'system',
    );
    return this.get(id);
  }

  command(id: string, command: 'pause' | 'resume' | 'abort', actor: string) {
    this.flush();
    const cached = this.load(id);
    const before = cached.plan.state;
    const result = plan(cached.plan, [{ kind: command }]);
    const ignored = result.actions.find((a) => a.type === 'ignored');
    if (ignored && ignored.type === 'ignored') {
      throw new ConflictError(`cannot ${command}: ${ignored.reason}`, {
        code: 'rollout-state',
        path: 'state',
      });
    }
    this.applyResult(id, cached.plan, result.state, result.actions, new Map(), actor, {
      action: `rollout.${command}`,
      before: { state: before },
      after: { state: result.state.state },
    });
    return this.get(id);
  }

  /** Queue an apply report from a gateway; processed within 10 ms, with the others that arrive meanwhile. */
  report(gatewayId: string, version: number, state: ReportState, errors?: ApplyError[]): void {
    // Active rollouts are in memory: find the target there without a query (a fan-out brings
    // thousands of reports a second); finished rollouts are looked up in the database.
    let rolloutId: string | undefined;
    for (const [id, c] of this.cache) {
      if (c.configVersion === version && c.targetIds.has(gatewayId)) {
        rolloutId = id;
        break;
      }
    }
    if (this.closed) return;
    rolloutId ??= this.findRollout(gatewayId, version);
    if (rolloutId) this.enqueue(rolloutId, gatewayId, state, errors);
  }

  private findRollout(gatewayId: string, version: number): string | undefined {
    const rows = this.db
      .select({ rolloutId: rolloutTargets.rolloutId })
      .from(rolloutTargets)
      .innerJoin(rollouts, eq(rollouts.id, rolloutTargets.rolloutId))
      .where(and(eq(rolloutTargets.gatewayId, gatewayId), eq(rollouts.configVersion, version)))
      .orderBy(desc(rollouts.createdAt))
      .limit(1)
      .all();
    return rows[0]?.rolloutId;
  }

  private enqueue(rolloutId: string, gatewayId: string, state: ReportState, errors?: ApplyError[]): void {
    let q = this.queue.get(rolloutId);
    if (!q) {
      q = { inputs: [], errors: new Map() };
      this.queue.set(rolloutId, q);
    }
    q.inputs.push({ kind: 'report', gatewayId, state });
    if (errors) q.errors.set(gatewayId, errors);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Plan at most every 10 ms: each plan walks every target, so during a fan-out one plan per
      // report (or per event-loop turn) would cost more than the reports themselves.
      this.flushTimer = setTimeout(() => {
        try {
          this.flush();
        } catch (err) {
          // A failed plan must not take the server down; the reports are re-sent on reconnect.
          this.deps.onError?.(err);
        }
      }, 10);
    }
  }

  /** Processes what is queued and stops taking reports (the server is shutting down). */
  close(): void {
    this.flush();
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
  }

  /** Processes every queued report now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const work = [...this.queue];
    this.queue.clear();
    for (const [id, q] of work) {
      const cached = this.load(id);
      const result = plan(cached.plan, q.inputs);
      this.applyResult(id, cached.plan, result.state, result.actions, q.errors, 'system');
    }
  }

  /** One rollout with its stages and how many targets are in each state. */
  get(id: string): RolloutView {
    return rolloutView(this.db, id);
  }

  list(limit = 50): RolloutView[] {
    return listRolloutIds(this.db, limit).map((id) => rolloutView(this.db, id));
  }

  targets(id: string): RolloutTargetRow[] {
    this.load(id);
    return rolloutTargetRows(this.db, id);
  }

  private load(id: string): Cached {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const r = this.db.select().from(rollouts).where(eq(rollouts.id, id)).get();
    if (!r) throw new NotFoundError('rollout', id);
    const targets = this.db
      .select({
        gatewayId: rolloutTargets.gatewayId,
        stage: rolloutTargets.stageIndex,
        state: rolloutTargets.state,
      })
      .from(rolloutTargets)
      .where(eq(rolloutTargets.rolloutId, id))
      .all();
    const stageCount = this.db
      .select({ stageIndex: rolloutStages.stageIndex })
      .from(rolloutStages)
      .where(eq(rolloutStages.rolloutId, id))
      .all().length;
    const cached: Cached = {
      configVersion: r.configVersion,
      targetIds: new Set(targets.map((t) => t.gatewayId)),
      plan: {
        state: r.state,
        currentStage: r.currentStage,
        stageCount,
        maxFailureShare: r.maxFailureShare,
        targets,
        stopReason: r.stopReason,
      },
    };
    if (ACTIVE.includes(r.state)) this.cache.set(id, cached);
    return cached;
  }

  private applyResult(
    id: string,
    before: RolloutPlanState,
    after: RolloutPlanState,
    actions: RolloutAction[],
    errors: Map<string, ApplyError[]>,
    actor: string,
    audit?: { action: string; before: unknown; after: unknown },
  ): void {
    const now = this.deps.now();
    const cached = this.cache.get(id) ?? this.load(id);
    const doc = getConfigDocument(this.db, cached.configVersion);
    const oldStates = new Map(before.targets.map((t) => [t.gatewayId, t.state]));
    const toPush: string[] = [];
    writeTx(this.db, (tx) => {
      tx.update(rollouts)
        .set({
          state: after.state,
          currentStage: after.currentStage,
          stopReason: after.stopReason,
          updatedAt: now,
        })
        .where(eq(rollouts.id, id))
        .run();
      for (const t of after.targets) {
        if (oldStates.get(t.gatewayId) === t.state) continue;
        const e = errors.get(t.gatewayId);
        this.sql.target.run(t.state, now, e ? JSON.stringify(e) : null, id, t.gatewayId);
      }
      for (const a of actions) {
        const stage = (i: number) => and(eq(rolloutStages.rolloutId, id), eq(rolloutStages.stageIndex, i));
        if (a.type === 'assign') {
          tx.update(rolloutStages).set({ state: 'active', startedAt: now }).where(stage(a.stage)).run();
          for (const gatewayId of a.gatewayIds) this.sql.desired.run(doc.version, gatewayId);
          toPush.push(...a.gatewayIds);
        } else if (a.type === 'stageDone') {
          tx.update(rolloutStages).set({ state: 'done', finishedAt: now }).where(stage(a.stage)).run();
        } else if (a.type === 'stopped') {
          tx.update(rolloutStages).set({ state: 'stopped', finishedAt: now }).where(stage(a.stage)).run();
          writeAudit(tx, {
            actor: 'system',
            action: 'rollout.stop',
            entityType: 'rollout',
            entityId: id,
            before: { state: before.state },
            after: { state: 'stopped', reason: a.reason },
          });
        } else if (a.type === 'completed') {
          writeAudit(tx, {
            actor: 'system',
            action: 'rollout.complete',
            entityType: 'rollout',
            entityId: id,
            before: { state: before.state },
            after: { state: 'completed' },
          });
        }
      }
      if (audit) writeAudit(tx, { actor, entityType: 'rollout', entityId: id, ...audit });
    });
    if (ACTIVE.includes(after.state)) this.cache.set(id, { ...cached, plan: after });
    else this.cache.delete(id);
    for (const gatewayId of toPush) {
      if (this.deps.push(gatewayId, doc)) this.report(gatewayId, doc.version, 'delivered');
    }
    this.deps.onChange?.(id);
  }
}
