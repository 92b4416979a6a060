// How faithfully the RTU simulator reproduces wire time: a master on the pty reads N registers from
// the simulated SDM630 back to back; the measured transaction time is compared with
// T = (13 + 2N)·t_char + 2·t3.5 + turnaround (DESIGN.md "Performance anchors").
// Run: npm run bench -w @brana/hardware [-- --json] [-- --quick]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoDetect } from '@serialport/bindings-cpp';
import { SerialPortStream } from '@serialport/stream';
import { RtuSlave } from '../src/bench/modbus-sim/rtu-slave.ts';
import { realClock } from '../src/bench/sim/clock.ts';
import { RegisterBank } from '../src/bench/sim/register-bank.ts';
import { encodeRequest, encodeRtu, rtuTransactionTimeMs } from '../src/modbus/index.ts';
import type { ModbusProfile } from '../src/profiles/index.ts';
import { loadCatalogue } from '../src/profiles/index.ts';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 20;
const TURNAROUND_MS = 10;

const profile = loadCatalogue().get('eastron-sdm630') as ModbusProfile;
const dir = mkdtempSync(join(tmpdir(), 'brana-bench-rtu-'));
const rows: Record<string, string | number>[] = [];

for (const baud of [9600, 38400]) {
  const slave = await RtuSlave.start({
    dir,
    name: `tty${baud}`,
    baud,
    devices: [
      {
        unit: 1,
        handler: new RegisterBank(profile, { clock: realClock }),
        turnaroundMs: [TURNAROUND_MS, TURNAROUND_MS],
      },
    ],
  });
  const port = new SerialPortStream({ binding: autoDetect(), path: slave.clientPath, baudRate: baud });
  await new Promise<void>((resolve) => port.once('open', () => resolve()));
  let got = 0;
  let wake: (() => void) | undefined;
  port.on('data', (d: Buffer) => {
    got += d.length;
    wake?.();
  });
  for (const n of [2, 20, 80]) {
    const request = encodeRtu(1, encodeRequest({ fc: 4, address: 0, quantity: n }));
    const responseBytes = 5 + 2 * n;
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      got = 0;
      const t0 = performance.now();
      port.write(request);
      while (got < responseBytes) await new Promise<void>((resolve) => (wake = resolve));
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    const theory = rtuTransactionTimeMs({
      baud,
      requestBytes: 8,
      responseBytes,
      turnaroundMs: TURNAROUND_MS,
    });
    const median = samples[Math.floor(samples.length / 2)] ?? Number.NaN;
    rows.push({
      bench: 'rtu-sim-wire-time',
      case: `${baud}Bd-${n}reg`,
      unit: 'ms',
      theoryMs: Number(theory.toFixed(2)),
      medianMs: Number(median.toFixed(2)),
      minMs: Number((samples[0] ?? Number.NaN).toFixed(2)),
      ratio: Number((median / theory).toFixed(3)),
    });
  }
  await new Promise<void>((resolve) => port.close(() => resolve()));
  await slave.stop();
}
rmSync(dir, { recursive: true, force: true });

if (json) for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
else {
  process.stdout.write('case              theory ms  median ms  min ms  median/theory\n');
  for (const r of rows) {
    process.stdout.write(
      `${String(r.case).padEnd(17)} ${String(r.theoryMs).padStart(9)}  ${String(r.medianMs).padStart(9)}  ${String(r.minMs).padStart(6)}  ${String(r.ratio).padStart(13)}\n`,
    );
  }
}
