// Proof with an outside master: mbpoll (Debian package, a Modbus master no one here wrote) reads the
// simulated SDM630 over Modbus TCP, over RTU on the pty, and over RTU frames on TCP (the simulator
// as a serial server in transparent mode, reached through a pty that socat bridges to the
// connection, as a virtual COM port driver does) and gets the values the simulator serves.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRig } from '../src/bench/rig/load.ts';
import { type RunningRig, startRig } from '../src/bench/rig/start-rig.ts';
import { ManualClock } from '../src/bench/sim/clock.ts';
import type { ModbusProfile } from '../src/profiles/index.ts';
import { loadCatalogue } from '../src/profiles/index.ts';
import { mbpollFloats } from './mbpoll-support.ts';

const catalogue = loadCatalogue();
const sdm630 = catalogue.get('eastron-sdm630') as ModbusProfile;
const dir = mkdtempSync(join(tmpdir(), 'brana-mbpoll-'));
// A frozen clock: values change only when the test moves time, so mbpoll and the bank agree exactly.
const clock = new ManualClock(Date.UTC(2026, 0, 5, 9, 30));
let rig: RunningRig;

beforeAll(async () => {
  const spec = validateRig(
    {
      name: 'mbpoll-proof',
      seed: 3,
      buses: [
        { type: 'rtu', name: 'ttyMB0', baud: 9600, devices: [{ profile: 'eastron-sdm630', unit: 1 }] },
        { type: 'tcp', name: 'tcp0', port: 0, devices: [{ profile: 'eastron-sdm630', unit: 1 }] },
        {
          type: 'tcp',
          name: 'enc0',
          port: 0,
          framing: 'rtu',
          devices: [{ profile: 'eastron-sdm630', unit: 4 }],
        },
      ],
    },
    catalogue,
    'mbpoll.test.ts',
  );
  rig = await startRig(spec, { dir, catalogue, clock });
  clock.advance(90_000); // let the walks move away from their start values
});

let bridge: ChildProcess | undefined;
afterAll(async () => {
  bridge?.kill();
  await rig?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function expectServed(bankKey: string, values: Map<number, number>, count: number): void {
  const bank = rig.banks.get(bankKey)!;
  expect(values.size).toBe(count);
  for (const [ref, got] of values) {
    const point = sdm630.points.find((p) => p.address === ref - 1);
    // Unassigned SDM630 registers read as 0 (the profile allows readable holes).
    const served = point === undefined ? 0 : Math.fround(bank.valueOf(point.key) as number);
    // mbpoll prints 6 significant digits.
    expect(Math.abs(got - served)).toBeLessThanOrEqual(Math.abs(served) * 1e-5 + 1e-6);
  }
}

describe('mbpoll reads the simulated SDM630', () => {
  it('over Modbus TCP: voltages, currents, powers (float32, big-endian words)', async () => {
    const tcp = rig.endpoints.tcp[0]!;
    const { ok, values } = await mbpollFloats({ tcp }, { unit: 1, ref: 1, count: 9 });
    expect(ok).toBe(true);
    expectServed('tcp0/1', values, 9);
    expect(values.get(1)).toBeGreaterThan(200); // voltage L1
  });

  it('over RTU on the pty at 9600 8N1', async () => {
    const rtu = rig.endpoints.rtu[0]!;
    const { ok, values } = await mbpollFloats({ rtu }, { unit: 1, ref: 1, count: 9 });
    expect(ok).toBe(true);
    expectServed('ttyMB0/1', values, 9);
  });

  it('over RTU: the energy counters further up the map', async () => {
    const rtu = rig.endpoints.rtu[0]!;
    const energy = sdm630.points.find((p) => p.kind === 'counter')!;
    const { ok, values } = await mbpollFloats({ rtu }, { unit: 1, ref: energy.address + 1, count: 2 });
    expect(ok).toBe(true);
    expectServed('ttyMB0/1', values, 2);
    expect(values.get(energy.address + 1)).toBeGreaterThan(0);
  });

  it('a unit id nobody has on the RTU line: mbpoll times out', async () => {
    const rtu = rig.endpoints.rtu[0]!;
    const result = await mbpollFloats({ rtu }, { unit: 7, ref: 1, count: 1, timeoutS: 0.3 });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/timed out/i);
  });

  it('over RTU frames on TCP, through a pty bridged to the connection', async () => {
    const enc = rig.endpoints.tcp.find((t) => t.bus === 'enc0')!;
    expect(enc.framing).toBe('rtu');
    const path = join(dir, 'ttyENC0');
    bridge = spawn('socat', [`pty,raw,echo=0,link=${path}`, `tcp:${enc.host}:${enc.port}`], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 5000;
    while (!existsSync(path) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const { ok, values, output } = await mbpollFloats(
      { rtu: { path, baud: 9600 } },
      { unit: 4, ref: 1, count: 9 },
    );
    expect(output).not.toMatch(/timed out/i);
    expect(ok).toBe(true);
    expectServed('enc0/4', values, 9);
  });

  it('over Modbus TCP again after the simulator refused connections and served again', async () => {
    const tcp = rig.endpoints.tcp.find((t) => t.bus === 'tcp0')!;
    const server = rig.tcpServer('tcp0');
    await server.setMode('refuse');
    const refused = await mbpollFloats({ tcp }, { unit: 1, ref: 1, count: 1, timeoutS: 0.5 });
    expect(refused.ok).toBe(false);
    await server.setMode('serve');
    const { ok, values } = await mbpollFloats({ tcp }, { unit: 1, ref: 1, count: 9 });
    expect(ok).toBe(true);
    expectServed('tcp0/1', values, 9);
  });
});
