import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeResponse,
  decodeRtu,
  encodeMbap,
  encodeRequest,
  encodeRtu,
  type MbapFrame,
  MbapFramer,
} from '../../modbus/index.ts';
import { ManualClock } from '../sim/clock.ts';
import { testMeterProfile, testWaterProfile } from '../sim/fixtures.ts';
import { RegisterBank } from '../sim/register-bank.ts';
import { ModbusTcpServer } from './tcp-server.ts';

let server: ModbusTcpServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(): Promise<{ meter: RegisterBank; water: RegisterBank }> {
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const meter = new RegisterBank(testMeterProfile(), { clock });
  const water = new RegisterBank(testWaterProfile(), { clock });
  server = await ModbusTcpServer.start({
    port: 0,
    devices: [
      { unit: 1, handler: meter },
      { unit: 2, handler: water },
    ],
  });
  return { meter, water };
}

function client(port: number): Promise<{ socket: Socket; frames: MbapFrame[]; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, frames, closed }));
    const frames: MbapFrame[] = [];
    const framer = new MbapFramer();
    socket.on('data', (c: Buffer) => frames.push(...framer.push(c)));
    // A reset from the server (refuse) is what some tests expect.
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
  });
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ModbusTcpServer', () => {
  it('answers pipelined requests to several units in order, with their transaction ids', async () => {
    const { meter } = await start();
    const c = await client(server!.port);
    const reqs = [
      { transactionId: 10, unit: 1, pdu: encodeRequest({ fc: 3, address: 0xfc00, quantity: 2 }) },
      { transactionId: 11, unit: 2, pdu: encodeRequest({ fc: 3, address: 0, quantity: 4 }) },
      { transactionId: 12, unit: 1, pdu: encodeRequest({ fc: 4, address: 1000, quantity: 1 }) },
      { transactionId: 13, unit: 9, pdu: encodeRequest({ fc: 4, address: 0, quantity: 1 }) },
    ];
    c.socket.write(Buffer.concat(reqs.map(encodeMbap)));
    await until(() => c.frames.length === 4);
    expect(c.frames.map((f) => [f.transactionId, f.unit])).toEqual(
      reqs.map((r) => [r.transactionId, r.unit]),
    );
    expect(decodeResponse(c.frames[0]!.pdu)).toEqual({
      fc: 3,
      registers: [12345678 >>> 16, 12345678 & 0xffff],
    });
    expect(meter.valueOf('serialNumber')).toBe(12345678);
    expect(decodeResponse(c.frames[1]!.pdu)).toMatchObject({ fc: 3 });
    expect(decodeResponse(c.frames[2]!.pdu)).toEqual({ fc: 4, exception: 2 });
    expect(decodeResponse(c.frames[3]!.pdu)).toEqual({ fc: 4, exception: 11 });
    c.socket.destroy();
  });

  it('closes only the connection that sends a malformed MBAP header', async () => {
    await start();
    const good = await client(server!.port);
    const bad = await client(server!.port);
    bad.socket.write(Buffer.from('000100070006010300000001', 'hex'));
    await bad.closed;
    good.socket.write(
      encodeMbap({ transactionId: 1, unit: 1, pdu: encodeRequest({ fc: 3, address: 0xfc00, quantity: 2 }) }),
    );
    await until(() => good.frames.length === 1);
    expect(server!.stats.malformed).toBe(1);
    good.socket.destroy();
  });

  it('serves many clients at once', async () => {
    await start();
    const clients = await Promise.all(Array.from({ length: 20 }, () => client(server!.port)));
    clients.forEach((c, i) => {
      c.socket.write(
        encodeMbap({ transactionId: i, unit: 1, pdu: encodeRequest({ fc: 4, address: 12, quantity: 2 }) }),
      );
    });
    await until(() => clients.every((c) => c.frames.length === 1));
    clients.forEach((c, i) => {
      expect(c.frames[0]!.transactionId).toBe(i);
      c.socket.destroy();
    });
  });

  it('shows injected faults: no answer, exception, delay', async () => {
    await start();
    const c = await client(server!.port);
    const read = (id: number) =>
      c.socket.write(
        encodeMbap({ transactionId: id, unit: 1, pdu: encodeRequest({ fc: 4, address: 0, quantity: 2 }) }),
      );
    server!.injectFault(1, { kind: 'timeout' });
    server!.injectFault(1, { kind: 'exception', code: 6 });
    server!.injectFault(1, { kind: 'delay', delayMs: 150 });
    const t0 = performance.now();
    read(1);
    read(2);
    read(3);
    await until(() => c.frames.length === 2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
    expect(c.frames.map((f) => f.transactionId)).toEqual([2, 3]);
    expect(decodeResponse(c.frames[0]!.pdu)).toEqual({ fc: 4, exception: 6 });
    expect(decodeResponse(c.frames[1]!.pdu)).toMatchObject({
      fc: 4,
      registers: [expect.any(Number), expect.any(Number)],
    });
    c.socket.destroy();
  });

  it('reports a taken port with a one-line fix', async () => {
    await start();
    await expect(ModbusTcpServer.start({ port: server!.port, devices: [] })).rejects.toThrow(
      /TCP port \d+ on 127.0.0.1 is already in use.*Fix: .*port: 0/,
    );
  });

  it('closes idle connections on demand, and one mid-request with the close fault', async () => {
    await start();
    const idle = await client(server!.port);
    expect(server!.dropConnections()).toBe(1);
    await idle.closed;
    const busy = await client(server!.port);
    server!.injectFault(1, { kind: 'close' });
    busy.socket.write(
      encodeMbap({ transactionId: 1, unit: 1, pdu: encodeRequest({ fc: 4, address: 0, quantity: 2 }) }),
    );
    await busy.closed;
    expect(busy.frames).toEqual([]);
    expect(server!.stats.closedByServer).toBe(2);
  });

  it('refuses connections and resets open ones, then serves again on the same port', async () => {
    await start();
    const open = await client(server!.port);
    await server!.setMode('refuse');
    await open.closed;
    const refused = await new Promise<string>((resolve) => {
      const s = connect(server!.port, '127.0.0.1');
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.on('connect', () => resolve('connected'));
    });
    expect(refused).toBe('ECONNREFUSED');
    await server!.setMode('serve');
    const again = await client(server!.port);
    again.socket.write(
      encodeMbap({ transactionId: 5, unit: 1, pdu: encodeRequest({ fc: 4, address: 0, quantity: 2 }) }),
    );
    await until(() => again.frames.length === 1);
    again.socket.destroy();
  });

  it('stalls: keeps connections and reads requests without answering until it serves again', async () => {
    await start();
    const c = await client(server!.port);
    await server!.setMode('stall');
    const read = (id: number) =>
      c.socket.write(
        encodeMbap({ transactionId: id, unit: 1, pdu: encodeRequest({ fc: 4, address: 0, quantity: 2 }) }),
      );
    read(1);
    await until(() => server!.stats.unanswered === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.frames).toEqual([]);
    await server!.setMode('serve');
    read(2);
    await until(() => c.frames.length === 1);
    expect(c.frames[0]!.transactionId).toBe(2);
    c.socket.destroy();
  });

  it('blackhole: a connection attempt gets no answer at all, open connections stay silent', async () => {
    await start();
    const open = await client(server!.port);
    await server!.setMode('blackhole');
    const attempt = connect(server!.port, '127.0.0.1');
    let outcome = 'pending';
    attempt.on('connect', () => {
      outcome = 'connected';
    });
    attempt.on('error', (e: NodeJS.ErrnoException) => {
      outcome = e.code ?? 'error';
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(outcome).toBe('pending');
    expect(open.socket.destroyed).toBe(false);
    attempt.destroy();
    await server!.setMode('serve');
    const again = await client(server!.port);
    again.socket.write(
      encodeMbap({ transactionId: 9, unit: 1, pdu: encodeRequest({ fc: 4, address: 0, quantity: 2 }) }),
    );
    await until(() => again.frames.length === 1);
    again.socket.destroy();
    open.socket.destroy();
  });

  it('with RTU framing answers RTU frames over TCP, damages them on demand, ignores absent units', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
    const meter = new RegisterBank(testMeterProfile(), { clock });
    server = await ModbusTcpServer.start({ port: 0, framing: 'rtu', devices: [{ unit: 7, handler: meter }] });
    const got: Buffer[] = [];
    const socket = await new Promise<Socket>((resolve) => {
      const s = connect(server!.port, '127.0.0.1', () => resolve(s));
    });
    socket.on('data', (c: Buffer) => got.push(c));
    const ask = (unit: number) =>
      socket.write(encodeRtu(unit, encodeRequest({ fc: 3, address: 0xfc00, quantity: 2 })));
    ask(7);
    await until(() => Buffer.concat(got).length >= 9);
    expect(decodeResponse(decodeRtu(Buffer.concat(got)).pdu)).toEqual({
      fc: 3,
      registers: [12345678 >>> 16, 12345678 & 0xffff],
    });
    got.length = 0;
    server.injectFault(7, { kind: 'badCrc' });
    ask(7);
    await until(() => Buffer.concat(got).length >= 9);
    expect(() => decodeRtu(Buffer.concat(got))).toThrow(/RTU CRC/);
    got.length = 0;
    ask(9);
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([]);
    expect(server.stats.requests).toBe(3);
    socket.destroy();
  });
});
