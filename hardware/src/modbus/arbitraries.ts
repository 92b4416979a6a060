// fast-check generators of Modbus requests and responses, shared by the protocol tests.
import fc from 'fast-check';
import type { ModbusRequest, ModbusResponse } from './pdu.ts';

const u16 = fc.integer({ min: 0, max: 0xffff });

export const arbRequest: fc.Arbitrary<ModbusRequest> = fc.oneof(
  fc
    .record({
      fc: fc.constantFrom(1 as const, 2 as const),
      quantity: fc.integer({ min: 1, max: 2000 }),
      address: u16,
    })
    .map((r) => ({ ...r, address: Math.min(r.address, 0x10000 - r.quantity) })),
  fc
    .record({
      fc: fc.constantFrom(3 as const, 4 as const),
      quantity: fc.integer({ min: 1, max: 125 }),
      address: u16,
    })
    .map((r) => ({ ...r, address: Math.min(r.address, 0x10000 - r.quantity) })),
  fc.record({ fc: fc.constant(5 as const), address: u16, value: fc.boolean() }),
  fc.record({ fc: fc.constant(6 as const), address: u16, value: u16 }),
  fc
    .record({
      fc: fc.constant(15 as const),
      address: u16,
      values: fc.array(fc.boolean(), { minLength: 1, maxLength: 1968 }),
    })
    .map((r) => ({ ...r, address: Math.min(r.address, 0x10000 - r.values.length) })),
  fc
    .record({
      fc: fc.constant(16 as const),
      address: u16,
      values: fc.array(u16, { minLength: 1, maxLength: 123 }),
    })
    .map((r) => ({ ...r, address: Math.min(r.address, 0x10000 - r.values.length) })),
);

export const arbResponse: fc.Arbitrary<ModbusResponse> = fc.oneof(
  fc.record({
    fc: fc.constantFrom(1 as const, 2 as const),
    bits: fc.array(fc.boolean(), { minLength: 1, maxLength: 2000 }),
  }),
  fc.record({
    fc: fc.constantFrom(3 as const, 4 as const),
    registers: fc.array(u16, { minLength: 1, maxLength: 125 }),
  }),
  fc.record({ fc: fc.constant(5 as const), address: u16, value: fc.boolean() }),
  fc.record({ fc: fc.constant(6 as const), address: u16, value: u16 }),
  fc.record({
    fc: fc.constantFrom(15 as const, 16 as const),
    address: u16,
    quantity: fc.integer({ min: 1, max: 1968 }),
  }),
  fc.record({
    fc: fc.constantFrom(1, 2, 3, 4, 5, 6, 15, 16, 43),
    exception: fc.constantFrom(1, 2, 3, 4, 6, 10, 11),
  }),
);
