// The behaviour every SerialPort backend must show: a byte-exact duplex stream with a clear
// lifecycle. The harness gives the port under test and the far end of the same line.
import { describe, expect, it } from 'vitest';
import { PortClosedError } from '../../errors.ts';
import type { SerialPort } from '../serial/serial-port.ts';

export interface SerialHarness {
  /** The port under test, not yet open. */
  port: SerialPort;
  /** The other end of the line, not yet open. */
  peer: SerialPort;
  dispose(): Promise<void>;
}

function collect(port: SerialPort): { bytes: () => Buffer; unsubscribe: () => void } {
  const chunks: Buffer[] = [];
  const unsubscribe = port.onData((b) => chunks.push(Buffer.from(b)));
  return { bytes: () => Buffer.concat(chunks), unsubscribe };
}

async function until(done: () => boolean, limitMs = 3000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  return done();
}

/** Every byte value, several times, including 0x00, XON/XOFF, CR and LF. */
function allBytes(repeat: number): Uint8Array {
  const out = new Uint8Array(256 * repeat);
  for (let i = 0; i < out.length; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

export function describeSerialContract(name: string, create: () => Promise<SerialHarness>): void {
  describe(`SerialPort contract: ${name}`, () => {
    it('opens, reports its path and settings, closes idempotently and tells close listeners', async () => {
      const h = await create();
      expect(h.port.isOpen).toBe(false);
      expect(h.port.path.length).toBeGreaterThan(0);
      expect(h.port.settings.baudRate).toBeGreaterThan(0);
      await h.port.open();
      expect(h.port.isOpen).toBe(true);
      const closes: (Error | undefined)[] = [];
      h.port.onClose((e) => closes.push(e));
      await h.port.close();
      await h.port.close();
      expect(h.port.isOpen).toBe(false);
      expect(await until(() => closes.length === 1)).toBe(true);
      expect(closes[0]).toBeUndefined();
      await h.dispose();
    });

    it('carries every byte value unchanged and in order, both ways', async () => {
      const h = await create();
      await h.port.open();
      await h.peer.open();
      const atPeer = collect(h.peer);
      const atPort = collect(h.port);
      const out = allBytes(8);
      await h.port.write(out.subarray(0, 1000));
      await h.port.write(out.subarray(1000));
      await h.port.drain();
      const back = allBytes(2).reverse();
      await h.peer.write(back);
      expect(
        await until(() => atPeer.bytes().length >= out.length && atPort.bytes().length >= back.length),
      ).toBe(true);
      expect(atPeer.bytes().equals(Buffer.from(out))).toBe(true);
      expect(atPort.bytes().equals(Buffer.from(back))).toBe(true);
      await h.port.close();
      await h.peer.close();
      await h.dispose();
    });

    it('the caller may reuse its buffer once write resolves', async () => {
      const h = await create();
      await h.port.open();
      await h.peer.open();
      const atPeer = collect(h.peer);
      const buf = new Uint8Array([1, 2, 3]);
      await h.port.write(buf);
      buf.fill(9);
      await h.port.write(buf);
      expect(await until(() => atPeer.bytes().length >= 6)).toBe(true);
      expect([...atPeer.bytes()]).toEqual([1, 2, 3, 9, 9, 9]);
      await h.port.close();
      await h.peer.close();
      await h.dispose();
    });

    it('stops calling a data listener after unsubscribe', async () => {
      const h = await create();
      await h.port.open();
      await h.peer.open();
      const kept = collect(h.port);
      const dropped = collect(h.port);
      dropped.unsubscribe();
      await h.peer.write(new Uint8Array([0x55, 0xaa]));
      expect(await until(() => kept.bytes().length === 2)).toBe(true);
      expect(dropped.bytes().length).toBe(0);
      await h.port.close();
      await h.peer.close();
      await h.dispose();
    });

    it('refuses writes and drain when not open, with PortClosedError naming the port', async () => {
      const h = await create();
      await expect(h.port.write(new Uint8Array([1]))).rejects.toThrow(PortClosedError);
      await h.port.open();
      await h.port.close();
      const err = await h.port.write(new Uint8Array([1])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortClosedError);
      expect(String((err as Error).message)).toContain(h.port.path);
      await expect(h.port.drain()).rejects.toThrow(PortClosedError);
      await h.dispose();
    });

    it('can be reopened after close', async () => {
      const h = await create();
      await h.port.open();
      await h.port.close();
      await h.port.open();
      await h.peer.open();
      const atPeer = collect(h.peer);
      await h.port.write(new Uint8Array([0x42]));
      expect(await until(() => atPeer.bytes().length === 1)).toBe(true);
      await h.port.close();
      await h.peer.close();
      await h.dispose();
    });
  });
}
