// The agent side of the IPC link: a Unix stream socket server. Batches from one connection are
// handed to `onBatch` strictly in order, and acked only after its promise resolved, i.e. after the
// agent committed them to its journal. A batch that fails to commit is not acked; the connection
// is closed and the firmware resends it after reconnecting.
import { lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { formatPath } from '@brana/hardware';
import {
  type CommandReply,
  type CommandRequest,
  commandReplySchema,
  commandRequestSchema,
  refuse,
} from './commands.ts';
import { IpcFrameError, IpcMessageError, IpcUsageError } from './errors.ts';
import { encodeFrame, FrameDecoder, IPC_PROTOCOL_VERSION, parseFrameJson } from './frame.ts';
import { agentRecordSchema, IPC_SOURCES, type IpcSource, type SequencedRecord } from './records.ts';

export interface IpcServerOptions {
  socketPath: string;
  /** Commit the records; resolve only when they are durable. Rejecting leaves them unacked. */
  onBatch: (records: SequencedRecord[]) => Promise<void>;
  /** A connection broke the protocol (garbage, bad hello) and was closed. */
  onProtocolError?: (error: Error, peer: { source?: IpcSource }) => void;
  /** One record failed validation; it is acked (so it cannot block the link) but not journalled. */
  onInvalidRecord?: (
    error: IpcMessageError,
    peer: { source: IpcSource; bootEpoch: number; seq: number },
  ) => void;
  /** onBatch rejected; the connection is closed so that the firmware resends. */
  onCommitError?: (error: unknown) => void;
  /** How long `command` waits for the firmware's reply by default (default 2000 ms). */
  commandTimeoutMs?: number;
}

export interface CommandOptions {
  /** Default: the server's commandTimeoutMs. */
  timeoutMs?: number;
}

export interface IpcConnectionInfo {
  /** Wall time the connection was accepted, ms. */
  connectedAtMs: number;
  source: IpcSource | undefined;
  bootEpoch: number | undefined;
  ackedSeq: number;
}

export interface IpcServer {
  readonly socketPath: string;
  connections(): IpcConnectionInfo[];
  /**
   * Sends a command to the firmware process `source` and resolves with its reply. Never rejects:
   * a body that fails the schema is refused here (`bad-command`), a process that is not connected,
   * disconnects or does not answer within the timeout gives `not-ready` (the message says which).
   */
  command(source: IpcSource, request: CommandRequest, options?: CommandOptions): Promise<CommandReply>;
  close(): Promise<void>;
}

/** Commands sent on one connection and not yet answered, at most; more are refused as rate-limited. */
const MAX_PENDING_COMMANDS = 64;

/** Listens on `socketPath` (a stale socket file from a crashed agent is removed first). */
export async function createIpcServer(options: IpcServerOptions): Promise<IpcServer> {
  removeStaleSocket(options.socketPath);
  const conns = new Set<Connection>();
  // Readings one process sent, once journalled, go on to the processes that subscribed to them.
  const forward = (from: Connection, group: readonly SequencedRecord[]) => {
    for (const c of conns) if (c !== from) c.offerValues(group);
  };
  const server = createServer((socket) => {
    const conn = new Connection(socket, options, forward);
    conns.add(conn);
    socket.on('close', () => conns.delete(conn));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new IpcUsageError(
          `cannot listen on ${options.socketPath} (${(err as Error).message})`,
          'check that the directory exists and is writable, and that no other agent is running',
          err,
        ),
      ),
    );
    server.listen(options.socketPath, () => resolve());
  });
  const command = (source: IpcSource, request: CommandRequest, o: CommandOptions = {}) => {
    const checked = commandRequestSchema.safeParse(request);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return Promise.resolve(
        refuse(
          0,
          'bad-command',
          `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}; send { op: "relay.set", relay, on, by: { kind: "flow" } }`,
        ),
      );
    }
    // The newest live connection of that source (an old one may linger while it closes).
    let target: Connection | undefined;
    for (const c of conns) if (c.accepts(source)) target = c;
    if (target === undefined) {
      return Promise.resolve(
        refuse(
          0,
          'not-ready',
          `the ${source} process is not connected to the agent (starting, restarting, or not running on this gateway); try again shortly`,
        ),
      );
    }
    return target.command(checked.data, o.timeoutMs ?? options.commandTimeoutMs ?? 2000);
  };
  return {
    socketPath: options.socketPath,
    connections: () => [...conns].map((c) => c.info()),
    command,
    close: () => closeServer(server, conns, options.socketPath),
  };
}

function removeStaleSocket(path: string): void {
  try {
    const st = lstatSync(path);
    if (!st.isSocket()) {
      throw new IpcUsageError(`${path} exists and is not a socket`, 'remove it or choose another socketPath');
    }
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

async function closeServer(server: Server, conns: Set<Connection>, path: string): Promise<void> {
  for (const c of conns) c.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Records per onBatch call at most (a group of frames); keeps one transaction's size bounded. */
const MAX_GROUP_RECORDS = 50_000;

class Connection {
  readonly #socket: Socket;
  readonly #opts: IpcServerOptions;
  readonly #decoder = new FrameDecoder();
  #source: IpcSource | undefined;
  #bootEpoch: number | undefined;
  #expectedSeq = 0;
  #ackedSeq = 0;
  // Group commit: batches that arrive while a commit runs are handed to onBatch together, so a
  // slow fsync is paid once per group rather than once per frame. Order is kept: one commit at a
  // time per connection, and after a failed commit nothing more from this connection is taken.
  #pending: SequencedRecord[] = [];
  #pendingLastSeq = 0;
  #committing = false;
  #commitScheduled = false;
  #dead = false;
  readonly #connectedAtMs = Date.now();
  #subscribed: ReadonlySet<string> = new Set();
  #commandSeq = 0;
  readonly #commands = new Map<number, { resolve: (r: CommandReply) => void; timer: NodeJS.Timeout }>();
  readonly #forward: (from: Connection, group: readonly SequencedRecord[]) => void;

  constructor(
    socket: Socket,
    opts: IpcServerOptions,
    forward: (from: Connection, group: readonly SequencedRecord[]) => void,
  ) {
    this.#socket = socket;
    this.#opts = opts;
    this.#forward = forward;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.destroy());
    socket.on('close', () => {
      this.#dead = true;
      this.#settleAll(
        'disconnected before it answered; the relay may or may not have switched (its relay.switched event tells); try again',
      );
    });
  }

  /** A live connection whose hello named `source`. */
  accepts(source: IpcSource): boolean {
    return this.#source === source && !this.#dead && !this.#socket.destroyed;
  }

  command(request: CommandRequest, timeoutMs: number): Promise<CommandReply> {
    const source = this.#source ?? 'firmware';
    if (this.#commands.size >= MAX_PENDING_COMMANDS) {
      return Promise.resolve(
        refuse(
          0,
          'rate-limited',
          `${MAX_PENDING_COMMANDS} commands are already waiting for ${source}'s answer; send fewer commands at once`,
        ),
      );
    }
    const id = ++this.#commandSeq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#commands.delete(id);
        resolve(
          refuse(
            id,
            'not-ready',
            `${source} did not answer within ${timeoutMs} ms; the relay may or may not have switched (its relay.switched event tells); try again`,
          ),
        );
      }, timeoutMs);
      timer.unref?.();
      this.#commands.set(id, { resolve, timer });
      this.#socket.write(encodeFrame('command', JSON.stringify({ id, ...request })));
    });
  }

  #settleAll(why: string): void {
    const source = this.#source ?? 'firmware';
    for (const [id, p] of this.#commands) {
      clearTimeout(p.timer);
      p.resolve(refuse(id, 'not-ready', `${source} ${why}`));
    }
    this.#commands.clear();
  }

  #reply(body: unknown, offset: number): void {
    const parsed = commandReplySchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new IpcMessageError(
        `reply.${issue?.path.join('.') ?? ''}`,
        `${issue?.message ?? 'invalid'} (frame at byte ${offset})`,
        'run the same Brána version on firmware and agent',
      );
    }
    const pending = this.#commands.get(parsed.data.id);
    // A reply after its timeout (or to a body refused with id 0) has nobody waiting: dropped.
    if (pending === undefined) return;
    this.#commands.delete(parsed.data.id);
    clearTimeout(pending.timer);
    pending.resolve(parsed.data);
  }

  info(): IpcConnectionInfo {
    return {
      connectedAtMs: this.#connectedAtMs,
      source: this.#source,
      bootEpoch: this.#bootEpoch,
      ackedSeq: this.#ackedSeq,
    };
  }

  destroy(): void {
    this.#dead = true;
    this.#socket.destroy();
  }

  /** Sends the latest usable value of each subscribed channel in `group` (bad and stale ones are not). */
  offerValues(group: readonly SequencedRecord[]): void {
    if (this.#subscribed.size === 0 || this.#dead || this.#socket.destroyed) return;
    let values: Record<string, number> | undefined;
    for (const { record: r } of group) {
      if (r.kind !== 'reading' || typeof r.value !== 'number' || !Number.isFinite(r.value)) continue;
      if (r.quality === 'bad' || r.quality === 'stale' || !this.#subscribed.has(r.channel)) continue;
      values ??= {};
      values[r.channel] = r.value;
    }
    if (values !== undefined) this.#socket.write(encodeFrame('values', JSON.stringify({ values })));
  }

  #onData(chunk: Buffer): void {
    if (this.#dead) return;
    try {
      for (const frame of this.#decoder.push(chunk)) {
        const body = parseFrameJson(frame);
        if (frame.type === 'hello') this.#hello(body, frame.offset);
        else if (frame.type === 'batch') this.#batch(body, frame.offset);
        else if (frame.type === 'reply') this.#reply(body, frame.offset);
        else
          throw new IpcFrameError(
            frame.offset,
            `unexpected ${frame.type} frame from firmware`,
            'restart the firmware process',
          );
      }
    } catch (err) {
      this.#protocolError(err as Error);
    }
  }

  #protocolError(err: Error): void {
    const code = (err as { code?: string }).code ?? 'IPC_PROTOCOL';
    this.#opts.onProtocolError?.(err, { source: this.#source });
    if (!this.#socket.destroyed) {
      this.#socket.end(encodeFrame('error', JSON.stringify({ code, message: err.message })));
    }
    this.#dead = true;
    setTimeout(() => this.#socket.destroy(), 100).unref();
  }

  #hello(body: unknown, offset: number): void {
    const b = body as { protocol?: unknown; source?: unknown; bootEpoch?: unknown; subscribe?: unknown };
    if (this.#source !== undefined) {
      throw new IpcFrameError(offset, 'second hello on one connection', 'send hello once per connection');
    }
    if (b.protocol !== IPC_PROTOCOL_VERSION) {
      throw new IpcMessageError(
        'hello.protocol',
        `is ${String(b.protocol)}, expected ${IPC_PROTOCOL_VERSION}`,
        'run the same Brána version on firmware and agent',
      );
    }
    if (!IPC_SOURCES.includes(b.source as IpcSource)) {
      throw new IpcMessageError(
        'hello.source',
        `"${String(b.source)}" is unknown`,
        `use one of ${IPC_SOURCES.join(', ')}`,
      );
    }
    if (typeof b.bootEpoch !== 'number' || !Number.isSafeInteger(b.bootEpoch) || b.bootEpoch < 0) {
      throw new IpcMessageError(
        'hello.bootEpoch',
        `${String(b.bootEpoch)} is not a non-negative integer`,
        'use the process start time in ms',
      );
    }
    if (
      b.subscribe !== undefined &&
      (!Array.isArray(b.subscribe) ||
        b.subscribe.length > 10_000 ||
        !b.subscribe.every((c) => typeof c === 'string' && c.length > 0 && c.length <= 200))
    ) {
      throw new IpcMessageError(
        'hello.subscribe',
        'is not a list of at most 10000 channel names',
        'send channel keys such as "room.co2Ppm", or leave subscribe out',
      );
    }
    this.#source = b.source as IpcSource;
    this.#bootEpoch = b.bootEpoch;
    this.#subscribed = new Set((b.subscribe as string[] | undefined) ?? []);
  }

  #batch(body: unknown, offset: number): void {
    const source = this.#source;
    const bootEpoch = this.#bootEpoch;
    if (source === undefined || bootEpoch === undefined) {
      throw new IpcFrameError(offset, 'batch before hello', 'send a hello frame first');
    }
    const b = body as { first?: unknown; records?: unknown };
    if (typeof b.first !== 'number' || !Number.isSafeInteger(b.first) || b.first < 1) {
      throw new IpcMessageError(
        'batch.first',
        `${String(b.first)} is not a positive integer`,
        'number records from 1',
      );
    }
    if (!Array.isArray(b.records) || b.records.length === 0) {
      throw new IpcMessageError(
        'batch.records',
        'is not a non-empty array',
        'send at least one record per batch',
      );
    }
    // A new connection starts wherever the client's unacked records start.
    if (this.#expectedSeq !== 0 && b.first !== this.#expectedSeq) {
      throw new IpcMessageError(
        'batch.first',
        `is ${b.first}, expected ${this.#expectedSeq}`,
        'send batches in order without gaps',
      );
    }
    const first = b.first;
    const raw = b.records as unknown[];
    const lastSeq = first + raw.length - 1;
    this.#expectedSeq = lastSeq + 1;
    const good: SequencedRecord[] = [];
    for (let i = 0; i < raw.length; i++) {
      const parsed = agentRecordSchema.safeParse(raw[i]);
      if (parsed.success) {
        good.push({ source, bootEpoch, seq: first + i, record: parsed.data });
      } else {
        const issue = parsed.error.issues[0];
        const path = formatPath(['records', i, ...(issue?.path ?? [])]);
        this.#opts.onInvalidRecord?.(
          new IpcMessageError(path, issue?.message ?? 'invalid', 'fix the firmware that built this record'),
          { source, bootEpoch, seq: first + i },
        );
      }
    }
    for (const r of good) this.#pending.push(r);
    this.#pendingLastSeq = lastSeq;
    this.#scheduleCommit();
  }

  #scheduleCommit(): void {
    if (this.#committing || this.#commitScheduled) return;
    this.#commitScheduled = true;
    // Let the frames already in the socket buffer join this group.
    setImmediate(() => {
      this.#commitScheduled = false;
      void this.#commitLoop();
    });
  }

  async #commitLoop(): Promise<void> {
    if (this.#committing) return;
    this.#committing = true;
    try {
      while (!this.#dead && this.#pendingLastSeq > this.#ackedSeq) {
        const group =
          this.#pending.length > MAX_GROUP_RECORDS
            ? this.#pending.splice(0, MAX_GROUP_RECORDS)
            : this.#pending;
        if (group === this.#pending) this.#pending = [];
        // Invalid records are acked without being journalled: ack up to the batch end when the group is all that is left.
        const lastSeq = this.#pending.length === 0 ? this.#pendingLastSeq : group[group.length - 1]!.seq;
        try {
          if (group.length > 0) await this.#opts.onBatch(group);
        } catch (err) {
          this.#commitFailed(err);
          return;
        }
        if (group.length > 0) this.#forward(this, group);
        if (this.#dead || this.#socket.destroyed) return;
        this.#ackedSeq = lastSeq;
        this.#socket.write(encodeFrame('ack', JSON.stringify({ seq: lastSeq })));
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.#committing = false;
    }
  }

  #commitFailed(err: unknown): void {
    this.#opts.onCommitError?.(err);
    if (this.#dead) return;
    const e = err as { code?: string; message?: string };
    this.#socket.end(
      encodeFrame(
        'error',
        JSON.stringify({ code: e.code ?? 'COMMIT_FAILED', message: e.message ?? String(err) }),
      ),
    );
    this.#dead = true;
    setTimeout(() => this.#socket.destroy(), 100).unref();
  }
}
