import { createConnection, type Socket } from 'node:net';
import { WireError } from '../errors.ts';
import { encodeWireMessage, WireFrameDecoder } from './frame.ts';
import { checkLevel, checkLineName } from './memory-wires.ts';
import type { EdgeListener, Level, Wires } from './types.ts';

interface Pending {
  resolve: (level: Level) => void;
  reject: (err: Error) => void;
}

/** A `Wires` in another process, reached over the bench's Unix socket. Create with `connectWires`. */
export class WireClient implements Wires {
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<EdgeListener>>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly socket: Socket) {
    const decoder = new WireFrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      let messages: ReturnType<WireFrameDecoder['push']>;
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        this.fail(err as Error);
        socket.destroy();
        return;
      }
      for (const m of messages) {
        if (m.op === 'edge') {
          const set = this.listeners.get(m.line);
          if (set !== undefined) for (const l of set) l(m.level, m.atNs);
        } else if (m.op === 'ok' || m.op === 'error') {
          const p = this.pending.get(m.id);
          if (p === undefined) continue;
          this.pending.delete(m.id);
          if (m.op === 'ok') p.resolve(m.level);
          else
            p.reject(new WireError('WIRE_REJECTED', m.message.replace(/\. Fix: .*$/, ''), fixOf(m.message)));
        }
      }
    });
    socket.on('close', () => {
      this.closed = true;
      this.fail(
        new WireError(
          'WIRE_CLOSED',
          'the wire bus connection closed',
          'check that the bench is still running, then reconnect',
          { retryable: true },
        ),
      );
    });
    socket.on('error', () => {
      // 'close' follows and rejects what is pending
    });
  }

  private fail(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private request(build: (id: number) => Buffer): Promise<Level> {
    if (this.closed) {
      return Promise.reject(
        new WireError(
          'WIRE_CLOSED',
          'the wire bus connection is closed',
          'connect again with connectWires()',
        ),
      );
    }
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    return new Promise<Level>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(build(id));
    });
  }

  /** @internal handshake; after it the server sends this client every edge. */
  hello(): Promise<Level> {
    return this.request((id) => encodeWireMessage({ op: 'hello', id }));
  }

  async set(line: string, level: Level): Promise<void> {
    checkLineName(line);
    checkLevel(level);
    const atNs = process.hrtime.bigint();
    await this.request((id) => encodeWireMessage({ op: 'set', id, line, level, atNs }));
  }

  read(line: string): Promise<Level> {
    checkLineName(line);
    return this.request((id) => encodeWireMessage({ op: 'read', id, line }));
  }

  onEdge(line: string, listener: EdgeListener): () => void {
    checkLineName(line);
    let set = this.listeners.get(line);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(line, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 200).unref();
    });
  }
}

function fixOf(message: string): string {
  const m = /\. Fix: (.*)$/.exec(message);
  return m?.[1] ?? 'check the line name against the rig file';
}

/**
 * Connect to a bench's wire socket. Resolves after the handshake, from which point every edge on the
 * bus is delivered to this client's `onEdge` listeners.
 */
export async function connectWires(socketPath: string): Promise<WireClient> {
  const socket = createConnection(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', (err) =>
      reject(
        new WireError(
          'WIRE_CONNECT',
          `cannot connect to wire socket ${socketPath}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
          'start the bench first (brana-bench up <rig.yaml>) and use the wire socket path it prints',
          { retryable: true, cause: err },
        ),
      ),
    );
  });
  const client = new WireClient(socket);
  await client.hello();
  return client;
}
