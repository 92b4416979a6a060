import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import { encodeMbap, encodeResponse, MbapFramer, ModbusTcpServer } from '@brana/hardware';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ModbusBadResponseError,
  ModbusExceptionError,
  ModbusTimeoutError,
  PortClosedError,
  PortOpenError,
} from '../../errors.ts';
import { RealClock } from '../clock/real-clock.ts';
import {
  CONTRACT_MAP,
  contractHarness,
  contractModbusHandler,
  contractServerVector,
  describeModbusClientContract,
} from '../contracts/modbus.contract.ts';
import { TcpModbusClient } from './tcp-client.ts';

const { ServerTCP } = createRequire(import.meta.url)('modbus-serial') as typeof import('modbus-serial');
const clock = new RealClock();

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describeModbusClientContract('TcpModbusClient against modbus-serial ServerTCP', async () => {
  const port = await freePort();
  const server = new ServerTCP(contractServerVector(), { host: '127.0.0.1', port, unitID: 1 });
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', reject);
  });
  const client = await TcpModbusClient.connect({ host: '127.0.0.1', port, clock, timeoutMs: 1000 });
  return contractHarness(client, () => new Promise<void>((r) => server.close(() => r())));
});

describeModbusClientContract('TcpModbusClient against the bench ModbusTcpServer', async () => {
  const server = await ModbusTcpServer.start({
    port: 0,
    devices: [
      { unit: 1, handler: contractModbusHandler() },
      { unit: 9, handler: contractModbusHandler(), faults: [{ kind: 'timeout' }] },
    ],
  });
  const client = await TcpModbusClient.connect({
    host: '127.0.0.1',
    port: server.port,
    clock,
    timeoutMs: 1000,
  });
  return contractHarness(client, () => server.stop());
});

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function bench() {
  const server = await ModbusTcpServer.start({
    port: 0,
    devices: [{ unit: 1, handler: contractModbusHandler() }],
  });
  stops.push(() => server.stop());
  const client = await TcpModbusClient.connect({
    host: '127.0.0.1',
    port: server.port,
    clock,
    timeoutMs: 300,
  });
  stops.push(() => client.close());
  return { server, client };
}

/** A raw TCP server that hands each request frame to `reply`, for answers no real server gives. */
async function rawServer(
  reply: (socket: Socket, frame: { transactionId: number; unit: number; pdu: Buffer }) => void,
) {
  const server: Server = createServer((socket) => {
    const framer = new MbapFramer();
    socket.on('data', (c: Buffer) => {
      for (const f of framer.push(c)) reply(socket, f);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  stops.push(() => new Promise((r) => server.close(r)));
  const client = await TcpModbusClient.connect({ host: '127.0.0.1', port, clock, timeoutMs: 500 });
  stops.push(() => client.close());
  return client;
}

describe('TcpModbusClient', () => {
  it('keeps several requests outstanding and matches answers by transaction id, in any order', async () => {
    const held: { socket: Socket; frame: { transactionId: number; unit: number; pdu: Buffer } }[] = [];
    const client = await rawServer((socket, frame) => {
      held.push({ socket, frame });
      if (held.length < 4) return;
      // Answer all four at once, last first.
      for (const { socket: s, frame: f } of held.reverse()) {
        const address = f.pdu.readUInt16BE(1);
        s.write(
          encodeMbap({
            transactionId: f.transactionId,
            unit: f.unit,
            pdu: encodeResponse({ fc: 3, registers: [CONTRACT_MAP.holding(address)] }),
          }),
        );
      }
    });
    const answers = await Promise.all([0, 1, 2, 3].map((a) => client.readHoldingRegisters(1, a, 1)));
    expect(answers).toEqual([0, 1, 2, 3].map((a) => [CONTRACT_MAP.holding(a)]));
  });

  it('drops a late answer to a timed-out request; the next request gets its own answer', async () => {
    const { client, server } = await bench();
    server.injectFault(1, { kind: 'delay', delayMs: 450 });
    const late = await client.readHoldingRegisters(1, 5, 1).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(ModbusTimeoutError);
    await new Promise((r) => setTimeout(r, 250));
    expect(await client.readHoldingRegisters(1, 7, 1)).toEqual([CONTRACT_MAP.holding(7)]);
    expect(client.stats.strayAnswers).toBe(1);
  });

  it('a connection the device closes mid-request fails that request at once with PortClosedError', async () => {
    const { client, server } = await bench();
    server.injectFault(1, { kind: 'close' });
    const t0 = performance.now();
    const err = await client.readHoldingRegisters(1, 0, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortClosedError);
    expect((err as Error).message).toMatch(/closed the connection during the request/);
    expect(performance.now() - t0).toBeLessThan(250);
    expect(client.isOpen).toBe(false);
    await expect(client.readHoldingRegisters(1, 0, 1)).rejects.toThrow(/device closed the connection/);
  });

  it('a connection the device closes while idle is seen closed without a request', async () => {
    const { client, server } = await bench();
    expect(await client.readInputRegisters(1, 0, 1)).toEqual([CONTRACT_MAP.input(0)]);
    server.dropConnections();
    const deadline = Date.now() + 2000;
    while (client.isOpen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(client.isOpen).toBe(false);
  });

  it('a refused connection and one that gets no answer fail with PortOpenError saying which', async () => {
    const { server } = await bench();
    await server.setMode('refuse');
    const refused = await TcpModbusClient.connect({ host: '127.0.0.1', port: server.port, clock }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(PortOpenError);
    expect((refused as Error).message).toMatch(/connection refused\. Fix: .*port/);
    await server.setMode('blackhole');
    const t0 = performance.now();
    const silent = await TcpModbusClient.connect({
      host: '127.0.0.1',
      port: server.port,
      clock,
      connectTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(silent).toBeInstanceOf(PortOpenError);
    expect((silent as Error).message).toMatch(
      /no answer to the connection attempt within 300 ms\. Fix: .*powered/,
    );
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('an answer from another unit or function is refused naming the byte; the connection goes on', async () => {
    let n = 0;
    const client = await rawServer((socket, f) => {
      n++;
      const pdu =
        n === 1
          ? encodeResponse({ fc: 3, registers: [1] })
          : n === 2
            ? encodeResponse({ fc: 4, registers: [1] })
            : encodeResponse({ fc: 3, exception: 2 });
      socket.write(encodeMbap({ transactionId: f.transactionId, unit: n === 1 ? 7 : f.unit, pdu }));
    });
    const unit = await client.readHoldingRegisters(1, 0, 1).catch((e: unknown) => e);
    expect(unit).toBeInstanceOf(ModbusBadResponseError);
    expect((unit as Error).message).toMatch(/answer from unit 7 at byte 6/);
    const fn = await client.readHoldingRegisters(1, 0, 1).catch((e: unknown) => e);
    expect((fn as Error).message).toMatch(/function code 0x04 at byte 7 in answer to FC3/);
    await expect(client.readHoldingRegisters(1, 0, 1)).rejects.toBeInstanceOf(ModbusExceptionError);
    expect(client.isOpen).toBe(true);
  });

  it('a header that breaks the stream fails what waits, naming the byte, and closes the connection', async () => {
    const client = await rawServer((socket, f) => {
      const good = encodeMbap({
        transactionId: f.transactionId,
        unit: 1,
        pdu: encodeResponse({ fc: 3, registers: [1] }),
      });
      good.writeUInt16BE(7, 2); // protocol id 7
      socket.write(good);
    });
    const err = await client.readHoldingRegisters(1, 0, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModbusBadResponseError);
    expect((err as Error).message).toMatch(/MBAP protocol id 7, expected 0 at byte 2 of the stream/);
    expect(client.isOpen).toBe(false);
  });
});
