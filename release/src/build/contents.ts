// What a release holds, as data: the bundles and where they start, the data folders the code finds
// next to itself, the modules left to run-time resolution, the unit files. Paths on the left are
// in the checkout, on the right in the release directory.
//
// Bundles sit two levels deep (dist/<name>/<file>.mjs) because @brana/hardware finds its profiles
// and boards at <its module>/../../profiles: in a bundle that is <release>/profiles.

export interface BundleSpec {
  name: 'firmware' | 'gateway' | 'guard';
  entry: string;
  out: string;
  /** Folders read at run time relative to the bundle (import.meta.dirname), copied beside it. */
  assets: { from: string; to: string; optional?: boolean }[];
  /**
   * Standalone: no package may be imported and nothing is external, so the output is plain
   * JavaScript that needs nothing but Node (the update guard must run when all else is broken).
   */
  standalone: boolean;
}

export const BUNDLES: readonly BundleSpec[] = [
  {
    name: 'firmware',
    entry: 'firmware-ts/src/cli/brana-firmware.ts',
    out: 'dist/firmware/brana-firmware.mjs',
    assets: [],
    standalone: false,
  },
  {
    name: 'gateway',
    entry: 'gateway/src/cli/brana-gateway.ts',
    out: 'dist/gateway/brana-gateway.mjs',
    // The Node-RED launcher runs inside Node-RED's own process, as plain CommonJS.
    assets: [{ from: 'gateway/src/node-red/runtime', to: 'dist/gateway/runtime', optional: true }],
    standalone: false,
  },
  {
    name: 'guard',
    entry: 'gateway/src/update/guard/brana-update-guard.ts',
    out: 'dist/guard/brana-update-guard.mjs',
    assets: [],
    standalone: true,
  },
];

/** Data folders found at run time next to the code. */
export const DATA: readonly { from: string; to: string }[] = [
  { from: 'hardware/profiles', to: 'profiles' },
  { from: 'hardware/boards', to: 'boards' },
];

/**
 * Packages the bundles do not contain, with the workspace they are resolved from: native modules
 * (a .node binary cannot be bundled), modules the firmware loads lazily through createRequire
 * (only where the hardware needs them), and Node-RED, which runs as its own process.
 */
export const RUNTIME_MODULES: readonly { name: string; from: string }[] = [
  { name: 'better-sqlite3', from: 'gateway' },
  { name: 'onoff', from: 'firmware-ts' },
  { name: 'modbus-serial', from: 'firmware-ts' },
  { name: '@serialport/stream', from: 'firmware-ts' },
  { name: '@serialport/bindings-cpp', from: 'firmware-ts' },
  { name: 'node-red', from: 'gateway' },
];

/** Optional add-ons that ws loads when present; a gateway runs without them. */
export const NOT_SHIPPED: readonly string[] = ['bufferutil', 'utf-8-validate'];

/** The Node-RED nodes package (built JS), installed into the release's node_modules by name. */
export const NODE_RED_NODES = {
  workspace: 'flows',
  files: ['package.json', 'dist', 'examples', 'README.md'],
};

/** Unit files: the gateway's processes, and the release's own guard. */
export const UNIT_DIRS: readonly string[] = ['gateway/systemd', 'release/systemd'];
export const UNIT_FILE = /\.(service|target|timer|path)$/;

/** Where the gateway installs releases; unit files name paths under it. */
export const INSTALL_ROOT = '/opt/brana';
