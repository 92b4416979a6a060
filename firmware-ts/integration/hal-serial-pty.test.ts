// The real serial backend (@serialport/stream + bindings-cpp) on a socat pty pair: the bench's
// serial line. Also the error a technician sees for a wrong path.
import { describe, expect, it } from 'vitest';
import { PortClosedError, PortOpenError } from '../src/errors.ts';
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
  it('when the line disappears (adapter unplugged, bench stopped) close listeners get PortClosedError', async () => {
    const pty = await openPtyPair();
    const port = new NodeSerialPort({ path: pty.a });
    await port.open();
    const closes: (Error | undefined)[] = [];
    port.onClose((e) => closes.push(e));
    await pty.close();
    // The binding notices a vanished line either at once (POLLHUP) or at the next write (EIO);
    // either way the write fails and close listeners hear about it.
    await expect(port.write(new Uint8Array([1]))).rejects.toThrow(PortClosedError);
    const deadline = Date.now() + 5000;
    while (closes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(closes).toHaveLength(1);
    expect(closes[0]).toBeInstanceOf(PortClosedError);
    expect(closes[0]!.message).toMatch(/the device disconnected\. Fix: .*reopen it/);
    expect(port.isOpen).toBe(false);
    await expect(port.write(new Uint8Array([1]))).rejects.toThrow(PortClosedError);
    await port.close();
  });

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
