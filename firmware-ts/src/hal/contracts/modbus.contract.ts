// The behaviour every ModbusClient must show against a server holding CONTRACT_MAP on `unitId`
// and ignoring `silentUnitId`. Servers built with contractServerVector() serve exactly that map.
import type { ModbusHandler, ModbusRequest, ModbusResponse } from '@brana/hardware';
import { describe, expect, it } from 'vitest';
import { HalConfigError, ModbusExceptionError, ModbusTimeoutError, PortClosedError } from '../../errors.ts';
import type { ModbusClient } from '../modbus/modbus-client.ts';

export interface ModbusHarness {
  client: ModbusClient;
  /** A unit the server answers for. */
  unitId: number;
  /** A unit nobody answers for. */
  silentUnitId: number;
  dispose(): Promise<void>;
}

/**
 * The usual harness: the server answers unit 1 and nobody unit 9; dispose closes the client, then
 * runs each of `stops` (servers, ptys) in order.
 */
export function contractHarness(client: ModbusClient, ...stops: (() => Promise<unknown>)[]): ModbusHarness {
  return {
    client,
    unitId: 1,
    silentUnitId: 9,
    dispose: async () => {
      await client.close();
      for (const stop of stops) await stop();
    },
  };
}

/** Addresses 0..99 exist in every table; anything above is an illegal data address. */
export const CONTRACT_SIZE = 100;

export const CONTRACT_MAP = {
  holding: (i: number) => (i * 257 + 1000) & 0xffff,
  input: (i: number) => 0xffff - i * 3,
  coil: (i: number) => i % 3 === 0,
  discrete: (i: number) => i % 2 === 1,
};

interface ContractVector {
  getHoldingRegister(addr: number): number;
  getInputRegister(addr: number): number;
  getCoil(addr: number): boolean;
  getDiscreteInput(addr: number): boolean;
  setRegister(addr: number, value: number): void;
  setCoil(addr: number, value: boolean): void;
}

/** A fresh, writable copy of CONTRACT_MAP as a modbus-serial server vector. */
export function contractServerVector(): ContractVector {
  const holding = Array.from({ length: CONTRACT_SIZE }, (_, i) => CONTRACT_MAP.holding(i));
  const input = Array.from({ length: CONTRACT_SIZE }, (_, i) => CONTRACT_MAP.input(i));
  const coils = Array.from({ length: CONTRACT_SIZE }, (_, i) => CONTRACT_MAP.coil(i));
  const discrete = Array.from({ length: CONTRACT_SIZE }, (_, i) => CONTRACT_MAP.discrete(i));
  // A modbus-serial server turns a thrown `modbusErrorCode` into that exception response.
  const check = (addr: number) => {
    if (addr < 0 || addr >= CONTRACT_SIZE) {
      throw Object.assign(new Error('illegal address'), { modbusErrorCode: 2 });
    }
  };
  const at = <T>(table: T[], addr: number): T => {
    check(addr);
    return table[addr]!;
  };
  return {
    getHoldingRegister: (a) => at(holding, a),
    getInputRegister: (a) => at(input, a),
    getCoil: (a) => at(coils, a),
    getDiscreteInput: (a) => at(discrete, a),
    setRegister: (a, v) => {
      check(a);
      holding[a] = v;
    },
    setCoil: (a, v) => {
      check(a);
      coils[a] = v;
    },
  };
}

/**
 * CONTRACT_MAP as a handler for the bench simulators of @brana/hardware (RtuSlave, ModbusTcpServer),
 * answering illegal data address (2) outside 0..99 as the modbus-serial vector does.
 */
export function contractModbusHandler(): ModbusHandler {
  const v = contractServerVector();
  const span = (address: number, n: number) => Array.from({ length: n }, (_, i) => address + i);
  const handle = (r: ModbusRequest): ModbusResponse => {
    switch (r.fc) {
      case 1:
        return { fc: 1, bits: span(r.address, r.quantity).map(v.getCoil) };
      case 2:
        return { fc: 2, bits: span(r.address, r.quantity).map(v.getDiscreteInput) };
      case 3:
        return { fc: 3, registers: span(r.address, r.quantity).map(v.getHoldingRegister) };
      case 4:
        return { fc: 4, registers: span(r.address, r.quantity).map(v.getInputRegister) };
      case 5:
        v.setCoil(r.address, r.value);
        return r;
      case 6:
        v.setRegister(r.address, r.value);
        return r;
      case 15:
        r.values.forEach((b, i) => v.setCoil(r.address + i, b));
        return { fc: 15, address: r.address, quantity: r.values.length };
      case 16:
        r.values.forEach((w, i) => v.setRegister(r.address + i, w));
        return { fc: 16, address: r.address, quantity: r.values.length };
    }
  };
  return {
    handle(r) {
      try {
        return handle(r);
      } catch (e) {
        const code = (e as { modbusErrorCode?: number }).modbusErrorCode ?? 4;
        return { fc: r.fc, exception: code };
      }
    },
  };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

export function describeModbusClientContract(name: string, create: () => Promise<ModbusHarness>): void {
  describe(`ModbusClient contract: ${name}`, () => {
    it('reads all four tables (FC01-FC04) as served', async () => {
      const h = await create();
      const { client: c, unitId: u } = h;
      expect(await c.readHoldingRegisters(u, 0, 10)).toEqual(range(0, 10).map(CONTRACT_MAP.holding));
      expect(await c.readHoldingRegisters(u, 90, 10)).toEqual(range(90, 10).map(CONTRACT_MAP.holding));
      expect(await c.readInputRegisters(u, 5, 3)).toEqual(range(5, 3).map(CONTRACT_MAP.input));
      expect(await c.readCoils(u, 1, 11)).toEqual(range(1, 11).map(CONTRACT_MAP.coil));
      expect(await c.readDiscreteInputs(u, 0, 17)).toEqual(range(0, 17).map(CONTRACT_MAP.discrete));
      await h.dispose();
    });

    it('writes (FC05, FC06, FC15, FC16) and reads the values back', async () => {
      const h = await create();
      const { client: c, unitId: u } = h;
      await c.writeSingleRegister(u, 3, 0xbeef);
      await c.writeMultipleRegisters(u, 10, [0, 1, 0xffff]);
      expect(await c.readHoldingRegisters(u, 3, 1)).toEqual([0xbeef]);
      expect(await c.readHoldingRegisters(u, 10, 3)).toEqual([0, 1, 0xffff]);
      await c.writeSingleCoil(u, 1, true);
      await c.writeMultipleCoils(u, 20, [true, false, true, true, false, false, true, false, true]);
      expect(await c.readCoils(u, 1, 1)).toEqual([true]);
      expect(await c.readCoils(u, 20, 9)).toEqual([true, false, true, true, false, false, true, false, true]);
      await h.dispose();
    });

    it('an exception response becomes ModbusExceptionError with its code, naming the request', async () => {
      const h = await create();
      const err = await h.client.readHoldingRegisters(h.unitId, 150, 2).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModbusExceptionError);
      const ex = err as ModbusExceptionError;
      expect(ex.exceptionCode).toBe(2);
      expect(ex.code).toBe('MODBUS_EXCEPTION');
      expect(ex.retryable).toBe(false);
      expect(ex.request).toMatchObject({ unitId: h.unitId, functionCode: 3, address: 150 });
      expect(ex.message).toContain(h.client.target);
      expect(ex.message).toMatch(/FC03 @150: exception 2 \(illegal data address\)\. Fix:/);
      // The client is still usable afterwards.
      expect(await h.client.readHoldingRegisters(h.unitId, 0, 1)).toEqual([CONTRACT_MAP.holding(0)]);
      await h.dispose();
    });

    it('a silent unit becomes ModbusTimeoutError after the per-request timeout', async () => {
      const h = await create();
      const started = performance.now();
      const err = await h.client
        .readInputRegisters(h.silentUnitId, 0, 1, { timeoutMs: 150 })
        .catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      expect(err).toBeInstanceOf(ModbusTimeoutError);
      expect((err as ModbusTimeoutError).timeoutMs).toBe(150);
      expect((err as ModbusTimeoutError).retryable).toBe(true);
      expect((err as Error).message).toMatch(/no answer within 150 ms/);
      expect(elapsed).toBeGreaterThanOrEqual(140);
      expect(elapsed).toBeLessThan(150 + 2000);
      expect(await h.client.readInputRegisters(h.unitId, 0, 1)).toEqual([CONTRACT_MAP.input(0)]);
      await h.dispose();
    });

    it('concurrent requests are served one at a time, each with its own answer', async () => {
      const h = await create();
      const results = await Promise.all(
        range(0, 10).map((i) => h.client.readHoldingRegisters(h.unitId, i * 9, 2)),
      );
      results.forEach((r, i) => {
        expect(r).toEqual([CONTRACT_MAP.holding(i * 9), CONTRACT_MAP.holding(i * 9 + 1)]);
      });
      await h.dispose();
    });

    it('refuses bad arguments before touching the bus, naming the field', async () => {
      const h = await create();
      const c = h.client;
      expect(() => c.readHoldingRegisters(h.unitId, 0, 0)).toThrow(HalConfigError);
      expect(() => c.readHoldingRegisters(h.unitId, 0, 126)).toThrow(/count must be 1-125/);
      expect(() => c.readCoils(h.unitId, 70_000, 1)).toThrow(/address must be an integer 0-65535/);
      expect(() => c.readInputRegisters(h.unitId, 65_530, 10)).toThrow(/runs past 65535/);
      expect(() => c.readInputRegisters(0, 0, 1)).toThrow(/broadcast/);
      expect(() => c.writeSingleRegister(h.unitId, 0, 65_536)).toThrow(/values\[0\].*0-65535/);
      expect(() => c.writeMultipleRegisters(h.unitId, 0, [1, -1])).toThrow(/values\[1\]/);
      expect(() => c.readHoldingRegisters(h.unitId, 0, 1, { timeoutMs: 0 })).toThrow(/timeoutMs/);
      await h.dispose();
    });

    it('after close, requests fail with PortClosedError; close is idempotent', async () => {
      const h = await create();
      await h.client.readHoldingRegisters(h.unitId, 0, 1);
      await h.client.close();
      await h.client.close();
      expect(h.client.isOpen).toBe(false);
      await expect(h.client.readHoldingRegisters(h.unitId, 0, 1)).rejects.toThrow(PortClosedError);
      await h.dispose();
    });
  });
}
