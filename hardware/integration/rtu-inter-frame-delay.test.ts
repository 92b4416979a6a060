// A device's own inter-frame delay on the simulated RTU line: a request to it that starts sooner
// after its last answer is ignored (the master times out), as a busy slow meter does, while another
// device on the same line answers after t3.5 alone.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoDetect } from '@serialport/bindings-cpp';
import { SerialPortStream } from '@serialport/stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtuSlave } from '../src/bench/modbus-sim/rtu-slave.ts';
import { ManualClock } from '../src/bench/sim/clock.ts';
import { testMeterProfile } from '../src/bench/sim/fixtures.ts';
import { RegisterBank } from '../src/bench/sim/register-bank.ts';
import { encodeRequest, encodeRtu } from '../src/modbus/index.ts';

// Long enough that a loaded machine cannot make the "too early" request late by accident.
const DELAY_MS = 200;
const dir = mkdtempSync(join(tmpdir(), 'brana-rtu-ifd-'));
const clock = new ManualClock(0);
let slave: RtuSlave;
let port: SerialPortStream;
let rx = Buffer.alloc(0);

beforeAll(async () => {
  slave = await RtuSlave.start({
    dir,
    name: 'ttyIFD0',
    baud: 19200,
    devices: [
      {
        unit: 1,
        handler: new RegisterBank(testMeterProfile(), { clock }),
        turnaroundMs: [5, 5],
        interFrameDelayMs: DELAY_MS,
      },
      { unit: 2, handler: new RegisterBank(testMeterProfile(), { clock }), turnaroundMs: [5, 5] },
    ],
  });
  port = new SerialPortStream({ binding: autoDetect(), path: slave.clientPath, baudRate: 19200 });
  await new Promise<void>((resolve) => port.once('open', () => resolve()));
  port.on('data', (d: Buffer) => {
    rx = Buffer.concat([rx, d]);
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => port.close(() => resolve()));
  await slave.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const read = (unit: number) => encodeRtu(unit, encodeRequest({ fc: 4, address: 0, quantity: 2 }));

/** Sends a one-register read; resolves true when an answer (5 bytes at least: an exception) came within `waitMs`. */
async function answered(unit: number, waitMs: number): Promise<boolean> {
  rx = Buffer.alloc(0);
  port.write(read(unit));
  const t0 = performance.now();
  while (rx.length < 5 && performance.now() - t0 < waitMs) await sleep(2);
  return rx.length >= 5;
}

describe('RTU device inter-frame delay', () => {
  it('ignores a request inside the delay, answers one after it, and lets another device use the gap', async () => {
    expect(await answered(1, 2000)).toBe(true);
    // Right after its answer (only t3.5 later): unit 1 is still resting and says nothing.
    await sleep(5);
    expect(await answered(1, 100)).toBe(false);
    expect(slave.stats.tooEarly).toBe(1);
    // Unit 2 needs no rest: it answers in the gap.
    await sleep(5);
    expect(await answered(2, 2000)).toBe(true);
    // After the delay unit 1 answers again.
    await sleep(DELAY_MS + 20);
    expect(await answered(1, 2000)).toBe(true);
    expect(slave.stats.tooEarly).toBe(1);
  });
});
