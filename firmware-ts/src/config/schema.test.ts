import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gatewayConfigJsonSchema } from './json-schema.ts';
import { formatPath, loadGatewayConfigFile, validateGatewayConfig } from './validate.ts';

function publicKeyB64url(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32).toString('base64url');
}

function intersection() {
  return {
    name: 'Křižovatka Palackého',
    preemption: {
      intersectionId: 4101,
      approaches: [
        { id: 'north', number: 1, output: 'relay-n', readback: 'rb-n' },
        { id: 'east', number: 2, output: 'relay-e', readback: 'rb-e' },
        { id: 'south', number: 3, output: 'relay-s', readback: 'rb-s' },
        { id: 'west', number: 4, output: 'relay-w', readback: 'rb-w' },
      ],
      conflicts: {
        north: ['east', 'west'],
        south: ['east', 'west'],
        east: ['north', 'south'],
        west: ['north', 'south'],
      },
      heartbeat: { output: 'heartbeat' },
      vehicleKeys: [{ id: 'ambulance-7', publicKey: publicKeyB64url(), roles: ['ambulance'] }],
    },
  };
}

function building() {
  return {
    name: 'ZŠ Komenského',
    buses: [{ name: 'rs485', type: 'rtu', path: '/dev/ttyUSB0', baud: 9600 }],
    devices: [
      { name: 'main', bus: 'rs485', unit: 1, profile: 'eastron-sdm630' },
      { name: 'gym', bus: 'rs485', unit: 2, profile: 'eastron-sdm120' },
    ],
  };
}

const profiles = new Set(['eastron-sdm630', 'eastron-sdm120']);

function errorsOf(doc: unknown, knownProfiles?: Set<string>) {
  const r = validateGatewayConfig(doc, knownProfiles ? { knownProfiles } : {});
  if (r.ok) throw new Error('expected the config to be rejected');
  return r.errors;
}

describe('gateway config', () => {
  it('accepts an intersection and a building and fills defaults', () => {
    const r = validateGatewayConfig(intersection());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.preemption?.timing.holdMaxS).toBe(120);
    expect(r.config.preemption?.timing.updateTimeoutS).toBe(3);
    expect(r.config.preemption?.timing.freshnessS).toBe(2);
    const b = validateGatewayConfig(building(), { knownProfiles: profiles });
    expect(b.ok).toBe(true);
  });

  it('rejects overlapping outputs with the path of the second user', () => {
    const doc = intersection();
    doc.preemption.approaches[2]!.output = 'relay-n';
    const errors = errorsOf(doc);
    expect(errors.map((e) => e.path)).toContain('preemption.approaches[2].output');
    expect(errors.find((e) => e.path === 'preemption.approaches[2].output')?.fix).toMatch(/own line/);
  });

  it('rejects an approach without a conflict entry', () => {
    const doc = intersection();
    delete (doc.preemption.conflicts as Record<string, string[]>).west;
    const errors = errorsOf(doc);
    const e = errors.find((x) => x.path === 'preemption.conflicts.west');
    expect(e?.message).toMatch(/approach "west".*no conflict entry/);
    expect(e?.fix).toMatch(/conflicts\.west/);
  });

  it('rejects an asymmetric conflict matrix', () => {
    const doc = intersection();
    doc.preemption.conflicts.east = ['north'];
    const errors = errorsOf(doc);
    expect(errors.map((e) => e.path)).toContain('preemption.conflicts.east');
  });

  it('rejects a malformed vehicle key', () => {
    const doc = intersection();
    doc.preemption.vehicleKeys[0]!.publicKey = 'not-a-key';
    const errors = errorsOf(doc);
    expect(errors[0]?.path).toBe('preemption.vehicleKeys[0].publicKey');
    expect(errors[0]?.fix).toMatch(/base64url/);
  });

  it('relays are owned by rules unless the config gives them to flows; a flows relay has no rules', () => {
    const doc = {
      name: 'care home',
      alarms: [{ name: 'sos', line: 'GPIO5' }],
      relays: [
        { name: 'light', line: 'GPIO20', rules: [{ when: 'sos' }] },
        { name: 'corridor', line: 'GPIO21', owner: 'flows' },
      ],
    };
    const r = validateGatewayConfig(doc);
    expect(r.ok && r.config.relays.map((x) => x.owner)).toEqual(['rules', 'flows']);
    const both = errorsOf({
      ...doc,
      relays: [{ name: 'light', line: 'GPIO20', owner: 'flows', rules: [{ when: 'sos' }] }],
    });
    expect(both).toEqual([
      {
        path: 'relays[0].rules',
        message: 'relay "light" is owned by flows and also has rules',
        fix: 'remove its rules (flows switch it), or set owner: rules',
      },
    ]);
    const owner = errorsOf({ ...doc, relays: [{ name: 'x', line: 'GPIO20', owner: 'nodered' }] });
    expect(owner[0]).toMatchObject({ path: 'relays[0].owner', fix: 'use one of: "rules", "flows"' });
    // A relay cannot sit on a preemption output's line: the line claim says whose it is.
    const onOutput = intersection() as Record<string, unknown>;
    onOutput.relays = [{ name: 'sneaky', line: 'relay-n', owner: 'flows' }];
    const claimed = errorsOf(onOutput);
    expect(claimed.map((e) => e.path)).toContain('preemption.approaches[0].output');
  });

  it('rejects two devices at one address on one bus, and an unknown profile', () => {
    const doc = building();
    doc.devices[1]!.unit = 1;
    doc.devices.push({ name: 'co2', bus: 'rs485', unit: 9, profile: 'acme-unknown' });
    const errors = errorsOf(doc, profiles);
    expect(errors.map((e) => e.path).sort()).toEqual(['devices[1].unit', 'devices[2].profile']);
  });

  it('names unknown fields and wrong types with their path', () => {
    const doc = { ...building(), telemetry: { uploadIntervalS: 'often', colour: 'red' } };
    const errors = errorsOf(doc);
    expect(errors.map((e) => e.path).sort()).toEqual(['telemetry', 'telemetry.uploadIntervalS']);
    expect(errors.find((e) => e.path === 'telemetry')?.message).toMatch(/colour/);
  });

  it('reports YAML syntax errors with line and column, and a missing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brana-config-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'name: x\nbuses: [\n  - {name: a\n');
    const r = await loadGatewayConfigFile(file);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.message).toMatch(/line \d+, column \d+/);
    const missing = await loadGatewayConfigFile(join(dir, 'nope.yaml'));
    expect(!missing.ok && missing.errors[0]?.message).toMatch(/file not found/);
  });

  it('formats any path as dotted names with indices', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat(99), fc.stringMatching(/^[a-z]{1,6}$/)), { maxLength: 6 }),
        (path) => {
          const s = formatPath(path);
          const rebuilt = [...s.matchAll(/([a-z]+)|\[(\d+)\]/g)].map((m) =>
            m[2] !== undefined ? Number(m[2]) : m[1],
          );
          expect(rebuilt).toEqual(path);
        },
      ),
    );
  });

  it('generates a JSON Schema that lists the top-level sections', () => {
    const schema = gatewayConfigJsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['buses', 'devices', 'preemption', 'alarms', 'relays', 'telemetry', 'flows']),
    );
  });
});
