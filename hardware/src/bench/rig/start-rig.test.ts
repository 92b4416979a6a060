import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../profiles/index.ts';
import { ManualClock } from '../sim/clock.ts';
import { connectWires } from '../wires/wire-client.ts';
import { validateRig } from './load.ts';
import { describeEndpoints, startRig, startRigFile } from './start-rig.ts';

const catalogue = loadCatalogue();

describe('startRig (TCP and wires; RTU is covered by the integration tests)', () => {
  it('startRigFile loads a rig file with the default catalogue and starts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brana-rigf-'));
    const file = join(dir, 'r.yaml');
    writeFileSync(
      file,
      'name: f\nbuses:\n  - { type: tcp, name: t, port: 0, devices: [{ profile: eastron-sdm630, unit: 1 }] }\n',
    );
    const running = await startRigFile(file, { dir });
    try {
      expect(running.endpoints.tcp[0]?.port).toBeGreaterThan(0);
      expect(running.banks.get('t/1')?.valueOf('voltageL1V')).toBeGreaterThan(200);
    } finally {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts TCP devices, wire lines, S0 and strobe trains; reports endpoints; stops cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brana-rig-'));
    const rig = validateRig(
      {
        name: 'unit-rig',
        buses: [
          {
            type: 'tcp',
            name: 'tcp0',
            port: 0,
            devices: [{ profile: 'carlo-gavazzi-em340', unit: 3, name: 'annex' }],
          },
        ],
        wires: {
          lines: ['sos.button'],
          s0: [{ line: 's0.kwh', profile: 's0-electricity-1000', pulseMs: 30 }],
          // A burst every second: a client that connects late (loaded machine) still sees one whole.
          strobes: [{ line: 'optical.n', hz: 14, pulses: 5, everyS: 1, startAfterS: 0 }],
        },
      },
      catalogue,
    );
    // speed 3600: an hour of load per second, so the S0 meter (≥ 200 W, 1000 imp/kWh) pulses often.
    const running = await startRig(rig, {
      dir,
      catalogue,
      clock: new ManualClock(Date.UTC(2026, 0, 5, 12)),
      speed: 3600,
    });
    try {
      expect(running.endpoints.tcp[0]).toMatchObject({
        bus: 'tcp0',
        host: '127.0.0.1',
        devices: [{ unit: 3, profile: 'carlo-gavazzi-em340', name: 'annex' }],
      });
      expect(running.endpoints.tcp[0]!.port).toBeGreaterThan(0);
      expect(running.endpoints.wires.lines).toEqual(['optical.n', 's0.kwh', 'sos.button']);
      expect(running.banks.get('tcp0/3')).toBeDefined();
      const text = describeEndpoints(running.endpoints).join('\n');
      expect(text).toMatch(/tcp {2}tcp0: 127\.0\.0\.1:\d+; unit 3 carlo-gavazzi-em340 \(annex\)/);
      expect(text).toMatch(/wire .*wires\.sock; lines: optical\.n, s0\.kwh, sos\.button/);

      const wires = await connectWires(running.endpoints.wires.socket);
      let strobes = 0;
      let s0 = 0;
      wires.onEdge('optical.n', (l) => {
        if (l === 1) strobes++;
      });
      wires.onEdge('s0.kwh', (l) => {
        if (l === 1) s0++;
      });
      const deadline = performance.now() + 10_000;
      while ((strobes < 5 || s0 < 2) && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(strobes).toBeGreaterThanOrEqual(5);
      expect(s0).toBeGreaterThanOrEqual(2);
      await wires.set('sos.button', 1);
      expect(await running.wires.bus.read('sos.button')).toBe(1);
      expect(() => running.injectFault('nope', 1, { kind: 'timeout' })).toThrow(/no bus "nope"/);
      await wires.close();
    } finally {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
