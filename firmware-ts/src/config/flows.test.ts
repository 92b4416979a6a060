import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FlowNode, nearestType, validateFlows } from './flows.ts';
import { NODE_RED_CORE_TYPES } from './node-red-types.ts';
import { validateGatewayConfig } from './validate.ts';

/** A care-home flow as the editor exports it (trimmed of layout fields). */
function sosFlow(): FlowNode[] {
  return placed([
    { id: 'tab1', type: 'tab', label: 'SOS pokoj 12' },
    { id: 'grp', type: 'group', z: 'tab1', name: 'escalation', nodes: ['esc'] },
    { id: 'in1', type: 'mqtt in', z: 'tab1', name: 'SOS button', broker: 'brk', wires: [['sw']] },
    { id: 'sw', type: 'switch', z: 'tab1', name: 'pressed?', wires: [['esc'], []] },
    { id: 'esc', type: 'trigger', z: 'tab1', g: 'grp', name: 'escalate 2 min', wires: [['dbg']] },
    { id: 'dbg', type: 'debug', z: 'tab1', name: 'log' },
    { id: 'brk', type: 'mqtt-broker', name: 'local broker', broker: '127.0.0.1' },
    { id: 'sf1', type: 'subflow', name: 'page nurse', in: [], out: [], env: [] },
    { id: 'sfn', type: 'template', z: 'sf1', name: 'message', wires: [] },
    { id: 'sfi', type: 'subflow:sf1', z: 'tab1', wires: [] },
  ]);
}

/** Gives every wired node a position, as the editor's export does. */
function placed(nodes: FlowNode[]): FlowNode[] {
  return nodes.map((n, i) => (n.wires === undefined ? n : { ...n, x: 100 + 20 * i, y: 40 }));
}

function errorsOf(
  flows: unknown,
  ...rest: Parameters<typeof validateFlows> extends [unknown, ...infer R] ? R : never
) {
  const r = validateFlows(flows, ...rest);
  if (r.ok) throw new Error('expected the flows to be rejected');
  return r.errors;
}

describe('validateFlows', () => {
  it('accepts an exported flow of core nodes with a group, a config node and a subflow', () => {
    expect(validateFlows(sosFlow())).toMatchObject({ ok: true });
    expect(validateFlows([])).toMatchObject({ ok: true });
  });

  it('rejects an unknown type with its path and a fix that names the closest known type', () => {
    const flows = sosFlow();
    flows[3] = { ...flows[3]!, type: 'swich' };
    expect(errorsOf(flows)).toEqual([
      {
        path: 'flows[3].type',
        message: 'unknown node type "swich"',
        fix: expect.stringMatching(/^did you mean "switch"\?; use a node from Node-RED 4\.1 core/),
      },
    ]);
  });

  it('takes a module type from the config’s declaration, or from the gateway’s registry when given', () => {
    const flows: FlowNode[] = placed([{ id: 'r', type: 'modbus-read', wires: [] }]);
    expect(errorsOf(flows)[0]).toMatchObject({ path: 'flows[0].type' });
    const declared = [{ name: 'node-red-contrib-modbus', version: '5.23.3', types: ['modbus-read'] }];
    expect(validateFlows(flows, declared).ok).toBe(true);
    // Declared but not what the installed module registers: the registry wins.
    const registry = new Map([['node-red-contrib-modbus', ['modbus-client']]]);
    expect(errorsOf(flows, declared, { moduleTypes: registry })[0]).toMatchObject({
      path: 'flows[0].type',
    });
    // A module without declared types: the fix says where to declare them.
    const undeclared = [{ name: 'node-red-contrib-modbus', version: '5.23.3' }];
    expect(errorsOf(flows, undeclared)[0]?.fix).toContain(
      'if it comes from nodeRed.modules[0] (node-red-contrib-modbus), list it in that module’s types'.replace(
        '’',
        "'",
      ),
    );
  });

  it('refuses credentials in clear, duplicate ids, dangling wires, tabs, groups and subflows', () => {
    const flows = sosFlow();
    flows[2] = { ...flows[2]!, credentials: { user: 'nurse', password: 'secret' } };
    flows[5] = { ...flows[5]!, id: 'sw' };
    flows[4] = { ...flows[4]!, wires: [['nowhere']] };
    flows[6] = { ...flows[6]!, z: 'no-tab' };
    flows[8] = { ...flows[8]!, g: 'no-group' };
    flows[9] = { ...flows[9]!, type: 'subflow:missing' };
    const errors = errorsOf(flows);
    expect(errors.map((e) => e.path)).toEqual([
      'flows[5].id',
      'flows[2].credentials',
      'flows[4].wires[0][0]',
      'flows[6].z',
      'flows[8].g',
      'flows[9].type',
    ]);
    // The password itself is never repeated in an error.
    expect(JSON.stringify(errors)).not.toContain('secret');
  });

  it('refuses a wired node without a position (Node-RED would take it for a config node)', () => {
    const flows = sosFlow();
    const { x: _x, ...noX } = flows[3]!;
    flows[3] = noX as FlowNode;
    expect(errorsOf(flows)).toEqual([
      expect.objectContaining({ path: 'flows[3].x', message: expect.stringContaining('config node') }),
    ]);
  });

  it('refuses what is not a flow array, and the "unknown" placeholder type', () => {
    expect(errorsOf({ flows: [] })).toEqual([
      expect.objectContaining({ path: 'flows', message: 'is not a Node-RED flow array' }),
    ]);
    expect(errorsOf([42, { id: 'a' }]).map((e) => e.path)).toEqual(['flows[0]', 'flows[1].type']);
    expect(errorsOf([{ id: 'u', type: 'unknown' }])[0]?.message).toContain('placeholder');
  });

  it('property: any JSON is answered with errors whose paths start at flows, never a throw', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => {
        const r = validateFlows(doc);
        if (!r.ok) {
          expect(r.errors.length).toBeGreaterThan(0);
          for (const e of r.errors) expect(e.path).toMatch(/^flows/);
        }
      }),
    );
  });

  it('property: in a valid flow, one node given an unknown type yields exactly that node’s type error', () => {
    const core = NODE_RED_CORE_TYPES.filter((t) => t !== 'unknown');
    const flowArb = fc.array(fc.constantFrom(...core), { minLength: 1, maxLength: 40 }).chain((types) =>
      fc.record({
        types: fc.constant(types),
        wires: fc.array(fc.array(fc.nat(types.length - 1), { maxLength: 3 }), {
          minLength: types.length,
          maxLength: types.length,
        }),
        victim: fc.nat(types.length - 1),
        bad: fc
          .string({ minLength: 1, maxLength: 20 })
          .filter((s) => !core.includes(s) && !s.startsWith('subflow:')),
      }),
    );
    fc.assert(
      fc.property(flowArb, ({ types, wires, victim, bad }) => {
        const flows: FlowNode[] = [
          { id: 'tab', type: 'tab' },
          ...types.map((type, i) => ({
            id: `n${i}`,
            type,
            z: 'tab',
            x: 10 * i,
            y: 20,
            wires: [wires[i]!.map((w) => `n${w}`)],
          })),
        ];
        expect(validateFlows(flows).ok).toBe(true);
        flows[victim + 1] = { ...flows[victim + 1]!, type: bad };
        const r = validateFlows(flows);
        expect(r.ok ? [] : r.errors.map((e) => e.path)).toEqual([
          ...(bad === 'tab' || bad === 'group' || bad === 'subflow' ? [] : [`flows[${victim + 1}].type`]),
        ]);
      }),
    );
  });

  it('nearestType suggests only close names', () => {
    expect(nearestType('fuction', ['function', 'switch'])).toBe('function');
    expect(nearestType('brana-relais', ['brana relay'])).toBe('brana relay');
    expect(nearestType('zzzzzz', ['function', 'switch'])).toBeUndefined();
  });
});

describe('nodeRed in the gateway config', () => {
  it('fills defaults: editor on localhost:1880, 256 MB heap, no modules', () => {
    const r = validateGatewayConfig({ name: 'gw', nodeRed: {}, flows: sosFlow() });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.nodeRed).toEqual({
      enabled: true,
      editor: { host: '127.0.0.1', port: 1880 },
      maxOldSpaceMb: 256,
      modules: [],
    });
  });

  it('reports flow errors at their config path, with the fix', () => {
    const flows = sosFlow();
    flows[5] = { ...flows[5]!, type: 'brana-relais' };
    const r = validateGatewayConfig({ name: 'gw', nodeRed: {}, flows });
    expect(r.ok ? [] : r.errors).toEqual([
      {
        path: 'flows[5].type',
        message: 'unknown node type "brana-relais"',
        fix: expect.stringContaining('node-red-contrib-brana'),
      },
    ]);
  });

  it('refuses flows without Node-RED, ranges instead of pinned versions, twice-listed modules, an editor host that is no address', () => {
    const off = validateGatewayConfig({ name: 'gw', flows: sosFlow() });
    expect(off.ok ? [] : off.errors.map((e) => e.path)).toEqual(['nodeRed']);
    const r = validateGatewayConfig({
      name: 'gw',
      nodeRed: {
        editor: { host: 'my editor' },
        modules: [
          { name: 'node-red-contrib-modbus', version: '^5.23.0' },
          { name: 'node-red-dashboard', version: '3.6.5' },
          { name: 'node-red-dashboard', version: '3.6.6' },
        ],
      },
    });
    expect(r.ok ? [] : r.errors.map((e) => e.path)).toEqual([
      'nodeRed.editor.host',
      'nodeRed.modules[0].version',
      'nodeRed.modules[2].name',
    ]);
  });
});
