// Modbus TCP server (node:net) serving the same simulated devices as the RTU line: several unit ids
// on one port, many clients, pipelined requests answered in order. A malformed MBAP header closes
// that connection only.

import { createServer, type Server, type Socket } from 'node:net';
import {
  ExceptionCode,
  encodeMbap,
  encodeResponse,
  isException,
  type MbapFrame,
  MbapFramer,
} from '../../modbus/index.ts';
import { BenchError } from '../errors.ts';
import { answer, BusDevice, type BusDeviceSpec } from './device.ts';
import type { FaultRule } from './faults.ts';
import { sleepUntil } from './sleep.ts';

export interface TcpServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  devices: readonly BusDeviceSpec[];
  seed?: number;
}

export interface TcpServerStats {
  connections: number;
  requests: number;
  responses: number;
  malformed: number;
  faults: number;
}

export class ModbusTcpServer {
  readonly host: string;
  readonly port: number;
  readonly stats: TcpServerStats = { connections: 0, requests: 0, responses: 0, malformed: 0, faults: 0 };
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly devices: Map<number, BusDevice>,
    host: string,
    port: number,
  ) {
    this.host = host;
    this.port = port;
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
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new BenchError(
                'PORT_IN_USE',
                `TCP port ${options.port} on ${host} is already in use`,
                'stop what uses it, or set port: 0 in the rig to take any free port',
                { cause: err },
              )
            : new BenchError(
                'LISTEN_FAILED',
                `cannot listen on ${host}:${options.port}: ${err.message}`,
                'check the host and port',
                { cause: err },
              ),
        ),
      );
      server.listen(options.port, host, () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : options.port);
      });
    });
    return new ModbusTcpServer(server, devices, host, port);
  }

  injectFault(unit: number, rule: FaultRule): void {
    const d = this.devices.get(unit);
    if (d === undefined) throw new RangeError(`no device with unit id ${unit} on TCP port ${this.port}`);
    d.faults.once(rule);
  }

  private device(unit: number): BusDevice | undefined {
    const d = this.devices.get(unit);
    // Unit 0 and 255 address "the server itself" on TCP; fine when only one device lives here.
    if (d === undefined && (unit === 0 || unit === 255) && this.devices.size === 1)
      return this.devices.values().next().value;
    return d;
  }

  private accept(socket: Socket): void {
    this.stats.connections++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const framer = new MbapFramer();
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let frames: MbapFrame[];
      try {
        frames = framer.push(chunk);
      } catch {
        this.stats.malformed++;
        socket.destroy();
        return;
      }
      for (const f of frames) chain = chain.then(() => this.serve(socket, f));
    });
    const forget = (): void => {
      this.sockets.delete(socket);
    };
    socket.on('close', forget);
    socket.on('error', forget);
  }

  private async serve(socket: Socket, f: MbapFrame): Promise<void> {
    this.stats.requests++;
    const device = this.device(f.unit);
    let pdu: Buffer;
    if (device === undefined) {
      pdu = encodeResponse({ fc: f.pdu[0] ?? 0, exception: ExceptionCode.gatewayTargetFailedToRespond });
    } else {
      const fault = device.faults.next();
      if (fault !== undefined) this.stats.faults++;
      if (fault?.kind === 'timeout') return;
      if (fault?.kind === 'delay') await sleepUntil(performance.now() + (fault.delayMs ?? 500));
      const { response } = answer(device.handler, f.pdu);
      // badCrc and partial are serial-line faults; TCP has no CRC and a cut frame would desync the stream.
      pdu = encodeResponse(
        fault?.kind === 'exception' && !isException(response)
          ? { fc: response.fc, exception: fault.code ?? 4 }
          : response,
      );
    }
    if (socket.destroyed) return;
    socket.write(encodeMbap({ transactionId: f.transactionId, unit: f.unit, pdu }));
    this.stats.responses++;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
