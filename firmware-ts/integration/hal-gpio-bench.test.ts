// GPIO over the bench wire bus across a real Unix socket: the rig's WireServer owns the lines,
// the firmware's bench backend connects with connectWires, exactly as on a bench.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectWires, WireServer } from '@brana/hardware';
import { afterAll, beforeAll } from 'vitest';
import { RealClock } from '../src/hal/clock/real-clock.ts';
import {
  describeDigitalInputContract,
  describeDigitalOutputContract,
} from '../src/hal/contracts/gpio.contract.ts';
import { WireGpio } from '../src/hal/gpio/wire-gpio.ts';

let dir: string;
let server: WireServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'brana-hal-gpio-'));
  server = await WireServer.listen({ path: join(dir, 'wires.sock') });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const clock = new RealClock();

async function waitUntil(done: () => boolean, limitMs: number): Promise<boolean> {
  const deadline = performance.now() + limitMs + 2000;
  while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  return done();
}

let n = 0;

describeDigitalInputContract('bench wires over a Unix socket', async () => {
  const line = `in.${++n}`;
  const gpio = new WireGpio(await connectWires(server.path), { clock, kind: 'bench', ownsBus: true });
  return {
    clock,
    waitUntil,
    open: (options) => gpio.openInput(line, options),
    drive: (level) => server.bus.set(line, level),
    dispose: () => gpio.close(),
  };
});

describeDigitalOutputContract('bench wires over a Unix socket', async () => {
  const line = `out.${++n}`;
  const gpio = new WireGpio(await connectWires(server.path), { clock, kind: 'bench', ownsBus: true });
  return {
    clock,
    waitUntil,
    open: (options) => gpio.openOutput(line, options),
    physical: () => server.bus.read(line),
    dispose: () => gpio.close(),
  };
});
