import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogue, RegisterBank, RtuSlave, realClock, t35Ms } from '@brana/hardware';
import { ModbusSerialClient, RealClock } from '../hal/index.ts';
import { FieldbusEngine } from './index.ts';

const p = loadCatalogue().get('eastron-sdm630') as any;
const baud = 115200;
const slave = await RtuSlave.start({
  dir: mkdtempSync(join(tmpdir(), 'dbg-')),
  name: 'tty',
  baud,
  devices: [{ unit: 1, handler: new RegisterBank(p, { clock: realClock }), turnaroundMs: [0, 0] }],
});
let readings = 0;
const engine = new FieldbusEngine(
  [
    {
      name: 'b',
      kind: 'rtu',
      gapMs: t35Ms(baud),
      maxInFlight: 1,
      open: () => ModbusSerialClient.connectRtu({ path: slave.clientPath, baudRate: baud, timeoutMs: 1000 }),
    },
  ],
  [
    {
      name: 'm',
      bus: 'b',
      unit: 1,
      pollFastMs: 1,
      pollSlowMs: 1,
      profile: { id: 'x', bus: p.bus, points: p.points.map((x: any) => ({ ...x, poll: 'fast' })) },
    },
  ],
  {
    clock: new RealClock(),
    sink: {
      send: (r) => {
        if (r.kind === 'reading') readings++;
        return true;
      },
    },
  },
);
const cpu0 = process.cpuUsage();
engine.start();
await new Promise((r) => setTimeout(r, 8000));
const cpu = process.cpuUsage(cpu0);
await engine.stop();
console.log(
  'readings',
  readings,
  'cpu ms',
  (cpu.user + cpu.system) / 1000,
  'per 1k',
  (((cpu.user + cpu.system) / 1000) * 1000) / readings,
  'requests',
  engine.stats.requests,
);
await slave.stop();
