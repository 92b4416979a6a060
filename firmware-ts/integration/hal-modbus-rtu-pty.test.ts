// Modbus RTU over a socat pty pair, the bench's serial line: the client under test on one end,
// modbus-serial's ServerSerial (a third-party RTU slave) on the other. A second scenario puts a
// hand-made faulty slave on the line to produce CRC errors and answers from the wrong unit.
import { createRequire } from 'node:module';
import { crc16Modbus } from '@brana/hardware';
import { describe, expect, it } from 'vitest';
import { ModbusCrcError, ModbusTimeoutError, PortOpenError } from '../src/errors.ts';
import {
  contractHarness,
  contractServerVector,
  describeModbusClientContract,
} from '../src/hal/contracts/modbus.contract.ts';
import { openPtyPair } from '../src/hal/contracts/pty-pair.ts';
import { ModbusSerialClient } from '../src/hal/modbus/modbus-serial-client.ts';
import { NodeSerialPort } from '../src/hal/serial/node-serial-port.ts';

const { ServerSerial } = createRequire(import.meta.url)('modbus-serial') as typeof import('modbus-serial');

describeModbusClientContract('modbus-serial RTU on a socat pty against ServerSerial', async () => {
  const pty = await openPtyPair();
  const server = new ServerSerial(contractServerVector(), {
    path: pty.b,
    baudRate: 19200,
    parity: 'even',
    unitID: 1,
    // The server frames requests by a silence of this many ms on the line.
    interval: 5,
  } as never);
  await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
  const client = await ModbusSerialClient.connectRtu({
    path: pty.a,
    baudRate: 19200,
    parity: 'even',
    timeoutMs: 1000,
  });
  return contractHarness(
    client,
    () => new Promise<void>((r) => server.close(() => r())),
    () => pty.close(),
  );
});

/** Answers every FC03 request of one register with a frame spoilt in a chosen way. */
async function faultySlave(path: string, spoil: (frame: Buffer) => Buffer) {
  const port = new NodeSerialPort({ path, baudRate: 9600 });
  await port.open();
  let inbox = Buffer.alloc(0);
  port.onData((bytes) => {
    inbox = Buffer.concat([inbox, bytes]);
    if (inbox.length < 8) return; // an FC03 request is 8 bytes
    const unit = inbox[0]!;
    inbox = Buffer.alloc(0);
    const frame = Buffer.from([unit, 0x03, 0x02, 0x12, 0x34, 0, 0]);
    frame.writeUInt16LE(crc16Modbus(frame, 0, 5), 5);
    void port.write(spoil(frame));
  });
  return port;
}

describe('Modbus RTU faults on the line', () => {
  it('a corrupted answer becomes ModbusCrcError; an answer from another unit is ignored (timeout)', async () => {
    const pty = await openPtyPair();
    const client = await ModbusSerialClient.connectRtu({ path: pty.a, baudRate: 9600, timeoutMs: 500 });
    try {
      const crcSlave = await faultySlave(pty.b, (f) => {
        f[4] = f[4]! ^ 0x01; // one flipped bit in the data
        return f;
      });
      const crc = await client.readHoldingRegisters(1, 0, 1).catch((e: unknown) => e);
      expect(crc).toBeInstanceOf(ModbusCrcError);
      expect((crc as Error).message).toMatch(/unit 1 FC03 @0: answer failed the CRC check\. Fix:/);
      expect((crc as ModbusCrcError).retryable).toBe(true);
      await crcSlave.close();

      const wrongUnit = await faultySlave(pty.b, (f) => {
        f[0] = 2;
        f.writeUInt16LE(crc16Modbus(f, 0, 5), 5);
        return f;
      });
      const bad = await client.readHoldingRegisters(1, 0, 1).catch((e: unknown) => e);
      await wrongUnit.close();
      // On a shared RS-485 line other units' answers are normal traffic: modbus-serial's buffered
      // RTU port skips frames whose unit id or function code is not the one asked, so the request
      // ends in a timeout, never in a wrong value.
      expect(bad).toBeInstanceOf(ModbusTimeoutError);
    } finally {
      await client.close();
      await pty.close();
    }
  });

  it('a missing serial path fails with PortOpenError naming it', async () => {
    const err = await ModbusSerialClient.connectRtu({ path: '/dev/ttyBRANA-none' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortOpenError);
    expect((err as Error).message).toMatch(
      /^rtu:\/dev\/ttyBRANA-none: cannot open the serial line.*Fix: check the path/,
    );
  });
});
