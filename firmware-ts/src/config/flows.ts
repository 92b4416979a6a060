// Node-RED in the gateway config: the `nodeRed` section (editor, heap, pinned modules, sealed flow
// credentials) and validateFlows, which the fleet server runs before it signs a config and the
// gateway before it applies one. A flow is Node-RED's flow array; every node type must come from
// Node-RED's core, from node-red-contrib-brana, or from a module the config pins.
import { isIP } from 'node:net';
import { formatPath } from '@brana/hardware';
import { z } from 'zod';
import { BRANA_NODE_TYPES, NODE_RED_CORE_TYPES } from './node-red-types.ts';

/** The most nodes a config's flows may hold (a large building's flows are a few hundred). */
export const MAX_FLOW_NODES = 5000;
/** Node-RED's admin API refuses flows over its 5 MB body limit; the config stays under it. */
export const MAX_FLOWS_BYTES = 4 * 1024 * 1024;

// npm package names (lower case, optional scope) and exact versions: a pinned module is one build.
const npmName = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const exactVersion = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const base64url = (what: string, max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9_-]*$/, `${what} must be base64url`);

export const nodeRedModuleSchema = z.strictObject({
  /** npm package name, e.g. "node-red-contrib-modbus". */
  name: z.string().max(214).regex(npmName, 'expected an npm package name such as node-red-contrib-modbus'),
  /** Exact version (no range): the agent installs this build from the gateway's module cache. */
  version: z.string().max(64).regex(exactVersion, 'expected an exact version such as 5.23.3 (no range)'),
  /** The node types the module registers; the gateway checks them against what it loads. */
  types: z.array(z.string().min(1).max(100)).max(500).optional(),
});
export type NodeRedModule = z.infer<typeof nodeRedModuleSchema>;

/**
 * Flow credentials, sealed for the gateways that run the config (see gateway/README.md): one
 * AES-256-GCM payload ({ <node id>: { <field>: value } }), its key wrapped for each gateway's
 * X25519 credentials key. Nothing in it is readable without a gateway's private key.
 */
export const sealedCredentialsSchema = z.strictObject({
  v: z.literal(1),
  alg: z.literal('X25519-HKDF-SHA256-A256GCM'),
  recipients: z
    .array(
      z.strictObject({
        /** First 16 bytes of SHA-256 of the gateway's public key (SPKI DER), base64url. */
        kid: base64url('kid', 22).length(22),
        /** Ephemeral X25519 public key (32 bytes raw), base64url. */
        epk: base64url('epk', 43).length(43),
        /** IV (12) | wrapped content key (32) | tag (16), base64url. */
        wrapped: base64url('wrapped', 80).length(80),
      }),
    )
    .min(1)
    .max(10_000),
  /** 12-byte IV, base64url. */
  iv: base64url('iv', 16).length(16),
  /** Ciphertext with its 16-byte tag appended, base64url. */
  ct: base64url('ct', 1_400_000).min(22),
});
export type SealedCredentials = z.infer<typeof sealedCredentialsSchema>;

const editorHost = z
  .string()
  .refine((h) => h === 'localhost' || isIP(h) !== 0, 'expected an IP address or "localhost"');

export const nodeRedSchema = z.strictObject({
  enabled: z.boolean().default(true),
  editor: z
    .strictObject({
      /** 127.0.0.1 keeps the editor on the gateway (reach it through the fleet); 0.0.0.0 opens it to the LAN. */
      host: editorHost.default('127.0.0.1'),
      /** 0: any free port (the agent learns it from Node-RED). */
      port: z.int().min(0).max(65535).default(1880),
    })
    .default({ host: '127.0.0.1', port: 1880 }),
  /** V8 heap cap of the Node-RED process, MB. */
  maxOldSpaceMb: z.int().min(64).max(4096).default(256),
  modules: z.array(nodeRedModuleSchema).max(50).default([]),
  /** Trial period for the flows, seconds (default: the agent's trialS). */
  trialS: z.number().positive().max(3600).optional(),
  credentials: sealedCredentialsSchema.optional(),
});
export type NodeRedConfig = z.infer<typeof nodeRedSchema>;
export type NodeRedConfigInput = z.input<typeof nodeRedSchema>;

/** What Node-RED's flows API takes and gives: an array of nodes with at least `id` and `type`. */
export interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

/** Types that are part of the flow file's structure rather than registered nodes. */
const STRUCTURE_TYPES = new Set(['tab', 'subflow', 'group']);
const CORE = new Set(NODE_RED_CORE_TYPES);
const BRANA = new Set(BRANA_NODE_TYPES);

export interface FlowIssue {
  path: string;
  message: string;
  fix: string;
}

export interface ValidateFlowsOptions {
  /**
   * Node types by module name as the gateway's Node-RED registry reports them; they take the place
   * of a module's declared `types`. The fleet server has none and relies on the declarations.
   */
  moduleTypes?: ReadonlyMap<string, readonly string[]>;
  /** Where the flows sit in the document, for error paths (default ["flows"]). */
  at?: readonly (string | number)[];
}

/** An issue with its path as segments (`['flows', 12, 'type']`), for the config schema's checks. */
export interface FlowIssueAt {
  path: (string | number)[];
  message: string;
  fix: string;
}

type Add = (path: (string | number)[], message: string, fix: string) => void;

export type ValidateFlowsResult = { ok: true; flows: FlowNode[] } | { ok: false; errors: FlowIssue[] };

/** Checks a flow array against the node types Node-RED core, Brána and the pinned `modules` give. */
export function validateFlows(
  flows: unknown,
  modules: readonly NodeRedModule[] = [],
  options: ValidateFlowsOptions = {},
): ValidateFlowsResult {
  const issues = flowIssues(flows, modules, options);
  if (issues.length === 0) return { ok: true, flows: flows as FlowNode[] };
  return { ok: false, errors: issues.map((i) => ({ ...i, path: formatPath(i.path) })) };
}

/** The issues of `flows` (at most 200), with paths as segments. */
export function flowIssues(
  flows: unknown,
  modules: readonly NodeRedModule[] = [],
  options: ValidateFlowsOptions = {},
): FlowIssueAt[] {
  const at = [...(options.at ?? ['flows'])];
  const errors: FlowIssueAt[] = [];
  const add: Add = (path, message, fix) => {
    if (errors.length < 200) errors.push({ path, message, fix });
  };
  if (!Array.isArray(flows)) {
    add(at, 'is not a Node-RED flow array', 'export the flows from the editor (Export ▸ all flows ▸ JSON)');
    return errors;
  }
  if (flows.length > MAX_FLOW_NODES) {
    add(at, `has ${flows.length} nodes, more than ${MAX_FLOW_NODES}`, 'split the flows over gateways');
    return errors;
  }
  const bytes = Buffer.byteLength(JSON.stringify(flows));
  if (bytes > MAX_FLOWS_BYTES) {
    add(
      at,
      `is ${bytes} bytes of JSON, more than ${MAX_FLOWS_BYTES}`,
      'remove unused nodes or large templates',
    );
    return errors;
  }

  const provided = moduleTypeIndex(modules, options.moduleTypes);
  const ids = new Map<string, number>();
  const containers = new Set<string>();
  const groups = new Set<string>();
  const subflows = new Set<string>();
  flows.forEach((n, i) => {
    if (!isRecord(n)) return;
    if (typeof n.id === 'string') {
      if (ids.has(n.id)) {
        add(
          [...at, i, 'id'],
          `"${n.id}" is also the id of ${formatPath([...at, ids.get(n.id)!])}`,
          'give every node its own id (import the flow into the editor and export it again)',
        );
      } else ids.set(n.id, i);
      if (n.type === 'tab' || n.type === 'subflow') containers.add(n.id);
      if (n.type === 'subflow') subflows.add(n.id);
      if (n.type === 'group') groups.add(n.id);
    }
  });

  flows.forEach((n, i) => {
    const p = [...at, i];
    if (!isRecord(n)) {
      add(p, 'is not a node object', 'each entry of the flow array is an object with id and type');
      return;
    }
    if (typeof n.id !== 'string' || !/^[^\s]{1,100}$/.test(n.id)) {
      add([...p, 'id'], 'is missing or not an id', 'give the node an id of 1-100 characters without spaces');
    }
    if (typeof n.type !== 'string' || n.type.length === 0) {
      add([...p, 'type'], 'is missing', 'give the node its Node-RED type, e.g. "inject"');
      return;
    }
    checkType(n.type, [...p, 'type'], provided, subflows, add);
    if ('credentials' in n) {
      add(
        [...p, 'credentials'],
        'holds credentials in clear text',
        'remove them from the node; put them in nodeRed.credentials, sealed for the gateways (see gateway/README.md)',
      );
    }
    if (n.z !== undefined && (typeof n.z !== 'string' || !containers.has(n.z))) {
      add(
        [...p, 'z'],
        `names no tab or subflow of these flows (${JSON.stringify(n.z)})`,
        'export the whole flow, with its tab',
      );
    }
    if (n.g !== undefined && (typeof n.g !== 'string' || !groups.has(n.g))) {
      add(
        [...p, 'g'],
        `names no group of these flows (${JSON.stringify(n.g)})`,
        'export the group with its nodes',
      );
    }
    if (n.wires !== undefined) {
      checkWires(n.wires, [...p, 'wires'], ids, add);
      // Node-RED takes a node without a position for a config node, and a wired config node breaks the flow.
      if (typeof n.x !== 'number' || typeof n.y !== 'number') {
        add(
          [...p, typeof n.x === 'number' ? 'y' : 'x'],
          'is missing: a wired node needs its x and y, or Node-RED takes it for a config node',
          'export the flow from the editor, which writes every node’s position',
        );
      }
    }
  });
  return errors;
}

/** type → the module that provides it, plus the modules whose types are not known here. */
interface ModuleTypeIndex {
  byType: Map<string, string>;
  undeclared: { name: string; index: number }[];
}

function moduleTypeIndex(
  modules: readonly NodeRedModule[],
  fromRegistry: ReadonlyMap<string, readonly string[]> | undefined,
): ModuleTypeIndex {
  const byType = new Map<string, string>();
  const undeclared: ModuleTypeIndex['undeclared'] = [];
  modules.forEach((m, index) => {
    const types = fromRegistry?.get(m.name) ?? m.types;
    if (types === undefined) undeclared.push({ name: m.name, index });
    for (const t of types ?? []) if (!byType.has(t)) byType.set(t, m.name);
  });
  return { byType, undeclared };
}

function checkType(
  type: string,
  path: (string | number)[],
  provided: ModuleTypeIndex,
  subflows: ReadonlySet<string>,
  add: Add,
): void {
  if (STRUCTURE_TYPES.has(type) || BRANA.has(type) || provided.byType.has(type)) return;
  if (type === 'unknown') {
    add(
      path,
      '"unknown" is the placeholder Node-RED puts where a node type was missing',
      'install the module the node came from, open the flow in the editor and export it again',
    );
    return;
  }
  if (CORE.has(type)) return;
  if (type.startsWith('subflow:')) {
    if (!subflows.has(type.slice('subflow:'.length))) {
      add(
        path,
        `"${type}" is an instance of a subflow these flows do not define`,
        'export the subflow with the flow',
      );
    }
    return;
  }
  const near = nearestType(type, [...CORE, ...BRANA, ...provided.byType.keys()]);
  const fixes = [
    near ? `did you mean "${near}"?` : undefined,
    provided.undeclared.length > 0
      ? `if it comes from ${provided.undeclared.map((u) => `nodeRed.modules[${u.index}] (${u.name})`).join(' or ')}, list it in that module's types`
      : undefined,
    'use a node from Node-RED 4.1 core or node-red-contrib-brana, or add the module that provides it to nodeRed.modules with a pinned version',
  ].filter((f) => f !== undefined);
  add(path, `unknown node type "${type}"`, fixes.join('; '));
}

function checkWires(
  wires: unknown,
  path: (string | number)[],
  ids: ReadonlyMap<string, number>,
  add: Add,
): void {
  if (!Array.isArray(wires) || !wires.every(Array.isArray)) {
    add(path, 'is not a list of outputs, each a list of node ids', 'export the flow again from the editor');
    return;
  }
  wires.forEach((out: unknown[], o) =>
    out.forEach((target, k) => {
      if (typeof target !== 'string' || !ids.has(target)) {
        add(
          [...path, o, k],
          `is wired to ${JSON.stringify(target)}, which is no node of these flows`,
          'export the flow with every node it is wired to, or remove the wire',
        );
      }
    }),
  );
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The known type closest to `type` (a typo), if one is close enough to suggest. */
export function nearestType(type: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.min(3, Math.floor(type.length / 2));
  for (const k of known) {
    if (Math.abs(k.length - type.length) > bestD) continue;
    const d = editDistance(type.toLowerCase(), k.toLowerCase());
    if (d <= bestD && (best === undefined || d < bestD)) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
