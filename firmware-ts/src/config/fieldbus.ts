import { z } from 'zod';

// Fieldbus section of the gateway config: buses, the devices on them (profile + address), and S0
// pulse inputs. Owned by the fieldbus poller (issue 4); cross-field rules live in `checkFieldbus`.

const rtuBusSchema = z.strictObject({
  name: z.string().min(1),
  type: z.literal('rtu'),
  /** Serial device; prefer the stable /dev/serial/by-id/... path so a replugged adapter is found again. */
  path: z.string().min(1),
  baud: z.int().positive().default(9600),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
  dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
  /** RTU master: modbus-serial, or the firmware's own (timeouts on the injected clock, late answers discarded). */
  driver: z.enum(['modbus-serial', 'brana']).default('modbus-serial'),
});

const tcpBusSchema = z.strictObject({
  name: z.string().min(1),
  type: z.literal('tcp'),
  host: z.string().min(1),
  port: z.int().min(1).max(65535).default(502),
  /** Requests in flight at once on this connection (one queue per unit id, up to this many). */
  maxInFlight: z.int().min(1).max(16).default(1),
});

export const busSchema = z.discriminatedUnion('type', [rtuBusSchema, tcpBusSchema]);

export const deviceSchema = z.strictObject({
  name: z.string().min(1).describe('Device name; channels are named <device>.<point key>'),
  bus: z.string().min(1),
  /** Modbus unit id (slave address), 1-247 on RTU. */
  unit: z.int().min(0).max(255),
  /** Device profile id from the hardware catalogue, e.g. "eastron-sdm630". */
  profile: z.string().min(1),
  pollFastMs: z.int().min(100).default(1000),
  pollSlowMs: z.int().min(1000).default(60_000),
  /** Only these point keys (default: all points of the profile). */
  points: z.array(z.string()).optional(),
  site: z.string().optional(),
});

export const pulseInputSchema = z.strictObject({
  name: z.string().min(1),
  line: z.string().min(1),
  profile: z.string().min(1).default('s0-pulse-meter'),
  impulsesPerUnit: z.number().positive().optional(),
  debounceMs: z.number().min(0).max(1000).default(20),
});

export const fieldbusSchema = z.strictObject({
  buses: z.array(busSchema).default([]),
  devices: z.array(deviceSchema).default([]),
  pulses: z.array(pulseInputSchema).default([]),
});
export type FieldbusConfig = z.infer<typeof fieldbusSchema>;

export function checkFieldbus(
  f: FieldbusConfig,
  ctx: z.RefinementCtx,
  knownProfiles: ReadonlySet<string> | undefined,
): void {
  const busNames = new Map<string, number>();
  f.buses.forEach((b, i) => {
    if (busNames.has(b.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['buses', i, 'name'],
        message: `bus name "${b.name}" is used twice (also buses[${busNames.get(b.name)}]); give each bus its own name`,
      });
    }
    busNames.set(b.name, i);
  });
  const taken = new Map<string, number>();
  const deviceNames = new Set<string>();
  f.devices.forEach((d, i) => {
    if (deviceNames.has(d.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['devices', i, 'name'],
        message: `device name "${d.name}" is used twice; give each device its own name`,
      });
    }
    deviceNames.add(d.name);
    if (!busNames.has(d.bus)) {
      ctx.addIssue({
        code: 'custom',
        path: ['devices', i, 'bus'],
        message: `unknown bus "${d.bus}"; use one of: ${[...busNames.keys()].join(', ') || '(no buses defined)'}`,
      });
    }
    const bus = f.buses.find((b) => b.name === d.bus);
    if (bus?.type === 'rtu' && (d.unit < 1 || d.unit > 247)) {
      ctx.addIssue({
        code: 'custom',
        path: ['devices', i, 'unit'],
        message: `unit ${d.unit} cannot be polled on RTU bus "${d.bus}" (0 is broadcast, 248-255 are reserved); use a slave address 1-247`,
      });
    }
    if (d.pollSlowMs < d.pollFastMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['devices', i, 'pollSlowMs'],
        message: `pollSlowMs ${d.pollSlowMs} is shorter than pollFastMs ${d.pollFastMs}; make pollSlowMs at least pollFastMs`,
      });
    }
    const slot = `${d.bus}/${d.unit}`;
    const other = taken.get(slot);
    if (other !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['devices', i, 'unit'],
        message: `unit ${d.unit} on bus "${d.bus}" is already devices[${other}]; two devices on one bus need different addresses`,
      });
    } else {
      taken.set(slot, i);
    }
    if (knownProfiles && !knownProfiles.has(d.profile)) {
      ctx.addIssue({
        code: 'custom',
        path: ['devices', i, 'profile'],
        message: `unknown device profile "${d.profile}"; run \`brana-bench profiles\` for the catalogue`,
      });
    }
  });
  const pulseNames = new Map<string, number>();
  f.pulses.forEach((p, i) => {
    const sameName = pulseNames.get(p.name) ?? (deviceNames.has(p.name) ? -1 : undefined);
    if (sameName !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['pulses', i, 'name'],
        message: `name "${p.name}" is already ${sameName < 0 ? 'a device' : `pulses[${sameName}]`}; give each pulse input its own name (channels are <name>.energyKWh)`,
      });
    }
    pulseNames.set(p.name, i);
    // A line used twice (by pulses, alarms or relays) is refused by the whole-config line check.
    if (knownProfiles && !knownProfiles.has(p.profile)) {
      ctx.addIssue({
        code: 'custom',
        path: ['pulses', i, 'profile'],
        message: `unknown device profile "${p.profile}"; run \`brana-bench profiles\` for the catalogue`,
      });
    }
  });
}
