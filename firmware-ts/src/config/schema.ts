import { z } from 'zod';
import { checkFieldbus, fieldbusSchema } from './fieldbus.ts';
import { flowIssues, nodeRedSchema } from './flows.ts';
import { checkPreemption, preemptionSchema } from './preemption.ts';

// The gateway config document: one schema shared by the fleet server (validates before it signs),
// the gateway agent (validates again before it applies) and the firmware processes.

export const CONFIG_SCHEMA_VERSION = 1;

const lineRef = z
  .string()
  .min(1)
  .describe('GPIO line: a BCM line name such as "GPIO17" or a bench wire name');

export const hardwareSchema = z.strictObject({
  board: z.enum(['pi4b', 'pi5', 'cm4', 'bench']).default('bench'),
  gpio: z
    .strictObject({
      backend: z.enum(['sysfs', 'bench', 'memory']).default('bench'),
      /** Unix socket of the bench wire bus, when backend is "bench". */
      benchSocket: z.string().optional(),
    })
    .default({ backend: 'bench' }),
});

export const alarmSchema = z.strictObject({
  name: z.string().min(1),
  kind: z.enum(['sos', 'bed', 'door', 'smoke', 'generic']).default('generic'),
  line: lineRef,
  activeLevel: z.union([z.literal(0), z.literal(1)]).default(1),
  debounceMs: z.number().min(0).max(5000).default(50),
  site: z.string().optional(),
});

export const relayRuleSchema = z.strictObject({
  /** Alarm name, or a channel "<device>.<point>" compared with `above` / `below`. */
  when: z.string().min(1),
  above: z.number().optional(),
  below: z.number().optional(),
  /** How long the relay stays on after the condition clears, in seconds. */
  holdS: z.number().min(0).max(86_400).default(0),
});

/** Who switches a relay: its `rules` (alarms, thresholds) in rt, or operators' Node-RED flows. */
export const RELAY_OWNERS = ['rules', 'flows'] as const;
export type RelayOwner = (typeof RELAY_OWNERS)[number];

export const relaySchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(100)
    .describe('Relay name, unique on the gateway: flows and events name the relay by it'),
  line: lineRef,
  activeLevel: z.union([z.literal(0), z.literal(1)]).default(1),
  /**
   * `rules` (default): switched only by its rules. `flows`: switched only by Node-RED flows through
   * the local API; the rt process refuses a flow's command for any other relay.
   */
  owner: z.enum(RELAY_OWNERS).default('rules'),
  rules: z.array(relayRuleSchema).default([]),
});

export const telemetrySchema = z
  .strictObject({
    uploadIntervalS: z.number().positive().max(3600).default(5),
    batchSize: z.int().min(1).max(5000).default(500),
    backlogReadingsPerS: z.int().min(1).default(20_000),
    journalQuotaMB: z.number().positive().default(512),
  })
  .default({ uploadIntervalS: 5, batchSize: 500, backlogReadingsPerS: 20_000, journalQuotaMB: 512 });

export const gatewayConfigShape = z.strictObject({
  schemaVersion: z.literal(CONFIG_SCHEMA_VERSION).default(CONFIG_SCHEMA_VERSION),
  name: z.string().min(1).describe('Human name of the gateway, e.g. "ZŠ Komenského main board"'),
  site: z.string().optional(),
  hardware: hardwareSchema.default({ board: 'bench', gpio: { backend: 'bench' } }),
  ...fieldbusSchema.shape,
  preemption: preemptionSchema.optional(),
  alarms: z.array(alarmSchema).default([]),
  relays: z.array(relaySchema).default([]),
  telemetry: telemetrySchema,
  /** Node-RED on the gateway: editor, heap cap, pinned modules, sealed flow credentials. */
  nodeRed: nodeRedSchema.optional(),
  /** Node-RED flows (the flows.json array) deployed with this config; checked by validateFlows. */
  flows: z.array(z.record(z.string(), z.unknown())).default([]),
});

export type GatewayConfig = z.infer<typeof gatewayConfigShape>;
export type GatewayConfigInput = z.input<typeof gatewayConfigShape>;

/** Schema with cross-field rules; `knownProfiles` adds the check that every device names a catalogue profile. */
export function gatewayConfigSchemaWith(knownProfiles?: ReadonlySet<string>) {
  return gatewayConfigShape.superRefine((c, ctx) => {
    checkFieldbus({ buses: c.buses, devices: c.devices, pulses: c.pulses }, ctx, knownProfiles);
    if (c.preemption) checkPreemption(c.preemption, ctx, ['preemption']);
    const lines = new Map<string, string>();
    const claim = (line: string, where: string, path: (string | number)[]) => {
      const owner = lines.get(line);
      if (owner) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `line "${line}" is already used by ${owner}; give each input and output its own line`,
        });
      } else {
        lines.set(line, where);
      }
    };
    checkAlarmsAndRelays(c, ctx);
    checkNodeRed(c, ctx);
    c.alarms.forEach((a, i) => claim(a.line, `alarms[${i}]`, ['alarms', i, 'line']));
    c.relays.forEach((r, i) => claim(r.line, `relays[${i}]`, ['relays', i, 'line']));
    c.pulses.forEach((p, i) => claim(p.line, `pulses[${i}]`, ['pulses', i, 'line']));
    if (c.preemption) {
      const p = c.preemption;
      const at = (...rest: (string | number)[]) => ['preemption', ...rest];
      p.approaches.forEach((a, i) => {
        claim(a.output, `preemption.approaches[${i}].output`, at('approaches', i, 'output'));
        if (a.readback)
          claim(a.readback, `preemption.approaches[${i}].readback`, at('approaches', i, 'readback'));
      });
      claim(p.heartbeat.output, 'preemption.heartbeat.output', at('heartbeat', 'output'));
      p.inputs.optical.forEach((o, i) =>
        claim(o.line, `preemption.inputs.optical[${i}]`, at('inputs', 'optical', i, 'line')),
      );
      if (p.inputs.testContact) {
        claim(
          p.inputs.testContact.line,
          'preemption.inputs.testContact',
          at('inputs', 'testContact', 'line'),
        );
      }
    }
  });
}

export const gatewayConfigSchema = gatewayConfigSchemaWith();

/** Flows need Node-RED on; their node types come from core, Brána or a pinned module (validateFlows). */
function checkNodeRed(c: z.infer<typeof gatewayConfigShape>, ctx: z.RefinementCtx): void {
  const modules = c.nodeRed?.modules ?? [];
  const seen = new Map<string, number>();
  modules.forEach((m, i) => {
    if (seen.has(m.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['nodeRed', 'modules', i, 'name'],
        message: `${m.name} is already listed at nodeRed.modules[${seen.get(m.name)}]; pin each module once`,
      });
    }
    seen.set(m.name, i);
  });
  if (c.flows.length > 0 && !c.nodeRed?.enabled) {
    ctx.addIssue({
      code: 'custom',
      path: c.nodeRed ? ['nodeRed', 'enabled'] : ['nodeRed'],
      message: `the config has ${c.flows.length} flow nodes but Node-RED is off; set nodeRed: { enabled: true } or remove the flows`,
    });
  }
  for (const issue of flowIssues(c.flows, modules)) {
    ctx.addIssue({ code: 'custom', path: issue.path, message: `${issue.message}; ${issue.fix}` });
  }
}

/** Names are unique; a rule names an alarm (no thresholds) or a channel `<device>.<point>` with one. */
function checkAlarmsAndRelays(c: z.infer<typeof gatewayConfigShape>, ctx: z.RefinementCtx): void {
  const unique = (names: string[], what: 'alarms' | 'relays') => {
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (seen.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [what, i, 'name'],
          message: `${what === 'alarms' ? 'alarm' : 'relay'} name "${name}" is used twice; give each a name of its own`,
        });
      }
      seen.add(name);
    });
  };
  unique(
    c.alarms.map((a) => a.name),
    'alarms',
  );
  unique(
    c.relays.map((r) => r.name),
    'relays',
  );
  const alarms = new Set(c.alarms.map((a) => a.name));
  const known = c.alarms.length > 0 ? c.alarms.map((a) => `"${a.name}"`).join(', ') : 'none configured';
  c.relays.forEach((relay, ri) => {
    // One owner per relay: a flow and a rule switching the same contact would fight over it.
    if (relay.owner === 'flows' && relay.rules.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['relays', ri, 'rules'],
        message: `relay "${relay.name}" is owned by flows and also has rules; remove its rules (flows switch it), or set owner: rules`,
      });
      return;
    }
    relay.rules.forEach((rule, k) => {
      const at = ['relays', ri, 'rules', k];
      const threshold = rule.above !== undefined || rule.below !== undefined;
      if (alarms.has(rule.when)) {
        if (threshold) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, rule.above !== undefined ? 'above' : 'below'],
            message: `"${rule.when}" is an alarm, which is on or off; remove above/below from this rule`,
          });
        }
      } else if (!/^[^.\s]+\.[^.\s]+$/.test(rule.when)) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'when'],
          message: `"${rule.when}" is not an alarm of this config (alarms: ${known}) nor a channel "<device>.<point>"; name one of them`,
        });
      } else if (!threshold) {
        ctx.addIssue({
          code: 'custom',
          path: at,
          message: `the rule on channel "${rule.when}" has no threshold; add above: <value> and/or below: <value>`,
        });
      }
    });
  });
}
