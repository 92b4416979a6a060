import { loadCatalogue, MemoryWires, type S0Profile, startS0Pulses } from '@brana/hardware';
import { describe, expect, it } from 'vitest';
import { RealClock, WireGpio } from '../hal/index.ts';
import { PulseInput } from './pulse-input.ts';
import type { FieldbusRecord, ReadingRecord } from './records.ts';
import { emptyState } from './state-file.ts';

const meter = loadCatalogue().get('s0-electricity-1000') as S0Profile;

describe('PulseInput on bench wires', () => {
  it('counts S0 impulses from the pulse generator, reports energy and power, and carries the count over a restart', async () => {
    expect(meter.kind).toBe('s0');
    const wires = new MemoryWires();
    const clock = new RealClock();
    const gpio = new WireGpio(wires, { clock, kind: 'memory' });
    const state = emptyState();
    const records: FieldbusRecord[] = [];
    const sink = {
      send: (r: FieldbusRecord) => {
        records.push(r);
        return true;
      },
    };
    const open = async () =>
      new PulseInput({
        name: 'boiler',
        input: await gpio.openInput('s0.boiler', { edge: 'both' }),
        profile: meter,
        debounceMs: 20,
        clock,
        sink,
        state,
        reportMs: 60_000,
      });
    // 18 kW at 1000 imp/kWh: one 40 ms impulse every 200 ms.
    let input = await open();
    const train = startS0Pulses(wires, 's0.boiler', {
      ratePerHour: () => 18,
      impulsesPerUnit: 1000,
      pulseMs: 40,
    });
    while (train.count() < 6) await new Promise((r) => setTimeout(r, 20));
    await train.stop();
    await new Promise((r) => setTimeout(r, 60));
    input.report();
    const sent = train.count();
    expect(input.count).toBe(sent);
    expect(state.pulses.boiler).toEqual({ count: sent });
    const energy = records.find(
      (r): r is ReadingRecord => r.kind === 'reading' && r.channel === 'boiler.energyKWh',
    )!;
    expect(energy.value).toBeCloseTo(sent / 1000, 9);
    const power = records.find(
      (r): r is ReadingRecord => r.kind === 'reading' && r.channel === 'boiler.powerW',
    )!;
    // Timer jitter on a shared machine: within 25 % of 18 kW.
    expect(Math.abs((power.value as number) - 18_000)).toBeLessThan(4500);

    // Restart: a new input on the same persisted state keeps counting from where it was.
    await input.close();
    input = await open();
    const again = startS0Pulses(wires, 's0.boiler', {
      ratePerHour: () => 18,
      impulsesPerUnit: 1000,
      pulseMs: 40,
    });
    while (again.count() < 2) await new Promise((r) => setTimeout(r, 20));
    await again.stop();
    await new Promise((r) => setTimeout(r, 60));
    expect(input.count).toBe(sent + again.count());
    await input.close();
    await gpio.close();
  }, 15_000);
});
