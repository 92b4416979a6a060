// A TCP proxy between the gateways and the fleet server that can break the network the ways a
// cellular or municipal link breaks: blackholed (nothing moves, new connections hang, and the
// connections are gone when it comes back), reset (RST both ways), stalled (nothing moves, then
// everything arrives late) and dropped (FIN both ways). Gateways are enrolled with its address.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { NetMode } from './schedule.ts';

export type ProxyMode = 'pass' | NetMode;

export interface ProxyStats {
  connections: number;
  /** Connections broken by a fault (reset, dropped, or lost to a blackhole). */
  broken: number;
  bytesUp: number;
  bytesDown: number;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
}

export class FaultProxy {
  readonly stats: ProxyStats = { connections: 0, broken: 0, bytesUp: 0, bytesDown: 0 };
  #mode: ProxyMode = 'pass';
  readonly #pairs = new Set<Pair>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly host: string,
    private readonly upstream: { host: string; port: number },
  ) {}

  static async start(o: { host?: string; upstreamHost: string; upstreamPort: number }): Promise<FaultProxy> {
    const host = o.host ?? '127.0.0.1';
    let proxy: FaultProxy | undefined;
    const server = createServer({ noDelay: true }, (client) => proxy?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
    proxy = new FaultProxy(server, address.port, host, { host: o.upstreamHost, port: o.upstreamPort });
    return proxy;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Switches the network's state; what it does to open connections depends on the mode. */
  set(mode: ProxyMode): void {
    const before = this.#mode;
    this.#mode = mode;
    if (mode === 'reset' || mode === 'drop') {
      for (const p of [...this.#pairs]) this.#break(p, mode);
    } else if (mode === 'cut' || mode === 'stall') {
      for (const p of this.#pairs) this.#pause(p);
    } else if (mode === 'pass') {
      for (const p of [...this.#pairs]) {
        // Connections that sat in a blackhole are gone (their NAT entries expired); a stall ends
        // with everything delivered late.
        if (before === 'cut') this.#break(p, 'drop');
        else this.#resume(p);
      }
    }
  }

  async close(): Promise<void> {
    for (const p of [...this.#pairs]) this.#break(p, 'drop');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    const pair: Pair = { client, upstream: undefined };
    this.#pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => {
      pair.upstream?.destroy();
      this.#pairs.delete(pair);
    });
    if (this.#mode === 'reset' || this.#mode === 'drop') {
      this.#break(pair, this.#mode);
      return;
    }
    const upstream = createConnection({ host: this.upstream.host, port: this.upstream.port, noDelay: true });
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => {
      if (!client.destroyed) client.destroy();
    });
    this.#forward(client, upstream, 'bytesUp');
    this.#forward(upstream, client, 'bytesDown');
    if (this.#mode === 'cut' || this.#mode === 'stall') this.#pause(pair);
  }

  #forward(from: Socket, to: Socket, counter: 'bytesUp' | 'bytesDown'): void {
    from.on('data', (chunk: Buffer) => {
      this.stats[counter] += chunk.length;
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (this.#mode === 'pass') from.resume();
    });
    from.on('end', () => to.end());
  }

  #pause(p: Pair): void {
    p.client.pause();
    p.upstream?.pause();
  }

  #resume(p: Pair): void {
    p.client.resume();
    p.upstream?.resume();
  }

  #break(p: Pair, how: 'reset' | 'drop'): void {
    this.stats.broken++;
    this.#pairs.delete(p);
    for (const s of [p.client, p.upstream]) {
      if (!s || s.destroyed) continue;
      if (how === 'reset') s.resetAndDestroy();
      else s.destroy();
    }
  }
}
