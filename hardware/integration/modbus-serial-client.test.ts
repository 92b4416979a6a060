// A second, independent Modbus implementation (modbus-serial) talks to the simulators over a real
// pty (socat) and over TCP: values, writes, faults and RTU wire timing.

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModbusRTU as ModbusClient } from 'modbus-serial/ModbusRTU.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtuSlave } from '../src/bench/modbus-sim/rtu-slave.ts';
import { ModbusTcpServer } from '../src/bench/modbus-sim/tcp-server.ts';
import { ManualClock } from '../src/bench/sim/clock.ts';
import { testMeterProfile, testWaterProfile } from '../src/bench/sim/fixtures.ts';
import { RegisterBank } from '../src/bench/sim/register-bank.ts';
import { frameTimeMs, rtuTransactionTimeMs, t35Ms } from '../src/modbus/index.ts';
import { decodePoint } from '../src/registers/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'brana-mbs-'));
const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
const meter = new RegisterBank(testMeterProfile(), { clock });
const water = new RegisterBank(testWaterProfile(), { clock });
const TURNAROUND: [number, number] = [10, 12];
let slave: RtuSlave;
let tcp: ModbusTcpServer;
// modbus-serial is CommonJS whose module.exports is the client class.
const ModbusRTU = createRequire(import.meta.url)('modbus-serial') as new () => ModbusClient;
let rtu: ModbusClient;

beforeAll(async () => {
  slave = await RtuSlave.start({
    dir,
    name: 'ttyBENCH0',
    baud: 9600,
    devices: [
      { unit: 1, handler: meter, turnaroundMs: TURNAROUND },
      { unit: 2, handler: water, turnaroundMs: TURNAROUND },
    ],
  });
  tcp = await ModbusTcpServer.start({ port: 0, devices: [{ unit: 1, handler: meter }] });
  rtu = new ModbusRTU();
  await rtu.connectRTUBuffered(slave.clientPath, { baudRate: 9600 });
  rtu.setTimeout(1000); // generous: the machine is shared and can stall for a few hundred ms
});

afterAll(async () => {
  await new Promise<void>((r) => rtu.close(() => r()));
  await slave.stop();
  await tcp.stop();
  rmSync(dir, { recursive: true, force: true });
});

const f32 = (regs: number[]): number => decodePoint({ type: 'f32', wordOrder: 'big' }, regs).value as number;

describe('simulators seen by modbus-serial', () => {
  it('reads float32 input registers over RTU from two units on one line', async () => {
    rtu.setID(1);
    const r = await rtu.readInputRegisters(12, 2);
    expect(f32(r.data)).toBeCloseTo(meter.valueOf('powerW') as number, 2);
    rtu.setID(2);
    const w = await rtu.readHoldingRegisters(0, 2);
    expect(f32(w.data)).toBeCloseTo(water.valueOf('flowM3H') as number, 4);
  });

  it('writes a holding register over RTU and reads it back over TCP', async () => {
    rtu.setID(1);
    await rtu.writeRegisters(2, [0x4170, 0]); // 15.0 as f32
    expect(meter.valueOf('demandPeriodMin')).toBe(15);
    const t = new ModbusRTU();
    await t.connectTCP('127.0.0.1', { port: tcp.port });
    t.setID(1);
    const r = await t.readHoldingRegisters(2, 2);
    expect(f32(r.data)).toBe(15);
    await new Promise<void>((res) => t.close(() => res()));
  });

  it('ignores requests to a unit nobody has: the master times out', async () => {
    rtu.setID(9);
    await expect(rtu.readInputRegisters(0, 2)).rejects.toThrow(/timed out/i);
    expect(slave.stats.ignored).toBeGreaterThanOrEqual(1);
  });

  it('answers an unmapped address with exception 2', async () => {
    rtu.setID(1);
    await expect(rtu.readInputRegisters(500, 2)).rejects.toMatchObject({ modbusCode: 2 });
  });

  it('shows injected faults: timeout, bad CRC, exception, partial frame, delay', async () => {
    rtu.setID(1);
    slave.injectFault(1, { kind: 'timeout' });
    await expect(rtu.readInputRegisters(0, 2)).rejects.toThrow(/timed out/i);
    slave.injectFault(1, { kind: 'badCrc' });
    await expect(rtu.readInputRegisters(0, 2)).rejects.toThrow(/crc/i);
    slave.injectFault(1, { kind: 'exception', code: 6 });
    await expect(rtu.readInputRegisters(0, 2)).rejects.toMatchObject({ modbusCode: 6 });
    slave.injectFault(1, { kind: 'delay', delayMs: 150 });
    const t0 = performance.now();
    await rtu.readInputRegisters(0, 2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    slave.injectFault(1, { kind: 'partial' });
    await expect(rtu.readInputRegisters(0, 2)).rejects.toThrow(/timed out/i);
    // modbus-serial keeps the half frame in its buffer and fails the next read on it; a real master
    // flushes its receive buffer after a timeout. Either way the line works again after that.
    await rtu.readInputRegisters(0, 2).catch(() => undefined);
    const r = await rtu.readInputRegisters(0, 2);
    expect(f32(r.data)).toBeCloseTo(meter.valueOf('voltageL1V') as number, 3);
  });

  it('an RTU transaction takes at least its wire time and not wildly more', async () => {
    rtu.setID(1);
    await rtu.readInputRegisters(0, 2); // settle
    const samples: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      await rtu.readInputRegisters(72, 2);
      await rtu.readInputRegisters(0, 2);
      samples.push(performance.now() - t0);
    }
    // Two 2-register reads: request 8 + response 9 bytes each, turnaround ≥ 10 ms.
    const one = rtuTransactionTimeMs({
      baud: 9600,
      requestBytes: 8,
      responseBytes: 9,
      turnaroundMs: TURNAROUND[0],
    });
    // The client sees one t3.5 per transaction (the one after our answer is the master's gap).
    const floor = 2 * (one - t35Ms(9600));
    samples.sort((a, b) => a - b);
    const fastest = samples[0] ?? 0;
    console.log(
      `RTU 9600 Bd, two 2-register reads: fastest ${fastest.toFixed(1)} ms, median ${(samples[4] ?? 0).toFixed(1)} ms, wire floor ${floor.toFixed(1)} ms`,
    );
    // Never faster than the wire (a simulator answering before its turnaround fails here).
    expect(fastest).toBeGreaterThanOrEqual(floor - 0.5);
    // A loaded machine only ever adds time (the median reached floor + 250 ms with both cores busy),
    // so the fastest of eight shows what the simulator does: ~floor + 8 ms here. A line paced at
    // half the baud rate measured floor + 63 ms and fails.
    expect(fastest).toBeLessThan(floor + 50);
  });

  it('exception and normal answers each take at least their frame time on the wire', async () => {
    rtu.setID(1);
    const t0 = performance.now();
    await rtu.readInputRegisters(0, 14).catch(() => undefined); // holes → exception, short frame
    const t1 = performance.now();
    const r = await rtu.readHoldingRegisters(0xfc00, 2);
    const t2 = performance.now();
    expect(r.data).toEqual([12345678 >>> 16, 12345678 & 0xffff]);
    expect(t1 - t0).toBeGreaterThanOrEqual(frameTimeMs(8 + 5, 9600) + t35Ms(9600) + TURNAROUND[0] - 0.5);
    expect(t2 - t1).toBeGreaterThanOrEqual(frameTimeMs(8 + 9, 9600) + TURNAROUND[0] - 0.5);
  });
});
