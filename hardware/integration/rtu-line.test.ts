// The RTU line at byte level, with our own master on the pty: broadcast writes, garbage on the
// line, a function code the devices do not know, and paced answers.

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
import {
  charTimeMs,
  decodeResponse,
  decodeRtu,
  encodeRequest,
  encodeRtu,
  type ModbusRequest,
} from '../src/modbus/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-rtu-'));
const clock = new ManualClock(0);
const a = new RegisterBank(testMeterProfile(), { clock });
const b = new RegisterBank(testMeterProfile(), { clock });
let slave: RtuSlave;
let port: SerialPortStream;
let rx = Buffer.alloc(0);

beforeAll(async () => {
  slave = await RtuSlave.start({
    dir,
    name: 'ttyRAW0',
    baud: 19200,
    devices: [
      { unit: 1, handler: a, turnaroundMs: [10, 10] },
      { unit: 2, handler: b, turnaroundMs: [10, 10] },
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

async function quiet(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function transact(
  bytes: Buffer,
  expectBytes: number,
  timeoutMs = 5000, // only bounds a failure: the machine is shared and can stall
): Promise<{ frame: Buffer; ms: number }> {
  rx = Buffer.alloc(0);
  const t0 = performance.now();
  port.write(bytes);
  while (rx.length < expectBytes) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`got ${rx.length} of ${expectBytes} bytes`);
    await quiet(2);
  }
  return { frame: rx.subarray(0, expectBytes), ms: performance.now() - t0 };
}

const req = (unit: number, r: ModbusRequest): Buffer => encodeRtu(unit, encodeRequest(r));

describe('RTU line', () => {
  it('obeys a broadcast write on every device and answers nothing', async () => {
    rx = Buffer.alloc(0);
    port.write(req(0, { fc: 16, address: 2, values: [0x41a0, 0] })); // 20.0
    // Wait until the slave has taken the broadcast (a loaded machine may need a while), then give
    // it far longer than t3.5 + turnaround (12 ms here) to answer wrongly.
    const deadline = performance.now() + 5000;
    while (slave.stats.broadcasts === 0 && performance.now() < deadline) await quiet(5);
    await quiet(150);
    expect(rx.length).toBe(0);
    expect(a.valueOf('demandPeriodMin')).toBe(20);
    expect(b.valueOf('demandPeriodMin')).toBe(20);
    expect(slave.stats.broadcasts).toBe(1);
  });

  it('drops garbage on the line and answers the next good request', async () => {
    await quiet(20);
    const dropped = slave.stats.framer.droppedBytes;
    port.write(Buffer.from([0xff, 0x13, 0x37, 0x00]));
    await quiet(30); // a silence longer than t3.5 ends the garbage
    const { frame } = await transact(req(2, { fc: 3, address: 0xfc00, quantity: 2 }), 9);
    expect(decodeResponse(decodeRtu(frame).pdu)).toEqual({
      fc: 3,
      registers: [12345678 >>> 16, 12345678 & 0xffff],
    });
    expect(slave.stats.framer.droppedBytes - dropped).toBe(4);
  });

  it('answers a function code it does not implement with exception 1', async () => {
    await quiet(20);
    const { frame } = await transact(encodeRtu(1, Buffer.from([0x2b, 0x0e, 0x01, 0x00])), 5);
    const f = decodeRtu(frame);
    expect(f.unit).toBe(1);
    expect([...f.pdu]).toEqual([0xab, 0x01]);
  });

  it('a transaction takes at least request + t3.5 + turnaround + response wire time', async () => {
    await quiet(20);
    const { frame, ms } = await transact(req(1, { fc: 4, address: 0, quantity: 2 }), 9);
    expect(decodeRtu(frame).unit).toBe(1);
    // 8 request + 9 response bytes at 19200 Bd, t3.5 2.0 ms, turnaround 10 ms
    expect(ms).toBeGreaterThanOrEqual(17 * charTimeMs(19200) + 2 + 10 - 0.5);
  });
});
