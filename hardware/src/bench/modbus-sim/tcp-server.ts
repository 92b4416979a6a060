// Modbus TCP server (node:net) serving the same simulated devices as the RTU line: several unit ids
// on one port, many clients, pipelined requests answered in order. A malformed MBAP header closes
// that connection only. With `framing: 'rtu'` it is a serial-to-Ethernet converter in transparent
// mode instead: RTU frames (unit, PDU, CRC) over the TCP stream, one request at a time.
//
// The way a meter's network side fails can be played on demand (`setMode`, `dropConnections`, the
// `close` fault): closing idle connections, closing one mid-request, refusing connections (the
// meter rebooting), answering nothing on open connections (hung firmware) and not answering
// connection attempts at all (power lost behind a switch: the client's SYN goes unanswered).

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import {
  decodeRequest,
  ExceptionCode,
  encodeMbap,
  encodeResponse,
  encodeRtu,
  isException,
  type MbapFrame,
  MbapFramer,
  RtuRequestFramer,
} from '../../modbus/index.ts';
import { BenchError } from '../errors.ts';
import { answer, BusDevice, type BusDeviceSpec, isWrite } from './device.ts';
import type { FaultRule } from './faults.ts';
import { sleepUntil } from './sleep.ts';

/**
 * How the server's network side behaves:
 * - `serve`: normal;
 * - `stall`: connections are accepted and kept, requests are read and never answered;
 * - `refuse`: nothing listens (connection attempts are refused) and open connections are reset;
 * - `blackhole`: connection attempts get no answer at all (they time out) and open connections
 *   stay open without a word, as when a meter loses power behind a switch.
 */
export const TCP_SERVER_MODES = ['serve', 'stall', 'refuse', 'blackhole'] as const;
export type TcpServerMode = (typeof TCP_SERVER_MODES)[number];

export interface TcpServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  devices: readonly BusDeviceSpec[];
  seed?: number;
  /** `mbap` (Modbus TCP, default) or `rtu` (RTU frames over TCP, as a transparent serial server). */
  framing?: 'mbap' | 'rtu';
}

export interface TcpServerStats {
  connections: number;
  requests: number;
  responses: number;
  malformed: number;
  faults: number;
  /** Connections the server closed (dropConnections, the `close` fault, refuse). */
  closedByServer: number;
  /** Requests read and not answered because of the mode (stall, blackhole). */
  unanswered: number;
}

/** A request as read from either framing: MBAP carries a transaction id, RTU frames do not. */
interface Request {
  transactionId: number | undefined;
  unit: number;
  pdu: Buffer;
}

/** Silence after which an RTU-over-TCP request with an unknown length is taken as complete. */
const RTU_IDLE_MS = 5;

export class ModbusTcpServer {
  readonly host: string;
  readonly port: number;
  readonly framing: 'mbap' | 'rtu';
  readonly stats: TcpServerStats = {
    connections: 0,
    requests: 0,
    responses: 0,
    malformed: 0,
    faults: 0,
    closedByServer: 0,
    unanswered: 0,
  };
  private readonly sockets = new Set<Socket>();
  private currentMode: TcpServerMode = 'serve';
  private listening = true;
  private blackhole: ChildProcess | undefined;
  /** Serialises mode changes (each may close and reopen the listener). */
  private modeChange: Promise<void> = Promise.resolve();

  private constructor(
    private readonly server: Server,
    private readonly devices: Map<number, BusDevice>,
    host: string,
    port: number,
    framing: 'mbap' | 'rtu',
  ) {
    this.host = host;
    this.port = port;
    this.framing = framing;
    server.on('connection', (s) => this.accept(s));
  }

  static async start(options: TcpServerOptions): Promise<ModbusTcpServer> {
    const devices = new Map<number, BusDevice>();
    for (const spec of options.devices) {
      if (devices.has(spec.unit)) {
        throw new BenchError(
          'DUPLICATE_UNIT',
          `unit id ${spec.unit} is used twice on TCP port ${options.port}`,
          'give each device its own unit id',
        );
      }
      // TCP has no turnaround of its own: answers go out as soon as they are computed.
      devices.set(spec.unit, new BusDevice({ seed: options.seed, ...spec, turnaroundMs: [0, 0] }));
    }
    const host = options.host ?? '127.0.0.1';
    const server = createServer();
    const port = await listen(server, host, options.port);
    return new ModbusTcpServer(server, devices, host, port, options.framing ?? 'mbap');
  }

  get mode(): TcpServerMode {
    return this.currentMode;
  }

  injectFault(unit: number, rule: FaultRule): void {
    const d = this.devices.get(unit);
    if (d === undefined) throw new RangeError(`no device with unit id ${unit} on TCP port ${this.port}`);
    d.faults.once(rule);
  }

  /** Closes every open connection from the server's side (a FIN), as a meter does with idle clients. */
  dropConnections(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) {
      this.stats.closedByServer++;
      s.end();
    }
    return n;
  }

  /** Switches how the network side behaves (see TCP_SERVER_MODES); resolves once it does. */
  setMode(mode: TcpServerMode): Promise<void> {
    const change = this.modeChange.then(() => this.applyMode(mode));
    this.modeChange = change.catch(() => undefined);
    return change;
  }

  private async applyMode(mode: TcpServerMode): Promise<void> {
    if (mode === this.currentMode) return;
    this.currentMode = mode;
    await this.stopBlackhole();
    if (mode === 'refuse' || mode === 'blackhole') {
      if (mode === 'refuse') {
        for (const s of this.sockets) {
          this.stats.closedByServer++;
          s.resetAndDestroy();
        }
      }
      if (this.listening) {
        this.listening = false;
        // close() stops listening at once; its callback would wait for open connections to end.
        this.server.close();
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (mode === 'blackhole') {
        this.blackhole = await holdPortUnanswered(this.host, this.port);
      }
      return;
    }
    if (!this.listening) {
      await listen(this.server, this.host, this.port);
      this.listening = true;
    }
  }

  private async stopBlackhole(): Promise<void> {
    const child = this.blackhole;
    this.blackhole = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  private device(unit: number): BusDevice | undefined {
    const d = this.devices.get(unit);
    // Unit 0 and 255 address "the server itself" on TCP; fine when only one device lives here.
    if (this.framing === 'mbap' && d === undefined && (unit === 0 || unit === 255) && this.devices.size === 1)
      return this.devices.values().next().value;
    return d;
  }

  private accept(socket: Socket): void {
    this.stats.connections++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let chain = Promise.resolve();
    const enqueue = (requests: Request[]): void => {
      for (const r of requests) chain = chain.then(() => this.serve(socket, r));
    };
    if (this.framing === 'mbap') {
      const framer = new MbapFramer();
      socket.on('data', (chunk: Buffer) => {
        let frames: MbapFrame[];
        try {
          frames = framer.push(chunk);
        } catch {
          this.stats.malformed++;
          socket.destroy();
          return;
        }
        enqueue(frames);
      });
    } else {
      const framer = new RtuRequestFramer();
      let idle: NodeJS.Timeout | undefined;
      const frames = (found: { unit: number; pdu: Buffer }[]): Request[] =>
        found.map((f) => ({ transactionId: undefined, unit: f.unit, pdu: f.pdu }));
      socket.on('data', (chunk: Buffer) => {
        enqueue(frames(framer.push(chunk)));
        clearTimeout(idle);
        if (framer.pending() > 0) idle = setTimeout(() => enqueue(frames(framer.idle())), RTU_IDLE_MS);
      });
      socket.on('close', () => clearTimeout(idle));
    }
    const forget = (): void => {
      this.sockets.delete(socket);
    };
    socket.on('close', forget);
    socket.on('error', forget);
  }

  private async serve(socket: Socket, r: Request): Promise<void> {
    this.stats.requests++;
    if (this.currentMode !== 'serve') {
      this.stats.unanswered++;
      return;
    }
    const rtu = this.framing === 'rtu';
    const device = this.device(r.unit);
    let pdu: Buffer;
    let damage: FaultRule['kind'] | undefined;
    if (rtu && r.unit === 0) {
      // Broadcast: every device obeys a write and nobody answers (Serial Line V1.02, 2.1).
      for (const d of this.devices.values()) if (isWriteRequest(r.pdu)) answer(d.handler, r.pdu);
      return;
    }
    if (device === undefined) {
      // On a serial line nobody answers an absent unit; a Modbus TCP gateway says its target failed.
      if (rtu) return;
      pdu = encodeResponse({ fc: r.pdu[0] ?? 0, exception: ExceptionCode.gatewayTargetFailedToRespond });
    } else {
      const fault = device.faults.next();
      if (fault !== undefined) this.stats.faults++;
      if (fault?.kind === 'timeout') return;
      if (fault?.kind === 'close') {
        // The meter drops the connection with the request unanswered.
        this.stats.closedByServer++;
        socket.destroy();
        return;
      }
      if (fault?.kind === 'delay') await sleepUntil(performance.now() + (fault.delayMs ?? 500));
      const { response } = answer(device.handler, r.pdu);
      pdu = encodeResponse(
        fault?.kind === 'exception' && !isException(response)
          ? { fc: response.fc, exception: fault.code ?? 4 }
          : response,
      );
      damage = fault?.kind;
    }
    if (socket.destroyed || this.currentMode !== 'serve') return;
    if (rtu) {
      let frame = encodeRtu(r.unit, pdu);
      // A damaged answer is possible only where there is a CRC and no length header: RTU framing.
      if (damage === 'badCrc') frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 0x5a;
      if (damage === 'partial') frame = frame.subarray(0, Math.max(1, Math.floor(frame.length / 2)));
      socket.write(frame);
    } else {
      socket.write(encodeMbap({ transactionId: r.transactionId ?? 0, unit: r.unit, pdu }));
    }
    this.stats.responses++;
  }

  async stop(): Promise<void> {
    await this.modeChange;
    await this.stopBlackhole();
    for (const s of this.sockets) s.destroy();
    if (!this.listening) return;
    this.listening = false;
    this.server.close();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function isWriteRequest(pdu: Buffer): boolean {
  const decoded = decodeRequest(pdu);
  return decoded.ok && isWrite(decoded.request);
}

/** Listens on host:port (0 = any free port) and resolves with the port. */
function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(
        err.code === 'EADDRINUSE'
          ? new BenchError(
              'PORT_IN_USE',
              `TCP port ${port} on ${host} is already in use`,
              'stop what uses it, or set port: 0 in the rig to take any free port',
              { cause: err },
            )
          : new BenchError(
              'LISTEN_FAILED',
              `cannot listen on ${host}:${port}: ${err.message}`,
              'check the host and port',
              { cause: err },
            ),
      );
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}

/**
 * Holds host:port with a listening socket that never accepts and whose accept queue is already full
 * (backlog 0, one connection of its own queued), so the kernel drops every further SYN: a client's
 * connection attempt gets no answer and times out, as with a host that is switched off. Node's
 * `net.Server` always accepts, so a small Perl process (Debian's perl-base) holds the port; it
 * exits when its stdin closes, so it cannot outlive the simulator.
 */
async function holdPortUnanswered(host: string, port: number): Promise<ChildProcess> {
  const script = [
    'use strict; use Socket;',
    'my ($host, $port) = @ARGV; my $addr = inet_aton($host) or die "cannot resolve $host\\n";',
    'socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\\n";',
    'setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1);',
    'bind($s, pack_sockaddr_in($port, $addr)) or die "bind: $!\\n";',
    'listen($s, 0) or die "listen: $!\\n";',
    'socket(my $c, PF_INET, SOCK_STREAM, 0) or die "socket: $!\\n";',
    'connect($c, pack_sockaddr_in($port, $addr)) or die "connect: $!\\n";',
    '$| = 1; print "ready\\n"; my $x = <STDIN>;',
  ].join(' ');
  const child = spawn('perl', ['-e', script, host, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string, cause?: unknown): void =>
      reject(
        new BenchError(
          'BLACKHOLE_FAILED',
          `cannot hold ${host}:${port} unanswered (${why})`,
          'install perl (Debian: perl-base), and use an IPv4 host for the TCP bus',
          { cause },
        ),
      );
    child.once('error', (err) => fail(err.message, err));
    child.once('exit', (code) => fail(`perl exited ${code}: ${stderr.trim()}`));
    child.stdout?.once('data', () => resolve());
  });
  child.removeAllListeners('exit');
  return child;
}
