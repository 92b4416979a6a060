// The layout rules of fleet-server/src (STYLE.md items 8 and 14), checked on every test run: each
// feature folder is a module whose index.ts is its only door and says in two comment lines what it
// is for; nothing reaches into another module's inner files; modules depend on each other without
// cycles; and no source file grows past 400 lines.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const MAX_LINES = 400;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : files(p);
    return /\.(ts|tsx)$/.test(name) ? [p] : [];
  });
}

/** Every module specifier a file names: static and dynamic imports, re-exports, new URL(…). */
export function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]/gms,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

/** The module a file under src belongs to ('' for files at the top of src). */
function moduleOf(file: string): string {
  const parts = relative(src, file).split(sep);
  return parts.length > 1 ? parts[0]! : '';
}

const folders = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory());
/** cli/ holds the programs that bin/*.mjs start (TEAM.md), not a module others import. */
const ENTRY_POINTS = ['cli'];
const modules = folders.filter((n) => !ENTRY_POINTS.includes(n));
const srcFiles = files(src);

interface Edge {
  from: string;
  to: string;
  target: string;
}

function edgesOf(file: string): Edge[] {
  const edges: Edge[] = [];
  for (const spec of specifiers(readFileSync(file, 'utf8'))) {
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src + sep)) continue;
    edges.push({ from: file, to: moduleOf(target), target });
  }
  return edges;
}

describe('fleet-server layout', () => {
  it('gives every module an index.ts that opens with two comment lines saying what it is for', () => {
    const missing: string[] = [];
    for (const m of modules) {
      const door = join(src, m, 'index.ts');
      let text = '';
      try {
        text = readFileSync(door, 'utf8');
      } catch {
        missing.push(`${m}/index.ts is missing`);
        continue;
      }
      const [a, b] = text.split('\n');
      if (!a?.startsWith('// ') || !b?.startsWith('// '))
        missing.push(`${m}/index.ts must open with a two-line comment saying what the module is for`);
    }
    expect(missing).toStrictEqual([]);
  });

  it('lets no file import another module’s inner files, only its index.ts', () => {
    const bad: string[] = [];
    for (const f of srcFiles) {
      const own = moduleOf(f);
      for (const e of edgesOf(f)) {
        if (e.to === '' || e.to === own) continue;
        if (e.target !== join(src, e.to, 'index.ts'))
          bad.push(
            `${relative(root, f)} imports ${relative(root, e.target)}; import ${e.to}/index.ts instead`,
          );
      }
    }
    // Tests, benchmarks and integration tests outside src use the same doors (or top-level files).
    for (const dir of ['test', 'bench', 'integration']) {
      for (const f of files(join(root, dir))) {
        for (const e of edgesOf(f)) {
          if (e.to !== '' && e.target !== join(src, e.to, 'index.ts'))
            bad.push(
              `${relative(root, f)} imports ${relative(root, e.target)}; import ${e.to}/index.ts instead`,
            );
        }
      }
    }
    expect(bad).toStrictEqual([]);
  });

  it('has no cycle between modules', () => {
    const graph = new Map<string, Set<string>>(folders.map((m) => [m, new Set()]));
    for (const f of srcFiles) {
      const own = moduleOf(f);
      if (own === '') continue;
      for (const e of edgesOf(f)) if (e.to !== '' && e.to !== own) graph.get(own)!.add(e.to);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const walk = (m: string, path: string[]) => {
      if (state.get(m) === 'done') return;
      if (state.get(m) === 'open') {
        cycles.push([...path.slice(path.indexOf(m)), m].join(' → '));
        return;
      }
      state.set(m, 'open');
      for (const n of graph.get(m) ?? []) walk(n, [...path, m]);
      state.set(m, 'done');
    };
    for (const m of modules) walk(m, []);
    expect(cycles).toStrictEqual([]);
  });

  it(`keeps every source file at ${MAX_LINES} lines or fewer`, () => {
    const long = files(src)
      .concat(
        readdirSync(join(src, 'console-shell', 'assets')).map((n) => join(src, 'console-shell', 'assets', n)),
      )
      .map((f) => ({ f: relative(root, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > MAX_LINES);
    expect(long).toStrictEqual([]);
  });

  it('reads the specifiers the rules rest on', () => {
    // The rules are only as good as this parser: check it on the forms the code uses.
    const text = [
      "import { a } from './a.ts';",
      'import type {\n  B,\n  C,\n} from "../b/index.ts";',
      "export { d } from './d.ts';",
      "export * as schema from './schema.ts';",
      "import './side-effect.ts';",
      "const w = startTsWorker(new URL('./writer.worker.ts', import.meta.url), data);",
      "const { x } = await import('../x/inner.ts');",
    ].join('\n');
    expect(specifiers(text).sort()).toStrictEqual(
      [
        './a.ts',
        '../b/index.ts',
        './d.ts',
        './schema.ts',
        './side-effect.ts',
        './writer.worker.ts',
        '../x/inner.ts',
      ].sort(),
    );
  });
});
