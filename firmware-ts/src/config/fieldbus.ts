import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
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
  /** Give up a connection attempt after this long: a device that lost power never answers one. */
  connectTimeoutMs: z.int().min(100).max(60_000).default(3000),
  /** Modbus TCP master: the firmware's own (transaction ids, several requests in flight) or modbus-serial. */
  driver: z.enum(['brana', 'modbus-serial']).default('brana'),
  /** The serial line behind a converter whose devices use `transport: rtu-over-tcp` (default 9600). */
  baud: z.int().positive().optional(),
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
  /**
   * How a device whose profile speaks only RTU is reached over a TCP bus: `tcp-gateway`, a Modbus
   * TCP→RTU gateway that passes each request to its RS-485 line at the unit id (`unit`, the
   * device's RTU address); `rtu-over-tcp`, a serial server in transparent mode that carries RTU
   * frames (unit, PDU, CRC) over the connection (every device on that bus must then use it).
   */
  transport: z.enum(['tcp-gateway', 'rtu-over-tcp']).optional(),
  /** Per-request timeout for this device, ms (default: its profile's); raise it behind a slow gateway. */
  timeoutMs: z.int().min(10).max(60_000).optional(),
});

export const pulseInputSchema = z.strictObject({
  name: z.string().min(1),
  line: z.string().min(1),
  profile: z.string().min(1).default('s0-pulse-meter'),
  impulsesPerUnit: z.number().positive().optional(),
  debounceMs: z.number().min(0).max(1000).default(20),
});

export const fieldbusSchema = z.strictObject({
  /**
   * Device profile directories of this site, read on top of the built-in catalogue (a relative path
   * is taken from the config file's folder). Profiles there follow hardware/profiles' rules.
   */
  profileDirs: z.array(z.string().min(1)).default([]),
  buses: z.array(busSchema).default([]),
  devices: z.array(deviceSchema).default([]),
  pulses: z.array(pulseInputSchema).default([]),
});
export type FieldbusConfig = z.infer<typeof fieldbusSchema>;

export function checkFieldbus(
  f: Pick<FieldbusConfig, 'buses' | 'devices' | 'pulses'>,
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
    if ((bus?.type === 'rtu' || d.transport !== undefined) && (d.unit < 1 || d.unit > 247)) {
      ctx.addIssue({
        code: 'custom',
        path: ['devices', i, 'unit'],
        message:
          bus?.type === 'rtu'
            ? `unit ${d.unit} cannot be polled on RTU bus "${d.bus}" (0 is broadcast, 248-255 are reserved); use a slave address 1-247`
            : `unit ${d.unit} is not an RTU address, and a device with transport ${d.transport} is an RTU device; use its slave address 1-247`,
      });
    }
    checkTransport(f, i, ctx);
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

/** `transport` fits the bus: only on TCP, and RTU frames on a connection are all or nothing. */
function checkTransport(f: Pick<FieldbusConfig, 'buses' | 'devices'>, i: number, ctx: z.RefinementCtx): void {
  const d = f.devices[i]!;
  const bus = f.buses.find((b) => b.name === d.bus);
  if (bus === undefined) return;
  if (bus.type === 'rtu') {
    if (d.transport !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['devices', i, 'transport'],
        message: `transport ${d.transport} is for a device reached over a TCP bus, and "${d.bus}" is an RTU line; remove transport`,
      });
    }
    return;
  }
  const framed = f.devices.findIndex((x) => x.bus === d.bus && x.transport === 'rtu-over-tcp');
  if (framed < 0) return;
  if (d.transport !== 'rtu-over-tcp') {
    ctx.addIssue({
      code: 'custom',
      path: ['devices', i, 'transport'],
      message: `bus "${d.bus}" carries RTU frames (devices[${framed}] has transport rtu-over-tcp), so every device on it is an RTU device on the line behind the converter; set transport: rtu-over-tcp here too, or put this device on a TCP bus of its own`,
    });
  } else if (i === framed && bus.maxInFlight > 1) {
    const at = f.buses.indexOf(bus);
    ctx.addIssue({
      code: 'custom',
      path: ['buses', at, 'maxInFlight'],
      message: `bus "${bus.name}" carries RTU frames to one serial line, which takes one request at a time; set maxInFlight to 1`,
    });
  }
}

/**
 * The profile directories a config file names (`profileDirs`), resolved against the file's folder,
 * as far as they can be read even when the rest of the file does not validate: the catalogue they
 * add is needed to report every error of the file at once. Unreadable: none.
 */
export async function readProfileDirs(configFile: string): Promise<string[]> {
  let dirs: unknown;
  try {
    dirs = (parseYaml(await readFile(configFile, 'utf8')) as { profileDirs?: unknown } | null)?.profileDirs;
  } catch {
    return [];
  }
  if (!Array.isArray(dirs)) return [];
  return dirs
    .filter((d): d is string => typeof d === 'string' && d !== '')
    .map((d) => resolve(dirname(configFile), d));
}
