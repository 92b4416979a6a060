// The firmware side of the IPC link. `send` never blocks and never throws on a full queue: the
// record is dropped and counted, because the rt loop must never wait for the agent. Records stay
// queued until the agent acks them (after its journal commit) and are resent after a reconnect.
import { createConnection, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../hal/clock/clock.ts';
import { RealClock } from '../hal/clock/real-clock.ts';
import { type CommandReply, parseCommand, refuse } from './commands.ts';
import { IpcFrameError, IpcRemoteError, IpcUsageError } from './errors.ts';
import { encodeFrame, FrameDecoder, parseFrameJson } from './frame.ts';
import type { AgentRecord, IpcSource } from './records.ts';
import { IPC_SOURCES } from './records.ts';

export interface AgentLinkOptions {
  socketPath: string;
  source: IpcSource;
  /** Records held at most (unsent plus sent-but-unacked); beyond it `send` drops and counts. */
  queueLimit: number;
  clock?: Clock;
  /** Identifies this process start; default: the wall clock in ms at connect. */
  bootEpoch?: number;
  /** Records per batch frame (default 2000). */
  maxBatch?: number;
  /** Sent-but-unacked records at most before sending pauses (default 8 × maxBatch). */
  maxInFlight?: number;
  /** Reconnect backoff bounds in ms (default 50 → 2000, doubled per failure, ±25 % jitter). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Told about connection failures and protocol errors; the link keeps retrying regardless. */
  onError?: (error: Error) => void;
  /**
   * Channels (`<device>.<point>`) whose readings this process wants from the agent (the rt
   * process's relay rules compare them); they arrive through `onValues` as the agent journals them.
   */
  subscribe?: readonly string[];
  onValues?: (values: ReadonlyMap<string, number>) => void;
  /**
   * Answers a `command` frame (its body as received: JSON text, not yet checked) from the agent.
   * `connection` numbers the connections of this link, so that per-connection rules (increasing
   * ids) can be kept. Without it every command is refused with `not-ready`.
   */
  onCommand?: (body: string, connection: number) => CommandReply;
}

export interface AgentLinkStats {
  /** Accepted, not yet sent on the current connection. */
  queued: number;
  /** Sent, waiting for the agent's ack. */
  inFlight: number;
  acked: number;
  dropped: number;
  reconnects: number;
  connected: boolean;
}

export interface AgentLink {
  readonly bootEpoch: number;
  /** Queues a record; false when the queue is full and the record was dropped (counted). */
  send(record: AgentRecord): boolean;
  stats(): AgentLinkStats;
  /** Resolves once everything sent so far is acked (or rejects after `timeoutMs`). */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type LinkState = 'connecting' | 'open' | 'waiting' | 'closed';

export function connectAgent(options: AgentLinkOptions): AgentLink {
  if (!IPC_SOURCES.includes(options.source)) {
    throw new IpcUsageError(
      `source "${String(options.source)}" is unknown`,
      `use one of ${IPC_SOURCES.join(', ')}`,
    );
  }
  if (!Number.isInteger(options.queueLimit) || options.queueLimit < 1) {
    throw new IpcUsageError(`queueLimit ${options.queueLimit} is invalid`, 'pass a positive integer');
  }
  return new Link(options);
}

class Link implements AgentLink {
  readonly bootEpoch: number;
  readonly #opts: AgentLinkOptions;
  readonly #clock: Clock;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  // Ring of unacked records: slot (seq - 1) % limit holds seq; seqs ackedSeq+1 .. lastSeq are live.
  readonly #ring: (AgentRecord | undefined)[];
  #lastSeq = 0;
  #ackedSeq = 0;
  #sentSeq = 0;
  #dropped = 0;
  #reconnects = 0;
  #connections = 0;
  #everConnected = false;
  #state: LinkState = 'connecting';
  #socket: Socket | undefined;
  #decoder = new FrameDecoder();
  #flushScheduled = false;
  #retryTimer: TimerHandle | undefined;
  #backoffMs: number;
  #waiters: (() => void)[] = [];

  constructor(opts: AgentLinkOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? new RealClock();
    this.bootEpoch = opts.bootEpoch ?? Math.floor(this.#clock.nowMs());
    this.#maxBatch = opts.maxBatch ?? 2000;
    this.#maxInFlight = opts.maxInFlight ?? this.#maxBatch * 8;
    this.#ring = new Array(opts.queueLimit);
    this.#backoffMs = opts.reconnectMinMs ?? 50;
    this.#connect();
  }

  send(record: AgentRecord): boolean {
    if (this.#state === 'closed' || this.#lastSeq - this.#ackedSeq >= this.#opts.queueLimit) {
      this.#dropped++;
      return false;
    }
    this.#lastSeq++;
    this.#ring[(this.#lastSeq - 1) % this.#opts.queueLimit] = record;
    this.#scheduleFlush();
    return true;
  }

  stats(): AgentLinkStats {
    return {
      queued: this.#lastSeq - this.#sentSeq,
      inFlight: this.#sentSeq - this.#ackedSeq,
      acked: this.#ackedSeq,
      dropped: this.#dropped,
      reconnects: this.#reconnects,
      connected: this.#state === 'open',
    };
  }

  drained(timeoutMs = 10_000): Promise<void> {
    if (this.#ackedSeq === this.#lastSeq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        reject(
          new IpcUsageError(
            `${this.#lastSeq - this.#ackedSeq} records still unacked after ${timeoutMs} ms`,
            'check that the agent is running and listening on ' + this.#opts.socketPath,
          ),
        );
      }, timeoutMs);
      const done = () => {
        this.#clock.clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(done);
    });
  }

  close(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#state = 'closed';
    if (this.#retryTimer) this.#clock.clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      socket.destroy();
    });
  }

  #connect(): void {
    this.#state = 'connecting';
    this.#decoder = new FrameDecoder();
    const socket = createConnection(this.#opts.socketPath);
    this.#socket = socket;
    socket.setNoDelay?.(true);
    socket.on('connect', () => {
      if (this.#state === 'closed') return;
      this.#state = 'open';
      this.#connections++;
      if (this.#everConnected) this.#reconnects++;
      this.#everConnected = true;
      this.#backoffMs = this.#opts.reconnectMinMs ?? 50;
      socket.write(
        encodeFrame(
          'hello',
          JSON.stringify({
            protocol: 1,
            source: this.#opts.source,
            bootEpoch: this.bootEpoch,
            ...(this.#opts.subscribe?.length ? { subscribe: this.#opts.subscribe } : {}),
          }),
        ),
      );
      // Everything not acked goes again: the agent may have died before committing it.
      this.#sentSeq = this.#ackedSeq;
      this.#scheduleFlush();
    });
    socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on('error', (err) => this.#opts.onError?.(err));
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#sentSeq = this.#ackedSeq;
      if (this.#state === 'closed') return;
      this.#state = 'waiting';
      const max = this.#opts.reconnectMaxMs ?? 2000;
      const jitter = 0.75 + Math.random() * 0.5;
      const delay = Math.min(max, this.#backoffMs) * jitter;
      this.#backoffMs = Math.min(max, this.#backoffMs * 2);
      this.#retryTimer = this.#clock.setTimeout(() => {
        this.#retryTimer = undefined;
        if (this.#state === 'waiting') this.#connect();
      }, delay);
    });
  }

  #onData(socket: Socket, chunk: Buffer): void {
    try {
      for (const frame of this.#decoder.push(chunk)) {
        if (frame.type === 'command') {
          // Answered at once, in order; the body is the handler's to check (outside input).
          socket.write(encodeFrame('reply', JSON.stringify(this.#command(frame.body))));
          continue;
        }
        const body = parseFrameJson(frame) as { seq?: unknown; code?: unknown; message?: unknown };
        if (frame.type === 'ack') {
          const seq = body.seq;
          if (
            typeof seq !== 'number' ||
            !Number.isInteger(seq) ||
            seq > this.#sentSeq ||
            seq < this.#ackedSeq
          ) {
            throw new IpcFrameError(
              frame.offset,
              `ack for seq ${String(seq)} outside the sent range ${this.#ackedSeq}..${this.#sentSeq}`,
              'restart the agent; it answered for records this link never sent',
            );
          }
          this.#ack(seq);
        } else if (frame.type === 'error') {
          this.#opts.onError?.(new IpcRemoteError(String(body.code), String(body.message)));
        } else if (frame.type === 'values') {
          this.#opts.onValues?.(valuesFrom(body, frame.offset));
        } else {
          throw new IpcFrameError(
            frame.offset,
            `unexpected ${frame.type} frame from the agent`,
            'restart the agent',
          );
        }
      }
    } catch (err) {
      this.#opts.onError?.(err as Error);
      socket.destroy();
    }
  }

  #command(body: string): CommandReply {
    const handler = this.#opts.onCommand;
    if (handler !== undefined) {
      try {
        return handler(body, this.#connections);
      } catch (err) {
        return refuse(
          0,
          'not-ready',
          `${this.#opts.source} failed on the command: ${(err as Error).message}`,
        );
      }
    }
    const parsed = parseCommand(body);
    return refuse(
      parsed.ok ? parsed.command.id : parsed.reply.id,
      'not-ready',
      `the ${this.#opts.source} process takes no commands; send relay commands to rt`,
    );
  }

  #ack(seq: number): void {
    const limit = this.#opts.queueLimit;
    for (let s = this.#ackedSeq + 1; s <= seq; s++) this.#ring[(s - 1) % limit] = undefined;
    this.#ackedSeq = seq;
    if (seq === this.#lastSeq && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    }
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#state !== 'open') return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const socket = this.#socket;
    if (this.#state !== 'open' || !socket) return;
    const limit = this.#opts.queueLimit;
    while (this.#sentSeq < this.#lastSeq && this.#sentSeq - this.#ackedSeq < this.#maxInFlight) {
      const first = this.#sentSeq + 1;
      const last = Math.min(
        this.#lastSeq,
        this.#sentSeq + this.#maxBatch,
        this.#ackedSeq + this.#maxInFlight,
      );
      const records: AgentRecord[] = [];
      for (let s = first; s <= last; s++) records.push(this.#ring[(s - 1) % limit]!);
      socket.write(encodeFrame('batch', JSON.stringify({ first, records })));
      this.#sentSeq = last;
    }
  }
}

/** The body of a `values` frame: `{ "values": { "<channel>": <number>, … } }`. */
function valuesFrom(body: unknown, offset: number): Map<string, number> {
  const v = (body as { values?: unknown }).values;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new IpcFrameError(offset, 'values frame without a values object', 'restart the agent');
  }
  const out = new Map<string, number>();
  for (const [channel, value] of Object.entries(v)) {
    if (typeof value === 'number' && Number.isFinite(value)) out.set(channel, value);
  }
  return out;
}
