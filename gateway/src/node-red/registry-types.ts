// The node types the installed Node-RED's registry knows, by module: the source of the type list
// that validateFlows (@brana/firmware) checks flows against. It runs the real runtime headless in
// a child process (runtime/list-types.cjs), so the list is what Node-RED itself would load.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface RegistryTypes {
  /** Node-RED's version string, e.g. "4.1.15". */
  version: string;
  /** Module name → the node types it registers ("node-red" holds the core nodes). */
  modules: Record<string, string[]>;
}

export const LIST_TYPES_SCRIPT = join(import.meta.dirname, 'runtime', 'list-types.cjs');

/** Loads Node-RED's core nodes and the `modules` given (as the gateway does) and lists their types. */
export function registryTypes(modules: readonly string[]): Promise<RegistryTypes> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [LIST_TYPES_SCRIPT, ...modules],
      { timeout: 60_000, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`listing Node-RED's node types failed: ${stderr.trim() || err.message}`));
          return;
        }
        const listing = JSON.parse(stdout) as RegistryTypes;
        resolve({ ...listing, version: listing.version.replace(/-git$/, '') });
      },
    );
  });
}

/** The TypeScript module that @brana/firmware keeps as its copy of the list. */
export function renderTypesModule(types: RegistryTypes, branaModule: string): string {
  // Biome's style (single quotes, trailing commas), so that the file passes the lint as written.
  const quote = (x: string) => `'${x.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const list = (xs: readonly string[]) =>
    xs.length === 0 ? '[]' : `[\n${xs.map((x) => `  ${quote(x)},`).join('\n')}\n]`;
  return `// Generated from Node-RED's own node registry by \`npx tsx scripts/node-red-types.ts\`: do not edit.
// gateway/src/node-red/registry-types.test.ts fails when the installed Node-RED or
// ${branaModule} registers other types than these; run the script again then.

/** The Node-RED version the lists were taken from. */
export const NODE_RED_VERSION = ${quote(types.version)};

/** Node types of Node-RED's core nodes. */
export const NODE_RED_CORE_TYPES: readonly string[] = ${list([...(types.modules['node-red'] ?? [])].sort())};

/** Node types of ${branaModule} (the flows/ workspace). */
export const BRANA_NODE_TYPES: readonly string[] = ${list([...(types.modules[branaModule] ?? [])].sort())};
`;
}
