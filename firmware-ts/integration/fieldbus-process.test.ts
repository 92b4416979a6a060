// The `brana-firmware fieldbus` process end to end: a bad config is refused at start with the
// config path and the fix (exit 2, no stack trace); a good one polls a simulated meter on a pty
// and delivers readings to the agent over the real IPC socket, and its state file survives a stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogue, ManualClock, type ModbusProfile, RegisterBank, RtuSlave } from '@brana/hardware';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createIpcServer, type IpcServer, type SequencedRecord } from '../src/ipc/index.ts';
import { stopChild } from './rt-harness.ts';

const BIN = fileURLToPath(new URL('../bin/brana-firmware.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'brana-fieldbus-proc-'));
const children: ChildProcess[] = [];

function run(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [BIN, 'fieldbus', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  );
  return { child, done };
}

// A failed assertion or a timeout must not leave a fieldbus process polling behind the test.
afterEach(async () => {
  for (const child of children.splice(0)) await stopChild(child, 3000);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('brana-firmware fieldbus', () => {
  it('refuses two devices at one address and an unknown profile, naming the paths and the fix', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'name: school',
        'buses:',
        '  - { name: rs485, type: rtu, path: /dev/serial/by-id/usb-FTDI-if00, baud: 9600 }',
        'devices:',
        '  - { name: main, bus: rs485, unit: 1, profile: eastron-sdm630 }',
        '  - { name: boiler, bus: rs485, unit: 1, profile: eastron-sdm120 }',
        '  - { name: water, bus: rs485, unit: 3, profile: no-such-meter }',
      ].join('\n'),
    );
    const { code, stderr } = await run(['--config', file]).done;
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /bad\.yaml: devices\[1\]\.unit: unit 1 on bus "rs485" is already devices\[0\]\. Fix: /,
    );
    expect(stderr).toMatch(
      /bad\.yaml: devices\[2\]\.profile: unknown device profile "no-such-meter"\. Fix: /,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('takes site profiles from --profiles and the config; a bad one is named by file, line and path', async () => {
    const site = join(dir, 'site-profiles');
    const more = join(dir, 'more-profiles');
    mkdirSync(site);
    mkdirSync(more);
    const profile = (id: string, address: string) =>
      [
        `id: ${id}`,
        'vendor: Site',
        'model: S1',
        'docs: site sheet v1',
        'kind: modbus',
        'defaults: { functionCode: 4, type: f32 }',
        'points:',
        `  - { key: powerW, address: ${address}, range: [0, 10000] }`,
      ].join('\n');
    writeFileSync(join(site, 'pump-meter.yaml'), profile('pump-meter', '0'));
    writeFileSync(join(more, 'boiler-meter.yaml'), profile('boiler-meter', 'twelve'));
    const file = join(dir, 'site.yaml');
    writeFileSync(
      file,
      [
        'name: pumping station',
        'profileDirs: [site-profiles]',
        'buses:',
        '  - { name: rs485, type: rtu, path: /dev/serial/by-id/usb-FTDI-if00, baud: 9600 }',
        'devices:',
        '  - { name: pump, bus: rs485, unit: 1, profile: pump-meter }',
        '  - { name: boiler, bus: rs485, unit: 2, profile: boiler-meter }',
      ].join('\n'),
    );
    const bad = await run(['--config', file, '--profiles', more]).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /device profiles rejected \(1 file\)\n.*more-profiles\/boiler-meter\.yaml:8:\d+: points\[0\]\.address: expected number, got "twelve"\. Fix: /,
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    // Without the bad directory the site profile from the config is known; the boiler is not.
    const unknown = await run(['--config', file]).done;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/devices\[1\]\.profile: unknown device profile "boiler-meter"/);
    expect(unknown.stderr).not.toMatch(/pump-meter/);
  }, 60_000);

  describe('with a meter on a pty and the agent socket', () => {
    let slave: RtuSlave;
    let server: IpcServer;
    const received: SequencedRecord[] = [];

    beforeAll(async () => {
      const sdm120 = loadCatalogue().get('eastron-sdm120') as ModbusProfile;
      slave = await RtuSlave.start({
        dir,
        name: 'ttyPROC0',
        baud: 19_200,
        devices: [
          {
            unit: 5,
            handler: new RegisterBank(sdm120, { clock: new ManualClock(Date.UTC(2026, 0, 5)) }),
            turnaroundMs: [2, 5],
          },
        ],
      });
      server = await createIpcServer({
        socketPath: join(dir, 'agent.sock'),
        onBatch: async (records) => {
          received.push(...records);
        },
      });
    });
    afterAll(async () => {
      await server?.close();
      await slave?.stop();
    });

    it('polls, delivers readings and device status over IPC, and keeps the counter totals on stop', async () => {
      const config = join(dir, 'good.yaml');
      const stateFile = join(dir, 'state.json');
      writeFileSync(
        config,
        [
          'name: town hall',
          'buses:',
          `  - { name: rs485, type: rtu, path: ${slave.clientPath}, baud: 19200 }`,
          'devices:',
          '  - { name: hall, bus: rs485, unit: 5, profile: eastron-sdm120, pollFastMs: 200, pollSlowMs: 1000 }',
        ].join('\n'),
      );
      const proc = run(['--config', config, '--agent-socket', server.socketPath, '--state-file', stateFile]);
      // Process start (tsx) plus five fast polls; seconds on a busy machine.
      const deadline = Date.now() + 30_000;
      const readingsOf = (channel: string) =>
        received.filter((r) => r.record.kind === 'reading' && r.record.channel === channel);
      while (readingsOf('hall.powerW').length < 5 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      proc.child.kill('SIGTERM');
      const { code, stderr } = await proc.done;
      expect(stderr).toMatch(/1 bus\(es\), 1 device\(s\)/);
      expect(code).toBe(0);
      expect(readingsOf('hall.powerW').length).toBeGreaterThanOrEqual(5);
      expect(readingsOf('hall.voltageV')[0]!.record).toMatchObject({ unit: 'V', quality: 'good' });
      const energy = readingsOf('hall.energyImportKWh')[0]!.record;
      expect(energy).toMatchObject({ channelKind: 'counter' });
      expect(
        received.some(
          (r) =>
            r.record.kind === 'event' &&
            r.record.type === 'device.status' &&
            r.record.data?.state === 'online',
        ),
      ).toBe(true);
      const state = JSON.parse(readFileSync(stateFile, 'utf8'));
      expect(state.counters['hall.energyImportKWh'].total).toBeCloseTo(
        energy.kind === 'reading' ? (energy.total as number) : Number.NaN,
        3,
      );
    }, 60_000);
  });
});
