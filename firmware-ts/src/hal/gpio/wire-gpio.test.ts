import { MemoryWires } from '@brana/hardware';
import { describe, expect, it } from 'vitest';
import { GpioError } from '../../errors.ts';
import { VirtualClock } from '../clock/virtual-clock.ts';
import { describeDigitalInputContract, describeDigitalOutputContract } from '../contracts/gpio.contract.ts';
import { WireGpio } from './wire-gpio.ts';

function memoryRig() {
  const clock = new VirtualClock();
  const wires = new MemoryWires();
  const gpio = new WireGpio(wires, { clock, kind: 'memory', ownsBus: true });
  return {
    clock,
    wires,
    gpio,
    waitUntil: (done: () => boolean, limitMs: number) => clock.runUntilAsync(done, limitMs),
    dispose: () => gpio.close(),
  };
}

describeDigitalInputContract('memory wires', async () => {
  const rig = memoryRig();
  return {
    ...rig,
    open: (options) => rig.gpio.openInput('detector.a', options),
    // Stamp edges with the virtual clock, as a kernel would stamp them with its own.
    drive: async (level) => {
      rig.wires.setAt('detector.a', level, rig.clock.monotonicNs());
    },
  };
});

describeDigitalOutputContract('memory wires', async () => {
  const rig = memoryRig();
  return {
    ...rig,
    open: (options) => rig.gpio.openOutput(17, options),
    physical: () => rig.wires.read('gpio17'),
  };
});

describe('WireGpio', () => {
  it('names a bad line and says what to do', async () => {
    const rig = memoryRig();
    await expect(rig.gpio.openInput('no spaces allowed')).rejects.toThrow(GpioError);
    await expect(rig.gpio.openInput('no spaces allowed')).rejects.toThrow(
      /no spaces allowed.*Fix: check the line name/,
    );
  });

  it('an output on a bus that went away fails on the next write, not silently', async () => {
    const rig = memoryRig();
    const out = await rig.gpio.openOutput('relay.1');
    await rig.wires.close();
    out.write(1);
    await new Promise((r) => setImmediate(r));
    expect(() => out.write(0)).toThrow(/relay\.1.*refused a write.*Fix:/);
    await out.close();
  });

  it('an input keeps edges that arrive while it opens', async () => {
    const rig = memoryRig();
    rig.wires.setAt('door', 0, 0n);
    const opening = rig.gpio.openInput('door');
    rig.wires.setAt('door', 1, 5n);
    const input = await opening;
    expect(input.read()).toBe(1);
    await input.close();
  });
});
