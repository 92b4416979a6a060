// `brana-provision verify` against the bench rig of @brana/hardware: a WireServer wire bus with
// relay models behind the outputs (one follows, one is stuck open, one is stuck closed) and an RTU
// simulator on a socat pty with a meter that answers, a sensor that answers with an exception and
// an address where nothing answers. The check runs as a child process, as on a technician's laptop.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadCatalogue,
  ManualClock,
  type ModbusProfile,
  RegisterBank,
  RtuSlave,
  WireServer,
} from '@brana/hardware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { GatewayConfigInvalidError } from '../src/errors.ts';
import type { VerifyReport } from '../src/verify/index.ts';
import { verifyWiring } from '../src/verify/index.ts';
import { provision, start, until } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-provision-verify-'));
const catalogue = loadCatalogue();
const OUTPUTS = ['alarm.relay', 'out.north', 'out.south', 'out.east', 'heartbeat'];
const CONFLICTS: Record<string, string[]> = {
  north: ['south', 'east'],
  south: ['north', 'east'],
  east: ['north', 'south'],
};
let wires: WireServer;
let slave: RtuSlave;
let configFile: string;
/** Every moment two approach outputs were on together, as seen on the wire bus. */
const overlaps: string[] = [];
const pulsed = new Set<string>();
/** The level of each output line as last set on the wire bus. */
const levels = new Map<string, number>();

beforeAll(async () => {
  wires = await WireServer.listen({ path: join(dir, 'wires.sock') });
  const bus = wires.bus;
  for (const line of [...OUTPUTS, 'rb.north', 'rb.south', 'sos.button', 'door.contact']) bus.set(line, 0);
  bus.set('sos.button', 1); // someone is pulling the SOS cord
  bus.set('rb.east', 1); // the east relay's contact is welded shut
  // North's relay closes its readback contact 5 ms after the coil; south's never does.
  bus.onEdge('out.north', (level) => setTimeout(() => bus.set('rb.north', level), 5));
  const on = new Set<string>();
  for (const a of ['north', 'south', 'east']) {
    bus.onEdge(`out.${a}`, (level) => {
      if (level === 1) {
        pulsed.add(a);
        for (const b of on) if (CONFLICTS[a]!.includes(b)) overlaps.push(`${a}+${b}`);
        on.add(a);
      } else on.delete(a);
    });
  }
  bus.onEdge('alarm.relay', (level) => level === 1 && pulsed.add('alarm-light'));
  for (const line of OUTPUTS) bus.onEdge(line, (level) => levels.set(line, level));

  const world = new ManualClock(Date.UTC(2026, 11, 2, 10, 0));
  slave = await RtuSlave.start({
    dir,
    name: 'ttyRS485',
    baud: 38_400,
    devices: [
      {
        unit: 1,
        handler: new RegisterBank(catalogue.get('eastron-sdm120') as ModbusProfile, { clock: world }),
        turnaroundMs: [2, 4],
      },
      {
        unit: 104,
        handler: new RegisterBank(catalogue.get('senseair-s8') as ModbusProfile, { clock: world }),
        turnaroundMs: [2, 4],
        faults: [{ kind: 'exception', code: 4, probability: 1 }],
      },
    ],
  });
  configFile = join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    stringify({
      name: 'Domov Slunečnice',
      hardware: { board: 'bench', gpio: { backend: 'bench', benchSocket: '/nonexistent/wires.sock' } },
      buses: [{ name: 'rs485', type: 'rtu', path: slave.clientPath, baud: 38_400 }],
      devices: [
        { name: 'main', bus: 'rs485', unit: 1, profile: 'eastron-sdm120' },
        { name: 'co2', bus: 'rs485', unit: 104, profile: 'senseair-s8' },
        { name: 'ghost', bus: 'rs485', unit: 7, profile: 'eastron-sdm120' }, // wired wrong: no answer
      ],
      alarms: [
        { name: 'sos', kind: 'sos', line: 'sos.button' },
        { name: 'door', kind: 'door', line: 'door.contact' },
      ],
      relays: [{ name: 'alarm-light', line: 'alarm.relay', rules: [{ when: 'sos' }] }],
      preemption: {
        intersectionId: 7,
        approaches: [
          { id: 'north', number: 1, output: 'out.north', readback: 'rb.north' },
          { id: 'south', number: 2, output: 'out.south', readback: 'rb.south' },
          { id: 'east', number: 3, output: 'out.east', readback: 'rb.east' },
        ],
        conflicts: CONFLICTS,
        heartbeat: { output: 'heartbeat' },
        timing: { readbackSettleMs: 100 },
      },
    }),
  );
});

afterAll(async () => {
  await slave?.stop();
  await wires?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('brana-provision verify on the bench rig', () => {
  it('reads the inputs, pulses each output alone checking readbacks, polls each device, and reports it as JSON', async () => {
    const r = await provision([
      'verify',
      '--config',
      configFile,
      '--bench-socket',
      wires.path,
      '--outputs',
      '--pulse-ms',
      '60',
      '--modbus-timeout-ms',
      '300',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(1); // problems found
    const report = JSON.parse(r.stdout) as VerifyReport;
    expect(report.ok).toBe(false);
    expect(report.inputs.map((i) => [i.name, i.result])).toEqual([
      ['sos', 'active'],
      ['door', 'inactive'],
    ]);
    expect(Object.fromEntries(report.outputs.map((o) => [o.name, o.result]))).toEqual({
      'alarm-light': 'pulsed',
      north: 'ok',
      south: 'stuck-open',
      east: 'stuck-closed',
    });
    expect(report.outputs.find((o) => o.name === 'south')!.detail).toMatch(
      /readback rb\.south stayed 0 for 100 ms/,
    );
    const devices = Object.fromEntries(report.devices.map((d) => [d.device, d]));
    expect(devices.main!.result).toBe('answer');
    expect(devices.main!.point).toBe('voltageV');
    expect(devices.main!.value).toBeGreaterThanOrEqual(225);
    expect(devices.main!.value).toBeLessThanOrEqual(240);
    expect(devices.co2).toMatchObject({ result: 'exception', exceptionCode: 4 });
    expect(devices.ghost!.result).toBe('timeout');
    expect(devices.ghost!.detail).toMatch(/no answer within 300 ms: check address 7/);

    // On the wires: north, south and the relay were pulsed; east (stuck closed) was not; never two
    // conflicting approaches at once; everything off at the end.
    expect([...pulsed].sort()).toEqual(['alarm-light', 'north', 'south']);
    expect(overlaps).toEqual([]);
    for (const line of OUTPUTS) expect(await wires.bus.read(line), line).toBe(0);
  }, 30_000);

  it('switches the output off and stops on Ctrl-C in the middle of a pulse, and prints the table', async () => {
    const run = start(join(import.meta.dirname, '..', 'bin', 'brana-provision.mjs'), [
      'verify',
      '--config',
      configFile,
      '--bench-socket',
      wires.path,
      '--outputs',
      '--pulse-ms',
      '10000',
      '--modbus-timeout-ms',
      '300',
    ]);
    await until('the alarm relay to go on', () => levels.get('alarm.relay') === 1, 20_000, run.err);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('interrupted: switching every output off');
    expect(r.stdout).toMatch(/^KIND +NAME +WHERE +RESULT +DETAIL/);
    expect(r.stdout).toMatch(/relay +alarm-light +alarm\.relay/);
    expect(r.stdout).toMatch(/approach +north +out\.north → rb\.north +skipped +interrupted/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('INTERRUPTED: every output was switched off');
    for (const line of OUTPUTS) expect(await wires.bus.read(line), line).toBe(0);
  }, 30_000);

  it('refuses a config the firmware validator rejects, naming every path and its fix', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      stringify({
        name: 'x',
        relays: [
          { name: 'a', line: 'l1' },
          { name: 'a', line: 'l1' },
        ],
        devices: [{ name: 'm', bus: 'nope', unit: 1, profile: 'no-such-meter' }],
      }),
    );
    const err = await verifyWiring({
      configFile: bad,
      benchSocket: wires.path,
      outputs: false,
      pulseMs: 100,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayConfigInvalidError);
    const paths = (err as GatewayConfigInvalidError).issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(['relays[1].name', 'relays[1].line', 'devices[0].bus', 'devices[0].profile']),
    );
    for (const i of (err as GatewayConfigInvalidError).issues) expect(i.fix.length).toBeGreaterThan(0);
    expect((err as GatewayConfigInvalidError).exitCode).toBe(2);
  });
});
