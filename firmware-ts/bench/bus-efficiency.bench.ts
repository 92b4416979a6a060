// bus-efficiency: how close the fieldbus poller runs an RS-485 line to its wire limit.
//
// A bus of 8 simulated devices (2× SDM630, 3× SDM120, EM24, TUF-2000M water meter, Senseair S8
// CO2 sensor) runs in a separate `brana-bench up` process on a socat pty with emulated wire timing
// (paced bytes, t3.5, each profile's turnaround). Every point of every device is polled.
//
//   wireMs     theoretical wire time of one full cycle of useful data: for each read the poller
//              plans, T = (13 + 2N)·t_char + 2·t3.5 + turnaround (DESIGN.md), N = registers some
//              point asked for (holes read through do not count), turnaround = the simulator's mean
//   planWireMs wire time of what the plan actually puts on the line: the same reads with the
//              holes the profile's gap fill reads through, plus each device's inter-frame delay
//              beyond t3.5. No master reading this plan can be faster; wireMs − planWireMs is the
//              planner's and profiles' share of the loss, planWireMs − cycleMs the line's + engine's
//   cycleMs    measured time per full cycle of the real engine (single lane, coalesced reads)
//   efficiency wireMs / cycleMs
//   baseline   the same bus read one request per value (what mbmd and emonhub do), same client
//   cpu, memory: the poller process's CPU time and heap per 1,000 readings (the simulator runs in
//              its own process and is not counted)
//
// Run: npm run bench -w firmware-ts -- bus-efficiency [--json] [--quick] [--driver=brana]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  loadCatalogue,
  type ModbusProfile,
  RegisterBank,
  RtuSlave,
  realClock,
  rtuTransactionTimeMs,
  t35Ms,
} from '@brana/hardware';
import {
  type EngineBus,
  type EngineDevice,
  FieldbusEngine,
  type PollProfile,
  planReads,
  pointWidth,
  readBlock,
} from '../src/fieldbus/index.ts';
import {
  type ModbusClient,
  ModbusSerialClient,
  NodeSerialPort,
  RealClock,
  RtuModbusClient,
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

function wireMsPerCycle(baud: number): {
  wireMs: number;
  planWireMs: number;
  baselineWireMs: number;
  reads: number;
  values: number;
} {
  let wireMs = 0;
  let planWireMs = 0;
  let baselineWireMs = 0;
  let reads = 0;
  let values = 0;
  for (const p of profiles) {
    const [lo, hi] = p.sim.turnaroundMs;
    // The wire limit of the one-request-per-value baseline, for the best speed-up possible.
    for (const point of p.points) {
      const n = point.functionCode <= 2 ? 1 : pointWidth(point);
      baselineWireMs += rtuTransactionTimeMs({
        baud,
        requestBytes: 8,
        responseBytes: 5 + 2 * n,
        turnaroundMs: (lo + hi) / 2,
      });
    }
    for (const block of planReads(everyPointFast(p).points, p.bus)) {
      const covered = new Set<number>();
      for (const { point, offset } of block.points) {
        for (let i = 0; i < pointWidth(point); i++) covered.add(offset + i);
      }
      // Bits travel 8 to a byte; count them as ceil(n/16) registers' worth of bytes.
      const n = block.functionCode <= 2 ? Math.ceil(covered.size / 16) : covered.size;
      wireMs += rtuTransactionTimeMs({
        baud,
        requestBytes: 8,
        responseBytes: 5 + 2 * n,
        turnaroundMs: (lo + hi) / 2,
      });
      const sent = block.functionCode <= 2 ? Math.ceil(block.count / 16) : block.count;
      planWireMs +=
        rtuTransactionTimeMs({
          baud,
          requestBytes: 8,
          responseBytes: 5 + 2 * sent,
          turnaroundMs: (lo + hi) / 2,
        }) + Math.max(0, p.bus.interFrameDelayMs - t35Ms(baud));
      reads++;
      values += block.points.length;
    }
  }
  return { wireMs, planWireMs, baselineWireMs, reads, values };
}

/**
 * The simulated bus runs in a child process (this file with --sim-child) so its CPU time is not
 * the poller's. Not through `brana-bench up`: its rig check rightly refuses 19200 Bd for the
 * SDM120 and the S8, which the 19200 case asks for anyway.
 */
async function startRig(baud: number, dir: string): Promise<{ child: ChildProcess; path: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--sim-child', String(baud), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator process exited with ${code}`)));
  });
  return { child, path: (JSON.parse(first) as { path: string }).path };
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
    })),
  });
  process.stdout.write(`${JSON.stringify({ path: slave.clientPath })}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await slave.stop();
  process.exit(0);
}

async function stopRig(child: ChildProcess): Promise<void> {
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

/** Completed reads, with the time each completed, across every client the engine opens. */
const completed = { count: 0, lastAtMs: 0, atCount: new Map<number, number>() };

function counting(client: ModbusClient): ModbusClient {
  const done = <T>(p: Promise<T>): Promise<T> =>
    p.finally(() => {
      completed.count++;
      completed.lastAtMs = performance.now();
      completed.atCount.set(completed.count, completed.lastAtMs);
    });
  return {
    target: client.target,
    get isOpen() {
      return client.isOpen;
    },
    readCoils: (u, a, n, o) => done(client.readCoils(u, a, n, o)),
    readDiscreteInputs: (u, a, n, o) => done(client.readDiscreteInputs(u, a, n, o)),
    readHoldingRegisters: (u, a, n, o) => done(client.readHoldingRegisters(u, a, n, o)),
    readInputRegisters: (u, a, n, o) => done(client.readInputRegisters(u, a, n, o)),
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
  planWireMs: number;
  reads: number;
  values: number;
  efficiency: number;
  /** The same reads in a bare loop without the engine. */
  idealCycleMs: number;
  speedupVsBaseline: number;
  /** Wire limit of the baseline ÷ wire limit of the coalesced plan: no poller can beat it. */
  speedupCeiling: number;
  cpuMsPer1kReadings: number;
  /** Heap still in use after a GC at the end, minus at the start: a leak shows here. */
  heapRetainedKB: number;
  rssMB: number;
  faults: number;
}

async function runCase(baud: number): Promise<CaseResult> {
  const dir = mkdtempSync(join(tmpdir(), `brana-bus-eff-${baud}-`));
  const { child, path } = await startRig(baud, dir);
  completed.count = 0;
  completed.atCount.clear();
  try {
    const clock = new RealClock();
    const { wireMs, planWireMs, baselineWireMs, reads, values } = wireMsPerCycle(baud);
    const timeoutMs = Math.max(...profiles.map((p) => p.bus.timeoutMs));
    const bus: EngineBus = {
      name: 'bus',
      kind: 'rtu',
      gapMs: t35Ms(baud),
      maxInFlight: 1,
      open: async () => counting(await openMaster(path, baud, timeoutMs)),
    };
    const devices: EngineDevice[] = profiles.map((p, i) => ({
      name: `d${i + 1}`,
      bus: 'bus',
      unit: i + 1,
      profile: everyPointFast(p),
      // Always due: the lane goes round the devices back to back, as fast as the line allows.
      pollFastMs: 1,
      pollSlowMs: 1,
    }));
    let readings = 0;
    let faults = 0;
    const engine = new FieldbusEngine([bus], devices, {
      clock,
      sink: {
        send: (r) => {
          if (r.kind === 'reading') readings++;
          if (r.kind === 'fault') faults++;
          return true;
        },
      },
    });
    engine.start();
    // Warm-up: one full cycle (first open, JIT). Waits poll coarsely: the times come from the
    // client wrapper, stamped as each read completes.
    while (completed.count < reads) await new Promise((r) => setTimeout(r, 50));
    const cycles = quick ? 2 : baud <= 9600 ? 4 : 6;
    globalThis.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const cpu0 = process.cpuUsage();
    const start = completed.count;
    const t0 = completed.lastAtMs;
    const readings0 = readings;
    while (completed.count < start + cycles * reads) await new Promise((r) => setTimeout(r, 50));
    const cpu = process.cpuUsage(cpu0);
    const elapsed = completed.atCount.get(start + cycles * reads)! - t0;
    const measuredReadings = readings - readings0;
    await engine.stop();
    globalThis.gc?.();
    const heap1 = process.memoryUsage().heapUsed;

    const client = await openMaster(path, baud, timeoutMs);
    const gap = t35Ms(baud);

    // Ideal master: the same coalesced reads in a bare loop, no engine. What is left between this
    // and the wire limit is the line (simulator pacing, pty, a shared machine), not the poller.
    const plans = profiles.map((p) => planReads(everyPointFast(p).points, p.bus));
    const idealCycles = quick ? 1 : 2;
    let idleEnd = performance.now();
    const i0 = performance.now();
    for (let c = 0; c < idealCycles; c++) {
      for (const [i, p] of profiles.entries()) {
        for (const block of plans[i]!) {
          const wait = idleEnd + Math.max(gap, p.bus.interFrameDelayMs) - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          await readBlock(client, i + 1, block, p.bus.timeoutMs).catch(() => {
            faults++;
          });
          idleEnd = performance.now();
        }
      }
    }
    const idealCycleMs = (performance.now() - i0) / idealCycles;

    // Baseline: one request per value, t3.5 (and the device's own delay) between requests.
    let lastEnd = performance.now();
    const b0 = performance.now();
    const baselineCycles = 1;
    for (let c = 0; c < baselineCycles; c++) {
      for (const [i, p] of profiles.entries()) {
        for (const point of p.points) {
          const quiet = Math.max(gap, p.bus.interFrameDelayMs);
          const wait = lastEnd + quiet - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const block = {
            functionCode: point.functionCode,
            address: point.address,
            count: pointWidth(point),
            points: [],
          };
          await readBlock(client, i + 1, block, p.bus.timeoutMs).catch(() => {
            faults++;
          });
          lastEnd = performance.now();
        }
      }
    }
    const baselineCycleMs = (performance.now() - b0) / baselineCycles;
    await client.close();

    const cycleMs = elapsed / cycles;
    const per1k = 1000 / Math.max(1, measuredReadings);
    return {
      baud,
      cycleMs,
      baselineCycleMs,
      wireMs,
      planWireMs,
      reads,
      values,
      efficiency: wireMs / cycleMs,
      idealCycleMs,
      speedupCeiling: baselineWireMs / wireMs,
      speedupVsBaseline: baselineCycleMs / cycleMs,
      cpuMsPer1kReadings: ((cpu.user + cpu.system) / 1000) * per1k,
      heapRetainedKB: Math.max(0, heap1 - heap0) / 1024,
      rssMB: process.memoryUsage().rss / 2 ** 20,
      faults,
    };
  } finally {
    await stopRig(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const simAt = process.argv.indexOf('--sim-child');
if (simAt >= 0) {
  await simChild(Number(process.argv[simAt + 1]), process.argv[simAt + 2]!);
}
const results: CaseResult[] = [];
for (const baud of [9600, 19_200]) results.push(await runCase(baud));

if (json) {
  for (const r of results) {
    process.stdout.write(
      `${JSON.stringify({
        bench: 'bus-efficiency',
        case: String(r.baud),
        driver,
        unit: 'ms',
        efficiency: Number(r.efficiency.toFixed(4)),
        speedupVsBaseline: Number(r.speedupVsBaseline.toFixed(2)),
        speedupCeiling: Number(r.speedupCeiling.toFixed(2)),
        cycleMs: Number(r.cycleMs.toFixed(1)),
        wireMs: Number(r.wireMs.toFixed(1)),
        planWireMs: Number(r.planWireMs.toFixed(1)),
        idealCycleMs: Number(r.idealCycleMs.toFixed(1)),
        baselineCycleMs: Number(r.baselineCycleMs.toFixed(1)),
        reads: r.reads,
        values: r.values,
        cpuMsPer1kReadings: Number(r.cpuMsPer1kReadings.toFixed(1)),
        heapRetainedKB: Number(r.heapRetainedKB.toFixed(1)),
        rssMB: Number(r.rssMB.toFixed(1)),
        faults: r.faults,
      })}\n`,
    );
  }
} else {
  const rows = results.map((r) => [
    String(r.baud),
    `${r.values} in ${r.reads} reads`,
    r.wireMs.toFixed(1),
    r.planWireMs.toFixed(1),
    r.cycleMs.toFixed(1),
    r.idealCycleMs.toFixed(1),
    `${(r.efficiency * 100).toFixed(1)} %`,
    r.baselineCycleMs.toFixed(1),
    `${r.speedupVsBaseline.toFixed(2)}×`,
    `${r.speedupCeiling.toFixed(2)}×`,
    r.cpuMsPer1kReadings.toFixed(1),
    r.heapRetainedKB.toFixed(1),
    r.rssMB.toFixed(1),
    String(r.faults),
  ]);
  const head = [
    'baud',
    'values',
    'wire ms',
    'plan ms',
    'cycle ms',
    'bare loop ms',
    'efficiency',
    'baseline ms',
    'speed-up',
    'ceiling',
    'CPU ms/1k',
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
}
