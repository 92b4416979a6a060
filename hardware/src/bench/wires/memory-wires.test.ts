import { describe, expect, it } from 'vitest';
import { MemoryWires } from './memory-wires.ts';
import { describeWiresContract } from './wires-contract.ts';

describe('MemoryWires', () => {
  describeWiresContract(async () => {
    const bus = new MemoryWires();
    return { a: bus, b: bus, stop: () => bus.close() };
  });

  it('with declared lines rejects others and lists the known ones', async () => {
    const bus = new MemoryWires({ lines: ['sos', 's0.water'] });
    await expect(bus.set('s0.waterr', 1)).rejects.toThrow(/use one of: s0.water, sos/);
    expect(bus.lines()).toEqual(['s0.water', 'sos']);
  });
});
