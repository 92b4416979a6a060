// Which Node-RED log lines become journal events, as a pure state machine. A flow that logs on
// every message must not flood the journal (and through it the fleet): lines are admitted from one
// token bucket per class, errors (fatal, error), warnings and info, so Node-RED's own start-up
// lines never use up the room a flow's warnings need, nor warnings that of errors. What is dropped is counted by level and by node and reported in
// one summary at most every summaryEveryMs.

export type NodeRedLogLevel = 'fatal' | 'error' | 'warn' | 'info';
type LevelClass = 'errors' | 'warnings' | 'info';

export interface LogLimitPolicy {
  /** Lines admitted in a burst, per class. */
  burst: number;
  /** Sustained lines per minute, per class. */
  perMinute: Record<LevelClass, number>;
  /** Dropped lines are summed up at most this often. */
  summaryEveryMs: number;
  /** Nodes tracked by name in a summary (the most dropped first). */
  topNodes: number;
}

// A gateway with a flow failing on every message: 30 error events at once, then 6 a minute
// (~8,600 a day at most), plus a summary a minute. Warnings 4 a minute, info 2 a minute.
export const DEFAULT_LOG_LIMIT: LogLimitPolicy = {
  burst: 30,
  perMinute: { errors: 6, warnings: 4, info: 2 },
  summaryEveryMs: 60_000,
  topNodes: 5,
};

export interface DroppedNode {
  id: string;
  type: string;
  name: string | undefined;
  count: number;
}

export interface LogLimitState {
  tokens: Record<LevelClass, number>;
  atMs: number;
  dropped: Record<NodeRedLogLevel, number>;
  /** Dropped lines by node id (bounded: nodes past the cap are counted only by level). */
  byNode: Record<string, DroppedNode>;
  firstDropAtMs: number | undefined;
  lastSummaryAtMs: number;
}

export interface LogSummary {
  dropped: Record<NodeRedLogLevel, number>;
  sinceMs: number;
  nodes: DroppedNode[];
}

const MAX_NODES_TRACKED = 200;

export function initialLogLimit(nowMs: number, policy: LogLimitPolicy = DEFAULT_LOG_LIMIT): LogLimitState {
  return {
    tokens: { errors: policy.burst, warnings: policy.burst, info: policy.burst },
    atMs: nowMs,
    dropped: { fatal: 0, error: 0, warn: 0, info: 0 },
    byNode: {},
    firstDropAtMs: undefined,
    lastSummaryAtMs: nowMs,
  };
}

/** Whether a line at `level` (from `node`, if a node logged it) goes to the journal. */
export function admitLog(
  state: LogLimitState,
  level: NodeRedLogLevel,
  node: { id: string; type: string; name?: string | undefined } | undefined,
  nowMs: number,
  policy: LogLimitPolicy = DEFAULT_LOG_LIMIT,
): { state: LogLimitState; admit: boolean } {
  const s = refill(state, nowMs, policy);
  const cls = classOf(level);
  if (s.tokens[cls] >= 1) {
    return { state: { ...s, tokens: { ...s.tokens, [cls]: s.tokens[cls] - 1 } }, admit: true };
  }
  const byNode = { ...s.byNode };
  if (node) {
    const known = byNode[node.id];
    if (known) byNode[node.id] = { ...known, count: known.count + 1 };
    else if (Object.keys(byNode).length < MAX_NODES_TRACKED)
      byNode[node.id] = { id: node.id, type: node.type, name: node.name, count: 1 };
  }
  return {
    state: {
      ...s,
      dropped: { ...s.dropped, [level]: s.dropped[level] + 1 },
      byNode,
      firstDropAtMs: s.firstDropAtMs ?? nowMs,
    },
    admit: false,
  };
}

/** The summary of dropped lines when one is due (or `force`), and the state without them. */
export function takeSummary(
  state: LogLimitState,
  nowMs: number,
  force = false,
  policy: LogLimitPolicy = DEFAULT_LOG_LIMIT,
): { state: LogLimitState; summary: LogSummary | undefined } {
  if (state.firstDropAtMs === undefined) return { state, summary: undefined };
  if (!force && nowMs - state.lastSummaryAtMs < policy.summaryEveryMs) return { state, summary: undefined };
  const nodes = Object.values(state.byNode)
    .sort((a, b) => b.count - a.count || a.id.localeCompare(b.id))
    .slice(0, policy.topNodes);
  return {
    state: {
      ...state,
      dropped: { fatal: 0, error: 0, warn: 0, info: 0 },
      byNode: {},
      firstDropAtMs: undefined,
      lastSummaryAtMs: nowMs,
    },
    summary: { dropped: state.dropped, sinceMs: state.firstDropAtMs, nodes },
  };
}

function refill(s: LogLimitState, nowMs: number, p: LogLimitPolicy): LogLimitState {
  const elapsed = nowMs - s.atMs;
  if (elapsed <= 0) return s;
  const add = (cls: LevelClass) => Math.min(p.burst, s.tokens[cls] + (elapsed * p.perMinute[cls]) / 60_000);
  return {
    ...s,
    tokens: { errors: add('errors'), warnings: add('warnings'), info: add('info') },
    atMs: nowMs,
  };
}

function classOf(level: NodeRedLogLevel): LevelClass {
  return level === 'fatal' || level === 'error' ? 'errors' : level === 'warn' ? 'warnings' : 'info';
}
