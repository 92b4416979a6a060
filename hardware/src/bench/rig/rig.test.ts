import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILES_DIR, loadCatalogue } from '../../profiles/index.ts';
import { renderRigJsonSchema } from './json-schema.ts';
import { loadRigFile, parseRig, RigError } from './load.ts';

const catalogue = loadCatalogue();
const RIGS = join(DEFAULT_PROFILES_DIR, '..', 'rigs');

function issuesOf(text: string): string {
  try {
    parseRig(text, catalogue, 'bad.yaml');
  } catch (e) {
    if (e instanceof RigError) return e.describeAll();
    throw e;
  }
  throw new Error('rig was accepted');
}

describe('rig files', () => {
  it('every rig in hardware/rigs is valid against the catalogue', () => {
    const files = readdirSync(RIGS).filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['school.yaml', 'care-home.yaml', 'meters-tcp.yaml']));
    for (const f of files) expect(loadRigFile(join(RIGS, f), catalogue).name).toBe(f.replace(/\.yaml$/, ''));
  });

  it('names the file, line, path and fix of an unknown profile', () => {
    const text = [
      'name: x',
      'buses:',
      '  - type: rtu',
      '    name: ttyA',
      '    devices:',
      '      - { profile: eastron-sdm999, unit: 1 }',
    ].join('\n');
    expect(issuesOf(text)).toMatch(
      /^bad\.yaml:6:\d+: buses\[0\]\.devices\[0\]\.profile: no device profile "eastron-sdm999"\. Fix: use one of: .*eastron-sdm630/,
    );
  });

  it('rejects duplicate unit ids, a baud a device cannot do, a misspelt key and an S0 line with a Modbus profile', () => {
    const text = [
      'name: x',
      'buses:',
      '  - type: rtu',
      '    name: ttyA',
      '    baud: 19200',
      '    devices:',
      '      - { profile: eastron-sdm120, unit: 2 }',
      '      - { profile: eastron-sdm630, unit: 2 }',
      'wires:',
      '  s0:',
      '    - { line: s0.a, profile: eastron-sdm630 }',
    ].join('\n');
    const all = issuesOf(text);
    expect(all).toMatch(/buses\[0\]\.devices\[1\]\.unit: unit id 2 is used twice on bus ttyA/);
    expect(all).toMatch(
      /buses\[0\]\.baud: eastron-sdm120 \(unit 2\) cannot run at 19200 Bd\. Fix: .*supports 1200, 2400, 4800, 9600/,
    );
    expect(all).toMatch(
      /wires\.s0\[0\]\.profile: profile "eastron-sdm630" is a modbus device, not an S0 meter/,
    );
    expect(issuesOf('name: x\nbusses: []\n')).toMatch(/bad\.yaml:2:1: busses: unknown field "busses"/);
  });

  it('rejects a unit id outside 1-247 and bad YAML with its line', () => {
    const text =
      'name: x\nbuses:\n  - { type: tcp, name: t, port: 0, devices: [{ profile: eastron-sdm630, unit: 300 }] }\n';
    expect(issuesOf(text)).toMatch(
      /^bad\.yaml:3:\d+: buses\[0\]\.devices\[0\]\.unit: 300 is too big\. Fix: use at most 247$/m,
    );
    expect(issuesOf('name: x\nbuses:\n  - { type: tcp, name: t, port: "abc", devices: [] }\n')).toMatch(
      /buses\[0\]\.port: expected number, got "abc"\. Fix: set port to a number/,
    );
    expect(issuesOf('name: [x\n')).toMatch(/^bad\.yaml:\d+:\d+: not valid YAML/);
    expect(issuesOf('name: *nothing\n')).toMatch(
      /^bad\.yaml: not valid YAML: .*alias.*Fix: define the anchor/i,
    );
  });

  it('reports a missing file in one line', () => {
    expect(() => loadRigFile('/nonexistent/rig.yaml', catalogue)).toThrow(
      /rig.yaml: cannot read the file \(ENOENT\)\. Fix: check the path; rigs live in hardware\/rigs\//,
    );
  });
});

describe('rig parser on arbitrary input', () => {
  it('either returns a rig or throws a RigError naming the file; never anything else', () => {
    const fragments = [
      'name: x',
      'buses:',
      '  - type: rtu',
      '    name: a',
      '    devices: []',
      'wires: {}',
      ': :',
      '- [',
      'port: -1',
      '\t',
    ];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 20 })), { maxLength: 8 }),
        (parts) => {
          try {
            parseRig(parts.join('\n'), catalogue, 'fuzz.yaml');
          } catch (e) {
            expect(e).toBeInstanceOf(RigError);
            expect((e as RigError).message).toMatch(/^fuzz\.yaml/);
            expect((e as RigError).message).toMatch(/Fix: /);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('rig JSON Schema', () => {
  it('the committed rigs/rig.schema.json matches the zod schema', () => {
    const file = join(RIGS, 'rig.schema.json');
    const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
    // On failure regenerate: npx brana-bench rig-schema > hardware/rigs/rig.schema.json
    expect(committed).toBe(renderRigJsonSchema());
  });
});
