import { existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { WireError } from '../errors.ts';
import { encodeWireMessage, WireFrameDecoder, type WireMessage } from './frame.ts';
import { MemoryWires } from './memory-wires.ts';

export interface WireServerOptions {
  /** Unix socket path to listen on. A stale socket file left by a dead bench is replaced. */
  path: string;
  /** Restrict the bus to these lines; otherwise lines appear on first use. */
  lines?: readonly string[];
}

function probe(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Owns the named lines of a bench and serves them on a Unix socket to other processes
 * (the firmware's bench GPIO backend connects with `connectWires`). Local code drives lines
 * through `server.bus`, which is a `Wires` too.
 */
export class WireServer {
  readonly bus: MemoryWires;
  readonly path: string;
  private readonly server: Server;
  private readonly clients = new Set<Socket>();
  private readonly sockets = new Set<Socket>();

  private constructor(path: string, bus: MemoryWires, server: Server) {
    this.path = path;
    this.bus = bus;
    this.server = server;
    bus.onAnyEdge((line, level, atNs) => {
      if (this.clients.size === 0) return;
      const frame = encodeWireMessage({ op: 'edge', line, level, atNs });
      for (const c of this.clients) c.write(frame);
    });
    server.on('connection', (socket) => this.accept(socket));
  }

  static async listen(options: WireServerOptions): Promise<WireServer> {
    if (existsSync(options.path)) {
      if (await probe(options.path)) {
        throw new WireError(
          'WIRE_SOCKET_IN_USE',
          `wire socket ${options.path} is already served by another process`,
          'stop the other bench or choose another --dir',
        );
      }
      unlinkSync(options.path);
    }
    const bus = new MemoryWires(options.lines === undefined ? {} : { lines: options.lines });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new WireError(
            'WIRE_LISTEN',
            `cannot listen on wire socket ${options.path}: ${err.message}`,
            'check that the directory exists and is writable',
            { cause: err },
          ),
        ),
      );
      server.listen(options.path, () => resolve());
    });
    return new WireServer(options.path, bus, server);
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const decoder = new WireFrameDecoder();
    const reply = (m: WireMessage): void => {
      socket.write(encodeWireMessage(m));
    };
    socket.on('data', (chunk: Buffer) => {
      let messages: WireMessage[];
      try {
        messages = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const m of messages) {
        try {
          switch (m.op) {
            case 'hello':
              this.clients.add(socket);
              reply({ op: 'ok', id: m.id, level: 0 });
              break;
            case 'set':
              this.bus.setAt(m.line, m.level, m.atNs);
              reply({ op: 'ok', id: m.id, level: m.level });
              break;
            case 'read':
              reply({ op: 'ok', id: m.id, level: this.bus.readNow(m.line) });
              break;
            default:
              socket.destroy();
              return;
          }
        } catch (err) {
          const id = 'id' in m ? m.id : 0;
          reply({ op: 'error', id, message: err instanceof Error ? err.message : String(err) });
        }
      }
    });
    const forget = (): void => {
      this.clients.delete(socket);
      this.sockets.delete(socket);
    };
    socket.on('close', forget);
    socket.on('error', forget);
  }

  /** Number of connected clients that completed the hello handshake. */
  clientCount(): number {
    return this.clients.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.bus.close();
    if (existsSync(this.path)) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
    }
  }
}
