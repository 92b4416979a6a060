import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProfileError } from '../errors.ts';
import { energy, modbusProfile, power, temperature } from './builders.ts';
import {
  checkCatalogue,
  DEFAULT_PROFILES_DIR,
  loadCatalogue,
  loadProfileFile,
  parseProfile,
  validateProfile,
} from './loader.ts';

const base = `id: test-meter
vendor: Test
model: T1
docs: test sheet v1
kind: modbus
defaults: { functionCode: 4, type: f32 }
`;

function issuesOf(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
    return e as ProfileError;
  }
  throw new Error('expected a ProfileError');
}

describe('parseProfile', () => {
  it('resolves defaults and implies units from keys', () => {
    const p = parseProfile(
      `${base}points:\n  - { key: powerW, address: 0, range: [0, 100] }\n  - { key: energyImportKWh, address: 2, type: u32, wordOrder: little, scale: 0.1, kind: counter, range: [0, 1000] }\n`,
    );
    expect(p.kind).toBe('modbus');
    if (p.kind !== 'modbus') return;
    expect(p.points[0]).toMatchObject({
      key: 'powerW',
      functionCode: 4,
      type: 'f32',
      wordOrder: 'big',
      unit: 'W',
      scale: 1,
      offset: 0,
      poll: 'fast',
      kind: 'gauge',
      writable: false,
    });
    expect(p.points[1]).toMatchObject({ type: 'u32', wordOrder: 'little', unit: 'kWh', scale: 0.1 });
    expect(p.bus).toMatchObject({
      maxRegistersPerRead: 125,
      baudRates: [9600],
      defaultBaud: 9600,
      parity: 'none',
    });
    expect(p.sim.turnaroundMs).toEqual([10, 40]);
  });

  it('names file, path, line and fix for a wrong type', () => {
    const e = issuesOf(() =>
      parseProfile(
        `${base}points:\n  - key: powerW\n    address: "twelve"\n    range: [0, 1]\n`,
        'meter.yaml',
      ),
    );
    expect(e.file).toBe('meter.yaml');
    expect(e.path).toBe('points[0].address');
    expect(e.issues[0]).toMatchObject({
      line: 9,
      message: 'expected number, got "twelve"',
      fix: 'set address to a number',
    });
    expect(e.message).toBe(
      'meter.yaml:9:5: points[0].address: expected number, got "twelve". Fix: set address to a number',
    );
    expect(e.code).toBe('PROFILE_INVALID');
  });

  it('points at a misspelt key', () => {
    const e = issuesOf(() =>
      parseProfile(`${base}points:\n  - key: powerW\n    adress: 3\n    range: [0, 1]\n`, 'm.yaml'),
    );
    const paths = e.issues.map((i) => i.path);
    expect(paths).toContain('points[0].adress');
    expect(paths).toContain('points[0].address');
    const unknown = e.issues.find((i) => i.path === 'points[0].adress')!;
    expect(unknown).toMatchObject({ message: 'unknown field "adress"', line: 9, column: 5 });
  });

  it('lists allowed values for an enum', () => {
    const e = issuesOf(() =>
      parseProfile(`${base}points:\n  - { key: powerW, address: 0, type: float, range: [0, 1] }\n`),
    );
    expect(e.path).toBe('points[0].type');
    expect(e.fix).toMatch(/use one of "u16", "i16", "u32"/);
  });

  it('explains an unknown device kind', () => {
    const e = issuesOf(() => parseProfile('id: x\nvendor: v\nmodel: m\ndocs: d\nkind: zigbee\n'));
    expect(e.path).toBe('kind');
    expect(e.fix).toBe('set kind to one of modbus, s0, optical-detector, serial-radio');
    expect(e.issues[0]!.line).toBe(5);
  });

  it('reports the sim model the author meant', () => {
    const e = issuesOf(() =>
      parseProfile(
        `${base}points:\n  - { key: powerW, address: 0, range: [0, 9], sim: { walk: { min: 1, max: 5 } } }\n`,
      ),
    );
    expect(e.path).toBe('points[0].sim.walk.stepPerS');
    expect(e.message).toMatch(/missing required field "stepPerS"/);
    const e2 = issuesOf(() =>
      parseProfile(`${base}points:\n  - { key: powerW, address: 0, range: [0, 9], sim: { wobble: 3 } }\n`),
    );
    expect(e2.path).toBe('points[0].sim');
    expect(e2.fix).toMatch(/exactly one of \{ constant: … \}, \{ walk: … \}/);
  });

  it('reports YAML syntax errors with their line', () => {
    const e = issuesOf(() => parseProfile('id: x\nvendor: [unclosed\nmodel: m\n', 'bad.yaml'));
    expect(e.message).toMatch(/^bad\.yaml:\d+:\d+: not valid YAML/);
  });

  it('reports an alias to a missing anchor as a profile error, not a crash', () => {
    const err = (() => {
      try {
        parseProfile('id: *x\n', 'alias.yaml');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ProfileError);
    expect((err as ProfileError).message).toMatch(/alias\.yaml/);
    expect((err as ProfileError).fix).toMatch(/anchor/);
  });

  it('rejects duplicate YAML keys', () => {
    const e = issuesOf(() => parseProfile(`${base}id: again\npoints: []\n`));
    expect(e.message).toMatch(/not valid YAML/);
  });
});

describe('invariants', () => {
  const pts = (yaml: string) => `${base}points:\n${yaml}`;
  it('overlapping registers within one function code', () => {
    const e = issuesOf(() =>
      parseProfile(
        pts(
          '  - { key: powerW, address: 0, range: [0, 1] }\n  - { key: voltageV, address: 1, range: [0, 1] }\n',
        ),
      ),
    );
    expect(e.path).toBe('points[1].address');
    expect(e.message).toMatch(
      /voltageV at 1 overlaps powerW \(points\[0\], registers 0\.\.1\) on function code 4/,
    );
  });
  it('the same address on different function codes is fine', () => {
    expect(() =>
      parseProfile(
        pts(
          '  - { key: powerW, address: 0, range: [0, 1] }\n  - { key: voltageV, address: 0, functionCode: 3, range: [0, 1] }\n',
        ),
      ),
    ).not.toThrow();
  });
  it('duplicate keys', () => {
    const e = issuesOf(() =>
      parseProfile(
        pts(
          '  - { key: powerW, address: 0, range: [0, 1] }\n  - { key: powerW, address: 2, range: [0, 1] }\n',
        ),
      ),
    );
    expect(e.message).toMatch(/points\[1\]\.key: key "powerW" is already used by points\[0\]/);
  });
  it('writable points need a setter and a writable function code', () => {
    const e = issuesOf(() =>
      parseProfile(
        pts(
          '  - { key: setpointC, address: 0, functionCode: 3, writable: true, range: [0, 30], sim: { constant: 20 } }\n',
        ),
      ),
    );
    expect(e.path).toBe('points[0].sim');
    expect(e.fix).toMatch(/set: store/);
    expect(() =>
      parseProfile(
        pts(
          '  - { key: setpointC, address: 0, functionCode: 3, writable: true, range: [0, 30], sim: { constant: 20, set: store } }\n',
        ),
      ),
    ).not.toThrow();
    const ro = issuesOf(() =>
      parseProfile(
        pts(
          '  - { key: setpointC, address: 0, writable: true, range: [0, 30], sim: { constant: 20, set: store } }\n',
        ),
      ),
    );
    expect(ro.path).toBe('points[0].writable');
  });
  it('ranges must be plausible and fit the type', () => {
    expect(
      issuesOf(() => parseProfile(pts('  - { key: powerW, address: 0, range: [5, 5] }\n'))).message,
    ).toMatch(/range \[5, 5\] is empty/);
    const e = issuesOf(() =>
      parseProfile(pts('  - { key: temperatureC, address: 0, type: i16, scale: 0.1, range: [-40, 5000] }\n')),
    );
    expect(e.message).toMatch(/needs raw values -400\.\.50000, outside type i16/);
    expect(issuesOf(() => parseProfile(pts('  - { key: powerW, address: 0 }\n'))).path).toBe(
      'points[0].range',
    );
  });
  it('registerCount must fit the bus limit', () => {
    const text = `${base}bus: { maxRegistersPerRead: 4 }\npoints:\n  - { key: serialNumber, address: 0, type: str, words: 8 }\n`;
    expect(issuesOf(() => parseProfile(text)).message).toMatch(
      /spans 8 registers, more than bus\.maxRegistersPerRead 4/,
    );
  });
  it('units must match key suffixes', () => {
    const e = issuesOf(() => parseProfile(pts('  - { key: power, address: 0, unit: W, range: [0, 1] }\n')));
    expect(e.fix).toMatch(/rename it to end with W/);
  });
  it('sim references must exist and not loop', () => {
    expect(
      issuesOf(() =>
        parseProfile(pts('  - { key: currentA, address: 0, range: [0, 1], sim: { follow: powrW } }\n')),
      ).message,
    ).toMatch(/refers to "powrW"/);
    const loop = issuesOf(() =>
      parseProfile(
        pts(
          '  - { key: currentA, address: 0, range: [0, 1], sim: { follow: powerW } }\n  - { key: powerW, address: 2, range: [0, 1], sim: { follow: currentA } }\n',
        ),
      ),
    );
    expect(loop.message).toMatch(/cycle: currentA → powerW → currentA/);
  });
  it('gapFill needs readable holes', () => {
    const text = `${base}bus: { gapFill: 4 }\npoints:\n  - { key: powerW, address: 0, range: [0, 1] }\n`;
    expect(issuesOf(() => parseProfile(text)).path).toBe('bus.gapFill');
  });
  it('collects every issue, not just the first', () => {
    const e = issuesOf(() =>
      parseProfile(pts('  - { key: powerW, address: 0 }\n  - { key: powerW, address: 1 }\n')),
    );
    expect(e.issues.length).toBeGreaterThanOrEqual(3);
    expect(e.describeAll().split('\n')).toHaveLength(e.issues.length);
  });
});

describe('builders', () => {
  it('build profiles that validate, with short definitions', () => {
    const p = validateProfile(
      modbusProfile({
        id: 'built',
        vendor: 'Test',
        model: 'B',
        docs: 'none',
        points: [
          temperature(1),
          power('powerW', 10, { type: 'i32' }),
          energy('energyKWh', 12, { type: 'u32', scale: 0.01 }),
        ],
      }),
    );
    if (p.kind !== 'modbus') throw new Error('kind');
    expect(p.points.map((pt) => [pt.key, pt.unit, pt.type])).toEqual([
      ['temperatureC', '°C', 'i16'],
      ['powerW', 'W', 'i32'],
      ['energyKWh', 'kWh', 'u32'],
    ]);
    expect(p.points[2]).toMatchObject({ kind: 'counter', poll: 'slow' });
  });
});

describe('catalogue loading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'brana-profiles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const good = `${base}points:\n  - { key: powerW, address: 0, range: [0, 1] }\n`;

  it('loads profiles by id, skips _template files, and checks file placement', () => {
    mkdirSync(join(dir, 'modbus'));
    writeFileSync(join(dir, 'modbus', 'test-meter.yaml'), good);
    writeFileSync(join(dir, '_template.yaml'), 'not: a profile\n');
    expect([...loadCatalogue(dir).keys()]).toEqual(['test-meter']);
    writeFileSync(join(dir, 'modbus', 'misplaced.yaml'), good.replace('test-meter', 'other-meter'));
    const check = checkCatalogue(dir);
    expect(check.profiles.size).toBe(1);
    expect(check.errors).toHaveLength(1);
    expect(check.errors[0]!.message).toMatch(
      /profile other-meter of kind modbus is not at modbus\/other-meter\.yaml/,
    );
    expect(() => loadCatalogue(dir)).toThrow(ProfileError);
  });

  it('a missing file is a ProfileError that names it', () => {
    expect(() => loadProfileFile(join(dir, 'nope.yaml'))).toThrow(
      /nope\.yaml: cannot read the file \(ENOENT\)/,
    );
  });
});

describe('extra profile directories (profiles of a site)', () => {
  const site = mkdtempSync(join(tmpdir(), 'brana-site-profiles-'));
  afterAll(() => rmSync(site, { recursive: true, force: true }));
  const good = (id: string) =>
    `${base.replace('test-meter', id)}points:\n  - { key: powerW, address: 0, range: [0, 1] }\n`;

  it('adds them to the built-in catalogue, as <id>.yaml or <kind>/<id>.yaml', () => {
    mkdirSync(join(site, 'a'));
    writeFileSync(join(site, 'a', 'pump-meter.yaml'), good('pump-meter'));
    mkdirSync(join(site, 'b', 'modbus'), { recursive: true });
    writeFileSync(join(site, 'b', 'modbus', 'boiler-meter.yaml'), good('boiler-meter'));
    const catalogue = loadCatalogue(DEFAULT_PROFILES_DIR, [join(site, 'a'), join(site, 'b')]);
    expect(catalogue.get('pump-meter')?.kind).toBe('modbus');
    expect(catalogue.get('boiler-meter')?.kind).toBe('modbus');
    expect(catalogue.get('eastron-sdm630')?.kind).toBe('modbus');
  });

  it('a bad profile there names the file, its line and the path inside it', () => {
    mkdirSync(join(site, 'bad'));
    writeFileSync(
      join(site, 'bad', 'odd-meter.yaml'),
      `${base.replace('test-meter', 'odd-meter')}points:\n  - { key: powerW, address: twelve }\n`,
    );
    const check = checkCatalogue(DEFAULT_PROFILES_DIR, [join(site, 'bad')]);
    expect(check.errors).toHaveLength(1);
    expect(check.errors[0]!.message).toMatch(
      /bad\/odd-meter\.yaml:8:\d+: points\[0\]\.address: expected number, got "twelve"\. Fix: /,
    );
    expect(check.profiles.has('eastron-sdm630')).toBe(true);
  });

  it('an id the catalogue already has is refused at the site file, naming both', () => {
    mkdirSync(join(site, 'dup'));
    writeFileSync(join(site, 'dup', 'eastron-sdm630.yaml'), good('eastron-sdm630'));
    const err = issuesOf(() => loadCatalogue(DEFAULT_PROFILES_DIR, [join(site, 'dup')]));
    expect(err.file).toBe(join(site, 'dup', 'eastron-sdm630.yaml'));
    expect(err.message).toMatch(
      /id eastron-sdm630 is already used by .*profiles\/modbus\/eastron-sdm630\.yaml\. Fix: give this profile its own id/,
    );
  });

  it('a directory that does not exist is an error naming it', () => {
    const err = issuesOf(() => loadCatalogue(DEFAULT_PROFILES_DIR, [join(site, 'nope')]));
    expect(err.message).toMatch(
      /nope: cannot list the profile directory \(ENOENT\)\. Fix: check the directory exists/,
    );
  });

  it('a file whose name is not its id is refused with where it belongs', () => {
    mkdirSync(join(site, 'named'));
    writeFileSync(join(site, 'named', 'meter.yaml'), good('gym-meter'));
    const err = issuesOf(() => loadCatalogue(DEFAULT_PROFILES_DIR, [join(site, 'named')]));
    expect(err.message).toMatch(/is not at modbus\/gym-meter\.yaml or gym-meter\.yaml/);
  });
});
