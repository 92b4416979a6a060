// A Modbus RTU master of our own over any SerialPort, timed by an injected Clock: the same code
// runs on a Pi UART, on a bench pty, and on a memory serial pair in virtual time. Framing follows
// Modbus over Serial Line V1.02 section 2.5.1: a request starts after at least t3.5 of silence,
// the answer's length follows from the function code, and bytes arriving while no request is
// outstanding (late answers, noise) are discarded, never taken for the next answer.
import { encodeRequest, encodeRtu, type ModbusRequest, type ModbusResponse, t35Ms } from '@brana/hardware';
import {
  ModbusBadResponseError,
  ModbusCrcError,
  ModbusExceptionError,
  type ModbusRequestInfo,
  ModbusTimeoutError,
  PortClosedError,
} from '../../errors.ts';
import { type Clock, sleepMs, type TimerHandle } from '../clock/clock.ts';
import type { SerialPort } from '../serial/serial-port.ts';
import { type AwaitedAnswer, awaitedAnswer, rtuAnswerLength, scanRtuAnswer } from './answers.ts';
import { CheckedModbusClient } from './checked-client.ts';
import { checkTimeout } from './request-checks.ts';

export interface RtuModbusClientOptions {
  /** The line; opened by `RtuModbusClient.open` if it is not open yet, closed by `close()`. */
  port: SerialPort;
  clock: Clock;
  /** Default per-request timeout, counted from when the request is written. Default 500 ms. */
  timeoutMs?: number;
  /** Silence kept between frames. Default t3.5 for the port's baud rate (1.75 ms above 19200 Bd). */
  interFrameMs?: number;
  /** Wait after a broadcast (unit 0) write, which nobody answers, before the next request. Default 100 ms. */
  broadcastDelayMs?: number;
}

export interface RtuClientStats {
  requests: number;
  timeouts: number;
  crcErrors: number;
  badResponses: number;
  /** Bytes that arrived while no request was outstanding. */
  strayBytes: number;
}

interface Pending {
  request: ModbusRequestInfo;
  awaited: AwaitedAnswer;
  expectedLength: number;
  resolve(response: ModbusResponse): void;
  reject(error: Error): void;
}

export class RtuModbusClient extends CheckedModbusClient {
  readonly target: string;
  /** The line this client owns. */
  readonly port: SerialPort;
  readonly stats: RtuClientStats = { requests: 0, timeouts: 0, crcErrors: 0, badResponses: 0, strayBytes: 0 };
  readonly #port: SerialPort;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #interFrameMs: number;
  readonly #broadcastDelayMs: number;
  #rx: Buffer = Buffer.alloc(0);
  #pending: Pending | undefined;
  #lineQuietFromMs = Number.NEGATIVE_INFINITY;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(options: RtuModbusClientOptions) {
    super();
    this.#port = options.port;
    this.port = options.port;
    this.#clock = options.clock;
    this.target = `rtu:${options.port.path}`;
    this.#timeoutMs = options.timeoutMs ?? 500;
    checkTimeout(this.#timeoutMs);
    this.#interFrameMs = options.interFrameMs ?? t35Ms(options.port.settings.baudRate);
    this.#broadcastDelayMs = options.broadcastDelayMs ?? 100;
    options.port.onData((bytes) => this.#receive(bytes));
    options.port.onClose((error) => {
      this.#closed = true;
      this.#fail(new PortClosedError(this.target, 'the serial line closed', error));
    });
  }

  /** Opens the line if needed and returns a client on it. */
  static async open(options: RtuModbusClientOptions): Promise<RtuModbusClient> {
    const client = new RtuModbusClient(options);
    if (!options.port.isOpen) await options.port.open();
    return client;
  }

  get isOpen(): boolean {
    return !this.#closed && this.#port.isOpen;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#fail(new PortClosedError(this.target, 'the client was closed'));
    await this.#port.close();
  }

  protected get defaultTimeoutMs(): number {
    return this.#timeoutMs;
  }

  // Everything that touches the line is queued (one request on the line at a time).
  protected transact(
    info: ModbusRequestInfo,
    request: ModbusRequest,
    timeoutMs: number,
  ): Promise<ModbusResponse> {
    const run = () => this.#transact(info, request, timeoutMs);
    const result = this.#chain.then(run, run);
    this.#chain = result.catch(() => {});
    return result;
  }

  async #transact(
    info: ModbusRequestInfo,
    request: ModbusRequest,
    timeoutMs: number,
  ): Promise<ModbusResponse> {
    const { unitId } = info;
    if (this.#closed || !this.#port.isOpen)
      throw new PortClosedError(this.target, 'the serial line is closed');
    const waitMs = this.#lineQuietFromMs + this.#interFrameMs - this.#clock.monotonicMs();
    if (waitMs > 0) await sleepMs(this.#clock, waitMs);
    this.stats.requests++;
    this.#rx = Buffer.alloc(0);
    const adu = encodeRtu(unitId, encodeRequest(request));
    if (unitId === 0) {
      await this.#write(adu);
      this.#lineQuietFromMs = this.#clock.monotonicMs() + this.#broadcastDelayMs;
      return request as ModbusResponse;
    }
    let timer: TimerHandle | undefined;
    const answered = new Promise<ModbusResponse>((resolve, reject) => {
      this.#pending = {
        request: info,
        awaited: awaitedAnswer(unitId, request),
        expectedLength: rtuAnswerLength(request.fc, 'quantity' in request ? request.quantity : 1),
        resolve,
        reject,
      };
      timer = this.#clock.setTimeout(() => {
        this.stats.timeouts++;
        this.#fail(new ModbusTimeoutError(info, timeoutMs));
      }, timeoutMs);
    });
    // The answer can be rejected (stray bytes, line closed) while the write is still under way, and a
    // failed write skips the await below: mark it handled here so neither becomes an unhandled
    // rejection, which would end the whole fieldbus process.
    answered.catch(() => {});
    try {
      await this.#write(adu);
      const response = await answered;
      if ('exception' in response) throw new ModbusExceptionError(info, response.exception);
      return response;
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      this.#pending = undefined;
      this.#lineQuietFromMs = this.#clock.monotonicMs();
    }
  }

  async #write(adu: Buffer): Promise<void> {
    try {
      await this.#port.write(adu);
    } catch (e) {
      const err = e instanceof PortClosedError ? e : new PortClosedError(this.target, 'write failed', e);
      this.#fail(err);
      throw err;
    }
  }

  #fail(error: Error): void {
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(error);
  }

  #receive(bytes: Buffer): void {
    this.#lineQuietFromMs = this.#clock.monotonicMs();
    const p = this.#pending;
    if (p === undefined) {
      this.stats.strayBytes += bytes.length;
      return;
    }
    this.#rx = this.#rx.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.#rx, bytes]);
    const scan = scanRtuAnswer(this.#rx, p.awaited, p.expectedLength);
    switch (scan.kind) {
      case 'more':
        return;
      case 'answer':
        this.#pending = undefined;
        p.resolve(scan.response);
        return;
      case 'crc':
        this.stats.crcErrors++;
        this.#pending = undefined;
        p.reject(new ModbusCrcError(p.request, undefined, scan.detail));
        return;
      case 'bad':
        this.#bad(p, scan.detail);
    }
  }

  #bad(p: Pending, detail: string, cause?: unknown): void {
    this.stats.badResponses++;
    this.#pending = undefined;
    p.reject(new ModbusBadResponseError(p.request, detail, cause));
  }
}
