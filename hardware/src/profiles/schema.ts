import { z } from 'zod';
import { REGISTER_TYPES, WORD_ORDERS } from '../registers/index.ts';
import { UNITS } from './units.ts';

// The device profile format: one YAML file per device family (DESIGN.md "Contracts").
// Strict objects everywhere, so a misspelt key is an error rather than silently ignored.

const key = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9]*$/, 'a point key is camelCase ASCII starting with a lower-case letter')
  .describe(
    'Canonical camelCase name with the unit as suffix: voltageL1V, powerW, energyImportKWh, temperatureC',
  );

const range = z
  .tuple([z.number(), z.number()])
  .describe('[min, max] in engineering units; a reading outside is marked suspect');

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

// ---------------------------------------------------------------- point simulation models

/** What the simulator does when a master writes the point. */
const setter = z
  .enum(['store'])
  .describe('store: a write replaces the served value (required for writable points)');

const simBase = { set: setter.optional() };

export const constantSim = z
  .strictObject({ constant: z.union([z.number(), z.string()]), ...simBase })
  .describe('Always serves this engineering value (text for str points)');

export const walkSim = z
  .strictObject({
    walk: z.strictObject({
      min: finite,
      max: finite,
      stepPerS: z.number().positive().describe('Largest change per second, engineering units'),
      start: finite.optional().describe('Initial value; default the middle of [min, max]'),
    }),
    ...simBase,
  })
  .describe('Bounded random walk: each second moves by at most stepPerS, staying in [min, max]');

export const integralSim = z
  .strictObject({
    integral: z.strictObject({
      of: key.describe('Point whose value is integrated (e.g. powerW)'),
      per: z.enum(['s', 'min', 'h']).describe('Time unit of the integral: W integrated per h gives Wh'),
      scale: finite.default(1).describe('Factor applied to the integral: 0.001 turns Wh into kWh'),
      start: finite.default(0).describe('Counter value at simulator start'),
    }),
    ...simBase,
  })
  .describe('Counter: start + scale · ∫ of dt, never decreasing for non-negative input');

export const flowSim = z
  .strictObject({
    flow: z.strictObject({
      baseM3H: z.number().nonnegative().describe('Mean daytime flow in m³/h'),
      nightLeakM3H: z.number().nonnegative().default(0).describe('Flow that persists at night (a leak)'),
      nightHours: z
        .tuple([z.number().int().min(0).max(23), z.number().int().min(0).max(24)])
        .default([0, 5])
        .describe('[from, to) local hours counted as night: only the leak flows then'),
    }),
    ...simBase,
  })
  .describe(
    'Water flow in m³/h. Night (nightHours, local time): exactly nightLeakM3H. Day: draws of random length, ' +
      'each a flow in [0, 3·baseM3H] with mean baseM3H, plus nightLeakM3H (a leak never stops). ' +
      'So the served value always lies in [nightLeakM3H, 3·baseM3H + nightLeakM3H].',
  );

export const followSim = z
  .strictObject({
    follow: key.describe('Point this one is derived from'),
    scale: finite.default(1),
    offset: finite.default(0),
    divideBy: key.optional().describe('Divide by this point too (current = power / voltage)'),
    noise: z.number().nonnegative().default(0).describe('Uniform noise amplitude added, engineering units'),
    ...simBase,
  })
  .describe('value = follow · scale / divideBy + offset ± noise');

export const sumSim = z
  .strictObject({
    sum: z.array(key).min(1).describe('Points added together (total power = sum of phases)'),
    scale: finite.default(1),
    ...simBase,
  })
  .describe('value = scale · Σ sum');

export const pointSim = z
  .union([constantSim, walkSim, integralSim, flowSim, followSim, sumSim])
  .describe('How the bench simulator produces this point: exactly one model');

export const SIM_MODELS = ['constant', 'walk', 'integral', 'flow', 'follow', 'sum'] as const;

// ---------------------------------------------------------------- Modbus

export const FUNCTION_CODES = [1, 2, 3, 4] as const;
export const POINT_KINDS = ['counter', 'gauge', 'status'] as const;
export const POLL_CLASSES = ['fast', 'slow', 'once'] as const;
export const PARITIES = ['none', 'even', 'odd'] as const;

const functionCode = z
  .union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)])
  .describe('1 coils, 2 discrete inputs, 3 holding registers, 4 input registers');
const registerType = z.enum(REGISTER_TYPES);
const wordOrder = z.enum(WORD_ORDERS).describe('big: most significant word first (ABCD); little: CDAB');
const parity = z.enum(PARITIES);

export const modbusPointSchema = z.strictObject({
  key,
  address: z
    .number()
    .int()
    .min(0)
    .max(0xffff)
    .describe('0-based protocol address (register 30001 is address 0)'),
  functionCode: functionCode.optional().describe('Default: defaults.functionCode'),
  type: registerType.optional().describe('Default: defaults.type'),
  words: z
    .number()
    .int()
    .min(1)
    .max(125)
    .optional()
    .describe('Registers of a str point (2 ASCII bytes each)'),
  wordOrder: wordOrder.optional().describe('Default: defaults.wordOrder'),
  scale: finite
    .refine((s) => s !== 0, 'scale must not be 0')
    .default(1)
    .describe('engineering = raw · scale + offset'),
  offset: finite.default(0),
  unit: z.enum(UNITS).optional().describe('Default: implied by the key suffix (…V, …KWh, …C); "" for none'),
  kind: z
    .enum(POINT_KINDS)
    .default('gauge')
    .describe('counter: only grows; gauge: goes up and down; status: a code'),
  poll: z.enum(POLL_CLASSES).optional().describe('Default: defaults.poll'),
  range: range.optional(),
  nan: z
    .union([z.number(), z.array(z.number()).min(1)])
    .optional()
    .describe('Raw value(s) the device sends for "no reading", e.g. 32767 or 4294967295'),
  writable: z.boolean().default(false),
  description: z.string().optional(),
  sim: pointSim.optional(),
});

export const modbusBusSchema = z
  .strictObject({
    maxRegistersPerRead: z
      .number()
      .int()
      .min(1)
      .max(125)
      .default(125)
      .describe('Largest block one read may ask for'),
    gapFill: z
      .number()
      .int()
      .min(0)
      .max(124)
      .default(0)
      .describe('Largest hole (registers) read through when coalescing'),
    readableHoles: z.boolean().default(false).describe('May unmapped registers be read without an exception'),
    timeoutMs: z.number().int().min(1).max(60_000).default(1000),
    interFrameDelayMs: z.number().min(0).max(10_000).default(0).describe('Quiet time between transactions'),
    defaultBaud: z.number().int().positive().default(9600),
    baudRates: z.array(z.number().int().positive()).min(1).optional().describe('Default: [defaultBaud]'),
    parity: parity.default('none'),
    dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
    defaultUnitId: z.number().int().min(1).max(247).default(1),
    transports: z
      .array(z.enum(['rtu', 'tcp']))
      .min(1)
      .default(['rtu'])
      .describe('How the device can be reached'),
  })
  .describe('Bus limits and serial settings the poller must respect');

export const modbusDefaultsSchema = z.strictObject({
  functionCode: functionCode.default(4),
  type: registerType.default('u16'),
  wordOrder: wordOrder.default('big'),
  poll: z.enum(POLL_CLASSES).default('fast'),
});

export const modbusDeviceSimSchema = z.strictObject({
  turnaroundMs: z
    .tuple([z.number().min(0), z.number().min(0)])
    .default([10, 40])
    .describe('[min, max] ms between the end of a request and the start of the reply'),
  seed: z.number().int().optional().describe('Random seed for reproducible walks'),
});

const common = {
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'an id is kebab-case: lower-case letters, digits, dashes')
    .describe('Unique id; the file is profiles/<kind>/<id>.yaml'),
  vendor: z.string().min(1),
  model: z.string().min(1),
  docs: z
    .string()
    .min(1)
    .describe('Manufacturer document (name, version) the register map or figures come from'),
  description: z.string().optional(),
};

export const modbusProfileSchema = z.strictObject({
  ...common,
  kind: z.literal('modbus'),
  bus: modbusBusSchema.default(() => modbusBusSchema.parse({})),
  defaults: modbusDefaultsSchema.default(() => modbusDefaultsSchema.parse({})),
  points: z.array(modbusPointSchema).min(1),
  sim: modbusDeviceSimSchema.default(() => modbusDeviceSimSchema.parse({})),
});

// ---------------------------------------------------------------- S0 pulse meters

export const s0ProfileSchema = z.strictObject({
  ...common,
  kind: z.literal('s0'),
  pulse: z.strictObject({
    impulsesPerUnit: z.number().positive().describe('Pulses per kWh or per m³ (e.g. 1000 imp/kWh)'),
    unit: z.enum(['kWh', 'm3']),
    minPulseMs: z.number().positive().default(30).describe('Shortest ON time (IEC 62053-31: at least 30 ms)'),
    maxPulseMs: z.number().positive().default(120).describe('Longest ON time'),
  }),
  sim: z
    .strictObject({
      powerW: z.union([constantSim, walkSim]).optional().describe('For kWh meters: the load drawn'),
      flowM3H: z.union([constantSim, walkSim, flowSim]).optional().describe('For m³ meters: the water flow'),
    })
    .describe('One rate model: powerW for kWh meters, flowM3H for water meters'),
});

// ---------------------------------------------------------------- optical priority detector

export const strobeClassSchema = z.strictObject({
  name: z.enum(['emergency', 'transit']),
  hz: z.number().positive().describe('Nominal strobe frequency'),
  toleranceHz: z.number().positive().describe('Accepted ± deviation'),
});

export const opticalDetectorProfileSchema = z.strictObject({
  ...common,
  kind: z.literal('optical-detector'),
  strobe: z.strictObject({
    classes: z.array(strobeClassSchema).min(1),
    consecutivePulses: z
      .number()
      .int()
      .min(2)
      .describe('Pulses in a row at a class frequency before it counts'),
    pulseWidthMs: z.number().positive().describe('Width of one detector output pulse'),
  }),
  output: z
    .strictObject({ activeLevel: z.enum(['high', 'low']).default('high') })
    .default({ activeLevel: 'high' })
    .describe('Electrical level of a detected flash on the GPIO input'),
  sim: z
    .strictObject({
      jitterMs: z.number().min(0).default(2).describe('Uniform jitter on each flash'),
      missProbability: z.number().min(0).max(1).default(0).describe('Chance a flash is not seen'),
    })
    .default({ jitterMs: 2, missProbability: 0 }),
});

// ---------------------------------------------------------------- serial priority-request radio

export const serialRadioProfileSchema = z.strictObject({
  ...common,
  kind: z.literal('serial-radio'),
  serial: z.strictObject({
    baud: z.number().int().positive(),
    dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
    parity: parity.default('none'),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
  }),
  frame: z.enum(['brana-priority-v1']).describe('Frame format spoken on the line'),
  sim: z
    .strictObject({
      latencyMs: z.tuple([z.number().min(0), z.number().min(0)]).default([5, 30]),
      lossProbability: z.number().min(0).max(1).default(0),
    })
    .default({ latencyMs: [5, 30], lossProbability: 0 }),
});

export const deviceProfileSchema = z
  .discriminatedUnion('kind', [
    modbusProfileSchema,
    s0ProfileSchema,
    opticalDetectorProfileSchema,
    serialRadioProfileSchema,
  ])
  .describe('Brána device profile (hardware/profiles/<kind>/<id>.yaml)');

export const DEVICE_KINDS = ['modbus', 's0', 'optical-detector', 'serial-radio'] as const;
