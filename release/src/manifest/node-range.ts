// The Node.js versions a release runs on, written as space-separated comparators that must all
// hold (`>=20.19.0 <21.0.0`): the subset of npm's range syntax a release needs. The upper bound is
// the next major, because native modules are built for one Node ABI (NODE_MODULE_VERSION).

export type NodeVersion = readonly [number, number, number];

interface Comparator {
  op: '>=' | '>' | '<=' | '<' | '=';
  version: NodeVersion;
}

const COMPARATOR = /^(>=|<=|>|<|=)?v?(\d{1,6})\.(\d{1,6})\.(\d{1,6})$/;

export function parseNodeVersion(text: string): NodeVersion | undefined {
  const m = /^v?(\d{1,6})\.(\d{1,6})\.(\d{1,6})$/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** The comparators of a range, or a message saying what is wrong with it. */
export function parseNodeRange(range: string): Comparator[] | string {
  const parts = range.trim().split(/\s+/);
  if (parts.length === 0 || parts[0] === '' || parts.length > 4) {
    return `"${range}" is not a Node.js range; write it like ">=20.19.0 <21.0.0"`;
  }
  const out: Comparator[] = [];
  for (const part of parts) {
    const m = COMPARATOR.exec(part);
    if (!m) return `"${part}" in "${range}" is not a comparator like >=20.19.0`;
    out.push({
      op: (m[1] ?? '=') as Comparator['op'],
      version: [Number(m[2]), Number(m[3]), Number(m[4])],
    });
  }
  return out;
}

export function compareNodeVersions(a: NodeVersion, b: NodeVersion): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** True when `version` (e.g. process.version) satisfies every comparator of `range`. */
export function nodeSatisfies(version: string, range: string): boolean {
  const v = parseNodeVersion(version);
  const comparators = parseNodeRange(range);
  if (v === undefined || typeof comparators === 'string') return false;
  return comparators.every(({ op, version: w }) => {
    const c = compareNodeVersions(v, w);
    switch (op) {
      case '>=':
        return c >= 0;
      case '>':
        return c > 0;
      case '<=':
        return c <= 0;
      case '<':
        return c < 0;
      case '=':
        return c === 0;
    }
  });
}

/** `>=X.Y.Z <(X+1).0.0` from an engines field like ">=20.19" (the lower bound, padded). */
export function nodeRangeFromEngines(engines: string): string | undefined {
  const m = /^>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(engines.trim());
  if (!m) return undefined;
  const major = Number(m[1]);
  return `>=${major}.${Number(m[2] ?? 0)}.${Number(m[3] ?? 0)} <${major + 1}.0.0`;
}
