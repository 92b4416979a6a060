import type { z } from 'zod';
import type { RegisterType, WordOrder } from '../registers/index.ts';
import type {
  constantSim,
  flowSim,
  followSim,
  integralSim,
  modbusBusSchema,
  modbusDeviceSimSchema,
  modbusPointSchema,
  modbusProfileSchema,
  opticalDetectorProfileSchema,
  pointSim,
  s0ProfileSchema,
  serialRadioProfileSchema,
  strobeClassSchema,
  sumSim,
  walkSim,
} from './schema.ts';
import type { Unit } from './units.ts';

export type PointFunctionCode = 1 | 2 | 3 | 4;
export type PointKind = 'counter' | 'gauge' | 'status';
export type PollClass = 'fast' | 'slow' | 'once';
export type DeviceKind = 'modbus' | 's0' | 'optical-detector' | 'serial-radio';

/** A point as written in a file (fields with defaults optional). Builders produce these. */
export type ModbusPointInput = z.input<typeof modbusPointSchema>;
export type DeviceProfileInput =
  | z.input<typeof modbusProfileSchema>
  | z.input<typeof s0ProfileSchema>
  | z.input<typeof opticalDetectorProfileSchema>
  | z.input<typeof serialRadioProfileSchema>;

export type PointSim = z.output<typeof pointSim>;
export type ConstantSim = z.output<typeof constantSim>;
export type WalkSim = z.output<typeof walkSim>;
export type IntegralSim = z.output<typeof integralSim>;
export type FlowSim = z.output<typeof flowSim>;
export type FollowSim = z.output<typeof followSim>;
export type SumSim = z.output<typeof sumSim>;

/** A resolved Modbus point: profile defaults applied, unit implied from the key where omitted. */
export type ModbusPoint = Omit<
  z.output<typeof modbusPointSchema>,
  'functionCode' | 'type' | 'wordOrder' | 'unit' | 'poll'
> & {
  functionCode: PointFunctionCode;
  type: RegisterType;
  wordOrder: WordOrder;
  unit: Unit;
  poll: PollClass;
};

export type ModbusBus = Omit<z.output<typeof modbusBusSchema>, 'baudRates'> & { baudRates: number[] };
export type ModbusDeviceSim = z.output<typeof modbusDeviceSimSchema>;

export type ModbusProfile = Omit<z.output<typeof modbusProfileSchema>, 'points' | 'bus'> & {
  bus: ModbusBus;
  points: ModbusPoint[];
};
export type S0Profile = z.output<typeof s0ProfileSchema>;
export type StrobeClass = z.output<typeof strobeClassSchema>;
export type OpticalDetectorProfile = z.output<typeof opticalDetectorProfileSchema>;
export type SerialRadioProfile = z.output<typeof serialRadioProfileSchema>;

/** A validated, resolved device profile. */
export type DeviceProfile = ModbusProfile | S0Profile | OpticalDetectorProfile | SerialRadioProfile;

/** Profiles by id. */
export type Catalogue = ReadonlyMap<string, DeviceProfile>;
