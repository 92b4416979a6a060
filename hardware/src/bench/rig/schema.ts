// The rig file format (hardware/rigs/*.yaml): which simulated buses, devices and wire lines a bench runs.

import { z } from 'zod';
import { FAULT_KINDS } from '../modbus-sim/faults.ts';

const name = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'use letters, digits and _ . - (up to 64, no spaces or slashes)',
  )
  .describe('Name of a bus: also the pty link name of an RTU bus');
const lineName = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'use 1-64 letters, digits and _ . : -')
  .describe('Name of a simulated GPIO line, e.g. s0.water or sos');

export const faultSchema = z
  .strictObject({
    kind: z.enum(FAULT_KINDS).describe('timeout | badCrc | exception | partial | delay | close (TCP)'),
    probability: z.number().min(0).max(1).default(1).describe('Chance per request'),
    code: z
      .union([z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(6)])
      .optional()
      .describe('For exception'),
    delayMs: z.number().min(0).max(60_000).optional().describe('For delay'),
  })
  .describe('A fault the device shows on requests');

export const rigDeviceSchema = z.strictObject({
  profile: z
    .string()
    .min(1)
    .describe('Device profile id from hardware/profiles (brana-bench profiles lists them)'),
  unit: z.number().int().min(1).max(247).describe('Modbus unit id 1-247'),
  name: z.string().min(1).optional().describe('What the device is, e.g. "main meter"'),
  faults: z.array(faultSchema).default([]),
});

export const rtuBusSchema = z.strictObject({
  type: z.literal('rtu'),
  name,
  baud: z.number().int().positive().default(9600),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  devices: z.array(rigDeviceSchema).min(1),
});

export const tcpBusSchema = z.strictObject({
  type: z.literal('tcp'),
  name,
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).describe('0 takes any free port'),
  framing: z
    .enum(['mbap', 'rtu'])
    .default('mbap')
    .describe('mbap: Modbus TCP; rtu: RTU frames over TCP, as a serial server in transparent mode'),
  devices: z.array(rigDeviceSchema).min(1),
});

export const s0LineSchema = z.strictObject({
  line: lineName,
  profile: z.string().min(1).describe('An s0 device profile id'),
  pulseMs: z.number().min(30).max(100).optional().describe('Impulse ON time; default from the profile'),
});

export const strobeSchema = z.strictObject({
  line: lineName,
  hz: z.number().positive().max(100).describe('Flash frequency: about 14 emergency, 10 transit'),
  pulses: z.number().int().min(1).describe('Flashes per burst'),
  everyS: z.number().positive().optional().describe('Repeat the burst this often; default once'),
  startAfterS: z.number().min(0).default(1),
  pulseMs: z.number().positive().default(10),
});

export const rigSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    seed: z.number().int().optional().describe('Seed of every random walk and fault'),
    buses: z.array(z.discriminatedUnion('type', [rtuBusSchema, tcpBusSchema])).default([]),
    wires: z
      .strictObject({
        lines: z.array(lineName).default([]).describe('Lines other processes drive or read (inputs, relays)'),
        s0: z.array(s0LineSchema).default([]),
        strobes: z.array(strobeSchema).default([]),
      })
      .default({ lines: [], s0: [], strobes: [] }),
  })
  .describe('Brána bench rig (hardware/rigs/<name>.yaml)');

export type Rig = z.output<typeof rigSchema>;
export type RigDevice = z.output<typeof rigDeviceSchema>;
export type RtuBusConfig = z.output<typeof rtuBusSchema>;
export type TcpBusConfig = z.output<typeof tcpBusSchema>;
