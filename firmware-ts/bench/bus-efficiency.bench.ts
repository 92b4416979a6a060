// bus-efficiency: how close the fieldbus poller runs an RS-485 line to its wire limit.
//
// A bus of 8 simulated devices (2× SDM630, 3× SDM120, EM24, TUF-2000M water meter, Senseair S8
// CO2 sensor) runs in a child process on a socat pty with emulated wire timing (paced bytes, t3.5,
// each profile's turnaround, and each device ignoring a request inside its own inter-frame delay).
// Every point of every device is polled. T = (13 + 2N)·t_char + 2·t3.5 + turnaround (DESIGN.md),
// turnaround = the simulator's mean, t_char = 11 bits at the baud.
//
//   wireMs      the wire limit of the useful data, whatever the planner: per device the least Σ T
//               over every feasible read plan (the profile's maxRegistersPerRead; no hole where
//               holes are not readable) with N counting only registers some point asks for, so
//               holes are free and fewest reads win. Splitting or merging reads cannot move it.
//   bestPlanMs  the least Σ T of any plan with its holes paid for (planReadsByCost at the mean
//               turnaround), every inter-frame delay hidden: no master can cycle faster, so
//               wireMs ÷ bestPlanMs is the efficiency ceiling.
//   planWireMs  the wire limit of what the engine actually put on the line in the measured cycles
//               (its reads with their holes, in its order, each device's delay beyond t3.5 where
//               the order did not hide it), per cycle. cycleMs − planWireMs is the engine's and
//               the line's (pty, event loop, timers) share of the loss.
//   cycleMs     measured time per full cycle (every point read once) of the real engine
//   efficiency  wireMs ÷ cycleMs
//   baseline    the same bus read one request per value, device by device, keeping each device's
//               delay (what mbmd and emonhub do), same client. speedupCeiling = the baseline's
//               wire limit (its delays included) ÷ bestPlanMs: the best speed-up any poller could
//               show against a baseline running at its own wire limit.
//   cpu, alloc  the poller process's CPU time (user + system) and the bytes it allocated on the JS
//               heap (heap in use at the end − at the start + everything the GCs in between freed,
//               from v8.GCProfiler), per 1,000 readings over the measured cycles. The simulator runs
//               in its own process and is not counted.
//
// Run: npm run bench -w firmware-ts -- bus-efficiency [--json] [--quick] [--driver=brana]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import {
  charTimeMs,
  loadCatalogue,
  type ModbusProfile,
  RegisterBank,
  RtuSlave,
  realClock,
  t35Ms,
} from '@brana/hardware';
import {
  type EngineBus,
  type EngineDevice,
  FieldbusEngine,
  type FunctionCode,
  type LineCost,
  MemoryModbusClient,
  minUsefulWireMs,
  type PollProfile,
  planCostMs,
  planReadsByCost,
  pointWidth,
  readBlock,
  readCostMs,
} from '../src/fieldbus/index.ts';
import {
  type ModbusClient,
  ModbusSerialClient,
  NodeSerialPort,
  RealClock,
  RtuModbusClient,
  VirtualClock,
} from '../src/hal/index.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const SELF = fileURLToPath(import.meta.url);

const DEVICES = [
  'eastron-sdm630',
  'eastron-sdm630',
  'eastron-sdm120',
  'eastron-sdm120',
  'eastron-sdm120',
  'carlo-gavazzi-em24',
  'tuf-2000m',
  'senseair-s8',
] as const;

const catalogue = loadCatalogue();
const profiles = DEVICES.map((id) => {
  const p = catalogue.get(id);
  if (p?.kind !== 'modbus') throw new Error(`profile ${id} missing from the catalogue`);
  return p;
});

/** Every point in the fast class: a cycle reads all of them. */
function everyPointFast(p: ModbusProfile): PollProfile {
  return { id: p.id, bus: p.bus, points: p.points.map((x) => ({ ...x, poll: 'fast' as const })) };
}

/** The eight devices as unit 1-8 on one bus, every point always due: the lane goes round them back to back, as fast as the line allows. */
function benchDevices(): EngineDevice[] {
  return profiles.map((p, i) => ({
    name: `d${i + 1}`,
    bus: 'bus',
    unit: i + 1,
    profile: everyPointFast(p),
    pollFastMs: 1,
    pollSlowMs: 1,
  }));
}

/** Resolves once performance.now() reaches `atMs` (a timer alone may fire up to 1 ms early). */
async function sleepUntil(atMs: number): Promise<void> {
  for (let wait = atMs - performance.now(); wait > 0; wait = atMs - performance.now()) {
    await new Promise((r) => setTimeout(r, Math.ceil(wait)));
  }
}

/** The line cost of device `p` at `baud` with the simulator's mean turnaround. */
function lineCost(p: ModbusProfile, baud: number): LineCost {
  const [lo, hi] = p.sim.turnaroundMs;
  return { charMs: charTimeMs(baud), perReadMs: 2 * t35Ms(baud) + (lo + hi) / 2 };
}

function limitsPerCycle(baud: number): {
  wireMs: number;
  bestPlanMs: number;
  baselineWireMs: number;
  values: number;
} {
  let wireMs = 0;
  let bestPlanMs = 0;
  let baselineWireMs = 0;
  let values = 0;
  const gap = t35Ms(baud);
  for (const p of profiles) {
    const points = everyPointFast(p).points;
    const cost = lineCost(p, baud);
    wireMs += minUsefulWireMs(points, p.bus, cost);
    bestPlanMs += planCostMs(planReadsByCost(points, p.bus, cost), cost);
    // The baseline's wire limit: one read per value, each device's own delay kept between them.
    for (const point of points) {
      baselineWireMs +=
        readCostMs(point.functionCode, pointWidth(point), cost) + Math.max(0, p.bus.interFrameDelayMs - gap);
    }
    values += points.length;
  }
  return { wireMs, bestPlanMs, baselineWireMs, values };
}

interface LineRequest {
  unit: number;
  functionCode: FunctionCode;
  count: number;
}

/**
 * Wire limit of a sequence of requests as sent: each takes T; one to a device starts no sooner
 * than that device's last transaction's end plus its delay beyond the t3.5 already in T.
 */
function sequenceWireMs(requests: readonly LineRequest[], baud: number): number {
  const gap = t35Ms(baud);
  const lastEnd = new Map<number, number>();
  let end = 0;
  for (const r of requests) {
    const p = profiles[r.unit - 1]!;
    const rested = (lastEnd.get(r.unit) ?? Number.NEGATIVE_INFINITY) + p.bus.interFrameDelayMs - gap;
    const start = Math.max(end, rested);
    end = start + readCostMs(r.functionCode, r.count, lineCost(p, baud));
    lastEnd.set(r.unit, end);
  }
  return end;
}

/**
 * The simulated bus runs in a child process (this file with --sim-child) so its CPU time is not
 * the poller's. Not through `brana-bench up`: its rig check rightly refuses 19200 Bd for the
 * SDM120 and the S8, which the 19200 case asks for anyway.
 */
interface Rig {
  child: ChildProcess;
  path: string;
  /** The simulator's last stats line (it prints one when told to stop). */
  stats: { tooEarly: number; requests: number; responses: number } | undefined;
}

async function startRig(baud: number, dir: string): Promise<Rig> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--sim-child', String(baud), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator process exited with ${code}`)));
  });
  const rig: Rig = { child, path: (JSON.parse(first) as { path: string }).path, stats: undefined };
  lines.on('line', (l) => {
    rig.stats = (JSON.parse(l) as { stats: Rig['stats'] }).stats;
  });
  return rig;
}

async function simChild(baud: number, dir: string): Promise<void> {
  const slave = await RtuSlave.start({
    dir,
    name: `ttyBENCH${baud}`,
    baud,
    seed: 11,
    devices: profiles.map((p, i) => ({
      unit: i + 1,
      handler: new RegisterBank(p, { clock: realClock, seed: 11 + i }),
      turnaroundMs: p.sim.turnaroundMs,
      interFrameDelayMs: p.bus.interFrameDelayMs,
    })),
  });
  process.stdout.write(`${JSON.stringify({ path: slave.clientPath })}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  const { requests, responses, tooEarly } = slave.stats;
  process.stdout.write(`${JSON.stringify({ stats: { requests, responses, tooEarly } })}\n`);
  await slave.stop();
  process.exit(0);
}

async function stopRig({ child }: Rig): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * `--driver=brana` runs the HAL's own RTU master (RtuModbusClient) instead of modbus-serial. (With
 * `=`, because the bench runner takes bare words as benchmark name filters.)
 */
const driver =
  process.argv.find((a) => a.startsWith('--driver='))?.slice('--driver='.length) ?? 'modbus-serial';

function openMaster(path: string, baud: number, timeoutMs: number): Promise<ModbusClient> {
  if (driver === 'brana') {
    return RtuModbusClient.open({
      port: new NodeSerialPort({ path, baudRate: baud }),
      clock: new RealClock(),
      timeoutMs,
    });
  }
  return ModbusSerialClient.connectRtu({ path, baudRate: baud, timeoutMs });
}

/** Every read the engine put on the line, in order, across every client it opens. */
const sent: LineRequest[] = [];

function recording(client: ModbusClient): ModbusClient {
  const log = <T>(unit: number, functionCode: FunctionCode, count: number, p: Promise<T>): Promise<T> => {
    sent.push({ unit, functionCode, count });
    return p;
  };
  return {
    target: client.target,
    get isOpen() {
      return client.isOpen;
    },
    readCoils: (u, a, n, o) => log(u, 1, n, client.readCoils(u, a, n, o)),
    readDiscreteInputs: (u, a, n, o) => log(u, 2, n, client.readDiscreteInputs(u, a, n, o)),
    readHoldingRegisters: (u, a, n, o) => log(u, 3, n, client.readHoldingRegisters(u, a, n, o)),
    readInputRegisters: (u, a, n, o) => log(u, 4, n, client.readInputRegisters(u, a, n, o)),
    writeSingleCoil: (u, a, v, o) => client.writeSingleCoil(u, a, v, o),
    writeSingleRegister: (u, a, v, o) => client.writeSingleRegister(u, a, v, o),
    writeMultipleCoils: (u, a, v, o) => client.writeMultipleCoils(u, a, v, o),
    writeMultipleRegisters: (u, a, v, o) => client.writeMultipleRegisters(u, a, v, o),
    close: () => client.close(),
  };
}

interface CaseResult {
  baud: number;
  cycleMs: number;
  baselineCycleMs: number;
  wireMs: number;
  bestPlanMs: number;
  planWireMs: number;
  /** Reads per cycle the engine sent in the measured cycles. */
  reads: number;
  values: number;
  efficiency: number;
  /** wireMs ÷ bestPlanMs: the efficiency no master can beat with these profiles. */
  efficiencyCeiling: number;
  /** The best plan's reads in a bare loop without the engine (devices taken in turn). */
  idealCycleMs: number;
  speedupVsBaseline: number;
  /** Baseline wire limit ÷ bestPlanMs: no poller can beat it against a baseline at its wire limit. */
  speedupCeiling: number;
  /** Baseline wire limit ÷ measured baseline cycle. */
  baselineEfficiency: number;
  cpuMsPer1kReadings: number;
  /** Share of that CPU time spent in the kernel (system time). */
  systemCpuShare: number;
  allocKBPer1kReadings: number;
  /** Heap still in use after a GC at the end, minus at the start: a leak shows here. */
  heapRetainedKB: number;
  rssMB: number;
  /** Fault records of the engine, failed reads of the bare loop and of the baseline; requests the simulator ignored as too early. */
  faults: { engine: number; bare: number; baseline: number; tooEarly: number };
  /** The engine's learned turnaround per device at the end, ms (min–max over devices). */
  turnaroundMs: [number, number];
}

async function runCase(baud: number): Promise<CaseResult> {
  const dir = mkdtempSync(join(tmpdir(), `brana-bus-eff-${baud}-`));
  const rig = await startRig(baud, dir);
  const { path } = rig;
  const faults = { engine: 0, bare: 0, baseline: 0, tooEarly: 0 };
  sent.length = 0;
  try {
    const clock = new RealClock();
    const { wireMs, bestPlanMs, baselineWireMs, values } = limitsPerCycle(baud);
    const timeoutMs = Math.max(...profiles.map((p) => p.bus.timeoutMs));
    const gap = t35Ms(baud);
    const bus: EngineBus = {
      name: 'bus',
      kind: 'rtu',
      gapMs: gap,
      maxInFlight: 1,
      charMs: charTimeMs(baud),
      open: async () => recording(await openMaster(path, baud, timeoutMs)),
    };
    const devices = benchDevices();
    // Time of every reading and how many requests had been sent by then. Stamped in the sink, as
    // the engine decodes each answer; waits below poll coarsely.
    const readingAt: number[] = [];
    const sentAt: number[] = [];
    const engine = new FieldbusEngine([bus], devices, {
      clock,
      sink: {
        send: (r) => {
          if (r.kind === 'reading') {
            readingAt.push(performance.now());
            sentAt.push(sent.length);
          }
          if (r.kind === 'fault') faults.engine++;
          return true;
        },
      },
    });
    engine.start();
    const until = async (n: number) => {
      while (readingAt.length < n) await new Promise((r) => setTimeout(r, 50));
    };
    // Warm-up: two full cycles (first open, JIT, the turnaround estimates settle and re-plan).
    const warm = 2 * values;
    await until(warm);
    const cycles = quick ? 2 : baud <= 9600 ? 4 : 6;
    globalThis.gc?.();
    const heapUsed0 = getHeapStatistics().used_heap_size;
    const end = warm + cycles * values;
    const { cpuMs, systemMs, allocBytes } = await cpuAndAlloc(() => until(end));
    const measuredReadings = readingAt.length - warm;
    const elapsed = readingAt[end - 1]! - readingAt[warm - 1]!;
    // The requests whose answers gave the measured readings: those sent after the warm-up's last
    // reading up to the one that gave the last measured reading.
    const window = sent.slice(sentAt[warm - 1]!, sentAt[end - 1]!);
    const planWireMs = sequenceWireMs(window, baud) / cycles;
    const turnarounds = Object.values(engine.turnaroundEstimatesMs());
    await engine.stop();
    globalThis.gc?.();
    const heapRetained = getHeapStatistics().used_heap_size - heapUsed0;

    const client = await openMaster(path, baud, timeoutMs);

    // Bare loop: the best plan's reads without the engine, devices taken in turn (one read of each
    // device per round) so that every delay can hide behind the other devices' reads. What is left
    // between this and bestPlanMs is the line (simulator pacing, pty, a shared machine).
    const plans = profiles.map((p) => planReadsByCost(everyPointFast(p).points, p.bus, lineCost(p, baud)));
    const rounds = Math.max(...plans.map((b) => b.length));
    const idealCycles = quick ? 1 : 2;
    let lineEnd = performance.now();
    const deviceEnd = profiles.map(() => Number.NEGATIVE_INFINITY);
    let i0 = performance.now();
    // The first cycle warms the new connection up and is not counted.
    for (let c = -1; c < idealCycles; c++) {
      if (c === 0) i0 = performance.now();
      for (let round = 0; round < rounds; round++) {
        for (const [i, p] of profiles.entries()) {
          const block = plans[i]![round];
          if (block === undefined) continue;
          await sleepUntil(Math.max(lineEnd + gap, deviceEnd[i]! + p.bus.interFrameDelayMs));
          await readBlock(client, i + 1, block, p.bus.timeoutMs).catch(() => {
            faults.bare++;
          });
          lineEnd = performance.now();
          deviceEnd[i] = lineEnd;
        }
      }
    }
    const idealCycleMs = (performance.now() - i0) / idealCycles;

    // Baseline: one request per value, device by device, t3.5 and the device's own delay between
    // requests.
    let lastEnd = performance.now();
    const b0 = performance.now();
    const baselineCycles = 1;
    for (let c = 0; c < baselineCycles; c++) {
      for (const [i, p] of profiles.entries()) {
        for (const point of p.points) {
          await sleepUntil(lastEnd + Math.max(gap, p.bus.interFrameDelayMs));
          const block = {
            functionCode: point.functionCode,
            address: point.address,
            count: pointWidth(point),
            points: [],
          };
          await readBlock(client, i + 1, block, p.bus.timeoutMs).catch(() => {
            faults.baseline++;
          });
          lastEnd = performance.now();
        }
      }
    }
    const baselineCycleMs = (performance.now() - b0) / baselineCycles;
    await client.close();
    await stopRig(rig);
    faults.tooEarly = rig.stats?.tooEarly ?? 0;

    const cycleMs = elapsed / cycles;
    const per1k = 1000 / Math.max(1, measuredReadings);
    return {
      baud,
      cycleMs,
      baselineCycleMs,
      wireMs,
      bestPlanMs,
      planWireMs,
      reads: window.length / cycles,
      values,
      efficiency: wireMs / cycleMs,
      efficiencyCeiling: wireMs / bestPlanMs,
      idealCycleMs,
      speedupVsBaseline: baselineCycleMs / cycleMs,
      speedupCeiling: baselineWireMs / bestPlanMs,
      baselineEfficiency: baselineWireMs / baselineCycleMs,
      cpuMsPer1kReadings: cpuMs * per1k,
      systemCpuShare: systemMs / Math.max(1e-9, cpuMs),
      allocKBPer1kReadings: (allocBytes / 1024) * per1k,
      heapRetainedKB: Math.max(0, heapRetained) / 1024,
      rssMB: process.memoryUsage().rss / 2 ** 20,
      faults,
      turnaroundMs: [Math.min(...turnarounds), Math.max(...turnarounds)],
    };
  } finally {
    await stopRig(rig);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU time and JS-heap bytes allocated by `run`, from process.cpuUsage and v8.GCProfiler. */
async function cpuAndAlloc(
  run: () => Promise<void>,
): Promise<{ cpuMs: number; systemMs: number; allocBytes: number }> {
  globalThis.gc?.();
  const gc = new GCProfiler();
  const heap0 = getHeapStatistics().used_heap_size;
  gc.start();
  const cpu0 = process.cpuUsage();
  await run();
  const cpu = process.cpuUsage(cpu0);
  const heap1 = getHeapStatistics().used_heap_size;
  let freed = 0;
  for (const s of gc.stop()?.statistics ?? []) {
    freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
  }
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    systemMs: cpu.system / 1000,
    allocBytes: heap1 - heap0 + freed,
  };
}

/**
 * The engine alone: the same 8 devices and plans on an in-memory client and a virtual clock (no
 * serial stack, no waiting), so its CPU and allocation per 1,000 readings are the engine's own:
 * planning, decoding, counters, quarter hours, records.
 */
async function runCore(readings: number): Promise<{ cpuMsPer1k: number; allocKBPer1k: number }> {
  const clock = new VirtualClock();
  const client = new MemoryModbusClient(clock, 25, 1000);
  for (const i of profiles.keys()) {
    const d = client.device(i + 1);
    // Zeros everywhere a plan may read (holes included): decoding cost does not depend on values.
    for (let a = 0; a < 1024; a++) {
      d.input.set(a, 0);
      d.holding.set(a, 0);
    }
  }
  let count = 0;
  const engine = new FieldbusEngine(
    [
      {
        name: 'bus',
        kind: 'rtu',
        gapMs: t35Ms(9600),
        maxInFlight: 1,
        charMs: charTimeMs(9600),
        open: async () => client,
      },
    ],
    benchDevices(),
    {
      clock,
      sink: {
        send: (r) => {
          if (r.kind === 'reading') count++;
          return true;
        },
      },
    },
  );
  engine.start();
  while (count < 2000) await clock.advanceAsync(1000);
  const start = count;
  const { cpuMs, allocBytes } = await cpuAndAlloc(async () => {
    while (count < start + readings) await clock.advanceAsync(1000);
  });
  const stopping = engine.stop();
  await clock.advanceAsync(2000);
  await stopping;
  const per1k = 1000 / (count - start);
  return { cpuMsPer1k: cpuMs * per1k, allocKBPer1k: (allocBytes / 1024) * per1k };
}

const simAt = process.argv.indexOf('--sim-child');
if (simAt >= 0) {
  await simChild(Number(process.argv[simAt + 1]), process.argv[simAt + 2]!);
}
const results: CaseResult[] = [];
for (const baud of [9600, 19_200]) results.push(await runCase(baud));
const core = await runCore(quick ? 20_000 : 100_000);

if (json) {
  for (const r of results) {
    process.stdout.write(
      `${JSON.stringify({
        bench: 'bus-efficiency',
        case: String(r.baud),
        driver,
        unit: 'ms',
        efficiency: Number(r.efficiency.toFixed(4)),
        efficiencyCeiling: Number(r.efficiencyCeiling.toFixed(4)),
        speedupVsBaseline: Number(r.speedupVsBaseline.toFixed(2)),
        speedupCeiling: Number(r.speedupCeiling.toFixed(2)),
        cycleMs: Number(r.cycleMs.toFixed(1)),
        wireMs: Number(r.wireMs.toFixed(1)),
        bestPlanMs: Number(r.bestPlanMs.toFixed(1)),
        planWireMs: Number(r.planWireMs.toFixed(1)),
        idealCycleMs: Number(r.idealCycleMs.toFixed(1)),
        baselineCycleMs: Number(r.baselineCycleMs.toFixed(1)),
        baselineEfficiency: Number(r.baselineEfficiency.toFixed(4)),
        reads: Number(r.reads.toFixed(1)),
        values: r.values,
        cpuMsPer1kReadings: Number(r.cpuMsPer1kReadings.toFixed(1)),
        systemCpuShare: Number(r.systemCpuShare.toFixed(2)),
        allocKBPer1kReadings: Number(r.allocKBPer1kReadings.toFixed(0)),
        heapRetainedKB: Number(r.heapRetainedKB.toFixed(1)),
        rssMB: Number(r.rssMB.toFixed(1)),
        turnaroundMs: r.turnaroundMs.map((t) => Number(t.toFixed(1))),
        faults: r.faults.engine + r.faults.bare + r.faults.baseline,
        faultsByPhase: r.faults,
      })}\n`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({
      bench: 'bus-efficiency',
      case: 'engine-core',
      unit: 'ms',
      cpuMsPer1kReadings: Number(core.cpuMsPer1k.toFixed(1)),
      allocKBPer1kReadings: Number(core.allocKBPer1k.toFixed(0)),
    })}\n`,
  );
} else {
  const rows = results.map((r) => [
    String(r.baud),
    `${r.values} in ${r.reads.toFixed(1)} reads`,
    r.wireMs.toFixed(1),
    r.bestPlanMs.toFixed(1),
    r.planWireMs.toFixed(1),
    r.cycleMs.toFixed(1),
    r.idealCycleMs.toFixed(1),
    `${(r.efficiency * 100).toFixed(1)} %`,
    `${(r.efficiencyCeiling * 100).toFixed(1)} %`,
    r.baselineCycleMs.toFixed(1),
    `${r.speedupVsBaseline.toFixed(2)}×`,
    `${r.speedupCeiling.toFixed(2)}×`,
    r.cpuMsPer1kReadings.toFixed(1),
    r.allocKBPer1kReadings.toFixed(0),
    r.heapRetainedKB.toFixed(1),
    r.rssMB.toFixed(1),
    String(r.faults.engine + r.faults.bare + r.faults.baseline),
  ]);
  const head = [
    'baud',
    'values',
    'wire ms',
    'best plan ms',
    'plan ms',
    'cycle ms',
    'bare loop ms',
    'efficiency',
    'ceiling',
    'baseline ms',
    'speed-up',
    'ceiling',
    'CPU ms/1k',
    'alloc KB/1k',
    'heap KB kept',
    'RSS MB',
    'faults',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  process.stdout.write(
    `bus-efficiency: 8 devices, every point, emulated-timing RTU pty, driver ${driver}\n${line(head)}\n`,
  );
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
  for (const r of results) {
    process.stdout.write(
      `${r.baud}: learned turnaround ${r.turnaroundMs[0].toFixed(1)}–${r.turnaroundMs[1].toFixed(1)} ms (simulated mean 25); baseline at ${(r.baselineEfficiency * 100).toFixed(1)} % of its own wire limit; CPU ${(r.systemCpuShare * 100).toFixed(0)} % system time; faults engine ${r.faults.engine}, bare loop ${r.faults.bare}, baseline ${r.faults.baseline}, requests the simulator ignored as too early ${r.faults.tooEarly}\n`,
    );
  }
  process.stdout.write(
    `engine alone (in-memory client, virtual clock, same devices): ${core.cpuMsPer1k.toFixed(1)} CPU ms and ${core.allocKBPer1k.toFixed(0)} KB allocated per 1,000 readings\n`,
  );
}
