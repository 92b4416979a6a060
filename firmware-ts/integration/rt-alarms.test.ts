// `brana-firmware rt` on a config with alarms and relays only (a care home): a real child process
// on the bench wire bus, with an IPC server standing in for the agent. The SOS cord raises a
// critical alarm that reaches the agent and lights the relay; a CO2 reading forwarded from a
// fieldbus link switches the ventilation relay; a flow's command through the agent switches the
// relay owned by flows and is refused for the others; SIGTERM switches every relay off.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WireServer } from '@brana/hardware';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectAgent, createIpcServer, type ParsedAgentRecord } from '../src/ipc/index.ts';
import { stopChild } from './rt-harness.ts';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'brana-firmware.mjs');
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(
  what: string,
  cond: () => boolean,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end)
      throw new Error(`${what} did not happen within ${timeoutMs} ms; rt stderr: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('brana-firmware rt with alarms and relays only', () => {
  it('raises the SOS alarm, switches relays by alarm and by forwarded readings, and releases them on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brana-alarms-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const wires = await WireServer.listen({ path: join(dir, 'wires.sock') });
    cleanups.push(() => wires.close());
    const records: ParsedAgentRecord[] = [];
    const agent = await createIpcServer({
      socketPath: join(dir, 'agent.sock'),
      onBatch: async (batch) => {
        for (const r of batch) records.push(r.record);
      },
    });
    cleanups.push(() => agent.close());
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(
      configFile,
      stringify({
        name: 'care home',
        hardware: { board: 'bench', gpio: { backend: 'bench', benchSocket: wires.path } },
        alarms: [{ name: 'sos', kind: 'sos', line: 'sos.button', debounceMs: 30 }],
        relays: [
          { name: 'alarm-light', line: 'alarm.relay', rules: [{ when: 'sos', holdS: 0.5 }] },
          { name: 'ventilation', line: 'fan.relay', rules: [{ when: 'room.co2Ppm', above: 1200 }] },
          { name: 'corridor', line: 'corridor.relay', owner: 'flows' },
        ],
      }),
    );
    // The agent socket comes from the environment, as the systemd units pass it.
    const child = spawn(process.execPath, [BIN, 'rt', '--config', configFile, '--no-hw-watchdog'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, BRANA_AGENT_SOCKET: join(dir, 'agent.sock') },
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    cleanups.push(() => stopChild(child, 5000));
    const err = () => stderr.trim();
    // Started: the relays are opened (off) and rt has said hello with its subscription.
    await until('rt start', () => stderr.includes('1 alarm input(s), 3 relay(s)'), 30_000, err);
    await until(
      'rt connects to the agent',
      () => agent.connections().some((c) => c.source === 'rt'),
      10_000,
      err,
    );
    const bus = wires.bus;
    expect(bus.readNow('alarm.relay')).toBe(0);

    await bus.set('sos.button', 1);
    await until('alarm relay on', () => bus.readNow('alarm.relay') === 1, 5000, err);
    await bus.set('sos.button', 0);
    await until('alarm relay off after its hold', () => bus.readNow('alarm.relay') === 0, 5000, err);
    await until(
      'alarm events journalled',
      () => records.some((r) => r.kind === 'event' && r.type === 'alarm.cleared'),
      5000,
      err,
    );
    const raised = records.find((r) => r.kind === 'event' && r.type === 'alarm.raised');
    expect(raised).toMatchObject({
      safety: true,
      severity: 'critical',
      data: { alarm: 'sos', alarmKind: 'sos' },
    });

    // A flow switches the corridor light through the agent; rt refuses it the alarm light.
    const by = { kind: 'flow' as const, node: 'n7', flow: 'sos-escalation' };
    expect(await agent.command('rt', { op: 'relay.set', relay: 'corridor', on: true, by })).toMatchObject({
      ok: true,
      relay: 'corridor',
      on: true,
      changed: true,
    });
    await until('corridor on', () => bus.readNow('corridor.relay') === 1, 5000, err);
    const refused = await agent.command('rt', { op: 'relay.set', relay: 'alarm-light', on: true, by });
    expect(refused).toMatchObject({ ok: false, code: 'not-owned' });
    expect((refused as { message: string }).message).toMatch(/owner: rules/);
    expect(await agent.command('rt', { op: 'relay.set', relay: 'boiler', on: true, by })).toMatchObject({
      ok: false,
      code: 'unknown-relay',
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(bus.readNow('alarm.relay')).toBe(0);
    await until(
      'relay.switched by the flow journalled',
      () =>
        records.some((r) => r.kind === 'event' && r.type === 'relay.switched' && r.data.relay === 'corridor'),
      5000,
      err,
    );
    expect(
      records.find((r) => r.kind === 'event' && r.type === 'relay.switched' && r.data.relay === 'corridor'),
    ).toMatchObject({ data: { relay: 'corridor', on: true, by } });

    // A fieldbus process's CO2 reading, journalled by the agent, reaches rt's relay rule.
    const fieldbus = connectAgent({
      socketPath: join(dir, 'agent.sock'),
      source: 'fieldbus',
      queueLimit: 100,
    });
    cleanups.push(() => fieldbus.close());
    fieldbus.send({
      kind: 'reading',
      channel: 'room.co2Ppm',
      atMs: Date.now(),
      value: 1500,
      quality: 'good',
    });
    await until('ventilation on', () => bus.readNow('fan.relay') === 1, 5000, err);
    fieldbus.send({ kind: 'reading', channel: 'room.co2Ppm', atMs: Date.now(), value: 800, quality: 'good' });
    await until('ventilation off', () => bus.readNow('fan.relay') === 0, 5000, err);

    fieldbus.send({
      kind: 'reading',
      channel: 'room.co2Ppm',
      atMs: Date.now(),
      value: 2000,
      quality: 'good',
    });
    await until('ventilation on again', () => bus.readNow('fan.relay') === 1, 5000, err);
    await stopChild(child, 5000);
    expect(child.exitCode).toBe(0);
    expect(bus.readNow('fan.relay')).toBe(0);
    expect(bus.readNow('corridor.relay')).toBe(0);
    // rt gone: the agent answers for it.
    expect(await agent.command('rt', { op: 'relay.set', relay: 'corridor', on: true, by })).toMatchObject({
      ok: false,
      code: 'not-ready',
    });
  }, 90_000);

  it('refuses a config with nothing for rt to do, naming the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brana-alarms-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(configFile, stringify({ name: 'nothing here' }));
    const child = spawn(process.execPath, [BIN, 'rt', '--config', configFile, '--no-hw-watchdog'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(stderr).toMatch(/nothing for rt to run.*Fix: add a preemption section or alarms\/relays/);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
