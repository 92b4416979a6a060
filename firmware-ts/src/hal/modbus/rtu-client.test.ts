import { crc16Modbus, encodeRtu, type ModbusHandler } from '@brana/hardware';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ModbusBadResponseError,
  ModbusCrcError,
  ModbusExceptionError,
  ModbusTimeoutError,
  PortClosedError,
} from '../../errors.ts';
import { RealClock } from '../clock/real-clock.ts';
import { VirtualClock } from '../clock/virtual-clock.ts';
import {
  CONTRACT_MAP,
  contractModbusHandler,
  describeModbusClientContract,
} from '../contracts/modbus.contract.ts';
import { attachRtuResponder, type RtuResponderOptions } from '../contracts/rtu-responder.ts';
import { createMemorySerialPair } from '../serial/memory-serial.ts';
import { type SerialPort, serialCharTimeMs } from '../serial/serial-port.ts';
import { RtuModbusClient } from './rtu-client.ts';

describeModbusClientContract('RtuModbusClient on a memory serial pair', async () => {
  const clock = new RealClock();
  const [line, far] = createMemorySerialPair({ settings: { baudRate: 19200, parity: 'even' } });
  await far.open();
  attachRtuResponder({ port: far, clock, devices: new Map([[1, contractModbusHandler()]]), turnaroundMs: 1 });
  const client = await RtuModbusClient.open({ port: line, clock, timeoutMs: 1000 });
  return { client, unitId: 1, silentUnitId: 9, dispose: () => far.close() };
});

async function virtualLine(
  responder: Partial<Omit<RtuResponderOptions, 'port' | 'clock'>> = {},
  baudRate = 9600,
) {
  const clock = new VirtualClock();
  const [line, far] = createMemorySerialPair({ pacedBy: clock, settings: { baudRate, parity: 'even' } });
  await far.open();
  const devices = responder.devices ?? new Map([[1, contractModbusHandler()]]);
  const slave = attachRtuResponder({ turnaroundMs: 5, ...responder, port: far, clock, devices });
  const client = await RtuModbusClient.open({ port: line, clock, timeoutMs: 200 });
  const settle = async <T>(p: Promise<T>): Promise<{ value?: T; error?: unknown; atMs: number }> => {
    let out: { value?: T; error?: unknown; atMs: number } | undefined;
    p.then(
      (value) => {
        out = { value, atMs: clock.monotonicMs() };
      },
      (error: unknown) => {
        out = { error, atMs: clock.monotonicMs() };
      },
    );
    await clock.runUntilAsync(() => out !== undefined, 10_000);
    return out!;
  };
  return { clock, line, far, client, slave, settle };
}

describe('RtuModbusClient in virtual time', () => {
  it('a transaction takes request + answer wire time + turnaround, to the microsecond', async () => {
    const v = await virtualLine();
    const start = v.clock.monotonicMs();
    const r = await v.settle(v.client.readHoldingRegisters(1, 0, 10));
    expect(r.value).toEqual(Array.from({ length: 10 }, (_, i) => CONTRACT_MAP.holding(i)));
    const charMs = serialCharTimeMs(v.line.settings); // 11 bits at 9600 Bd
    expect(r.atMs - start).toBeCloseTo((8 + 25) * charMs + 5, 6);
  });

  it('keeps t3.5 of silence between the last answer byte and the next request', async () => {
    const v = await virtualLine();
    const writesAt: number[] = [];
    v.far.onData(() => writesAt.push(v.clock.monotonicMs()));
    await v.settle(v.client.readInputRegisters(1, 0, 1));
    const firstDone = v.clock.monotonicMs();
    await v.settle(v.client.readInputRegisters(1, 1, 1));
    const charMs = serialCharTimeMs(v.line.settings);
    // The second request's 8 bytes arrive at the far end 8 characters after it was started.
    expect(writesAt[1]! - 8 * charMs - firstDone).toBeCloseTo(3.5 * charMs, 6);
  });

  it('a silent unit times out exactly at the per-request timeout', async () => {
    const v = await virtualLine();
    const start = v.clock.monotonicMs();
    const r = await v.settle(v.client.readHoldingRegisters(7, 0, 1, { timeoutMs: 150 }));
    expect(r.error).toBeInstanceOf(ModbusTimeoutError);
    expect(r.atMs - start).toBe(150);
    expect(v.client.stats.timeouts).toBe(1);
  });

  it('a late answer to a timed-out request is discarded, never taken for the next answer', async () => {
    let late = true;
    const v = await virtualLine({ extraDelayMs: () => (late ? 300 : 0) });
    const first = await v.settle(v.client.readHoldingRegisters(1, 0, 1));
    expect(first.error).toBeInstanceOf(ModbusTimeoutError);
    late = false;
    await v.clock.advanceAsync(200); // the late answer lands while nothing is outstanding
    expect(v.client.stats.strayBytes).toBe(7);
    const second = await v.settle(v.client.readHoldingRegisters(1, 5, 1));
    expect(second.value).toEqual([CONTRACT_MAP.holding(5)]);
  });

  it('a bad CRC, an answer from another unit, a wrong function code and an exception each get their error', async () => {
    let spoil: (f: Buffer) => Buffer = (f) => f;
    const v = await virtualLine({ spoil: (f) => spoil(f) });
    spoil = (f) => {
      f[3] = f[3]! ^ 0x10;
      return f;
    };
    expect((await v.settle(v.client.readHoldingRegisters(1, 0, 1))).error).toBeInstanceOf(ModbusCrcError);
    spoil = (f) => encodeRtu(2, f.subarray(1, f.length - 2));
    const other = (await v.settle(v.client.readHoldingRegisters(1, 0, 1))).error;
    expect(other).toBeInstanceOf(ModbusBadResponseError);
    expect((other as Error).message).toMatch(/answer from unit 2/);
    spoil = (f) => encodeRtu(1, Buffer.from([0x04, ...f.subarray(2, f.length - 2)]));
    expect((await v.settle(v.client.readHoldingRegisters(1, 0, 1))).error).toBeInstanceOf(
      ModbusBadResponseError,
    );
    spoil = (f) => f;
    const ex = (await v.settle(v.client.readHoldingRegisters(1, 500, 1))).error;
    expect(ex).toBeInstanceOf(ModbusExceptionError);
    expect((ex as ModbusExceptionError).exceptionCode).toBe(2);
    expect(v.client.stats).toMatchObject({ crcErrors: 1, badResponses: 2 });
    expect((await v.settle(v.client.readHoldingRegisters(1, 1, 1))).value).toEqual([CONTRACT_MAP.holding(1)]);
  });

  it('a frame cut short ends in a timeout and does not spoil the next answer', async () => {
    let cut = true;
    const v = await virtualLine({ spoil: (f) => (cut ? f.subarray(0, 4) : f) });
    expect((await v.settle(v.client.readHoldingRegisters(1, 0, 2))).error).toBeInstanceOf(ModbusTimeoutError);
    cut = false;
    expect((await v.settle(v.client.readHoldingRegisters(1, 0, 2))).value).toEqual([
      CONTRACT_MAP.holding(0),
      CONTRACT_MAP.holding(1),
    ]);
  });

  it('a broadcast write gets no answer and holds the line for the broadcast delay', async () => {
    const seen: number[] = [];
    const handler: ModbusHandler = {
      handle: (r) => {
        if (r.fc === 6) seen.push(r.value);
        return r.fc === 6 ? r : { fc: r.fc, exception: 1 };
      },
    };
    const v = await virtualLine({ devices: new Map([[1, handler]]), turnaroundMs: 0 });
    const requestsAt: number[] = [];
    v.far.onData(() => requestsAt.push(v.clock.monotonicMs()));
    const r = await v.settle(v.client.writeSingleRegister(0, 3, 42));
    expect(r.error).toBeUndefined();
    const next = v.settle(v.client.writeSingleRegister(0, 4, 43));
    expect((await next).error).toBeUndefined();
    await v.clock.advanceAsync(50);
    expect(seen).toEqual([42, 43]);
    // The second broadcast waited out the broadcast delay (100 ms) after the first was sent.
    expect(requestsAt[1]! - requestsAt[0]!).toBeGreaterThanOrEqual(100);
    expect(v.client.stats.strayBytes).toBe(0);
  });

  it('closing the line fails the outstanding request with PortClosedError', async () => {
    const v = await virtualLine({ spoil: () => undefined });
    const pending = v.client.readHoldingRegisters(1, 0, 1).catch((e: unknown) => e);
    await v.clock.advanceAsync(20);
    await v.client.close();
    expect(await pending).toBeInstanceOf(PortClosedError);
    expect(v.client.isOpen).toBe(false);
  });
});

describe('RtuModbusClient when the line fails under a request', () => {
  // A USB adapter pulled mid-request: stray bytes reach the client while its write is failing. The
  // request must fail with the write's error and nothing may be left as an unhandled rejection, which
  // would end the whole fieldbus process.
  it('a write that fails after stray bytes rejects the request once, with no unhandled rejection', async () => {
    const [line] = createMemorySerialPair();
    const listeners: ((bytes: Buffer) => void)[] = [];
    const failing: SerialPort = {
      path: 'pulled-adapter',
      settings: line.settings,
      get isOpen() {
        return true;
      },
      open: async () => {},
      close: async () => {},
      drain: async () => {},
      onClose: () => () => {},
      onData: (l) => {
        listeners.push(l);
        return () => {};
      },
      write: async () => {
        for (const l of listeners) l(Buffer.from([0x01, 0x00, 0x00]));
        throw new PortClosedError('pulled-adapter', 'write failed (EIO)');
      },
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const client = await RtuModbusClient.open({ port: failing, clock: new RealClock(), timeoutMs: 200 });
      const error = await client.readInputRegisters(2, 0, 2).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PortClosedError);
      // Unhandled rejections are reported after the microtask queue drains.
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('RtuModbusClient answer parser', () => {
  it('any chunking of a valid answer gives exactly the served registers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 30 }),
        async (registers, cuts) => {
          const clock = new RealClock();
          const [line, far] = createMemorySerialPair();
          await far.open();
          const client = await RtuModbusClient.open({ port: line, clock, timeoutMs: 1000 });
          far.onData(async () => {
            const pdu = Buffer.alloc(2 + 2 * registers.length);
            pdu[0] = 3;
            pdu[1] = 2 * registers.length;
            registers.forEach((r, i) => pdu.writeUInt16BE(r, 2 + 2 * i));
            const frame = encodeRtu(1, pdu);
            let at = 0;
            for (const c of cuts) {
              if (at >= frame.length) break;
              await far.write(frame.subarray(at, at + c));
              at += c;
            }
            if (at < frame.length) await far.write(frame.subarray(at));
          });
          expect(await client.readHoldingRegisters(1, 0, registers.length)).toEqual(registers);
          await client.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('no single flipped bit in an answer ever yields a value: always a CRC or bad-response error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (registers, bytePick, bit) => {
          const clock = new RealClock();
          const [line, far] = createMemorySerialPair();
          await far.open();
          const client = await RtuModbusClient.open({ port: line, clock, timeoutMs: 1000 });
          far.onData(() => {
            const pdu = Buffer.alloc(2 + 2 * registers.length);
            pdu[0] = 3;
            pdu[1] = 2 * registers.length;
            registers.forEach((r, i) => pdu.writeUInt16BE(r, 2 + 2 * i));
            const frame = encodeRtu(1, pdu);
            const i = bytePick % frame.length;
            frame[i] = frame[i]! ^ (1 << bit);
            void far.write(frame);
          });
          const err = await client.readHoldingRegisters(1, 0, registers.length).catch((e: unknown) => e);
          expect(err instanceof ModbusCrcError || err instanceof ModbusBadResponseError).toBe(true);
          await client.close();
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the CRC used on the wire is the standard Modbus one (spec example 01 03 00 00 00 01 -> 84 0A)', () => {
    expect(crc16Modbus(Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x01]))).toBe(0x0a84);
  });
});
