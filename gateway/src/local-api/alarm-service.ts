// Operator alarms through the local API: the state machine of operator-alarms.ts, states kept in the
// local store, and each change committed to the journal as a safety event (never evicted) before
// the caller hears "ok", so it reaches the fleet exactly once. A request id lets a caller repeat a
// request whose answer it lost (reconnect) without raising the alarm twice.
import type { IpcEvent } from '@brana/firmware';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { ApiError } from './api-error.ts';
import {
  ALARM_SEVERITIES,
  type AlarmAction,
  type AlarmSeverity,
  alarmStep,
  type OperatorAlarm,
  type OperatorAlarmState,
} from './operator-alarms.ts';

export const ALARM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const byField = z
  .strictObject({
    /** Node-RED node id and its flow (tab) id. */
    node: z.string().max(100).optional(),
    flow: z.string().max(100).optional(),
    /** A name people read: the node's name, or who pressed the button. */
    name: z.string().max(100).optional(),
  })
  .optional();

export const alarmBodySchema = z.strictObject({
  severity: z
    .enum(ALARM_SEVERITIES)
    .optional()
    .describe('raise only; default warning; higher than the current severity escalates'),
  text: z.string().max(500).optional().describe('what people should read, e.g. "SOS, room 12"'),
  origin: z.string().max(200).optional().describe('where: room, floor, building'),
  requestId: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('repeat a request with the same id after a lost answer: done once'),
  by: byField,
});
export type AlarmBody = z.output<typeof alarmBodySchema>;

export interface AlarmResult {
  alarm: OperatorAlarm | { name: string; state: 'none' };
  changed: boolean;
  escalated: boolean;
  /** The journal record of the change (source flow), when there was one. */
  event?: { type: string; seq: number; bootEpoch: number };
}

export interface AlarmServiceOptions {
  db: Database.Database;
  /** Commits one event to the journal; returns its (bootEpoch, seq). Throws when it cannot. */
  commit: (event: IpcEvent) => { bootEpoch: number; seq: number };
  /** Names of the gateway's alarm inputs (rt); a flow alarm may not take one of them. */
  inputNames: () => ReadonlySet<string>;
  nowMs: () => number;
}

const REMEMBERED_REQUESTS = 10_000;
const REQUEST_TTL_MS = 3_600_000;

export class AlarmService {
  readonly #o: AlarmServiceOptions;
  readonly #alarms = new Map<string, OperatorAlarm>();
  readonly #requests = new Map<string, { atMs: number; result: AlarmResult; key: string }>();
  readonly #save: Database.Statement;

  constructor(options: AlarmServiceOptions) {
    this.#o = options;
    this.#save = options.db.prepare(
      'INSERT OR REPLACE INTO alarms (name, state, severity, text, origin, raised_ms, changed_ms, by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const rows = options.db.prepare('SELECT * FROM alarms').all() as {
      name: string;
      state: OperatorAlarmState;
      severity: AlarmSeverity;
      text: string;
      origin: string | null;
      raised_ms: number;
      changed_ms: number;
      by: string | null;
    }[];
    for (const r of rows) {
      this.#alarms.set(r.name, {
        name: r.name,
        state: r.state,
        severity: r.severity,
        text: r.text,
        origin: r.origin ?? undefined,
        raisedMs: r.raised_ms,
        changedMs: r.changed_ms,
        by: r.by ?? undefined,
      });
    }
  }

  list(): OperatorAlarm[] {
    return [...this.#alarms.values()].sort((a, b) => b.changedMs - a.changedMs);
  }

  act(name: string, action: AlarmAction, body: AlarmBody): AlarmResult {
    if (!ALARM_NAME.test(name)) {
      throw new ApiError(
        400,
        'bad-request',
        `params.alarm: "${name.slice(0, 80)}" is not an alarm name; use 1-64 of letters, digits, . _ -`,
        {
          field: 'params.alarm',
        },
      );
    }
    if (this.#o.inputNames().has(name)) {
      throw new ApiError(
        409,
        'conflict',
        `"${name}" is an alarm input of this gateway, raised and cleared by its line`,
        {
          field: 'params.alarm',
          fix: `give the flow's alarm a name of its own, e.g. "${name}-escalated"`,
        },
      );
    }
    const now = this.#o.nowMs();
    const key = `${action}:${name}`;
    if (body.requestId !== undefined) {
      const seen = this.#requests.get(body.requestId);
      if (seen && now - seen.atMs < REQUEST_TTL_MS) {
        if (seen.key !== key) {
          throw new ApiError(
            409,
            'conflict',
            `requestId "${body.requestId}" was already used for ${seen.key.replace(':', ' ')}`,
            {
              field: 'body.requestId',
              fix: 'use a new requestId for each distinct request',
            },
          );
        }
        return seen.result;
      }
    }
    const by = body.by?.name ?? body.by?.node;
    const step = alarmStep(name, this.#alarms.get(name), action, { ...body, by }, now);
    if (!step.ok) throw new ApiError(409, 'conflict', step.message, { field: 'params.alarm' });
    let result: AlarmResult;
    if (step.event && step.alarm) {
      const a = step.alarm;
      const committed = this.#o.commit({
        kind: 'event',
        type: step.event,
        // Operator alarms are life-safety in a care home: never evicted from the journal.
        safety: true,
        severity: step.event === 'alarm.raised' ? a.severity : 'info',
        atMs: now,
        data: {
          alarm: name,
          source: 'flow',
          severity: a.severity,
          text: a.text,
          ...(a.origin === undefined ? {} : { origin: a.origin }),
          ...(step.escalated ? { escalated: true } : {}),
          ...(body.by ? { by: body.by } : {}),
          ...(body.requestId ? { requestId: body.requestId } : {}),
        },
      });
      this.#save.run(
        a.name,
        a.state,
        a.severity,
        a.text,
        a.origin ?? null,
        a.raisedMs,
        a.changedMs,
        a.by ?? null,
      );
      this.#alarms.set(name, a);
      result = {
        alarm: a,
        changed: true,
        escalated: step.escalated,
        event: { type: step.event, ...committed },
      };
    } else {
      result = { alarm: step.alarm ?? { name, state: 'none' }, changed: false, escalated: false };
    }
    if (body.requestId !== undefined) this.#remember(body.requestId, key, result, now);
    return result;
  }

  #remember(requestId: string, key: string, result: AlarmResult, now: number): void {
    this.#requests.set(requestId, { atMs: now, result, key });
    if (this.#requests.size > REMEMBERED_REQUESTS) {
      const oldest = this.#requests.keys().next().value;
      if (oldest !== undefined) this.#requests.delete(oldest);
    }
  }
}
