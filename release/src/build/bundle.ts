// One bundle per process entry (esbuild): the workspace packages and their pure-JavaScript
// dependencies in one ESM file with a linked source map (`node --enable-source-maps` maps stack
// traces back to the TypeScript), so a gateway runs compiled JavaScript with plain `node`.
import { relative, sep } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { BuildError } from '../errors.ts';
import { type BundleSpec, NOT_SHIPPED, RUNTIME_MODULES } from './contents.ts';

// Bundled CommonJS code calls require() for Node built-ins; an ES module has none, so the bundle
// makes one for itself (esbuild keeps its own name for it free).
const REQUIRE_BANNER =
  "import { createRequire as __branaCreateRequire } from 'node:module';\nconst require = __branaCreateRequire(import.meta.url);";

export interface BundleResult {
  spec: BundleSpec;
  /** Output files written (release paths). */
  outputs: string[];
  /** Checkout files the bundle was made of. */
  inputs: string[];
  warnings: string[];
}

export async function bundle(root: string, outDir: string, spec: BundleSpec): Promise<BundleResult> {
  const external = spec.standalone ? [] : [...RUNTIME_MODULES.map((m) => m.name), ...NOT_SHIPPED];
  let metafile: Metafile;
  let warnings: string[];
  try {
    const r = await build({
      absWorkingDir: root,
      entryPoints: [spec.entry],
      outfile: `${outDir}/${spec.out}`,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      // Stack traces need the mappings, not the sources; the sources are in git at source.commit.
      sourcesContent: false,
      external,
      ...(spec.standalone ? {} : { banner: { js: REQUIRE_BANNER } }),
      // Licence comments of bundled packages go to <bundle>.LEGAL.txt beside it.
      legalComments: 'linked',
      metafile: true,
      logLevel: 'silent',
    });
    metafile = r.metafile;
    warnings = r.warnings.map((w) => `${w.location?.file ?? spec.entry}:${w.location?.line ?? 0}: ${w.text}`);
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors;
    const first = errors?.[0];
    throw new BuildError(
      `bundling ${spec.entry} failed${first ? `: ${first.location?.file ?? ''}:${first.location?.line ?? ''} ${first.text}` : ` (${(err as Error).message})`}`,
      'fix the error shown (the typecheck, npx tsc -p tsconfig.json, usually names it too)',
      err,
    );
  }
  const inputs = Object.keys(metafile.inputs);
  if (spec.standalone) {
    const foreign = inputs.filter((i) => i.includes('node_modules/'));
    const imports = Object.values(metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    const bare = imports.filter((p) => !p.startsWith('node:'));
    if (foreign.length > 0 || bare.length > 0) {
      throw new BuildError(
        `${spec.entry} must run on Node alone but pulls in ${[...foreign, ...bare].slice(0, 3).join(', ')}`,
        'import only node: built-ins (and files of its own folder) in the guard',
      );
    }
  }
  const outputs = Object.keys(metafile.outputs).map((o) =>
    relative(outDir, `${root}/${o}`).split(sep).join('/'),
  );
  return { spec, outputs, inputs, warnings };
}
