import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryWires, ModbusTcpServer, UnsupportedPlatformError, WireServer } from '@brana/hardware';
import { describe, expect, it } from 'vitest';
import { HalConfigError } from '../errors.ts';
import { RealClock } from './clock/real-clock.ts';
import { VirtualClock } from './clock/virtual-clock.ts';
import { CONTRACT_MAP, contractModbusHandler } from './contracts/modbus.contract.ts';
import { attachRtuResponder } from './contracts/rtu-responder.ts';
import { createHal, parseHalConfig } from './create-hal.ts';
import { RtuModbusClient } from './modbus/rtu-client.ts';
import { MemorySerialPort } from './serial/memory-serial.ts';
import { NodeSerialPort } from './serial/node-serial-port.ts';

describe('createHal', () => {
  it("gpio 'memory' drives the injected wires; a real clock is the default", async () => {
    const wires = new MemoryWires();
    const hal = await createHal({ gpio: { backend: 'memory' } }, { wires });
    expect(hal.clock).toBeInstanceOf(RealClock);
    expect(hal.gpio.kind).toBe('memory');
    const relay = await hal.gpio.openOutput(5, { initial: 1 });
    await new Promise((r) => setImmediate(r));
    expect(await wires.read('gpio5')).toBe(1);
    const door = await hal.gpio.openInput('door');
    const seen: number[] = [];
    door.onEdge((level) => seen.push(level));
    await wires.set('door', 1);
    expect(seen).toEqual([1]);
    await relay.close();
    await door.close();
    await hal.close();
  });

  it("gpio 'bench' connects to the wire bus socket", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brana-hal-'));
    const server = await WireServer.listen({ path: join(dir, 'wires.sock') });
    try {
      const hal = await createHal({ gpio: { backend: 'bench', socketPath: server.path } });
      expect(hal.gpio.kind).toBe('bench');
      const out = await hal.gpio.openOutput('lamp');
      out.write(1);
      const deadline = Date.now() + 2000;
      while ((await server.bus.read('lamp')) !== 1 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 2));
      expect(await server.bus.read('lamp')).toBe(1);
      await out.close();
      await hal.close();
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gpio 'sysfs' without GPIO fails with UnsupportedPlatformError (this machine has none)", async () => {
    await expect(createHal({ gpio: { backend: 'sysfs' } })).rejects.toThrow(UnsupportedPlatformError);
  });

  it("clock 'virtual' builds a VirtualClock; an injected clock wins", async () => {
    const virtual = await createHal({ clock: 'virtual', gpio: { backend: 'memory' } });
    expect(virtual.clock).toBeInstanceOf(VirtualClock);
    const mine = new VirtualClock();
    const injected = await createHal({ gpio: { backend: 'memory' } }, { clock: mine });
    expect(injected.clock).toBe(mine);
  });

  it('serial ports follow the serial backend', async () => {
    const native = await createHal({ gpio: { backend: 'memory' } });
    const port = native.serialPort('/dev/ttyAMA0', { baudRate: 19200 });
    expect(port).toBeInstanceOf(NodeSerialPort);
    expect(port.settings.baudRate).toBe(19200);
    expect(port.isOpen).toBe(false);
    const memory = await createHal(
      { gpio: { backend: 'memory' }, serial: 'memory' },
      { clock: new VirtualClock() },
    );
    const m = memory.serialPort('radio');
    expect(m).toBeInstanceOf(MemorySerialPort);
    expect((m as MemorySerialPort).peer.path).toBe('radio.peer');
  });

  it('connects Modbus TCP to a bench server', async () => {
    const server = await ModbusTcpServer.start({
      port: 0,
      devices: [{ unit: 3, handler: contractModbusHandler() }],
    });
    const hal = await createHal({ gpio: { backend: 'memory' } });
    const client = await hal.connectModbus({ transport: 'tcp', host: '127.0.0.1', port: server.port });
    try {
      expect(await client.readInputRegisters(3, 7, 2)).toEqual([
        CONTRACT_MAP.input(7),
        CONTRACT_MAP.input(8),
      ]);
    } finally {
      await client.close();
      await server.stop();
    }
  });

  it("RTU with driver 'brana' runs on a memory serial line in virtual time", async () => {
    const clock = new VirtualClock();
    const hal = await createHal({ gpio: { backend: 'memory' }, serial: 'memory' }, { clock });
    const client = await hal.connectModbus({
      transport: 'rtu',
      driver: 'brana',
      path: 'rs485',
      baudRate: 19200,
    });
    expect(client).toBeInstanceOf(RtuModbusClient);
    expect(client.target).toBe('rtu:rs485');
    const far = ((client as RtuModbusClient).port as MemorySerialPort).peer;
    await far.open();
    attachRtuResponder({
      port: far,
      clock,
      devices: new Map([[4, contractModbusHandler()]]),
      turnaroundMs: 20,
    });
    let value: number[] | undefined;
    void client.readInputRegisters(4, 2, 1).then((v) => {
      value = v;
    });
    // 8 + 7 characters at 19200 Bd 8N1 (10 bits) plus 20 ms turnaround: about 27.8 ms of virtual time.
    expect(await clock.runUntilAsync(() => value !== undefined, 1000)).toBe(true);
    expect(value).toEqual([CONTRACT_MAP.input(2)]);
    expect(clock.monotonicMs()).toBeCloseTo((15 * 10 * 1000) / 19200 + 20, 6);
    await client.close();
  });

  it('names the wrong field of a bad configuration and how to fix it', () => {
    expect(() => parseHalConfig({ gpio: { backend: 'gpiod' } })).toThrow(HalConfigError);
    expect(() => parseHalConfig({ gpio: { backend: 'gpiod' } })).toThrow(
      /^hal\.gpio\.backend: .*Fix: use 'sysfs'/,
    );
    expect(() => parseHalConfig({ gpio: { backend: 'bench' } })).toThrow(
      /^hal\.gpio\.socketPath: .*Fix: give the wire bus socket/,
    );
    expect(() => parseHalConfig({ gpio: { backend: 'sysfs', gpioBase: -1 } })).toThrow(
      /^hal\.gpio\.gpioBase/,
    );
    expect(() => parseHalConfig({ gpio: { backend: 'memory' }, serial: 'usb' })).toThrow(
      /^hal\.serial: .*Fix: use 'native' or 'memory'/,
    );
    expect(() => parseHalConfig({})).toThrow(/^hal\.gpio: .*Fix: add gpio: \{ backend/);
    expect(() => parseHalConfig({ gpio: { backend: 'memory' }, gpoi: 1 }, 'config.hal')).toThrow(
      /^config\.hal\.gpoi: unknown setting\. Fix: remove it/,
    );
  });
});
