// The Node-RED half of a config trial, as a pure verdict over what was seen from the deploy on:
// Node-RED stayed up, the deployed revision started with every node, and no node logged an error.
// Errors logged while the previous flows stopped are not the new flows' fault: only what comes
// after the last "flows stopped" counts.
import type { FlowNode } from '@brana/firmware';
import type { NodeRef } from './link.ts';

export type TrialSighting =
  | { kind: 'stopped' }
  | { kind: 'started'; rev: string | undefined; notStarted: NodeRef[] }
  | { kind: 'blocked'; error: string; types: string[] }
  | { kind: 'error'; level: 'fatal' | 'error'; message: string; node: NodeRef | undefined }
  | { kind: 'exit'; how: string };

export interface TrialIssue {
  path: string;
  message: string;
  fix: string;
}

export interface TrialVerdict {
  ok: boolean;
  issues: TrialIssue[];
}

const FIX_NODE =
  'fix the node (its message says how) and send a new config; the gateway went back to the last good flows';

/** At most this many issues are reported (the first of each node). */
const MAX_ISSUES = 20;

export function trialVerdict(
  sightings: readonly TrialSighting[],
  rev: string,
  flows: readonly FlowNode[],
): TrialVerdict {
  const lastStop = sightings.map((s) => s.kind).lastIndexOf('stopped');
  const seen = sightings.slice(lastStop + 1);
  const index = new Map(flows.map((n, i) => [n.id, i]));
  const where = (id: string | undefined) => {
    const i = id === undefined ? undefined : index.get(id);
    return i === undefined ? 'flows' : `flows[${i}]`;
  };
  const label = (n: NodeRef) => `node "${n.name || n.id}" (${n.type})`;
  const issues: TrialIssue[] = [];
  const perNode = new Set<string>();
  const add = (issue: TrialIssue) => {
    if (issues.length < MAX_ISSUES) issues.push(issue);
  };

  for (const s of sightings) {
    if (s.kind === 'exit') {
      add({
        path: 'nodeRed',
        message: `Node-RED ${s.how} during the trial`,
        fix: 'see the node-red.log events before it; a flow may use more memory than nodeRed.maxOldSpaceMb',
      });
    }
  }
  for (const s of seen) {
    if (s.kind === 'blocked') {
      add({
        path: 'flows',
        message: `Node-RED did not start the flows (${s.error}${s.types.length > 0 ? `: ${s.types.join(', ')}` : ''})`,
        fix: 'pin the module that provides these types in nodeRed.modules, with the types it registers',
      });
    } else if (s.kind === 'started' && s.rev === rev) {
      for (const n of s.notStarted) {
        if (perNode.has(n.id)) continue;
        perNode.add(n.id);
        add({ path: where(n.id), message: `${label(n)} did not start`, fix: FIX_NODE });
      }
    } else if (s.kind === 'error') {
      const key = s.node?.id ?? '';
      if (perNode.has(key)) continue;
      perNode.add(key);
      add({
        path: where(s.node?.id),
        message: s.node ? `${label(s.node)}: ${s.message}` : `Node-RED ${s.level}: ${s.message}`,
        fix: s.node ? FIX_NODE : 'see the node-red.log events around it',
      });
    }
  }
  const started = seen.some((s) => s.kind === 'started' && s.rev === rev);
  if (!started && !issues.some((i) => i.message.includes('did not start the flows'))) {
    add({
      path: 'flows',
      message: 'the deployed flows were not seen to start',
      fix: 'see the node-red.log events; Node-RED may be too slow to start on this board (raise nodeRed.trialS)',
    });
  }
  return { ok: issues.length === 0, issues };
}
