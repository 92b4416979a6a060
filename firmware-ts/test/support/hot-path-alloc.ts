// Measures what the rt hot path allocates on the JavaScript heap per frame: signed request and
// cancel frames (and replays, which are rejected) go through a real RtLoop, from the radio input's
// data callback through decoder, checks, arbiter and relay write to the event ring, in process with
// outputs that only remember their level (no I/O). The same frames through the Ed25519 verify alone
// give the share that signature verification itself needs.
//
// Method: V8's used heap size before and after a synchronous chunk of frames. Allocation on the
// young generation is a bump of a pointer, so the difference is the bytes allocated, unless a
// garbage collection ran inside the chunk: such chunks are detected (a `gc` performance entry
// inside the chunk's time span, or a shrinking heap), counted, and not used (their difference
// would hide what the collector freed). More than half of them spoilt is an error.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { encodeSignedFrame, publicKeyFromB64u, verifyFrameSignature } from '@brana/hardware';
import { type PreemptionConfig, preemptionSchema } from '../../src/config/index.ts';
import type {
  Clock,
  DigitalInput,
  DigitalOutput,
  GpioBackend,
  Level,
  SerialPort,
  TimerHandle,
} from '../../src/hal/index.ts';
import { RealClock } from '../../src/hal/index.ts';
import { RingEventSink } from '../../src/rt/event-sink.ts';
import { RtLoop } from '../../src/rt/rt-loop.ts';
import { pointOnApproach, TEST_INTERSECTION_ID, TEST_KEYS, testPreemptionDoc } from './rt-fixtures.ts';

export interface HotPathAllocOptions {
  /** Frames per measured chunk (default 500). */
  chunk?: number;
  /** Measured chunks (default 20). */
  chunks?: number;
  /** Frames run first and not measured: JIT tiering, first-use allocations (default 6000). */
  warmup?: number;
}

export interface HotPathAlloc {
  /** Heap bytes per frame through the whole hot path, median over the chunks (verify included). */
  allocBytesPerEvent: number;
  /** The worst chunk's bytes per frame. */
  allocBytesPerEventMax: number;
  /** Heap bytes per call of the Ed25519 verify alone, same frames, median. */
  verifyBytesPerEvent: number;
  /** allocBytesPerEvent − verifyBytesPerEvent: what the rt code itself allocates per frame. */
  rtBytesPerEvent: number;
  /**
   * Heap bytes per frame including the next cycles, which turn the queued events into agent
   * records for the sink (off the hot path, but garbage all the same), median.
   */
  withDrainBytesPerEvent: number;
  frames: number;
  chunksWithGc: number;
  /** Relay edges written during the measured chunks (each request asserts, each cancel releases). */
  relayWrites: number;
  eventsDropped: number;
  accepted: number;
  rejectedReplay: number;
}

const VEHICLES = 256;

/** A wall clock that stands still (the frames' generation time), monotonic time and timers real. */
class FrozenWallClock implements Clock {
  private readonly real = new RealClock();
  constructor(private readonly wallMs: number) {}
  nowMs(): number {
    return this.wallMs;
  }
  monotonicMs(): number {
    return this.real.monotonicMs();
  }
  monotonicNs(): bigint {
    return this.real.monotonicNs();
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return this.real.setTimeout(callback, delayMs);
  }
  clearTimeout(handle: TimerHandle): void {
    this.real.clearTimeout(handle);
  }
  setInterval(callback: () => void, periodMs: number): TimerHandle {
    return this.real.setInterval(callback, periodMs);
  }
  clearInterval(handle: TimerHandle): void {
    this.real.clearInterval(handle);
  }
}

/** Outputs that only keep their level; readbacks that follow them (a healthy relay). */
class LevelGpio implements GpioBackend {
  readonly kind = 'memory' as const;
  readonly levels = new Map<string, { level: Level }>();
  writes = 0;
  private cell(line: string) {
    let c = this.levels.get(line);
    if (c === undefined) {
      c = { level: 0 };
      this.levels.set(line, c);
    }
    return c;
  }
  async openOutput(line: number | string): Promise<DigitalOutput> {
    const c = this.cell(String(line));
    const gpio = this;
    return {
      name: String(line),
      write(level: Level) {
        c.level = level;
        gpio.writes++;
      },
      read: () => c.level,
      close: async () => {},
    };
  }
  async openInput(line: number | string): Promise<DigitalInput> {
    // rb-north follows relay-north.
    const c = this.cell(String(line).replace(/^rb-/, 'relay-'));
    return { name: String(line), read: () => c.level, onEdge: () => () => {}, close: async () => {} };
  }
  async close(): Promise<void> {}
}

/** A radio port whose data callback the probe calls directly. */
class DirectSerial implements SerialPort {
  readonly path = 'probe-radio';
  readonly settings = { baudRate: 115_200, dataBits: 8, parity: 'none', stopBits: 1 } as const;
  isOpen = false;
  listener: ((bytes: Buffer) => void) | undefined;
  async open(): Promise<void> {
    this.isOpen = true;
  }
  async close(): Promise<void> {
    this.isOpen = false;
  }
  async write(): Promise<void> {}
  async drain(): Promise<void> {}
  onData(listener: (bytes: Buffer) => void) {
    this.listener = listener;
    return () => {
      this.listener = undefined;
    };
  }
  onClose() {
    return () => {};
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const heapUsed = () => getHeapStatistics().used_heap_size;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

export async function measureHotPathAlloc(options: HotPathAllocOptions = {}): Promise<HotPathAlloc> {
  const chunk = options.chunk ?? 500;
  const chunks = options.chunks ?? 20;
  const warmup = options.warmup ?? 6000;
  const wallMs = Date.now();
  const doc = testPreemptionDoc({
    timing: { minGapS: 0, releaseMs: 0, ratePerVehiclePerS: 100, selfTestMs: 20, readbackSettleMs: 500 },
  });
  const config: PreemptionConfig = preemptionSchema.parse({
    ...doc,
    inputs: { radio: { path: 'probe-radio', baud: 115_200 } },
  });
  // Frames: vehicle v requests approach north, then cancels; after every fourth pair the request
  // comes again (a replay, rejected after its signature was verified).
  const total = warmup + chunk * Math.ceil(chunks * 1.5);
  const counters = new Uint32Array(VEHICLES);
  const frames: Buffer[] = [];
  const pos = { inbound: 1, etaS: 5, headingDeg: 180, speedMps: 12, ...pointOnApproach(1, 150) };
  const signed = (type: 'request' | 'cancel', v: number) => {
    counters[v]!++;
    return encodeSignedFrame(
      {
        type,
        role: 'ambulance',
        importance: 10,
        outbound: 3,
        requestId: 1,
        counter: counters[v]!,
        intersectionId: TEST_INTERSECTION_ID,
        vehicleId: 5000 + v,
        generatedMs: wallMs,
        ...pos,
      },
      TEST_KEYS.ambulance.privateKey,
    );
  };
  for (let pair = 0; frames.length < total; pair++) {
    const v = pair % VEHICLES;
    const request = signed('request', v);
    frames.push(request, signed('cancel', v));
    if (pair % 4 === 3) frames.push(request);
  }
  frames.length = total;

  const gcSpans: [number, number][] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcSpans.push([e.startTime, e.startTime + e.duration]);
  });
  observer.observe({ entryTypes: ['gc'] });
  const gpio = new LevelGpio();
  const radio = new DirectSerial();
  const events = new RingEventSink(1_000_000);
  const loop = await RtLoop.start({ config, gpio, clock: new FrozenWallClock(wallMs), events, radio });
  try {
    for (let t = 0; loop.stats().mode !== 'running'; t++) {
      if (t > 500) throw new Error('rt loop did not pass its self-test');
      await sleep(5);
    }
    const push = radio.listener!;
    let next = 0;
    for (; next < warmup; next++) {
      push(frames[next]!);
      // Let the cycle drain the event ring now and then, as it would between frames.
      if (next % chunk === chunk - 1) await sleep(12);
    }
    await sleep(12);
    events.take();

    // Each measurement: the heap before, a synchronous run, the heap after; `overhead` is what
    // reading the heap statistics itself allocates.
    const measure = async (
      run: (from: number) => void,
      from: number,
      drain = false,
    ): Promise<number | undefined> => {
      await sleep(12);
      const b0 = heapUsed();
      const b1 = heapUsed();
      const t0 = performance.now();
      const h0 = heapUsed();
      run(from);
      // With `drain`, the cycles after the chunk hand its events to the sink before the reading.
      if (drain) await sleep(15);
      const h1 = heapUsed();
      const t1 = performance.now();
      await sleep(0); // gc entries are delivered asynchronously
      const gcInside = gcSpans.some(([s, e]) => e >= t0 && s <= t1);
      if (gcInside || h1 < h0) return undefined;
      return (h1 - h0 - (b1 - b0)) / chunk;
    };
    const key = publicKeyFromB64u(TEST_KEYS.ambulance.publicKeyB64u);
    const verifyRun = (from: number) => {
      for (let k = from; k < from + chunk; k++) verifyFrameSignature(frames[k]!, 0, key);
    };
    const hotRun = (from: number) => {
      for (let k = from; k < from + chunk; k++) push(frames[k]!);
    };
    for (let k = 0; k < warmup; k += chunk) verifyRun(k);

    const hot: number[] = [];
    const verify: number[] = [];
    const withDrain: number[] = [];
    let chunksWithGc = 0;
    const writesBefore = gpio.writes;
    const acceptedBefore = loop.stats().accepted;
    const replayBefore = loop.stats().rejected.replay;
    for (let c = 0; c < chunks; c++) {
      // The hot path consumes its frames once (counters must rise); verify can repeat a chunk.
      const from = next;
      next += chunk;
      const h = await measure(hotRun, from);
      const v = await measure(verifyRun, from);
      if (h === undefined || v === undefined) chunksWithGc++;
      if (h !== undefined) hot.push(h);
      if (v !== undefined) verify.push(v);
    }
    // Further chunks, each measured together with the cycles that drain its events.
    for (let c = 0; c < chunks / 2; c++) {
      const from = next;
      next += chunk;
      const d = await measure(hotRun, from, true);
      if (d === undefined) chunksWithGc++;
      else withDrain.push(d);
    }
    const relayWrites = gpio.writes - writesBefore;
    await sleep(12);
    const stats = loop.stats();
    if (hot.length < chunks / 2 || verify.length < chunks / 2 || withDrain.length < chunks / 4) {
      throw new Error(`a garbage collection ran inside ${chunksWithGc} of ${chunks} chunks: no measurement`);
    }
    const allocBytesPerEvent = median(hot);
    const verifyBytesPerEvent = median(verify);
    return {
      allocBytesPerEvent,
      allocBytesPerEventMax: Math.max(...hot),
      verifyBytesPerEvent,
      rtBytesPerEvent: allocBytesPerEvent - verifyBytesPerEvent,
      withDrainBytesPerEvent: median(withDrain),
      frames: chunk * chunks,

      chunksWithGc,
      relayWrites,
      eventsDropped: stats.eventsDropped,
      accepted: stats.accepted - acceptedBefore,
      rejectedReplay: stats.rejected.replay - replayBefore,
    };
  } finally {
    observer.disconnect();
    await loop.stop();
  }
}
