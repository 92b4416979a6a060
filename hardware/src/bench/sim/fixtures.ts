// Small profiles built in code for the simulator tests, independent of the catalogue files.
import type { ModbusProfile } from '../../profiles/index.ts';
import { energy, modbusProfile, numeric, power, validateProfile, voltage } from '../../profiles/index.ts';

export function testMeterProfile(): ModbusProfile {
  return validateProfile(
    modbusProfile({
      id: 'test-meter',
      vendor: 'Test',
      model: 'Meter',
      docs: 'written for the bench tests',
      defaults: { functionCode: 4, type: 'f32' },
      sim: { turnaroundMs: [5, 10], seed: 7 },
      points: [
        voltage('voltageL1V', 0, { sim: { walk: { min: 225, max: 235, stepPerS: 0.5 } } }),
        numeric('currentL1A', 6, { range: [0, 100], sim: { follow: 'powerW', divideBy: 'voltageL1V' } }),
        power('powerW', 12, { sim: { walk: { min: 500, max: 3000, stepPerS: 50, start: 1000 } } }),
        energy('energyImportKWh', 72, { sim: { integral: { of: 'powerW', per: 'h', scale: 0.001 } } }),
        numeric('serialNumber', 0xfc00, {
          functionCode: 3,
          type: 'u32',
          kind: 'status',
          unit: '',
          range: [0, 99999999],
          sim: { constant: 12345678 },
        }),
        numeric('demandPeriodMin', 0x0002, {
          functionCode: 3,
          type: 'f32',
          unit: '',
          range: [5, 60],
          writable: true,
          sim: { constant: 60, set: 'store' },
        }),
        numeric('relayOn', 0, {
          functionCode: 1,
          type: 'u16',
          unit: '',
          kind: 'status',
          range: [0, 1],
          writable: true,
          sim: { constant: 0, set: 'store' },
        }),
        numeric('tamper', 0, {
          functionCode: 2,
          type: 'u16',
          unit: '',
          kind: 'status',
          range: [0, 1],
          sim: { constant: 1 },
        }),
      ],
    }),
    'fixtures.ts#test-meter',
  ) as ModbusProfile;
}

export function testWaterProfile(): ModbusProfile {
  return validateProfile(
    modbusProfile({
      id: 'test-water',
      vendor: 'Test',
      model: 'Water',
      docs: 'written for the bench tests',
      defaults: { functionCode: 3, type: 'u32' },
      points: [
        numeric('flowM3H', 0, {
          type: 'f32',
          range: [0, 20],
          sim: { flow: { baseM3H: 1.5, nightLeakM3H: 0.05 } },
        }),
        numeric('volumeM3', 2, {
          type: 'f32',
          kind: 'counter',
          range: [0, 1e9],
          sim: { integral: { of: 'flowM3H', per: 'h' } },
        }),
      ],
    }),
    'fixtures.ts#test-water',
  ) as ModbusProfile;
}
