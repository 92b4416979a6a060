// The rt loop: priority-request inputs (serial radio, UDP, optical detector, test contact) through
// the checks into the pure arbiter, whose commands drive one relay per approach; a heartbeat that
// toggles every cycle for the external dead-man; readback supervision; watchdog kicks; events to a
// bounded sink. Buffers, decoders, per-vehicle state, the arbiter's two step outputs, the request
// input and the event ring are allocated once at start: from received bytes to the relay write
// the loop allocates nothing per frame but what node:crypto's Ed25519 verify does (see
// test/rt-hot-path-alloc.test.ts). Events become agent records in the next cycle, after the outputs.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { PerformanceObserver, constants as perfConstants, performance } from 'node:perf_hooks';
import {
  type Catalogue,
  type DecodedFrame,
  type OpticalDetectorProfile,
  PriorityFrameDecoder,
  REQUEST_TYPES,
} from '@brana/hardware';
import type { PreemptionConfig } from '../config/index.ts';
import type { Clock, DigitalInput, DigitalOutput, GpioBackend, Level, SerialPort } from '../hal/index.ts';
import type { AgentRecord } from '../ipc/index.ts';
import {
  type ArbiterConfig,
  type ArbiterInput,
  type ArbiterState,
  arbiterConfigFrom,
  createStepOutput,
  initialArbiterState,
  type Priority,
  type RequestInput,
  type StepOutput,
  step,
} from './arbiter.ts';
import { type CheckTime, type RejectReason, RequestChecks } from './checks.ts';
import { RtConfigError, RtStartError } from './errors.ts';
import { type FrameInput, RtEventRing, type RtEventSlot } from './event-ring.ts';
import type { EventSink } from './event-sink.ts';
import { StrobeClassifier } from './strobe-classifier.ts';
import type { HardwareWatchdog, Notifier } from './watchdog.ts';

export interface RtLoopOptions {
  config: PreemptionConfig;
  gpio: GpioBackend;
  clock: Clock;
  events: EventSink;
  /** The serial radio receiver, not yet opened; required when config.inputs.radio is set. */
  radio?: SerialPort;
  /** Device profiles, for the optical detectors' strobe classes. */
  catalogue?: Catalogue;
  notifier?: Notifier;
  /** sd_notify WATCHDOG=1 interval (half of WATCHDOG_USEC). */
  notifyWatchdogMs?: number;
  hardwareWatchdog?: HardwareWatchdog;
  /** Status counters are sent this often (default 5000 ms). */
  statusEveryMs?: number;
  /** Events held between cycles at most (default 4096); beyond it they are dropped and counted. */
  eventRing?: number;
  /** More counters for the status record (the relay command gate's). */
  statusCounters?: () => Record<string, number>;
}

export interface RtStats {
  mode: ArbiterState['mode'];
  phases: string[];
  accepted: number;
  rejected: Record<RejectReason, number>;
  cycles: number;
  /** Worst lateness of a cycle timer since the self-test, ms. */
  maxCycleLateMs: number;
  eventsDropped: number;
  /** Garbage-collection pauses of this process (V8 `gc` performance entries) since the self-test. */
  gc: GcPauses;
}

export interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
  /** Mark-compact (old generation) collections and their longest pause. */
  majorCount: number;
  majorMaxMs: number;
}

interface Optical {
  input: DigitalInput;
  approach: number;
  classifier: StrobeClassifier;
  /** Priority per class index, 0 = class not accepted by the config. */
  priorityOf: number[];
  /** Its arbiter vehicle number (OPTICAL_VEHICLE - index) and the name events give it. */
  vehicle: number;
  name: string;
  active: number;
}

const TYPE_CODES = REQUEST_TYPES;
// Arbiter vehicle numbers: a signed frame's is key index × 2^32 + vehicle id (≥ 0, from the
// checks); the local inputs have negative numbers.
const TEST_CONTACT_VEHICLE = -2;
const OPTICAL_VEHICLE = -3;
const TICK: ArbiterInput = { kind: 'tick' };
const EVENT_TYPES = {
  rejected: 'preemption.rejected',
  armed: 'preemption.armed',
  asserted: 'preemption.asserted',
  released: 'preemption.released',
  expired: 'preemption.expired',
  ignored: 'preemption.ignored',
  ready: 'preemption.ready',
  fault: 'preemption.fault',
} as const;

export class RtLoop {
  private state: ArbiterState;
  // Two step outputs used in turn: `step` reads the current state and writes the other one.
  private readonly outs: [StepOutput, StepOutput];
  private turn = 0;
  /** The one request input, overwritten for every request (step reads it before returning). */
  private readonly request: RequestInput = {
    kind: 'request',
    type: 'request',
    approach: 0,
    vehicle: 0,
    priority: 2,
    etaMs: 0,
  };
  private readonly ring: RtEventRing;
  /** When the datagram or radio chunk being decoded arrived (one clock reading per receive). */
  private readonly rx: CheckTime = { wallMs: 0, monoMs: 0 };
  /** Wall minus monotonic time, read every cycle: wall time for the hot path without a second clock read. */
  private wallOffsetMs = 0;
  private readonly arbiter: ArbiterConfig;
  private readonly checks: RequestChecks;
  private readonly ids: string[];
  private outputs: DigitalOutput[] = [];
  private readbacks: (DigitalInput | undefined)[] = [];
  private readonly mismatchSince: Float64Array;
  private heartbeat: DigitalOutput | undefined;
  private heartbeatLevel: Level = 0;
  private readonly optical: Optical[] = [];
  private testContact: DigitalInput | undefined;
  private testContactApproach = -1;
  private testContactUpdateMs = 0;
  private udp: UdpSocket | undefined;
  private readonly radioDecoder = new PriorityFrameDecoder();
  private readonly udpDecoder = new PriorityFrameDecoder();
  private radioLastDataMs = 0;
  private frameErrorsSeen = 0;
  private timer: ReturnType<Clock['setInterval']> | undefined;
  private selfTestTimer: ReturnType<Clock['setTimeout']> | undefined;
  private nextCycleMs = 0;
  private lastNotifyMs = 0;
  private lastStatusMs = 0;
  private cycles = 0;
  private maxCycleLateMs = 0;
  private readonly gc: GcPauses = { count: 0, totalMs: 0, maxMs: 0, majorCount: 0, majorMaxMs: 0 };
  private gcObserver: PerformanceObserver | undefined;
  /** performance.now() of the self-test: GC pauses before it are not counted. */
  private gcCountFromMs = Number.POSITIVE_INFINITY;
  private stopped = false;
  private readonly closers: (() => void | Promise<void>)[] = [];
  private readonly onRadioFrame = (buf: Buffer, off: number, f: DecodedFrame) =>
    this.frame(buf, off, f, 'radio');
  private readonly onUdpFrame = (buf: Buffer, off: number, f: DecodedFrame) => this.frame(buf, off, f, 'udp');

  private constructor(private readonly o: RtLoopOptions) {
    this.arbiter = arbiterConfigFrom(o.config);
    this.state = initialArbiterState(this.arbiter, o.clock.monotonicMs());
    this.outs = [createStepOutput(this.arbiter), createStepOutput(this.arbiter)];
    this.ring = new RtEventRing(o.eventRing ?? 4096);
    this.wallOffsetMs = o.clock.nowMs() - o.clock.monotonicMs();
    this.checks = new RequestChecks(o.config);
    this.ids = o.config.approaches.map((a) => a.id);
    this.mismatchSince = new Float64Array(this.ids.length).fill(-1);
  }

  /** Opens every line and input, starts the cycle and the self-test. Outputs start off. */
  static async start(options: RtLoopOptions): Promise<RtLoop> {
    const loop = new RtLoop(options);
    try {
      await loop.open();
    } catch (err) {
      await loop.stop();
      throw err;
    }
    return loop;
  }

  /** The UDP port actually bound (useful with port 0). */
  get udpPort(): number | undefined {
    return this.udp?.address().port;
  }

  stats(): RtStats {
    return {
      mode: this.state.mode,
      phases: this.state.approaches.map((a) => a.phase),
      accepted: this.checks.accepted,
      rejected: { ...this.checks.rejected },
      cycles: this.cycles,
      maxCycleLateMs: this.maxCycleLateMs,
      eventsDropped: this.o.events.stats().dropped + this.ring.dropped,
      gc: { ...this.gc },
    };
  }

  private async open(): Promise<void> {
    const { config: c, gpio } = this.o;
    // Outputs first, all off: nothing may be asserted before the self-test.
    for (const a of c.approaches) this.outputs.push(await gpio.openOutput(a.output, { initial: 0 }));
    this.heartbeat = await gpio.openOutput(c.heartbeat.output, { initial: 0 });
    for (const a of c.approaches) {
      this.readbacks.push(a.readback === undefined ? undefined : await gpio.openInput(a.readback));
    }
    for (const [i, spec] of c.inputs.optical.entries()) {
      const profile = this.o.catalogue?.get(spec.profile);
      if (profile === undefined || profile.kind !== 'optical-detector') {
        throw new RtConfigError(
          `preemption.inputs.optical[${i}].profile`,
          `"${spec.profile}" is not an optical-detector device profile`,
          'use the id of a profile in hardware/profiles/optical-detector/ (e.g. optical-priority-detector)',
        );
      }
      const p = profile as OpticalDetectorProfile;
      const input = await gpio.openInput(spec.line, {
        edge: 'rising',
        activeLow: p.output.activeLevel === 'low',
      });
      const approach = this.ids.indexOf(spec.approach);
      const o: Optical = {
        input,
        approach,
        classifier: new StrobeClassifier(p.strobe.classes, p.strobe.consecutivePulses),
        priorityOf: p.strobe.classes.map((k) =>
          (spec.accept as string[]).includes(k.name) ? (k.name === 'transit' ? 1 : 2) : 0,
        ),
        vehicle: OPTICAL_VEHICLE - i,
        name: `optical:${spec.line}`,
        active: -1,
      };
      this.optical.push(o);
      input.onEdge((level, atNs) => {
        if (level === 1) this.opticalPulse(o, Number(atNs) / 1e6);
      });
    }
    const tc = c.inputs.testContact;
    if (tc !== undefined) {
      this.testContact = await gpio.openInput(tc.line, { debounceMs: 20 });
      const approach = this.ids.indexOf(tc.approach);
      this.testContactApproach = approach;
      this.testContact.onEdge((level) => {
        this.testContactUpdateMs = this.o.clock.monotonicMs();
        this.feedRequest(level === 1 ? 'request' : 'cancel', approach, TEST_CONTACT_VEHICLE, 2, 0);
      });
    }
    if (c.inputs.radio !== undefined) {
      const radio = this.o.radio;
      if (radio === undefined) {
        throw new RtConfigError(
          'preemption.inputs.radio',
          'no serial port was given for the radio',
          'pass the radio port',
        );
      }
      await radio.open();
      this.closers.push(() => radio.close());
      radio.onData(this.onRadioData);
    }
    if (c.inputs.udp !== undefined) {
      const udp = createSocket('udp4');
      this.udp = udp;
      await new Promise<void>((resolve, reject) => {
        udp.once('error', (e) =>
          reject(
            new RtStartError(
              `cannot listen on UDP ${c.inputs.udp!.host}:${c.inputs.udp!.port} (${(e as NodeJS.ErrnoException).code ?? e.message})`,
              'choose a free port in preemption.inputs.udp.port or stop the other listener',
              e,
            ),
          ),
        );
        udp.bind(c.inputs.udp!.port, c.inputs.udp!.host, () => resolve());
      });
      udp.on('message', this.onDatagram);
    }
    // GC pauses stop the loop like any other stall: counted for the status record and the bench.
    this.gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.startTime < this.gcCountFromMs) continue;
        const g = this.gc;
        g.count++;
        g.totalMs += e.duration;
        if (e.duration > g.maxMs) g.maxMs = e.duration;
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
        if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) {
          g.majorCount++;
          if (e.duration > g.majorMaxMs) g.majorMaxMs = e.duration;
        }
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
    const clock = this.o.clock;
    const period = c.heartbeat.periodMs;
    this.nextCycleMs = clock.monotonicMs() + period;
    this.timer = clock.setInterval(() => this.cycle(), period);
    this.selfTestTimer = clock.setTimeout(() => this.selfTest(), c.timing.selfTestMs);
  }

  /** Self-test with every output off: each readback must read open. */
  private selfTest(): void {
    const stuck: string[] = [];
    this.readbacks.forEach((rb, i) => {
      if (rb !== undefined && rb.read() !== 0)
        stuck.push(`${rb.name} (approach ${this.ids[i]}) reads closed`);
    });
    // Start the service with the start-up garbage (module loading, config parsing) collected, so
    // that the first old-generation collection comes late, when it comes (needs node --expose-gc).
    (globalThis as { gc?: () => void }).gc?.();
    // GC pauses and cycle lateness are counted from here on: the start is no part of the service.
    this.gcCountFromMs = performance.now();
    this.maxCycleLateMs = 0;
    // The cycle delayed by the collection above is not counted either.
    this.nextCycleMs = Number.POSITIVE_INFINITY;
    this.feed(
      stuck.length === 0
        ? { kind: 'selfTest', ok: true }
        : { kind: 'selfTest', ok: false, detail: stuck.join(', ') },
    );
    // Ready either way: supervised and heartbeating. A failed self-test keeps every output off
    // (latched fault, reported as an event and in STATUS) rather than restarting in a loop.
    this.o.notifier?.notify(
      this.state.mode === 'running'
        ? 'READY=1\nSTATUS=running'
        : `READY=1\nSTATUS=fault: ${stuck.join(', ')}`,
    );
  }

  private cycle(): void {
    if (this.stopped) return;
    const clock = this.o.clock;
    const now = clock.monotonicMs();
    this.wallOffsetMs = clock.nowMs() - now;
    const late = now - this.nextCycleMs;
    if (late > this.maxCycleLateMs) this.maxCycleLateMs = late;
    this.nextCycleMs = now + this.o.config.heartbeat.periodMs;
    this.cycles++;
    this.heartbeatLevel = this.heartbeatLevel === 0 ? 1 : 0;
    this.heartbeat?.write(this.heartbeatLevel);

    for (let i = 0; i < this.optical.length; i++) {
      const o = this.optical[i]!;
      if (o.classifier.expire(now) && o.active >= 0) {
        o.active = -1;
        this.feedRequest('cancel', o.approach, o.vehicle, 2, 0);
      }
    }
    if (this.radioDecoder.pending > 0 && now - this.radioLastDataMs > 50) {
      this.radioDecoder.flush();
      this.countFrameErrors('radio');
    }
    // A held test contact is a request that keeps itself fresh, like a vehicle's updates.
    const tc = this.testContact;
    if (tc !== undefined && tc.read() === 1 && now - this.testContactUpdateMs >= 500) {
      this.testContactUpdateMs = now;
      this.feedRequest('update', this.testContactApproach, TEST_CONTACT_VEHICLE, 2, 0);
    }
    this.feed(TICK);
    this.superviseReadbacks(now);
    // The outputs of this cycle are driven; now the events queued since the last one go out.
    this.drainEvents();

    if (this.o.notifyWatchdogMs !== undefined && now - this.lastNotifyMs >= this.o.notifyWatchdogMs) {
      this.lastNotifyMs = now;
      this.o.notifier?.notify('WATCHDOG=1');
    }
    this.o.hardwareWatchdog?.kick();
    if (now - this.lastStatusMs >= (this.o.statusEveryMs ?? 5000)) {
      this.lastStatusMs = now;
      this.sendStatus();
    }
  }

  /** A contact that does not follow its output within readbackSettleMs is stuck: system fault. */
  private superviseReadbacks(now: number): void {
    if (this.state.mode !== 'running') return;
    for (let i = 0; i < this.readbacks.length; i++) {
      const rb = this.readbacks[i];
      if (rb === undefined) continue;
      const want = this.outputs[i]!.read();
      if (rb.read() === want) {
        this.mismatchSince[i] = -1;
      } else if (this.mismatchSince[i]! < 0) {
        this.mismatchSince[i] = now;
      } else if (now - this.mismatchSince[i]! > this.o.config.timing.readbackSettleMs) {
        this.feed({
          kind: 'fault',
          reason: `readback ${rb.name} of approach ${this.ids[i]} reads ${rb.read()} while the output is ${want} (stuck contact or lost dead-man)`,
        });
      }
    }
  }

  private opticalPulse(o: Optical, atMs: number): void {
    const cls = o.classifier.pulse(atMs);
    if (cls < 0) return;
    const priority = o.priorityOf[cls]!;
    if (priority === 0) return;
    o.active = cls;
    // Optical requests cannot be authenticated; the config decided above whether this class counts.
    this.feedRequest('update', o.approach, o.vehicle, priority as Priority, 0);
  }

  private stampReceive(): void {
    const mono = this.o.clock.monotonicMs();
    this.rx.monoMs = mono;
    this.rx.wallMs = mono + this.wallOffsetMs;
  }

  private readonly onRadioData = (bytes: Uint8Array) => {
    this.stampReceive();
    this.radioLastDataMs = this.rx.monoMs;
    this.radioDecoder.push(bytes, this.onRadioFrame);
    this.countFrameErrors('radio');
  };

  private readonly onDatagram = (msg: Buffer) => {
    this.stampReceive();
    this.udpDecoder.push(msg, this.onUdpFrame);
    // A datagram carries whole frames; what is left over is a truncated frame.
    this.udpDecoder.flush();
    this.countFrameErrors('udp');
  };

  /** The hot path: a frame that passed its CRC, straight from the decoder's buffer. */
  private frame(buf: Buffer, off: number, f: DecodedFrame, input: FrameInput): void {
    const checks = this.checks;
    const verdict = checks.check(buf, off, f, this.rx);
    if (verdict !== 'ok') {
      const e = this.ring.push('rejected');
      if (e !== undefined) {
        e.atMs = this.rx.wallMs;
        e.reason = verdict;
        e.input = input;
        e.vehicleId = f.vehicleId;
        e.inbound = f.inbound;
        e.counter = f.counter;
        e.count = 1;
      }
      return;
    }
    this.feedRequest(
      TYPE_CODES[f.typeCode]!,
      checks.approachIndex,
      checks.vehicleKey(f),
      f.roleCode === 3 ? 1 : 2,
      f.etaDs * 100,
    );
  }

  private countFrameErrors(input: FrameInput): void {
    const r = this.radioDecoder.counts;
    const u = this.udpDecoder.counts;
    const total = r.badCrc + r.badHeader + r.truncated + u.badCrc + u.badHeader + u.truncated;
    const fresh = total - this.frameErrorsSeen;
    if (fresh <= 0) return;
    this.frameErrorsSeen = total;
    this.checks.countFrameErrors(fresh);
    const e = this.ring.push('rejected');
    if (e !== undefined) {
      e.atMs = this.o.clock.nowMs();
      e.reason = 'frame';
      e.input = input;
      e.vehicleId = -1;
      e.count = fresh;
    }
  }

  private feedRequest(
    type: RequestInput['type'],
    approach: number,
    vehicle: number,
    priority: Priority,
    etaMs: number,
  ): void {
    const r = this.request;
    r.type = type;
    r.approach = approach;
    r.vehicle = vehicle;
    r.priority = priority;
    r.etaMs = etaMs;
    this.feed(r);
  }

  private feed(input: ArbiterInput): void {
    const out = this.outs[this.turn]!;
    this.turn ^= 1;
    const nowMs = this.o.clock.monotonicMs();
    step(this.state, input, nowMs, this.arbiter, out);
    this.state = out.state;
    let failed: string | undefined;
    const atMs = nowMs + this.wallOffsetMs;
    for (let k = 0; k < out.count; k++) {
      const c = out.commands[k]!;
      if (c.kind === 'output') {
        try {
          this.outputs[c.approach]!.write(c.level);
        } catch (err) {
          failed = `output ${this.outputs[c.approach]!.name} of approach ${this.ids[c.approach]} failed: ${(err as Error).message}`;
        }
        continue;
      }
      const e = this.ring.push(c.kind);
      if (e === undefined) continue;
      e.atMs = atMs;
      e.approach = c.approach;
      e.vehicle = c.vehicle;
      e.priority = c.priority;
      e.reason = c.reason;
      e.detail = c.detail;
    }
    // An output that cannot be driven is a system fault: everything off (as far as it goes), latched.
    if (failed !== undefined && this.state.mode !== 'fault') this.feed({ kind: 'fault', reason: failed });
  }

  /** The name events give an arbiter vehicle number (`amb-1/1042`, `test-contact`, `optical:…`). */
  private vehicleName(v: number): string {
    if (v >= 0) return `${this.checks.keyId(Math.floor(v / 2 ** 32))}/${v % 2 ** 32}`;
    if (v === TEST_CONTACT_VEHICLE) return 'test-contact';
    return this.optical[OPTICAL_VEHICLE - v]?.name ?? String(v);
  }

  /** Hands the queued events to the sink as agent records (off the hot path: once per cycle). */
  private drainEvents(): void {
    for (let e = this.ring.peek(); e !== undefined; e = this.ring.peek()) {
      this.o.events.emit(this.record(e));
      this.ring.shift();
    }
  }

  private record(e: RtEventSlot): AgentRecord {
    const type = EVENT_TYPES[e.type];
    const approach = e.approach < 0 ? 'system' : (this.ids[e.approach] ?? e.approach);
    const atMs = e.atMs;
    switch (e.type) {
      case 'rejected':
        return {
          kind: 'event',
          type,
          atMs,
          safety: true,
          severity: 'warning',
          data:
            e.vehicleId < 0
              ? { reason: e.reason, input: e.input, count: e.count }
              : {
                  reason: e.reason,
                  input: e.input,
                  vehicleId: e.vehicleId,
                  inbound: e.inbound,
                  counter: e.counter,
                },
        };
      case 'asserted':
        return {
          kind: 'event',
          type,
          atMs,
          safety: true,
          severity: 'info',
          data: {
            approach,
            vehicle: this.vehicleName(e.vehicle),
            priority: e.priority === 2 ? 'emergency' : 'transit',
          },
        };
      case 'released':
        return {
          kind: 'event',
          type,
          atMs,
          safety: true,
          severity: 'info',
          data: { approach, vehicle: this.vehicleName(e.vehicle), reason: e.reason },
        };
      case 'fault':
        return {
          kind: 'event',
          type,
          atMs,
          safety: true,
          severity: 'critical',
          data: { approach, reason: e.detail },
        };
      case 'ready':
        return { kind: 'event', type, atMs, safety: true, severity: 'info', data: {} };
      case 'armed':
      case 'expired':
        return {
          kind: 'event',
          type,
          atMs,
          safety: false,
          severity: 'info',
          data: { approach, vehicle: this.vehicleName(e.vehicle) },
        };
      case 'ignored':
        return {
          kind: 'event',
          type,
          atMs,
          safety: false,
          severity: 'info',
          data: { approach, vehicle: this.vehicleName(e.vehicle), reason: e.reason },
        };
    }
  }

  private sendStatus(): void {
    const counters: Record<string, number> = {
      accepted: this.checks.accepted,
      cycles: this.cycles,
      maxCycleLateMs: this.maxCycleLateMs,
      eventsDropped: this.o.events.stats().dropped + this.ring.dropped,
      framesDecoded: this.radioDecoder.counts.frames + this.udpDecoder.counts.frames,
      gcCount: this.gc.count,
      gcTotalMs: this.gc.totalMs,
      gcMaxMs: this.gc.maxMs,
      gcMajorCount: this.gc.majorCount,
      gcMajorMaxMs: this.gc.majorMaxMs,
    };
    for (const [k, v] of Object.entries(this.checks.rejected)) counters[`rejected.${k}`] = v;
    if (this.o.statusCounters !== undefined) Object.assign(counters, this.o.statusCounters());
    this.o.events.emit({ kind: 'status', atMs: this.o.clock.nowMs(), counters });
  }

  /** Switches every output off and releases every line. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const clock = this.o.clock;
    if (this.timer !== undefined) clock.clearInterval(this.timer);
    if (this.selfTestTimer !== undefined) clock.clearTimeout(this.selfTestTimer);
    for (const out of this.outputs) {
      try {
        out.write(0);
      } catch {
        // closing anyway
      }
    }
    this.udp?.close();
    this.gcObserver?.disconnect();
    this.drainEvents();
    for (const c of this.closers) await c();
    for (const l of [
      ...this.outputs,
      this.heartbeat,
      ...this.readbacks,
      this.testContact,
      ...this.optical.map((o) => o.input),
    ]) {
      await l?.close();
    }
    this.o.notifier?.notify('STOPPING=1');
    this.o.notifier?.close();
    this.o.hardwareWatchdog?.close();
  }
}
