// The modbus-serial backed client over real TCP against modbus-serial's own ServerTCP (a server
// this project did not write), serving the contract register map.

import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { PortOpenError } from '../src/errors.ts';
import {
  contractHarness,
  contractServerVector,
  describeModbusClientContract,
} from '../src/hal/contracts/modbus.contract.ts';
import { ModbusSerialClient } from '../src/hal/modbus/modbus-serial-client.ts';

const { ServerTCP } = createRequire(import.meta.url)('modbus-serial') as typeof import('modbus-serial');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startServer(unitID: number) {
  const port = await freePort();
  const server = new ServerTCP(contractServerVector(), { host: '127.0.0.1', port, unitID });
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', reject);
  });
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describeModbusClientContract('modbus-serial over TCP against ServerTCP', async () => {
  const server = await startServer(1);
  const client = await ModbusSerialClient.connectTcp({
    host: '127.0.0.1',
    port: server.port,
    timeoutMs: 1000,
  });
  return contractHarness(client, server.close);
});

describe('Modbus TCP connect', () => {
  it('a refused connection fails with PortOpenError naming host, port and what to check', async () => {
    const port = await freePort();
    const err = await ModbusSerialClient.connectTcp({ host: '127.0.0.1', port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortOpenError);
    expect((err as Error).message).toContain(`tcp:127.0.0.1:${port}: connection refused`);
    expect((err as Error).message).toMatch(/Fix: the host answers but nothing listens on port \d+/);
  });
});
