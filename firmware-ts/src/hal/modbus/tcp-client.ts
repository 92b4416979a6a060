// A Modbus TCP master of our own (Modbus Messaging on TCP/IP V1.0b): requests carry a transaction
// id, so several may be outstanding on one connection and each answer finds its request whatever
// order it comes in; a late answer to a request that timed out is dropped, never taken for another.
// Timeouts run on the injected clock. The connection's end is always seen: when the device closes
// it (idle or mid-request), resets it, or sends a header that breaks the stream, every outstanding
// request fails at once and the client reports itself closed, so the poller reopens it.

import type { Socket } from 'node:net';
import { encodeMbap, encodeRequest, type ModbusRequest, type ModbusResponse } from '@brana/hardware';
import {
  ModbusBadResponseError,
  ModbusExceptionError,
  type ModbusRequestInfo,
  ModbusTimeoutError,
  PortClosedError,
} from '../../errors.ts';
import type { Clock, TimerHandle } from '../clock/clock.ts';
import { type AwaitedAnswer, awaitedAnswer, checkMbapAnswer, MbapAnswerReader } from './answers.ts';
import { CheckedModbusClient } from './checked-client.ts';
import { checkTimeout } from './request-checks.ts';
import { connectTcp } from './tcp-connect.ts';

export interface TcpModbusClientOptions {
  host: string;
  /** Default 502. */
  port?: number;
  clock: Clock;
  /** Default per-request timeout. Default 500 ms. */
  timeoutMs?: number;
  /** Give up a connection attempt after this long. Default 3000 ms. */
  connectTimeoutMs?: number;
}

export interface TcpClientStats {
  requests: number;
  timeouts: number;
  badResponses: number;
  /** Answers whose transaction id matched no outstanding request (late answers after a timeout). */
  strayAnswers: number;
}

interface Pending {
  info: ModbusRequestInfo;
  awaited: AwaitedAnswer;
  timer: TimerHandle;
  resolve(response: ModbusResponse): void;
  reject(error: Error): void;
}

export class TcpModbusClient extends CheckedModbusClient {
  readonly target: string;
  readonly stats: TcpClientStats = { requests: 0, timeouts: 0, badResponses: 0, strayAnswers: 0 };
  readonly #socket: Socket;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #reader = new MbapAnswerReader();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  /** Why the connection ended, for the requests that come after. */
  #closedBecause = 'the connection is closed';

  private constructor(socket: Socket, target: string, clock: Clock, timeoutMs: number) {
    super();
    this.#socket = socket;
    this.target = target;
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.#end(`the connection failed (${err.code ?? err.message})`, err);
    });
    socket.on('end', () => this.#end('the device closed the connection'));
    socket.on('close', () => this.#end('the connection closed'));
  }

  /** Connects. Throws PortOpenError (refused, unreachable, no answer in time) naming host and port. */
  static async connect(options: TcpModbusClientOptions): Promise<TcpModbusClient> {
    const port = options.port ?? 502;
    const timeoutMs = options.timeoutMs ?? 500;
    checkTimeout(timeoutMs);
    const socket = await connectTcp({
      host: options.host,
      port,
      clock: options.clock,
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
    });
    return new TcpModbusClient(socket, `tcp:${options.host}:${port}`, options.clock, timeoutMs);
  }

  get isOpen(): boolean {
    return !this.#closed;
  }

  get closeReason(): string | undefined {
    return this.#closed ? `${this.target}: ${this.#closedBecause}` : undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#end('the client was closed');
    await new Promise<void>((resolve) => {
      if (this.#socket.closed) resolve();
      else this.#socket.once('close', () => resolve());
    });
  }

  protected get defaultTimeoutMs(): number {
    return this.#timeoutMs;
  }

  protected transact(
    info: ModbusRequestInfo,
    request: ModbusRequest,
    timeoutMs: number,
  ): Promise<ModbusResponse> {
    const { unitId } = info;
    if (this.#closed) return Promise.reject(new PortClosedError(this.target, this.#closedBecause));
    const id = this.#takeId();
    this.stats.requests++;
    return new Promise<ModbusResponse>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(id);
        this.stats.timeouts++;
        reject(new ModbusTimeoutError(info, timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, {
        info,
        awaited: awaitedAnswer(unitId, request),
        timer,
        resolve,
        reject,
      });
      this.#socket.write(encodeMbap({ transactionId: id, unit: unitId, pdu: encodeRequest(request) }));
    }).then((response) => {
      if ('exception' in response) throw new ModbusExceptionError(info, response.exception);
      return response;
    });
  }

  /** The next transaction id not outstanding (1..65535, wrapping). */
  #takeId(): number {
    for (;;) {
      const id = this.#nextId;
      this.#nextId = id >= 0xffff ? 1 : id + 1;
      if (!this.#pending.has(id)) return id;
    }
  }

  #receive(chunk: Buffer): void {
    const read = this.#reader.push(chunk);
    for (const frame of read.frames) {
      const p = this.#pending.get(frame.transactionId);
      if (p === undefined) {
        this.stats.strayAnswers++;
        continue;
      }
      this.#pending.delete(frame.transactionId);
      this.#clock.clearTimeout(p.timer);
      const outcome = checkMbapAnswer(frame, p.awaited);
      if (outcome.kind === 'answer') {
        p.resolve(outcome.response);
      } else {
        this.stats.badResponses++;
        p.reject(new ModbusBadResponseError(p.info, outcome.detail));
      }
    }
    if ('broken' in read) {
      // No way to find the next frame in this stream: fail what waits, and start over on a new one.
      this.stats.badResponses++;
      this.#end(
        `the stream broke (${read.broken})`,
        undefined,
        (p) => new ModbusBadResponseError(p.info, read.broken),
      );
    }
  }

  /** Ends the connection once: every outstanding request fails, later ones get PortClosedError. */
  #end(because: string, cause?: unknown, errorFor?: (p: Pending) => Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedBecause = because;
    this.#socket.destroy();
    for (const p of this.#pending.values()) {
      this.#clock.clearTimeout(p.timer);
      p.reject(errorFor?.(p) ?? new PortClosedError(this.target, `${because} during the request`, cause));
    }
    this.#pending.clear();
  }
}
