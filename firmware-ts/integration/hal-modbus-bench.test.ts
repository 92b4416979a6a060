// The Modbus client against the bench's own simulators from @brana/hardware: the RTU slave on a
// socat pty (wire timing, turnaround, faults on demand) and the Modbus TCP server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModbusTcpServer, RtuSlave, rtuTransactionTimeMs } from '@brana/hardware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusCrcError, ModbusExceptionError, ModbusTimeoutError } from '../src/errors.ts';
import { RealClock } from '../src/hal/clock/real-clock.ts';
import {
  CONTRACT_MAP,
  contractHarness,
  contractModbusHandler,
  describeModbusClientContract,
} from '../src/hal/contracts/modbus.contract.ts';
import type { ModbusClient } from '../src/hal/modbus/modbus-client.ts';
import { ModbusSerialClient } from '../src/hal/modbus/modbus-serial-client.ts';
import { RtuModbusClient } from '../src/hal/modbus/rtu-client.ts';
import { NodeSerialPort } from '../src/hal/serial/node-serial-port.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'brana-hal-bench-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let lines = 0;

// Short turnarounds keep the suite fast; the wire timing itself stays real.
const device = (unit: number) => ({ unit, handler: contractModbusHandler(), turnaroundMs: [1, 3] as const });

describeModbusClientContract('modbus-serial RTU against the bench RtuSlave', async () => {
  const slave = await RtuSlave.start({
    dir,
    name: `line${++lines}`,
    baud: 38400,
    parity: 'even',
    devices: [device(1)],
  });
  const client = await ModbusSerialClient.connectRtu({
    path: slave.clientPath,
    baudRate: 38400,
    parity: 'even',
    timeoutMs: 1000,
  });
  return contractHarness(client, () => slave.stop());
});

describeModbusClientContract('RtuModbusClient on NodeSerialPort against the bench RtuSlave', async () => {
  const slave = await RtuSlave.start({
    dir,
    name: `line${++lines}`,
    baud: 38400,
    parity: 'even',
    devices: [device(1)],
  });
  const port = new NodeSerialPort({ path: slave.clientPath, baudRate: 38400, parity: 'even' });
  const client = await RtuModbusClient.open({ port, clock: new RealClock(), timeoutMs: 1000 });
  return contractHarness(client, () => slave.stop());
});

describeModbusClientContract('modbus-serial TCP against the bench ModbusTcpServer', async () => {
  // A TCP server answers unknown units itself (exception 11), so the silent unit is a device
  // whose every request times out.
  const silent = { ...device(9), faults: [{ kind: 'timeout' as const }] };
  const server = await ModbusTcpServer.start({ port: 0, devices: [device(1), silent] });
  const client = await ModbusSerialClient.connectTcp({
    host: '127.0.0.1',
    port: server.port,
    timeoutMs: 1000,
  });
  return contractHarness(client, () => server.stop());
});

describe('Modbus TCP gateway answers', () => {
  it('a unit the gateway does not know becomes exception 11, retryable, naming the unit', async () => {
    const server = await ModbusTcpServer.start({ port: 0, devices: [device(1), device(2)] });
    const client = await ModbusSerialClient.connectTcp({
      host: '127.0.0.1',
      port: server.port,
      timeoutMs: 1000,
    });
    try {
      const err = await client.readInputRegisters(42, 0, 1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModbusExceptionError);
      expect((err as ModbusExceptionError).exceptionCode).toBe(11);
      expect((err as ModbusExceptionError).retryable).toBe(true);
      expect((err as Error).message).toMatch(
        /unit 42 FC04 @0: exception 11 \(gateway target device failed to respond\)/,
      );
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

const rtuClients: Record<string, (path: string) => Promise<ModbusClient>> = {
  'modbus-serial': (path) => ModbusSerialClient.connectRtu({ path, baudRate: 19200, timeoutMs: 300 }),
  RtuModbusClient: (path) =>
    RtuModbusClient.open({
      port: new NodeSerialPort({ path, baudRate: 19200 }),
      clock: new RealClock(),
      timeoutMs: 300,
    }),
};

describe.each(Object.entries(rtuClients))(
  'Modbus RTU faults injected by the bench simulator (%s)',
  (_name, connect) => {
    it('bad CRC, exception, silence and a truncated frame each become their typed error, and the line recovers', async () => {
      const slave = await RtuSlave.start({ dir, name: `line${++lines}`, baud: 19200, devices: [device(5)] });
      const client = await connect(slave.clientPath);
      try {
        const attempt = () => client.readHoldingRegisters(5, 10, 2).catch((e: unknown) => e);

        slave.injectFault(5, { kind: 'badCrc' });
        expect(await attempt()).toBeInstanceOf(ModbusCrcError);

        slave.injectFault(5, { kind: 'exception', code: 6 });
        const busy = await attempt();
        expect(busy).toBeInstanceOf(ModbusExceptionError);
        expect((busy as ModbusExceptionError).exceptionCode).toBe(6);
        expect((busy as ModbusExceptionError).retryable).toBe(true);

        slave.injectFault(5, { kind: 'timeout' });
        expect(await attempt()).toBeInstanceOf(ModbusTimeoutError);

        // A frame cut short never completes: the client waits for the rest, then times out.
        slave.injectFault(5, { kind: 'partial' });
        expect(await attempt()).toBeInstanceOf(ModbusTimeoutError);

        expect(await client.readHoldingRegisters(5, 10, 2)).toEqual([
          CONTRACT_MAP.holding(10),
          CONTRACT_MAP.holding(11),
        ]);
      } finally {
        await client.close();
        await slave.stop();
      }
    });
  },
);

describe.each(Object.entries(rtuClients))('Modbus RTU transaction time (%s)', (_name, connect) => {
  it('a 60-register read takes the wire time of the simulated line, plus little', async () => {
    const turnaroundMs = 10;
    const slave = await RtuSlave.start({
      dir,
      name: `line${++lines}`,
      baud: 19200,
      devices: [{ unit: 1, handler: contractModbusHandler(), turnaroundMs: [turnaroundMs, turnaroundMs] }],
    });
    const client = await connect(slave.clientPath);
    try {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await client.readHoldingRegisters(1, 0, 60);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      // (8 + 125) characters of 11 bits at 19200 Bd, two t3.5 gaps and the turnaround: about 97 ms.
      const wireMs = rtuTransactionTimeMs({ requestBytes: 8, responseBytes: 125, baud: 19200, turnaroundMs });
      const fastest = times[0]!;
      // The simulator holds the answer until its wire time has passed, so no transaction can be
      // faster. A loaded 2-core machine only adds scheduling delay, to some samples more than to
      // others, so the fastest shows what client and simulator do: within 60 ms of the wire time,
      // less than the ~76 ms a line paced at half the baud rate would add.
      expect(fastest).toBeGreaterThanOrEqual(wireMs * 0.95);
      expect(fastest).toBeLessThan(wireMs + 60);
    } finally {
      await client.close();
      await slave.stop();
    }
  });
});
