// A multi-drop Modbus RTU line on a pseudo-terminal pair made by socat: the master opens `clientPath`,
// the simulator holds the other end and answers for every device on the line, each only at its own
// unit id, with wire timing emulated from the baud rate (t3.5 gaps, turnaround, paced bytes).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { autoDetect } from '@serialport/bindings-cpp';
import { SerialPortStream } from '@serialport/stream';
import {
  charTimeMs,
  decodeRequest,
  encodeResponse,
  encodeRtu,
  isException,
  type RtuFramerStats,
  RtuRequestFramer,
  t35Ms,
} from '../../modbus/index.ts';
import { BenchError } from '../errors.ts';
import { answer, BusDevice, type BusDeviceSpec, isWrite } from './device.ts';
import type { FaultRule } from './faults.ts';
import { sleepUntil } from './sleep.ts';

export type Parity = 'none' | 'even' | 'odd';

export interface RtuSlaveOptions {
  /** Directory for the pty links. */
  dir: string;
  /** Link name of the master's end; the simulator's end is `<name>.sim`. */
  name: string;
  baud: number;
  parity?: Parity;
  devices: readonly BusDeviceSpec[];
  seed?: number;
  /** Called if socat dies while the line is up (the line is then gone). */
  onLineDown?: (message: string) => void;
}

export interface RtuSlaveStats {
  requests: number;
  responses: number;
  /** Requests addressed to a unit id no device on this line has. */
  ignored: number;
  /** Requests that started within the addressed device's inter-frame delay and were ignored. */
  tooEarly: number;
  broadcasts: number;
  faults: number;
  framer: RtuFramerStats;
}

interface Queued {
  unit: number;
  pdu: Buffer;
  /** performance.now() when the request's first byte was on the wire. */
  rxStartMs: number;
  /** performance.now() when the request's last byte was on the wire. */
  rxEndMs: number;
}

function waitForLinks(proc: ChildProcess, paths: string[], stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = performance.now() + 5000;
    const onError = (err: NodeJS.ErrnoException): void => {
      clearInterval(timer);
      reject(
        err.code === 'ENOENT'
          ? new BenchError(
              'SOCAT_MISSING',
              'socat is not installed',
              'install it: sudo apt-get install socat',
              { cause: err },
            )
          : new BenchError('SOCAT_FAILED', `socat could not start: ${err.message}`, 'check that socat runs', {
              cause: err,
            }),
      );
    };
    const onExit = (code: number | null): void => {
      clearInterval(timer);
      const last = stderr().trim().split('\n').pop() ?? '';
      reject(
        new BenchError(
          'SOCAT_FAILED',
          `socat exited (${code}) before the pty appeared: ${last}`,
          'check that the directory exists and is writable',
        ),
      );
    };
    proc.once('error', onError);
    proc.once('exit', onExit);
    const timer = setInterval(() => {
      if (paths.every((p) => existsSync(p))) {
        clearInterval(timer);
        proc.off('error', onError);
        proc.off('exit', onExit);
        resolve();
      } else if (performance.now() > deadline) {
        clearInterval(timer);
        proc.kill();
        reject(
          new BenchError(
            'PTY_TIMEOUT',
            `socat did not create ${paths.join(' and ')} within 5 s`,
            'check the directory and that socat works',
          ),
        );
      }
    }, 10);
  });
}

export class RtuSlave {
  readonly clientPath: string;
  readonly simPath: string;
  readonly baud: number;
  readonly parity: Parity;
  readonly stats: RtuSlaveStats;
  private readonly devices = new Map<number, BusDevice>();
  private readonly framer = new RtuRequestFramer();
  private readonly queue: Queued[] = [];
  private readonly charMs: number;
  private readonly t35: number;
  private rxStartMs = 0;
  private lastTxEndMs = Number.NEGATIVE_INFINITY;
  private idleTimer: NodeJS.Timeout | undefined;
  private working = false;
  private stopped = false;

  private constructor(
    options: RtuSlaveOptions,
    private readonly socat: ChildProcess,
    private readonly port: SerialPortStream,
  ) {
    this.clientPath = join(options.dir, options.name);
    this.simPath = `${this.clientPath}.sim`;
    this.baud = options.baud;
    this.parity = options.parity ?? 'none';
    this.charMs = charTimeMs(options.baud);
    this.t35 = t35Ms(options.baud);
    for (const spec of options.devices) {
      if (this.devices.has(spec.unit))
        throw new RangeError(`unit id ${spec.unit} is used twice on line ${options.name}`);
      this.devices.set(spec.unit, new BusDevice({ seed: options.seed, ...spec }));
    }
    this.stats = {
      requests: 0,
      responses: 0,
      ignored: 0,
      tooEarly: 0,
      broadcasts: 0,
      faults: 0,
      framer: this.framer.stats,
    };
    port.on('data', (chunk: Buffer) => this.receive(chunk));
    socat.once('exit', (code, signal) => {
      if (!this.stopped)
        options.onLineDown?.(`socat for ${this.clientPath} exited (${signal ?? code}); the RTU line is down`);
    });
    port.on('error', () => {
      // The master side closing is normal on a bench; the next open works again.
    });
  }

  static async start(options: RtuSlaveOptions): Promise<RtuSlave> {
    const client = join(options.dir, options.name);
    const sim = `${client}.sim`;
    if (/[,:!"'\s]/.test(client)) {
      // socat parses these characters as address syntax.
      throw new BenchError(
        'BAD_PTY_PATH',
        `pty path ${client} contains a character socat cannot take (comma, colon, !, quote or space)`,
        'choose a --dir without those characters',
      );
    }
    for (const spec of options.devices) {
      if (!Number.isInteger(spec.unit) || spec.unit < 1 || spec.unit > 247) {
        throw new BenchError(
          'BAD_UNIT',
          `unit id ${spec.unit} on line ${options.name} is outside 1-247`,
          'give each device a unit id 1-247',
        );
      }
    }
    let stderr = '';
    const socat = spawn(
      'socat',
      ['-d', '-d', `pty,raw,echo=0,link=${client}`, `pty,raw,echo=0,link=${sim}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    socat.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    await waitForLinks(socat, [client, sim], () => stderr);
    const port = new SerialPortStream({
      binding: autoDetect(),
      path: sim,
      baudRate: options.baud,
      autoOpen: false,
    });
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      socat.kill();
      throw new BenchError(
        'PTY_OPEN',
        `cannot open the simulator end ${sim}: ${(err as Error).message}`,
        'check permissions of the directory',
        { cause: err },
      );
    }
    return new RtuSlave(options, socat, port);
  }

  /** Make the next request to `unit` show a fault. */
  injectFault(unit: number, rule: FaultRule): void {
    const d = this.devices.get(unit);
    if (d === undefined) throw new RangeError(`no device with unit id ${unit} on ${this.clientPath}`);
    d.faults.once(rule);
  }

  private receive(chunk: Buffer): void {
    const now = performance.now();
    if (this.framer.pending() === 0) {
      // A master writes a whole request to the pty at once: on a real line its first byte starts
      // now and its last ends one frame time later. The line is silent for t3.5 after our last
      // answer before a request can start.
      this.rxStartMs = Math.max(now, this.lastTxEndMs + this.t35);
    }
    this.enqueue(this.framer.push(chunk), now);
    clearTimeout(this.idleTimer);
    if (this.framer.pending() > 0) {
      this.idleTimer = setTimeout(
        () => this.enqueue(this.framer.idle(), performance.now()),
        Math.max(5, Math.ceil(this.t35)),
      );
    }
  }

  private enqueue(frames: { unit: number; pdu: Buffer }[], now: number): void {
    for (const f of frames) {
      const bytes = f.pdu.length + 3;
      const rxStartMs = this.rxStartMs;
      const rxEndMs = Math.max(now, rxStartMs + bytes * this.charMs);
      this.rxStartMs = rxEndMs;
      this.queue.push({ unit: f.unit, pdu: f.pdu, rxStartMs, rxEndMs });
    }
    if (this.framer.pending() > 0) this.rxStartMs = now;
    void this.work();
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      for (let q = this.queue.shift(); q !== undefined && !this.stopped; q = this.queue.shift())
        await this.serve(q);
    } finally {
      this.working = false;
    }
  }

  private async serve(q: Queued): Promise<void> {
    this.stats.requests++;
    if (q.unit === 0) {
      this.stats.broadcasts++;
      // Broadcast: every device obeys a write and nobody answers (Serial Line V1.02, 2.1).
      const decoded = decodeRequest(q.pdu);
      if (decoded.ok && isWrite(decoded.request)) {
        for (const d of this.devices.values()) answer(d.handler, q.pdu);
      }
      return;
    }
    const device = this.devices.get(q.unit);
    if (device === undefined) {
      this.stats.ignored++;
      return;
    }
    // Only for a device with a delay: without one, a request that overlapped the end of an answer
    // (a master that gave up early) is served after it, as before.
    if (device.interFrameDelayMs > 0 && q.rxStartMs < device.lastAnswerEndMs + device.interFrameDelayMs) {
      this.stats.tooEarly++;
      return;
    }
    const fault = device.faults.next();
    if (fault !== undefined) this.stats.faults++;
    // A serial line has no connection to close: `close` is silence there.
    if (fault?.kind === 'timeout' || fault?.kind === 'close') return;
    let startMs = Math.max(q.rxEndMs + this.t35 + device.turnaroundMs(), this.lastTxEndMs + this.t35);
    if (fault?.kind === 'delay') startMs += fault.delayMs ?? 500;
    const { response } = answer(device.handler, q.pdu);
    let frame = encodeRtu(
      q.unit,
      encodeResponse(
        fault?.kind === 'exception' && !isException(response)
          ? { fc: response.fc, exception: fault.code ?? 4 }
          : response,
      ),
    );
    if (fault?.kind === 'badCrc') {
      frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 0x5a;
    } else if (fault?.kind === 'partial') {
      frame = frame.subarray(0, Math.max(1, Math.floor(frame.length / 2)));
    }
    await this.transmit(frame, startMs);
    device.lastAnswerEndMs = this.lastTxEndMs;
    this.stats.responses++;
  }

  /** Send `frame` starting at `startMs`, each byte no earlier than it would have fully left the wire. */
  private async transmit(frame: Buffer, startMs: number): Promise<void> {
    let sent = 0;
    while (sent < frame.length && !this.stopped) {
      const now = performance.now();
      const due = Math.min(frame.length, Math.floor((now - startMs) / this.charMs));
      if (due > sent) {
        this.port.write(frame.subarray(sent, due));
        sent = due;
      }
      if (sent < frame.length) await sleepUntil(startMs + (sent + 1) * this.charMs);
    }
    this.lastTxEndMs = startMs + frame.length * this.charMs;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.idleTimer);
    await new Promise<void>((resolve) => {
      if (!this.port.isOpen) resolve();
      else this.port.close(() => resolve());
    });
    if (this.socat.exitCode === null) {
      await new Promise<void>((resolve) => {
        this.socat.once('exit', () => resolve());
        this.socat.kill('SIGTERM');
      });
    }
  }
}
