// rt-latency: time from an input entering the rt process to the relay output changing as seen
// from outside (the edge arriving at this harness's bench wire bus). `brana-firmware rt` runs as a
// real child process. Inputs (--input, default all three): `udp`, a signed request or cancel as
// a datagram; `radio`, the same frames written to the vehicle end of a socat pty pair whose other
// end is rt's serial radio input (a pty has no baud pacing: a real 115200 Bd UART adds ~10 ms of
// wire time per 116-byte frame); `gpio`, the test contact on the bench wire bus closed and opened
// (it includes the contact's fixed 20 ms debounce, so it runs --gpio-events, default 5,000).
//
// Cases: idle; load (a process churning memory, plus a simulated fieldbus streaming 50,000
// readings/s through the agent's IPC socket into an agent process); os-floor (cyclictest where
// installed, and a plain Node timer-lateness loop). Flags: --json, --quick (10,000 events),
// --events <n>. The same file runs the helper processes (--role churn|agent|fieldbus).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FrameLink,
  serialLink,
  TrafficControllerModel,
  udpLink,
  VehicleUnit,
  WireServer,
} from '@brana/hardware';
import { stringify } from 'yaml';
import { ptyPair, stopChild } from '../integration/rt-harness.ts';
import { connectAgent, createIpcServer } from '../src/ipc/index.ts';
import { pointOnApproach, TEST_INTERSECTION_ID, TEST_KEYS, testPreemptionDoc } from '../src/rt/testing.ts';

const SELF = fileURLToPath(import.meta.url);
const BIN = join(dirname(SELF), '..', 'bin', 'brana-firmware.mjs');
const args = process.argv.slice(2);
const argValue = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

interface Figures {
  events: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

function figures(samplesMs: Float64Array | number[]): Figures {
  const s = Float64Array.from(samplesMs).sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
  return { events: s.length, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: s[s.length - 1] ?? Number.NaN };
}

// ---------------------------------------------------------------------------------------------
// Helper roles (child processes of the benchmark)

async function roleChurn(): Promise<void> {
  // Keeps one core busy allocating and dropping short-lived objects (young-generation GC churn),
  // in slices so that it notices when the benchmark goes away.
  let keep: unknown[] = [];
  const slice = () => {
    const until = performance.now() + 50;
    while (performance.now() < until) {
      const a: { i: number; s: string }[] = [];
      for (let i = 0; i < 20_000; i++) a.push({ i, s: `x${i}` });
      keep = a.length % 2 === 0 ? a.slice(0, 100) : keep;
    }
    setImmediate(slice);
  };
  slice();
}

async function roleAgent(socketPath: string): Promise<void> {
  let records = 0;
  let unexpected = 0;
  await createIpcServer({
    socketPath,
    onBatch: async (batch) => {
      records += batch.length;
      for (const { record: r } of batch) {
        // Anything but the expected assert/release pairs explains a missed event; show a few.
        if (r.kind === 'event' && r.type === 'preemption.ready') process.stdout.write('rt-ready\n');
        if (r.kind === 'event' && /rejected|ignored|fault|expired/.test(r.type) && unexpected++ < 10) {
          process.stderr.write(`agent saw ${r.type} ${JSON.stringify(r.data)}\n`);
        }
      }
    },
  });
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => {
    process.stderr.write(`agent: ${records} records\n`);
    process.exit(0);
  });
}

async function roleFieldbus(socketPath: string, perS: number): Promise<void> {
  const link = connectAgent({ socketPath, source: 'fieldbus', queueLimit: 200_000, maxBatch: 2000 });
  // Catch up on every tick, so the rate holds even when ticks come late under load.
  const started = Date.now();
  let sent = 0;
  let i = 0;
  setInterval(() => {
    const now = Date.now();
    const due = Math.floor(((now - started) / 1000) * perS);
    while (i < due) {
      if (
        link.send({
          kind: 'reading',
          channel: `meter-${i % 50}.powerW`,
          atMs: now,
          value: i % 1000,
          quality: 'good',
        })
      )
        sent++;
      i++;
    }
  }, 10);
  process.on('SIGTERM', () => {
    const s = link.stats();
    process.stderr.write(
      `fieldbus: ${Math.round(sent / ((Date.now() - started) / 1000))} readings/s queued, ${s.acked} acked, ${s.dropped} dropped\n`,
    );
    process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------
// OS floor

function cyclictestFloor(): (Figures & { source: string }) | undefined {
  const which = spawnSync('sh', ['-c', 'command -v cyclictest'], { encoding: 'utf8' });
  if (which.status !== 0) return undefined;
  const loops = args.includes('--quick') ? 10_000 : 50_000;
  // 200 µs interval, one thread, histogram in µs; SCHED_FIFO 80 where permitted, else normal policy.
  const base = ['-q', '-m', '-t', '1', '-i', '200', '-l', String(loops), '-h', '20000'];
  let r = spawnSync('cyclictest', [...base, '-p', '80'], { encoding: 'utf8' });
  let policy = 'SCHED_FIFO 80';
  if (r.status !== 0) {
    r = spawnSync('cyclictest', base, { encoding: 'utf8' });
    policy = 'SCHED_OTHER';
  }
  const counts: [number, number][] = [];
  let max = Number.NaN;
  for (const line of r.stdout.split('\n')) {
    const m = /^(\d{6})\s+(\d+)/.exec(line);
    if (m) counts.push([Number(m[1]), Number(m[2])]);
    const mx = /# Max Latencies:\s+(\d+)/.exec(line);
    if (mx) max = Number(mx[1]);
  }
  const total = counts.reduce((a, [, n]) => a + n, 0);
  if (total === 0) return undefined;
  const q = (p: number) => {
    let acc = 0;
    for (const [us, n] of counts) {
      acc += n;
      if (acc >= p * total) return us / 1000;
    }
    return Number.NaN;
  };
  return {
    source: `cyclictest (${policy})`,
    events: total,
    p50: q(0.5),
    p99: q(0.99),
    p999: q(0.999),
    max: max / 1000,
  };
}

async function nodeTimerFloor(n: number): Promise<Figures & { source: string }> {
  const late = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const due = performance.now() + 1;
    await new Promise((r) => setTimeout(r, 1));
    late[i] = performance.now() - due;
  }
  return { source: 'node setTimeout(1 ms) lateness', ...figures(late) };
}

// ---------------------------------------------------------------------------------------------
// The rt measurement

function spawnRole(role: string, ...rest: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', SELF, '--role', role, ...rest], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
}

async function waitReady(child: ChildProcess, word = 'ready'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().split('\n').includes(word)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`helper exited with ${code}`)));
  });
}

type Input = 'udp' | 'radio' | 'gpio';

async function measureRt(
  caseName: 'idle' | 'load',
  input: Input,
  events: number,
  policy: 'fifo' | 'other',
): Promise<Figures & { stamp: Figures; missed: number; violations: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'brana-rt-bench-'));
  const helpers: ChildProcess[] = [];
  const wires = await WireServer.listen({ path: join(dir, 'wires.sock') });
  const doc = testPreemptionDoc({
    timing: { minGapS: 0, releaseMs: 0, ratePerVehiclePerS: 100, readbackSettleMs: 500, selfTestMs: 50 },
  });
  const model = new TrafficControllerModel(wires.bus, {
    approaches: doc.approaches.map((a) => ({ id: a.id, output: a.output, readback: a.readback })),
    conflicts: doc.conflicts,
    heartbeat: 'heartbeat',
    deadmanMs: 500,
  });
  const agentSock = join(dir, 'agent.sock');
  const agent = spawnRole('agent', '--socket', agentSock);
  helpers.push(agent);
  await waitReady(agent);
  if (caseName === 'load') {
    helpers.push(spawnRole('churn'));
    helpers.push(spawnRole('fieldbus', '--socket', agentSock, '--rate', '50000'));
  }
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const radio = input === 'radio' ? await ptyPair(dir) : undefined;
  if (radio) helpers.push(radio.child);
  const configFile = join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    stringify({
      name: 'rt latency bench',
      hardware: { board: 'bench', gpio: { backend: 'bench', benchSocket: wires.path } },
      preemption: {
        ...doc,
        heartbeat: { output: 'heartbeat', periodMs: 5 },
        inputs: {
          udp: { port, host: '127.0.0.1' },
          ...(radio ? { radio: { path: radio.a, baud: 115_200 } } : {}),
          ...(input === 'gpio' ? { testContact: { line: 'test-contact', approach: 'north' } } : {}),
        },
      },
    }),
  );
  const rtReady = waitReady(agent, 'rt-ready');
  // The production unit runs rt with SCHED_FIFO 80 (systemd/brana-rt.service); so does the bench
  // where the machine permits it (`--policy other` to compare).
  const rtArgs = [BIN, 'rt', '--config', configFile, '--agent-socket', agentSock, '--no-hw-watchdog'];
  const rt = spawn(
    policy === 'fifo' ? 'chrt' : process.execPath,
    policy === 'fifo' ? ['-f', '80', process.execPath, ...rtArgs] : rtArgs,
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let rtErr = '';
  rt.stderr?.on('data', (d: Buffer) => {
    rtErr += d.toString();
  });
  const killRt = () => rt.kill('SIGKILL');
  process.once('exit', killRt);
  try {
    await Promise.race([
      rtReady,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`rt not ready after 60 s: ${rtErr}`)), 60_000),
      ),
    ]);
    const link: FrameLink | undefined =
      input === 'udp' ? udpLink(port) : radio ? await serialLink(radio.b) : undefined;
    try {
      return await drive(caseName, input, events, rt, () => rtErr, link, wires, model);
    } finally {
      await link?.close();
    }
  } finally {
    process.off('exit', killRt);
    await stopChild(rt, 3000);
    for (const h of helpers) await stopChild(h, 3000);
    model.close();
    await wires.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function drive(
  caseName: string,
  input: Input,
  events: number,
  rt: ChildProcess,
  rtErr: () => string,
  link: FrameLink | undefined,
  wires: WireServer,
  model: TrafficControllerModel,
): Promise<Figures & { stamp: Figures; missed: number; violations: number }> {
  if (rt.exitCode !== null) throw new Error(`rt exited: ${rtErr()}`);
  const vehicles = Array.from(
    { length: 200 },
    (_, v) =>
      new VehicleUnit({
        privateKey: TEST_KEYS.ambulance.privateKey,
        vehicleId: 10_000 + v,
        role: 'ambulance',
        intersectionId: TEST_INTERSECTION_ID,
      }),
  );
  const pos = { inbound: 1, etaS: 5, headingDeg: 180, speedMps: 12, ...pointOnApproach(1, 150) };
  const observed = new Float64Array(events);
  const stamped = new Float64Array(events);
  let waiting: ((level: number, atNs: bigint, rxNs: bigint) => void) | undefined;
  wires.bus.onEdge('relay-north', (level, atNs) => {
    const rx = process.hrtime.bigint();
    waiting?.(level, atNs, rx);
  });
  let missed = 0;
  let n = 0;
  let owner = vehicles[0]!;
  let level = 0;
  // Warm up: 2,000 events not counted (JIT, socket buffers); 200 for the slow GPIO contact.
  const warmup = input === 'gpio' ? 200 : 2000;
  for (let i = 0; n < events; i++) {
    const want = level === 0 ? 1 : 0;
    // A request comes from the next vehicle; the cancel from the vehicle that holds the approach.
    if (want === 1) owner = vehicles[i % vehicles.length]!;
    const frame = link === undefined ? undefined : owner.frame(want === 1 ? 'request' : 'cancel', pos);
    const edge = new Promise<{ atNs: bigint; rxNs: bigint } | undefined>((resolve) => {
      const timer = setTimeout(() => {
        waiting = undefined;
        resolve(undefined);
      }, 2000);
      waiting = (l, atNs, rxNs) => {
        if (l !== want) return;
        clearTimeout(timer);
        waiting = undefined;
        resolve({ atNs, rxNs });
      };
    });
    const t0 = process.hrtime.bigint();
    if (link !== undefined && frame !== undefined) await link.send(frame);
    else await wires.bus.set('test-contact', want);
    const got = await edge;
    if (got === undefined) {
      missed++;
      process.stderr.write(`rt-latency ${caseName}: no relay edge to ${want} within 2 s (event ${i})\n`);
      // Resynchronise on the relay's actual level.
      level = await wires.bus.read('relay-north');
      if (missed > 20)
        throw new Error(`rt stopped answering (${missed} events missed); rt stderr: ${rtErr()}`);
      continue;
    }
    level = want;
    if (i >= warmup) {
      observed[n] = Number(got.rxNs - t0) / 1e6;
      stamped[n] = Number(got.atNs - t0) / 1e6;
      n++;
    }
  }
  const violations = model.violations.length;
  return { ...figures(observed), stamp: figures(stamped), missed, violations };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const role = argValue('--role');
  // A helper ends with the benchmark, however the benchmark ends.
  if (role !== undefined) process.on('disconnect', () => process.exit(0));
  if (role === 'churn') return roleChurn();
  if (role === 'agent') return roleAgent(argValue('--socket')!);
  if (role === 'fieldbus') return roleFieldbus(argValue('--socket')!, Number(argValue('--rate') ?? 50_000));

  const only = argValue('--case');
  const policy = (argValue('--policy') ?? (fifoPermitted() ? 'fifo' : 'other')) as 'fifo' | 'other';
  // Signals end the run through process.exit, so the 'exit' handlers stop the rt child.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  const json = args.includes('--json');
  const events = Number(argValue('--events') ?? (args.includes('--quick') ? 10_000 : 100_000));
  const gpioEvents = Number(argValue('--gpio-events') ?? (args.includes('--quick') ? 1000 : 5000));
  const inputs = (argValue('--input') ?? 'udp,radio,gpio').split(',') as Input[];
  const inputNote: Record<Input, string> = {
    udp: 'UDP in',
    radio: 'frame on the radio pty in',
    gpio: 'test contact edge in (20 ms debounce included)',
  };
  const rows: { case: string; note: string; f: Figures }[] = [];
  const out: Record<string, unknown>[] = [];

  const cyc = cyclictestFloor();
  if (cyc) {
    rows.push({ case: 'os-floor', note: cyc.source, f: cyc });
    out.push({ bench: 'rt-latency', case: 'os-floor', unit: 'ms', source: 'cyclictest', ...pick(cyc) });
  }
  const nodeFloor = await nodeTimerFloor(args.includes('--quick') ? 2000 : 10_000);
  rows.push({ case: 'os-floor', note: nodeFloor.source, f: nodeFloor });
  out.push({ bench: 'rt-latency', case: 'os-floor', unit: 'ms', source: 'node-timer', ...pick(nodeFloor) });

  for (const input of inputs) {
    for (const c of ['idle', 'load'] as const) {
      if (only !== undefined && only !== c) continue;
      const r = await measureRt(c, input, input === 'gpio' ? gpioEvents : events, policy);
      const load = c === 'load' ? ' + memory churn + 50k readings/s fieldbus→agent IPC' : '';
      const pol = policy === 'fifo' ? 'rt SCHED_FIFO 80' : 'rt SCHED_OTHER';
      // The cases `idle` and `load` are the UDP input; the other inputs get their own names.
      const name = input === 'udp' ? c : `${c}-${input}`;
      rows.push({
        case: name,
        note: `${pol}${load}; ${inputNote[input]} → relay edge received by harness; missed ${r.missed}; violations ${r.violations}`,
        f: r,
      });
      rows.push({
        case: name,
        note: `  same events, ${inputNote[input]} → relay write inside rt (edge stamp)`,
        f: r.stamp,
      });
      out.push({
        bench: 'rt-latency',
        case: name,
        input,
        unit: 'ms',
        policy,
        ...pick(r),
        stampP50: r.stamp.p50,
        stampP99: r.stamp.p99,
        stampP999: r.stamp.p999,
        stampMax: r.stamp.max,
        missed: r.missed,
        violations: r.violations,
      });
    }
  }

  if (json) {
    for (const o of out) process.stdout.write(`${JSON.stringify(o)}\n`);
    return;
  }
  const fmt = (x: number) => x.toFixed(3).padStart(8);
  process.stdout.write('rt-latency (ms)\n');
  process.stdout.write(
    `${'case'.padEnd(11)} ${'events'.padStart(8)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'p99.9'.padStart(8)} ${'max'.padStart(8)}  note\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.case.padEnd(11)} ${String(r.f.events).padStart(8)} ${fmt(r.f.p50)} ${fmt(r.f.p99)} ${fmt(r.f.p999)} ${fmt(r.f.max)}  ${r.note}\n`,
    );
  }
}

function fifoPermitted(): boolean {
  return spawnSync('chrt', ['-f', '1', 'true']).status === 0;
}

function pick(f: Figures): Figures {
  return { events: f.events, p50: f.p50, p99: f.p99, p999: f.p999, max: f.max };
}

await main();
if (argValue('--role') === undefined) process.exit(0);
