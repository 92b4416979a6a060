// The real serial backend (@serialport/stream + bindings-cpp) on a socat pty pair: the bench's
// serial line. Also the error a technician sees for a wrong path.
import { describe, expect, it } from 'vitest';
import { PortOpenError } from '../src/errors.ts';
import { openPtyPair } from '../src/hal/contracts/pty-pair.ts';
import { describeSerialContract } from '../src/hal/contracts/serial.contract.ts';
import { NodeSerialPort } from '../src/hal/serial/node-serial-port.ts';

describeSerialContract('node serial on a socat pty pair', async () => {
  const pty = await openPtyPair();
  const port = new NodeSerialPort({ path: pty.a, baudRate: 19200, parity: 'even' });
  const peer = new NodeSerialPort({ path: pty.b, baudRate: 19200, parity: 'even' });
  return {
    port,
    peer,
    dispose: async () => {
      await port.close();
      await peer.close();
      await pty.close();
    },
  };
});

describe('node serial port', () => {
  it('a missing device path fails with PortOpenError naming the path and what to check', async () => {
    const port = new NodeSerialPort({ path: '/dev/ttyBRANA-missing' });
    const err = await port.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortOpenError);
    expect((err as Error).message).toMatch(
      /\/dev\/ttyBRANA-missing: cannot open serial port.*Fix: check the path/,
    );
    expect(port.isOpen).toBe(false);
  });
});
