// The polling engine. Each bus runs "lanes": an RTU line is ONE lane for all its devices, so two
// requests can never be on one RS-485 pair at once; a Modbus TCP connection runs one lane per
// device (unit id), at most `maxInFlight` of them with a request outstanding. A device's poll
// (the reads of the classes due now, coalesced) goes out one read per turn; each turn the lane
// serves whichever device can start first (`nextTurn`), keeping the line's t3.5 silence after
// every transaction and each device's own inter-frame delay after ITS last transaction, so one
// device's rest is another's turn. Reads are planned by line cost (`planReadsByCost`) with each
// device's turnaround learned from its answers; plans are re-made when that estimate moves.
//
// Failures: a request is retried with backoff; a poll that got no answer at all counts as a
// failure, and after `offlineAfter` of them in a row the device is offline and only probed now
// and then (with backoff) so a silent meter does not eat the bus time of the others. Any answer,
// an exception response included, is proof of life, except a TCP gateway's exception 10/11 (the
// gateway answered, the meter behind it did not). A closed port or connection (USB adapter
// unplugged, the meter closed the TCP connection, idle or mid-request) marks the bus down and
// reopens it by its path or address with backoff, whatever state it closed in; a bus that stays
// down through `offlineAfter` attempts takes its devices offline with it, the same states and
// events as a silent device, and they are probed as soon as it is back. When every device on a
// line or connection has fallen silent, it is reopened once too (a vanished adapter, a TCP peer
// gone without a word).
import { decodePoint } from '@brana/hardware';
import { FirmwareError, ModbusExceptionError } from '../errors.ts';
import type { Clock, ModbusClient } from '../hal/index.ts';
import { sleepMs } from '../hal/index.ts';
import { type CounterState, counterStep, rolloverBits } from './counter.ts';
import { nextTurn, type TurnCandidate } from './lane-turn.ts';
import {
  afterPoll,
  dueClasses,
  initialSchedule,
  nextDueMs,
  type PollSchedule,
  rearmOnce,
} from './poll-schedule.ts';
import { intervalStep } from './quarter-hours.ts';
import {
  type LineCost,
  planReads,
  planReadsByCost,
  type ReadBlock,
  responseDataBytes,
} from './read-planner.ts';
import type { DeviceState, FieldbusRecord, FieldbusSink, ReadingRecord } from './records.ts';
import { emptyState, type FieldbusState } from './state-file.ts';
import type { DeviceTiming, PollClass, PollPoint, ReadLimits } from './types.ts';

/** The parts of a device profile the engine uses (a resolved @brana/hardware ModbusProfile fits). */
export interface PollProfile {
  id: string;
  bus: ReadLimits & DeviceTiming;
  points: readonly PollPoint[];
}

export interface EngineDevice {
  name: string;
  bus: string;
  unit: number;
  profile: PollProfile;
  pollFastMs: number;
  pollSlowMs: number;
  /** Only these point keys (default all). */
  points?: readonly string[];
  /** Highest believable use per hour for this device's counters (see CounterOptions). */
  maxRatePerH?: number;
}

export interface EngineBus {
  name: string;
  kind: 'rtu' | 'tcp';
  /** Silence kept between two transactions on the line (t3.5 for RTU, 0 for TCP), ms. */
  gapMs: number;
  /** TCP: devices with a request outstanding at once. RTU is always 1. */
  maxInFlight: number;
  /**
   * One character on the wire, ms (RTU: 11 bits at the baud, `charTimeMs`). Weighs a hole read
   * through against one more request (`planReadsByCost`). Unset (TCP): the profile's fixed
   * `gapFill` rule (`planReads`), since a Modbus TCP gateway may have a slow RTU line behind it
   * whose bytes the engine cannot see.
   */
  charMs?: number;
  /** Opens (or reopens, by the same stable path or address) the connection. */
  open(): Promise<ModbusClient>;
}

export interface EngineOptions {
  clock: Clock;
  sink: FieldbusSink;
  /** State from the last run (counter totals, open intervals); default empty. */
  state?: FieldbusState;
  /** Called with the state to persist, at most every `persistEveryMs` and on stop. */
  persist?: (state: FieldbusState) => void;
  persistEveryMs?: number;
  /** Extra attempts per request. Default 2. */
  retries?: number;
  /** First retry delay; doubles per attempt. Default 50 ms. */
  retryBackoffMs?: number;
  /** Failed polls in a row before a device is offline. Default 3. */
  offlineAfter?: number;
  /** Probe period of an offline device: [first, max], doubling. Default [5 s, 60 s]. */
  offlineProbeMs?: readonly [number, number];
  /** Reopen period of a bus whose port or connection is gone: [first, max], doubling. Default [1 s, 10 s]. */
  reopenMs?: readonly [number, number];
  /** Quarter-hour interpolation limit (IntervalOptions.maxGapMs). */
  intervalMaxGapMs?: number;
  /** Turnaround assumed for a device until its answers have been timed. Default 20 ms. */
  turnaroundMs?: number;
}

export interface EngineStats {
  requests: number;
  answers: number;
  retries: number;
  failures: number;
  exceptions: number;
  readings: number;
  /** Records the sink refused (queue full). */
  dropped: number;
  /** Completed device polls. */
  polls: number;
}

/** A device poll under way: its reads go out one per lane turn. */
interface ActivePoll {
  classes: PollClass[];
  blocks: ReadBlock[];
  /** Index of the next block to read. */
  next: number;
  /** Attempt number of the next block (0 = first try). */
  attempt: number;
  /** A retry waits for its backoff until then (monotonic ms). */
  retryAtMs: number;
  /** When the poll became due; orders devices ready at the same moment. */
  dueAtMs: number;
  /** Monotonic ms the poll began (its classes were due by then). */
  startedAtMs: number;
  probing: boolean;
  answered: boolean;
  onceOk: boolean;
  lastError: unknown;
}

interface DeviceRuntime {
  spec: EngineDevice;
  points: PollPoint[];
  schedule: PollSchedule;
  state: DeviceState | 'unknown';
  failures: number;
  probeAtMs: number;
  probeBackoffMs: number;
  plans: Map<string, ReadBlock[]>;
  /** The turnaround estimate the cached plans were made with. */
  plannedTurnaroundMs: number;
  /** Estimated ms from the end of a request (and t3.5) to the start of the answer: an EWMA. */
  turnaroundMs: number;
  /** Answers timed so far (the first ones weigh more, so the estimate settles in a few polls). */
  turnaroundSamples: number;
  /** Monotonic ms this device's last transaction ended: its inter-frame delay runs from here. */
  lastEndMs: number;
  /** Devices sharing its lane: alone, its inter-frame delay is part of each extra read's cost. */
  laneSize: number;
  poll: ActivePoll | undefined;
  last: Map<string, ReadingRecord>;
  serialKey: string | undefined;
  serial: string | undefined;
}

interface BusRuntime {
  spec: EngineBus;
  client: ModbusClient | undefined;
  opening: Promise<ModbusClient | undefined> | undefined;
  up: boolean | undefined;
  reopenBackoffMs: number;
  /** Failed attempts to open it since it was last up. */
  openFailures: number;
  /** Why it went down, as last reported. */
  downReason: string | undefined;
  devices: DeviceRuntime[];
  /** Monotonic ms the last transaction on the line ended. */
  lastEndMs: number;
  inFlight: number;
  waiters: (() => void)[];
  silentReopened: boolean;
}

const isPortGone = (err: unknown) =>
  err instanceof FirmwareError && (err.code === 'PORT_CLOSED' || err.code === 'PORT_OPEN_FAILED');

/**
 * Exceptions 10 (gateway path unavailable) and 11 (gateway target failed to respond) come from a
 * TCP gateway, not the device: they are no proof that the meter is alive.
 */
const GATEWAY_EXCEPTIONS = new Set([10, 11]);

/** Weight of the newest answer in a device's turnaround estimate once it has settled (a running mean before). */
const TURNAROUND_EWMA = 0.1;

/** Re-plan a device once its turnaround estimate has moved this far (fraction, and at least 2 ms). */
const REPLAN_DRIFT = 0.15;

const errorCode = (err: unknown) => (err instanceof FirmwareError ? err.code : 'ERROR');
const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class FieldbusEngine {
  readonly stats: EngineStats = {
    requests: 0,
    answers: 0,
    retries: 0,
    failures: 0,
    exceptions: 0,
    readings: 0,
    dropped: 0,
    polls: 0,
  };
  readonly #clock: Clock;
  readonly #sink: FieldbusSink;
  readonly #opts: Required<Omit<EngineOptions, 'state' | 'persist' | 'clock' | 'sink'>>;
  readonly #persist: ((state: FieldbusState) => void) | undefined;
  readonly #state: FieldbusState;
  readonly #buses = new Map<string, BusRuntime>();
  readonly #devices: DeviceRuntime[] = [];
  readonly #abort = new AbortController();
  #lanes: Promise<void>[] = [];
  #lastPersistMs = Number.NEGATIVE_INFINITY;
  #running = false;

  constructor(buses: readonly EngineBus[], devices: readonly EngineDevice[], options: EngineOptions) {
    this.#clock = options.clock;
    this.#sink = options.sink;
    this.#persist = options.persist;
    this.#state = options.state ?? emptyState();
    this.#opts = {
      persistEveryMs: options.persistEveryMs ?? 10_000,
      retries: options.retries ?? 2,
      retryBackoffMs: options.retryBackoffMs ?? 50,
      offlineAfter: options.offlineAfter ?? 3,
      offlineProbeMs: options.offlineProbeMs ?? [5000, 60_000],
      reopenMs: options.reopenMs ?? [1000, 10_000],
      intervalMaxGapMs: options.intervalMaxGapMs ?? 5 * 60_000,
      turnaroundMs: options.turnaroundMs ?? 20,
    };
    for (const b of buses) {
      this.#buses.set(b.name, {
        spec: b,
        client: undefined,
        opening: undefined,
        up: undefined,
        reopenBackoffMs: this.#opts.reopenMs[0],
        openFailures: 0,
        downReason: undefined,
        devices: [],
        lastEndMs: Number.NEGATIVE_INFINITY,
        inFlight: 0,
        waiters: [],
        silentReopened: false,
      });
    }
    const now = this.#clock.monotonicMs();
    for (const d of devices) {
      const wanted = d.points ? new Set(d.points) : undefined;
      const points = d.profile.points.filter((p) => !wanted || wanted.has(p.key));
      this.#devices.push({
        spec: d,
        points,
        schedule: initialSchedule(now),
        state: 'unknown',
        failures: 0,
        probeAtMs: now,
        probeBackoffMs: this.#opts.offlineProbeMs[0],
        plans: new Map(),
        plannedTurnaroundMs: this.#opts.turnaroundMs,
        turnaroundMs: this.#opts.turnaroundMs,
        turnaroundSamples: 0,
        lastEndMs: Number.NEGATIVE_INFINITY,
        laneSize: 1,
        poll: undefined,
        last: new Map(),
        serialKey: points.find((p) => /^serial/i.test(p.key))?.key,
        serial: undefined,
      });
    }
    for (const d of this.#devices) this.#buses.get(d.spec.bus)?.devices.push(d);
  }

  /** Starts every lane. Returns at once; lanes run until `stop()`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const bus of this.#buses.values()) {
      const devices = this.#devices.filter((d) => d.spec.bus === bus.spec.name);
      if (devices.length === 0) continue;
      const lanes = bus.spec.kind === 'rtu' ? [devices] : devices.map((d) => [d]);
      for (const lane of lanes) {
        for (const d of lane) d.laneSize = lane.length;
        this.#lanes.push(this.#runLane(bus, lane));
      }
    }
  }

  /** Stops polling, closes connections and persists the state. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#abort.abort(new Error('stopped'));
    await Promise.allSettled(this.#lanes);
    for (const bus of this.#buses.values()) {
      await bus.client?.close().catch(() => undefined);
      bus.client = undefined;
    }
    this.#persistNow();
  }

  /** Status of each device (for a local API or tests). */
  deviceStates(): Record<string, DeviceState | 'unknown'> {
    return Object.fromEntries(this.#devices.map((d) => [d.spec.name, d.state]));
  }

  /** Each device's learned turnaround, ms (for a local API, tests and the benchmark). */
  turnaroundEstimatesMs(): Record<string, number> {
    return Object.fromEntries(this.#devices.map((d) => [d.spec.name, d.turnaroundMs]));
  }

  /** The state as it would be persisted now. */
  snapshotState(): FieldbusState {
    return structuredClone({ ...this.#state, savedAtMs: this.#clock.nowMs() });
  }

  // ------------------------------------------------------------------------------------------ lanes

  async #runLane(bus: BusRuntime, devices: DeviceRuntime[]): Promise<void> {
    const signal = this.#abort.signal;
    try {
      while (!signal.aborted) {
        const client = await this.#ensureOpen(bus);
        if (!client) continue;
        const turn = nextTurn(
          devices.map((d) => this.#candidate(d)),
          bus.lastEndMs + bus.spec.gapMs,
        )!;
        const wait = turn.startAtMs - this.#clock.monotonicMs();
        if (wait > 0) await sleepMs(this.#clock, wait, signal);
        const d = devices[turn.index]!;
        await this.#acquire(bus);
        try {
          // While this lane waited, another may have lost the connection and opened a new one.
          if (bus.client === client && client.isOpen) await this.#turn(bus, client, d);
        } catch (err) {
          if (!isPortGone(err)) throw err;
          // Polls under way are dropped, not failed: the devices are not to blame for the port.
          for (const x of devices) x.poll = undefined;
          this.#busDown(bus, errorMessage(err), client);
        } finally {
          this.#release(bus);
        }
        // Some USB adapters vanish without the port reporting a close, and a TCP peer that lost
        // power leaves an open connection nobody answers on: when every device on a bus has gone
        // silent, reopen it once by its path or address.
        const allSilent = bus.devices.every((x) => x.state === 'offline');
        if (allSilent && !bus.silentReopened) {
          bus.silentReopened = true;
          this.#busDown(
            bus,
            `no device on the ${bus.spec.kind === 'rtu' ? 'line' : 'connection'} answers; reopening ${bus.spec.kind === 'rtu' ? 'the port' : 'it'}`,
            client,
          );
        } else if (!allSilent) {
          bus.silentReopened = false;
        }
        this.#maybePersist();
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }

  /** When `d` could be sent its next request, as `nextTurn` weighs it. */
  #candidate(d: DeviceRuntime): TurnCandidate {
    const rested = d.lastEndMs + d.spec.profile.bus.interFrameDelayMs;
    if (d.poll) return { readyAtMs: Math.max(rested, d.poll.retryAtMs), dueAtMs: d.poll.dueAtMs };
    const due = this.#dueAt(d);
    return { readyAtMs: Math.max(rested, due), dueAtMs: due };
  }

  #dueAt(d: DeviceRuntime): number {
    return d.state === 'offline' ? d.probeAtMs : nextDueMs(d.schedule);
  }

  async #acquire(bus: BusRuntime): Promise<void> {
    const limit = bus.spec.kind === 'rtu' ? 1 : bus.spec.maxInFlight;
    while (bus.inFlight >= limit) await new Promise<void>((resolve) => bus.waiters.push(resolve));
    bus.inFlight++;
  }

  #release(bus: BusRuntime): void {
    bus.inFlight--;
    bus.waiters.shift()?.();
  }

  /** The bus's client, opening it (with backoff while it fails) when needed; undefined if stopping. */
  async #ensureOpen(bus: BusRuntime): Promise<ModbusClient | undefined> {
    if (bus.client?.isOpen) return bus.client;
    // Closed between two requests (the device dropped an idle connection): say so before reopening.
    if (bus.client)
      this.#busDown(bus, bus.client.closeReason ?? `${bus.client.target}: the connection closed`, bus.client);
    bus.opening ??= (async () => {
      const signal = this.#abort.signal;
      while (!signal.aborted) {
        try {
          const client = await bus.spec.open();
          // An opener that hands back a dead connection must not make the lane spin.
          if (!client.isOpen) throw new Error(`${client.target} did not open`);
          bus.client = client;
          bus.reopenBackoffMs = this.#opts.reopenMs[0];
          bus.openFailures = 0;
          // A fresh connection is what a silent bus would be reopened for: not again until a device answers.
          bus.silentReopened = true;
          if (bus.up !== true) {
            bus.up = true;
            this.#emit({
              kind: 'bus-status',
              bus: bus.spec.name,
              state: 'up',
              reason: 'opened',
              atMs: this.#clock.nowMs(),
            });
            // Devices the outage took offline are asked again now, not at their next probe.
            const now = this.#clock.monotonicMs();
            for (const d of bus.devices) {
              if (d.state !== 'offline') continue;
              d.probeAtMs = now;
              d.probeBackoffMs = this.#opts.offlineProbeMs[0];
            }
          }
          return bus.client;
        } catch (err) {
          this.#busDown(bus, errorMessage(err));
          this.#openFailed(bus, err);
          await sleepMs(this.#clock, bus.reopenBackoffMs, signal).catch(() => undefined);
          bus.reopenBackoffMs = Math.min(bus.reopenBackoffMs * 2, this.#opts.reopenMs[1]);
        }
      }
      return undefined;
    })().finally(() => {
      bus.opening = undefined;
    });
    return bus.opening;
  }

  /**
   * A bus that stays down is a reason for its devices to be offline like a silent device: after
   * `offlineAfter` failed attempts to open it, each goes offline with the bus's error and its last
   * readings are re-sent as stale.
   */
  #openFailed(bus: BusRuntime, err: unknown): void {
    bus.openFailures++;
    if (bus.openFailures < this.#opts.offlineAfter) return;
    for (const d of bus.devices) {
      if (d.state === 'offline') continue;
      d.poll = undefined;
      d.failures = bus.openFailures;
      this.#goOffline(d, `bus ${bus.spec.name} is down: ${errorMessage(err)}`);
    }
  }

  /**
   * Marks the bus down and closes its connection. `failed`: the connection that failed; when the
   * bus already runs on a newer one (another lane reopened it), that one is left alone.
   */
  #busDown(bus: BusRuntime, reason: string, failed?: ModbusClient): void {
    if (failed !== undefined && failed !== bus.client) {
      void failed.close().catch(() => undefined);
      return;
    }
    const client = bus.client;
    bus.client = undefined;
    void client?.close().catch(() => undefined);
    // A bus already down is reported again only when the reason changes (refused → no answer).
    if (bus.up !== false || reason !== bus.downReason) {
      bus.up = false;
      bus.downReason = reason;
      this.#emit({
        kind: 'bus-status',
        bus: bus.spec.name,
        state: 'down',
        reason,
        atMs: this.#clock.nowMs(),
      });
    }
  }

  // ------------------------------------------------------------------------------------------ polling

  /** The line cost `d`'s reads are planned with: the bus's character time and d's turnaround. */
  #lineCost(bus: BusRuntime, d: DeviceRuntime): LineCost {
    const gap = bus.spec.gapMs;
    // Alone on its lane nobody else can use a device's rest, so each extra read also costs that.
    const rest = d.laneSize > 1 ? 0 : Math.max(0, d.spec.profile.bus.interFrameDelayMs - gap);
    return { charMs: bus.spec.charMs ?? 0, perReadMs: 2 * gap + d.turnaroundMs + rest };
  }

  #plan(bus: BusRuntime, d: DeviceRuntime, classes: readonly PollClass[]): ReadBlock[] {
    const drift = Math.abs(d.turnaroundMs - d.plannedTurnaroundMs);
    if (drift > Math.max(2, REPLAN_DRIFT * d.plannedTurnaroundMs)) {
      d.plans.clear();
      d.plannedTurnaroundMs = d.turnaroundMs;
    }
    const key = classes.join('+');
    let plan = d.plans.get(key);
    if (!plan) {
      const points = d.points.filter((p) => classes.includes(p.poll));
      plan =
        bus.spec.charMs === undefined
          ? planReads(points, d.spec.profile.bus)
          : planReadsByCost(points, d.spec.profile.bus, this.#lineCost(bus, d));
      d.plans.set(key, plan);
    }
    return plan;
  }

  #startPoll(bus: BusRuntime, d: DeviceRuntime): ActivePoll {
    const now = this.#clock.monotonicMs();
    const probing = d.state === 'offline';
    let classes = probing
      ? (['fast', 'slow', 'once'] as PollClass[])
      : dueClasses(d.schedule, now, d.spec.pollFastMs / 2);
    if (classes.length === 0) classes = dueClasses(d.schedule, nextDueMs(d.schedule));
    return {
      classes,
      blocks: this.#plan(bus, d, classes),
      next: 0,
      attempt: 0,
      retryAtMs: Number.NEGATIVE_INFINITY,
      dueAtMs: this.#dueAt(d),
      startedAtMs: now,
      probing,
      answered: false,
      onceOk: true,
      lastError: undefined,
    };
  }

  /** One lane turn for `d`: one attempt at the next read of its poll (starting a poll if none is under way). */
  async #turn(bus: BusRuntime, client: ModbusClient, d: DeviceRuntime): Promise<void> {
    d.poll ??= this.#startPoll(bus, d);
    const poll = d.poll;
    const block = poll.blocks[poll.next];
    if (block !== undefined) await this.#attempt(bus, client, d, poll, block);
    // An offline device is probed with one read; a silent one is not asked again in this poll.
    const silent = poll.next > 0 && !poll.answered && poll.lastError !== undefined;
    if (poll.next >= poll.blocks.length || silent || (poll.probing && poll.next > 0 && !poll.answered)) {
      d.poll = undefined;
      this.#finishPoll(d, poll);
    }
  }

  /**
   * Sends `block` once, after the line's silence and the device's own delay, and books the outcome
   * into the poll: next block on an answer or a final failure, a retry after backoff otherwise.
   */
  async #attempt(
    bus: BusRuntime,
    client: ModbusClient,
    d: DeviceRuntime,
    poll: ActivePoll,
    block: ReadBlock,
  ): Promise<void> {
    const { timeoutMs, interFrameDelayMs } = d.spec.profile.bus;
    // The lane chose this turn with these same bounds; checked again here, where the request goes out.
    const startAt = Math.max(bus.lastEndMs + bus.spec.gapMs, d.lastEndMs + interFrameDelayMs, poll.retryAtMs);
    // Timers may fire up to a millisecond early (Node truncates a delay to whole ms): wait again
    // until the clock says so, or a slow device ignores the request.
    for (
      let wait = startAt - this.#clock.monotonicMs();
      wait > 0;
      wait = startAt - this.#clock.monotonicMs()
    ) {
      await sleepMs(this.#clock, Math.ceil(wait), this.#abort.signal);
    }
    this.stats.requests++;
    const sentAt = this.#clock.monotonicMs();
    try {
      const words = await readBlock(client, d.spec.unit, block, timeoutMs);
      this.stats.answers++;
      this.#learnTurnaround(bus, d, block, this.#clock.monotonicMs() - sentAt);
      poll.answered = true;
      this.#decodeBlock(d, block, words);
      this.#nextBlock(poll);
    } catch (err) {
      if (err instanceof ModbusExceptionError) this.stats.answers++;
      if (isPortGone(err)) throw err;
      const retryable = err instanceof FirmwareError ? err.retryable : false;
      const final = !retryable || poll.attempt >= (poll.probing ? 0 : this.#opts.retries);
      this.#fault(d, block, err, poll.attempt, final);
      if (!final) {
        this.stats.retries++;
        poll.retryAtMs = this.#clock.monotonicMs() + this.#opts.retryBackoffMs * 2 ** poll.attempt;
        poll.attempt++;
        return;
      }
      if (block.points.some((p) => p.point.poll === 'once')) poll.onceOk = false;
      if (err instanceof ModbusExceptionError && !GATEWAY_EXCEPTIONS.has(err.exceptionCode)) {
        poll.answered = true;
        this.stats.exceptions++;
        this.#badBlock(d, block);
      } else {
        poll.lastError = err;
      }
      this.#nextBlock(poll);
    } finally {
      const end = this.#clock.monotonicMs();
      bus.lastEndMs = end;
      d.lastEndMs = end;
    }
  }

  #nextBlock(poll: ActivePoll): void {
    poll.next++;
    poll.attempt = 0;
    poll.retryAtMs = Number.NEGATIVE_INFINITY;
  }

  /**
   * A sample of the device's turnaround from one answered read: the request-to-answer time less
   * both frames on the wire and the t3.5 the device waits before it answers.
   */
  #learnTurnaround(bus: BusRuntime, d: DeviceRuntime, block: ReadBlock, elapsedMs: number): void {
    const framesMs = (8 + 5 + responseDataBytes(block.functionCode, block.count)) * (bus.spec.charMs ?? 0);
    const sample = Math.max(0, elapsedMs - framesMs - bus.spec.gapMs);
    d.turnaroundSamples++;
    d.turnaroundMs += Math.max(TURNAROUND_EWMA, 1 / d.turnaroundSamples) * (sample - d.turnaroundMs);
  }

  #finishPoll(d: DeviceRuntime, poll: ActivePoll): void {
    const now = poll.startedAtMs;
    const { classes, answered } = poll;
    const periods = { fastMs: d.spec.pollFastMs, slowMs: d.spec.pollSlowMs };
    this.stats.polls++;
    // Nothing of these classes to read (a device without such points) is no failure.
    if (answered || poll.blocks.length === 0) {
      if (answered) {
        d.failures = 0;
        d.probeBackoffMs = this.#opts.offlineProbeMs[0];
        if (d.state !== 'online') {
          const wasOffline = d.state === 'offline';
          this.#setState(d, 'online', 'answered');
          if (wasOffline) d.schedule = rearmOnce(d.schedule, now);
        }
      }
      d.schedule = afterPoll(d.schedule, classes, now, periods, poll.onceOk);
      return;
    }
    const lastError = poll.lastError;
    d.failures++;
    d.schedule = afterPoll(d.schedule, classes, now, periods, false);
    if (d.state === 'offline') {
      d.probeBackoffMs = Math.min(d.probeBackoffMs * 2, this.#opts.offlineProbeMs[1]);
      d.probeAtMs = this.#clock.monotonicMs() + d.probeBackoffMs;
    } else if (d.failures >= this.#opts.offlineAfter) {
      this.#goOffline(d, errorMessage(lastError));
    }
  }

  #goOffline(d: DeviceRuntime, reason: string): void {
    this.#setState(d, 'offline', reason);
    d.probeAtMs = this.#clock.monotonicMs() + d.probeBackoffMs;
    const atMs = this.#clock.nowMs();
    for (const r of d.last.values()) this.#emit({ ...r, quality: 'stale', atMs });
  }

  #decodeBlock(d: DeviceRuntime, block: ReadBlock, words: number[]): void {
    const atMs = this.#clock.nowMs();
    for (const { point, offset } of block.points) {
      if (point.functionCode <= 2) {
        this.#reading(
          d,
          point,
          { value: words[offset] ? 1 : 0, raw: words[offset] ?? 0, quality: 'good' },
          atMs,
        );
        continue;
      }
      this.#reading(d, point, decodePoint(point, words, offset), atMs);
    }
  }

  #badBlock(d: DeviceRuntime, block: ReadBlock): void {
    const atMs = this.#clock.nowMs();
    for (const { point } of block.points)
      this.#reading(d, point, { value: null, raw: 0, quality: 'bad' }, atMs);
  }

  #reading(
    d: DeviceRuntime,
    point: PollPoint,
    decoded: {
      value: number | string | null;
      raw: number | bigint | string;
      quality: 'good' | 'suspect' | 'bad';
    },
    atMs: number,
  ): void {
    const channel = `${d.spec.name}.${point.key}`;
    if (point.key === d.serialKey && decoded.value !== null) d.serial = String(decoded.value);
    const record: ReadingRecord = {
      kind: 'reading',
      channel,
      device: d.spec.name,
      point: point.key,
      value: decoded.value,
      ...(point.unit ? { unit: point.unit } : {}),
      quality: decoded.quality,
      atMs,
    };
    if (point.kind === 'counter' && typeof decoded.value === 'number' && decoded.quality !== 'bad') {
      const raw = typeof decoded.raw === 'string' ? 0 : decoded.raw;
      const prev: CounterState | undefined = this.#state.counters[channel];
      const step = counterStep(
        prev,
        { value: decoded.value, raw, atMs, ...(d.serial !== undefined ? { serial: d.serial } : {}) },
        {
          rawBits: rolloverBits(point.type),
          scale: point.scale ?? 1,
          ...(d.spec.maxRatePerH !== undefined ? { maxRatePerH: d.spec.maxRatePerH } : {}),
        },
      );
      this.#state.counters[channel] = step.state;
      record.total = step.state.total;
      if (step.event && step.event !== 'first' && prev) {
        this.#emit({
          kind: 'counter-event',
          channel,
          device: d.spec.name,
          point: point.key,
          event: step.event,
          from: prev.lastValue,
          to: decoded.value,
          atMs,
        });
      }
      const iv = intervalStep(
        this.#state.intervals[channel],
        { atMs, total: step.state.total },
        { maxGapMs: this.#opts.intervalMaxGapMs },
      );
      this.#state.intervals[channel] = iv.state;
      for (const c of iv.closed) {
        this.#emit({
          kind: 'interval',
          channel,
          device: d.spec.name,
          point: point.key,
          ...c,
          ...(point.unit ? { unit: point.unit } : {}),
        });
      }
    }
    d.last.set(point.key, record);
    this.stats.readings++;
    this.#emit(record);
  }

  #fault(d: DeviceRuntime, block: ReadBlock, err: unknown, attempt: number, final: boolean): void {
    if (final) this.stats.failures++;
    this.#emit({
      kind: 'fault',
      device: d.spec.name,
      bus: d.spec.bus,
      code: errorCode(err),
      message: errorMessage(err),
      functionCode: block.functionCode,
      address: block.address,
      count: block.count,
      attempt,
      final,
      atMs: this.#clock.nowMs(),
    });
  }

  #setState(d: DeviceRuntime, state: DeviceState, reason: string): void {
    if (d.state === state) return;
    d.state = state;
    this.#emit({
      kind: 'device-status',
      device: d.spec.name,
      bus: d.spec.bus,
      state,
      reason,
      atMs: this.#clock.nowMs(),
    });
  }

  #emit(record: FieldbusRecord): void {
    if (!this.#sink.send(record)) this.stats.dropped++;
  }

  #maybePersist(): void {
    const now = this.#clock.monotonicMs();
    if (now - this.#lastPersistMs >= this.#opts.persistEveryMs) this.#persistNow();
  }

  #persistNow(): void {
    if (!this.#persist) return;
    this.#lastPersistMs = this.#clock.monotonicMs();
    this.#persist(this.snapshotState());
  }
}

/** Reads one planned block; bits come back as 0/1 words. */
export async function readBlock(
  client: ModbusClient,
  unit: number,
  block: ReadBlock,
  timeoutMs: number,
): Promise<number[]> {
  const o = { timeoutMs };
  switch (block.functionCode) {
    case 1:
      return (await client.readCoils(unit, block.address, block.count, o)).map((b) => (b ? 1 : 0));
    case 2:
      return (await client.readDiscreteInputs(unit, block.address, block.count, o)).map((b) => (b ? 1 : 0));
    case 3:
      return client.readHoldingRegisters(unit, block.address, block.count, o);
    case 4:
      return client.readInputRegisters(unit, block.address, block.count, o);
  }
}
