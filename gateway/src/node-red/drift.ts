// What an edit in the editor changed against the signed flows, by node, as a person reads it:
// nodes added, removed and changed, each by name (or label, or type) with its type and tab, and
// for a changed node the properties that differ. Pure; property-tested.
import type { FlowNode } from '@brana/firmware';

export interface DriftNode {
  id: string;
  type: string;
  /** The node's name, a tab's label, else its type. */
  name: string;
  /** The label of the tab (or subflow) it is on. */
  tab?: string;
}

export interface FlowDiff {
  added: DriftNode[];
  removed: DriftNode[];
  changed: (DriftNode & { properties: string[] })[];
}

/** Properties Node-RED's editor adds or moves without changing what a node does. */
const LAYOUT = new Set(['x', 'y', 'w', 'h']);

export function diffFlows(signed: readonly FlowNode[], running: readonly FlowNode[]): FlowDiff {
  const before = new Map(signed.map((n) => [n.id, n]));
  const after = new Map(running.map((n) => [n.id, n]));
  const labels = new Map<string, string>();
  for (const n of [...signed, ...running]) {
    if ((n.type === 'tab' || n.type === 'subflow') && !labels.has(n.id)) labels.set(n.id, nameOf(n));
  }
  const describe = (n: FlowNode): DriftNode => {
    const tab = typeof n.z === 'string' ? labels.get(n.z) : undefined;
    return { id: n.id, type: n.type, name: nameOf(n), ...(tab === undefined ? {} : { tab }) };
  };
  const diff: FlowDiff = { added: [], removed: [], changed: [] };
  for (const n of running) if (!before.has(n.id)) diff.added.push(describe(n));
  for (const n of signed) {
    const now = after.get(n.id);
    if (!now) {
      diff.removed.push(describe(n));
      continue;
    }
    const properties = changedProperties(n, now);
    if (properties.length > 0) diff.changed.push({ ...describe(now), properties });
  }
  return diff;
}

export function isEmptyDiff(d: FlowDiff): boolean {
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}

/** One line for a person: "added 2 (SOS in, page nurse), removed 1 (old timer), changed 1 (switch: rules)". */
export function describeDiff(d: FlowDiff, most = 5): string {
  const part = (verb: string, xs: { name: string; properties?: string[] }[]) => {
    if (xs.length === 0) return undefined;
    const shown = xs
      .slice(0, most)
      .map((x) => (x.properties ? `${x.name}: ${x.properties.join(', ')}` : x.name))
      .join('; ');
    return `${verb} ${xs.length} (${shown}${xs.length > most ? '; …' : ''})`;
  };
  const parts = [part('added', d.added), part('removed', d.removed), part('changed', d.changed)].filter(
    Boolean,
  );
  return parts.length > 0 ? parts.join(', ') : 'only the layout changed';
}

function nameOf(n: FlowNode): string {
  for (const key of ['name', 'label'] as const) {
    const v = n[key];
    if (typeof v === 'string' && v.trim().length > 0) return v.trim();
  }
  return n.type;
}

function changedProperties(a: FlowNode, b: FlowNode): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const changed: string[] = [];
  for (const k of keys) {
    if (LAYOUT.has(k) || k === 'credentials') continue;
    if (canonical(a[k]) !== canonical(b[k])) changed.push(k);
  }
  return changed.sort();
}

/** JSON with object keys sorted, so that key order never counts as a change. */
function canonical(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
