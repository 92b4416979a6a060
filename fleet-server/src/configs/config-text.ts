// The config editor's text handling: YAML or JSON in, the document out, and for each validation
// path (`preemption.approaches[2].output`) the line of the editor it points at.
import { isNode, LineCounter, parseDocument, stringify } from 'yaml';

export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

export type ParsedConfigText =
  | { ok: true; value: unknown; lineOf(path: string): number | null }
  | { ok: false; message: string; line: number | null };

/** YAML is a superset of JSON, so one parser reads both. */
export function parseConfigText(text: string): ParsedConfigText {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line ?? lineCounter.linePos(err.pos[0]).line;
    return { ok: false, message: err.message.split('\n')[0] ?? err.message, line };
  }
  return {
    ok: true,
    value: doc.toJS({ maxAliasCount: 100 }),
    lineOf: (path) => {
      // A missing field points at its parent, the place where it has to be added.
      const parts = parsePath(path);
      for (let n = parts.length; n >= 0; n--) {
        const node = n === 0 ? doc.contents : doc.getIn(parts.slice(0, n), true);
        if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return null;
    },
  };
}

export function configToText(config: unknown): string {
  return stringify(config, { lineWidth: 0 });
}
