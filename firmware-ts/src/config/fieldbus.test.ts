import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateGatewayConfig } from './validate.ts';

const profiles = new Set(['eastron-sdm630', 'eastron-sdm120', 's0-water-10l']);

function school() {
  return {
    name: 'ZŠ Komenského',
    buses: [
      { name: 'rs485', type: 'rtu', path: '/dev/serial/by-id/usb-FTDI_FT232R-if00-port0', baud: 9600 },
      { name: 'lan', type: 'tcp', host: '10.0.0.5', maxInFlight: 2 },
    ],
    devices: [
      { name: 'main', bus: 'rs485', unit: 1, profile: 'eastron-sdm630' },
      { name: 'gym', bus: 'rs485', unit: 2, profile: 'eastron-sdm120', pollFastMs: 2000, pollSlowMs: 30_000 },
      { name: 'kitchen', bus: 'lan', unit: 1, profile: 'eastron-sdm120' },
    ] as Record<string, unknown>[],
    pulses: [{ name: 'water', line: 's0.water', profile: 's0-water-10l' }] as Record<string, unknown>[],
  };
}

function problems(doc: unknown) {
  const r = validateGatewayConfig(doc, { knownProfiles: profiles });
  return r.ok ? [] : r.errors;
}

describe('fieldbus config', () => {
  it('accepts a building with an RTU and a TCP bus and fills the defaults', () => {
    const r = validateGatewayConfig(school(), { knownProfiles: profiles });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.devices[0]).toMatchObject({ pollFastMs: 1000, pollSlowMs: 60_000 });
    expect(r.config.buses[0]).toMatchObject({ parity: 'none', stopBits: 1, dataBits: 8 });
    expect(r.config.pulses[0]).toMatchObject({ debounceMs: 20 });
  });

  it('the same unit id on two different buses is fine', () => {
    // main (rs485, 1) and kitchen (lan, 1) share a unit id on separate buses.
    expect(problems(school())).toEqual([]);
  });

  it('rejects a broadcast or reserved unit on RTU, with the path and the allowed range', () => {
    const doc = school();
    doc.devices[1]!.unit = 0;
    doc.devices.push({ name: 'x', bus: 'rs485', unit: 250, profile: 'eastron-sdm120' });
    const errors = problems(doc);
    expect(errors.map((e) => e.path)).toEqual(['devices[1].unit', 'devices[3].unit']);
    expect(errors[0]!.fix).toMatch(/1-247/);
  });

  it('rejects a slow period shorter than the fast one', () => {
    const doc = school();
    doc.devices[1]!.pollSlowMs = 1500;
    expect(problems(doc)).toEqual([
      expect.objectContaining({ path: 'devices[1].pollSlowMs', fix: 'make pollSlowMs at least pollFastMs' }),
    ]);
  });

  it('rejects two pulse inputs on one line, a pulse named like a device, and an unknown pulse profile', () => {
    const doc = school();
    doc.pulses.push({ name: 'main', line: 's0.water', profile: 's0-gas-meter' });
    const errors = problems(doc);
    expect(errors.map((e) => e.path).sort()).toEqual([
      'pulses[1].line',
      'pulses[1].name',
      'pulses[1].profile',
    ]);
  });

  it('rejects an unknown bus and names the buses there are', () => {
    const doc = school();
    doc.devices[2]!.bus = 'rs232';
    const e = problems(doc);
    expect(e).toEqual([expect.objectContaining({ path: 'devices[2].bus', fix: 'use one of: rs485, lan' })]);
  });

  it('property: any two devices at one (bus, unit) are refused at the later one, and only there', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 247 }), { minLength: 2, maxLength: 12 }),
        fc.nat(),
        fc.nat(),
        (units, a, b) => {
          const i = a % units.length;
          const j = b % units.length;
          fc.pre(i !== j);
          const [first, second] = i < j ? [i, j] : [j, i];
          const doc = {
            name: 'g',
            buses: [{ name: 'rs485', type: 'rtu', path: '/dev/ttyUSB0' }],
            devices: units.map((u, k) => ({
              name: `d${k}`,
              bus: 'rs485',
              unit: k === second ? units[first] : u,
              profile: 'eastron-sdm120',
            })),
          };
          const errors = problems(doc);
          expect(errors.map((e) => e.path)).toEqual([`devices[${second}].unit`]);
          expect(errors[0]!.message).toContain(`devices[${first}]`);
        },
      ),
    );
  });

  it('defaults a TCP bus to the firmware master with a bounded connection attempt', () => {
    const r = validateGatewayConfig(school(), { knownProfiles: profiles });
    expect(r.ok && r.config.buses[1]).toMatchObject({ driver: 'brana', connectTimeoutMs: 3000, port: 502 });
    expect(r.ok && r.config.profileDirs).toEqual([]);
  });

  it('takes an RTU device through a TCP gateway or an RTU-over-TCP converter, at an RTU address', () => {
    const doc = school();
    doc.devices[2]!.transport = 'tcp-gateway';
    doc.devices[2]!.timeoutMs = 1500;
    expect(problems(doc)).toEqual([]);
    doc.devices[2]!.unit = 0;
    expect(problems(doc)).toEqual([
      expect.objectContaining({ path: 'devices[2].unit', fix: 'use its slave address 1-247' }),
    ]);
  });

  it('refuses transport on an RTU line, and a converter bus where not every device speaks RTU frames', () => {
    const doc = school();
    doc.devices[0]!.transport = 'tcp-gateway';
    doc.devices[2]!.transport = 'rtu-over-tcp';
    doc.devices.push({ name: 'annex', bus: 'lan', unit: 2, profile: 'eastron-sdm120' });
    const errors = problems(doc);
    expect(errors.map((e) => e.path)).toEqual([
      'devices[0].transport',
      'buses[1].maxInFlight',
      'devices[3].transport',
    ]);
    expect(errors[0]!.fix).toBe('remove transport');
    expect(errors[1]!.fix).toBe('set maxInFlight to 1');
    expect(errors[2]!.message).toMatch(
      /bus "lan" carries RTU frames \(devices\[2\] has transport rtu-over-tcp\)/,
    );
    expect(errors[2]!.fix).toMatch(/set transport: rtu-over-tcp here too/);
  });
});
