// Bench harness for the rt scenarios and the latency bench: a wire bus (WireServer) with the
// traffic-controller model on it, a socat pty pair as the serial radio link, an IPC server as the
// agent, and `brana-firmware rt` started as a real child process on a generated config file.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FrameLink, serialLink, TrafficControllerModel, udpLink, WireServer } from '@brana/hardware';
import { stringify } from 'yaml';
import { createIpcServer, type IpcServer, type ParsedAgentRecord } from '../src/ipc/index.ts';
import { testPreemptionDoc } from '../test/support/rt-fixtures.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'brana-firmware.mjs');

export interface RtBenchOptions {
  timing?: Record<string, number>;
  heartbeatPeriodMs?: number;
  deadmanMs?: number;
  radioBaud?: number;
  /** Extra inputs merged into preemption.inputs (optical, testContact). */
  inputs?: Record<string, unknown>;
  /** Extra environment for the rt process (NOTIFY_SOCKET, WATCHDOG_USEC). */
  env?: Record<string, string>;
}

export interface RtBench {
  dir: string;
  wires: WireServer;
  model: TrafficControllerModel;
  records: ParsedAgentRecord[];
  udpPort: number;
  radioVehicleEnd: string;
  configFile: string;
  child: ChildProcess;
  stderr: () => string;
  /** A UDP link to the rt process. */
  udp(): FrameLink;
  /** A serial link: the vehicle end of the radio pty. */
  radio(): Promise<FrameLink>;
  events(type?: string): (ParsedAgentRecord & { kind: 'event' })[];
  waitForEvent(
    predicate: (e: ParsedAgentRecord & { kind: 'event' }) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<ParsedAgentRecord & { kind: 'event' }>;
  close(): Promise<void>;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A socat pty pair for the serial radio link: `a` is rt's end, `b` the vehicle's. */
export async function ptyPair(dir: string): Promise<{ a: string; b: string; child: ChildProcess }> {
  const a = join(dir, 'radio-rt');
  const b = join(dir, 'radio-vehicle');
  const child = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(existsSync(a) && existsSync(b))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('socat did not create the radio pty pair');
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { a, b, child };
}

export async function startRtBench(o: RtBenchOptions = {}): Promise<RtBench> {
  const dir = mkdtempSync(join(tmpdir(), 'brana-rt-'));
  const wires = await WireServer.listen({ path: join(dir, 'wires.sock') });
  const doc = testPreemptionDoc({
    timing: { updateTimeoutS: 1, releaseMs: 100, readbackSettleMs: 300, ...o.timing },
  });
  const model = new TrafficControllerModel(wires.bus, {
    approaches: doc.approaches.map((a) => ({ id: a.id, output: a.output, readback: a.readback })),
    conflicts: doc.conflicts,
    heartbeat: doc.heartbeat.output,
    deadmanMs: o.deadmanMs ?? 300,
    holdMaxMs: 125_000,
  });
  const records: ParsedAgentRecord[] = [];
  const agent: IpcServer = await createIpcServer({
    socketPath: join(dir, 'agent.sock'),
    onBatch: async (batch) => {
      for (const r of batch) records.push(r.record);
    },
  });
  const pty = await ptyPair(dir);
  const udpPort = await freeUdpPort();
  const configFile = join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    stringify({
      name: 'bench intersection',
      hardware: { board: 'bench', gpio: { backend: 'bench', benchSocket: wires.path } },
      preemption: {
        ...doc,
        heartbeat: { output: 'heartbeat', periodMs: o.heartbeatPeriodMs ?? 5 },
        inputs: {
          radio: { path: pty.a, baud: o.radioBaud ?? 115200 },
          udp: { port: udpPort, host: '127.0.0.1' },
          ...o.inputs,
        },
      },
    }),
  );
  const child = spawn(
    process.execPath,
    [BIN, 'rt', '--config', configFile, '--agent-socket', join(dir, 'agent.sock'), '--no-hw-watchdog'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...o.env } },
  );
  // If the test worker itself ends (a crash, vitest tearing it down) before close(), the rt
  // child and socat must not live on.
  const killOnExit = () => {
    child.kill('SIGKILL');
    pty.child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const links: FrameLink[] = [];
  const events = (type?: string) =>
    records.filter(
      (r): r is ParsedAgentRecord & { kind: 'event' } =>
        r.kind === 'event' && (type === undefined || r.type === type),
    );
  const bench: RtBench = {
    dir,
    wires,
    model,
    records,
    udpPort,
    radioVehicleEnd: pty.b,
    configFile,
    child,
    stderr: () => stderr,
    udp() {
      const l = udpLink(udpPort);
      links.push(l);
      return l;
    },
    async radio() {
      const l = await serialLink(pty.b);
      links.push(l);
      return l;
    },
    events,
    waitForEvent(predicate, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const t = setInterval(() => {
          const hit = events().find(predicate);
          if (hit) {
            clearInterval(t);
            resolve(hit);
          } else if (Date.now() - started > timeoutMs || child.exitCode !== null) {
            clearInterval(t);
            reject(new Error(`no event for ${what} within ${timeoutMs} ms; rt stderr: ${stderr.trim()}`));
          }
        }, 5);
      });
    },
    async close() {
      for (const l of links) await l.close().catch(() => {});
      await stopChild(child, 5000);
      model.close();
      await stopChild(pty.child, 2000);
      process.off('exit', killOnExit);
      await agent.close();
      await wires.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // Starting tsx and the self-test on a loaded 2-core machine can take several seconds.
    await bench.waitForEvent((e) => e.type === 'preemption.ready', 30_000, 'preemption.ready');
  } catch (err) {
    // Nothing may outlive a failed start: the rt child, socat and the sockets go with it.
    await bench.close();
    throw err;
  }
  return bench;
}

/** SIGTERM, then SIGKILL if the child has not exited within graceMs; resolves once it is gone. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
