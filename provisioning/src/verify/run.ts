// Runs a VerifyPlan against real lines and buses: reads the inputs, pulses each output alone (only
// when asked) checking its readback, and asks each Modbus device for one point. Every output it
// opened is driven off at the end, whatever happened, including an abort (Ctrl-C).
import {
  type DigitalInput,
  type DigitalOutput,
  type GatewayConfig,
  type GpioBackend,
  type Level,
  type ModbusClient,
  ModbusExceptionError,
  ModbusTimeoutError,
} from '@brana/firmware';
import { type Catalogue, decodePoint, registerCount } from '@brana/hardware';
import { VerifyError } from '../errors.ts';
import {
  type DeviceCheck,
  firstConflict,
  type GpioKind,
  gpioLine,
  type InputCheck,
  type OutputCheck,
  pulseSequence,
  type VerifyPlan,
} from './plan.ts';

export type BusConfig = GatewayConfig['buses'][number];

export interface VerifyIo {
  gpio: GpioBackend;
  gpioKind: GpioKind;
  /** A connected client for one bus of the config. */
  connectBus(bus: BusConfig): Promise<ModbusClient>;
}

export interface VerifyOptions {
  /** Pulse the outputs (relays, approach outputs); off by default, since it switches real contacts. */
  outputs: boolean;
  /** How long each output stays on. */
  pulseMs: number;
  /** How long a readback may take to follow its output (the config's readbackSettleMs by default). */
  settleMs: number;
  /** Per Modbus request; default the device profile's bus.timeoutMs. */
  modbusTimeoutMs?: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

export interface InputResult extends InputCheck {
  level: Level | null;
  result: 'active' | 'inactive' | 'error';
  detail: string;
}
export interface OutputResult extends OutputCheck {
  result: 'ok' | 'pulsed' | 'stuck-open' | 'stuck-closed' | 'error' | 'skipped';
  detail: string;
}
export interface DeviceResult {
  device: string;
  bus: string;
  unit: number;
  point: string | null;
  result: 'answer' | 'timeout' | 'exception' | 'error' | 'skipped';
  value?: number | string | null;
  unitOfValue?: string;
  exceptionCode?: number;
  detail: string;
}
export interface VerifyReport {
  inputs: InputResult[];
  outputs: OutputResult[];
  devices: DeviceResult[];
  /** No stuck contact, every output that was pulsed followed, every device answered. */
  ok: boolean;
  interrupted: boolean;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Waits until `input` reads `level` or `ms` pass; true when it did. Polls every 2 ms. */
async function waitFor(
  input: DigitalInput,
  level: Level,
  ms: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const end = performance.now() + ms;
  for (;;) {
    if (input.read() === level) return true;
    if (performance.now() >= end || signal?.aborted) return input.read() === level;
    await sleep(2, signal);
  }
}

function message(err: unknown): string {
  return (err as Error).message?.split('\n')[0] ?? String(err);
}

async function readInputs(
  io: VerifyIo,
  checks: InputCheck[],
  progress: (l: string) => void,
): Promise<InputResult[]> {
  const results: InputResult[] = [];
  for (const c of checks) {
    let input: DigitalInput | undefined;
    try {
      input = await io.gpio.openInput(gpioLine(io.gpioKind, c.line, `${c.role} ${c.name}`), {
        activeLow: c.activeLow,
      });
      const level = input.read();
      results.push({
        ...c,
        level,
        result: level === 1 ? 'active' : 'inactive',
        detail: `level ${level}${c.activeLow ? ' (active low)' : ''}`,
      });
    } catch (err) {
      results.push({ ...c, level: null, result: 'error', detail: message(err) });
    } finally {
      await input?.close();
    }
    progress(`input ${c.name} (${c.line}): ${results.at(-1)!.result}`);
  }
  return results;
}

async function pulseOutputs(
  io: VerifyIo,
  checks: OutputCheck[],
  config: GatewayConfig,
  o: VerifyOptions,
  progress: (l: string) => void,
): Promise<OutputResult[]> {
  // The sequence pulses one output at a time; refuse to run a plan that would ever overlap two
  // conflicting approaches (a guard for future changes of the order, checked by property tests).
  const approachByLine = new Map(checks.filter((c) => c.role === 'approach').map((c) => [c.line, c.name]));
  const clash = firstConflict(pulseSequence(checks), approachByLine, config.preemption?.conflicts ?? {});
  if (clash)
    throw new VerifyError(`the pulse plan would assert ${clash.a} with ${clash.b}`, 'report this as a bug');

  const opened: DigitalOutput[] = [];
  const readbacks: DigitalInput[] = [];
  const results: OutputResult[] = [];
  try {
    for (const c of checks) {
      if (o.signal?.aborted) {
        results.push({ ...c, result: 'skipped', detail: 'interrupted' });
        continue;
      }
      let out: DigitalOutput | undefined;
      let rb: DigitalInput | undefined;
      try {
        out = await io.gpio.openOutput(gpioLine(io.gpioKind, c.line, `${c.role} ${c.name}`), {
          initial: 0,
          activeLow: c.activeLow,
        });
        opened.push(out);
        if (c.readback) {
          rb = await io.gpio.openInput(gpioLine(io.gpioKind, c.readback, `${c.name} readback`));
          readbacks.push(rb);
          if (!(await waitFor(rb, 0, o.settleMs, o.signal))) {
            results.push({
              ...c,
              result: 'stuck-closed',
              detail: `readback ${c.readback} reads 1 while the output is off; not pulsed`,
            });
            continue;
          }
        }
        out.write(1);
        const started = performance.now();
        let followed = true;
        if (rb) followed = await waitFor(rb, 1, o.settleMs, o.signal);
        await sleep(Math.max(0, o.pulseMs - (performance.now() - started)), o.signal);
        out.write(0);
        let released = true;
        if (rb) released = await waitFor(rb, 0, o.settleMs, o.signal);
        if (o.signal?.aborted) {
          results.push({ ...c, result: 'skipped', detail: 'interrupted during its pulse; switched off' });
        } else if (!rb)
          results.push({
            ...c,
            result: 'pulsed',
            detail: `on for ${o.pulseMs} ms; no readback configured: watch the relay`,
          });
        else if (!followed)
          results.push({
            ...c,
            result: 'stuck-open',
            detail: `readback ${c.readback} stayed 0 for ${o.settleMs} ms with the output on`,
          });
        else if (!released)
          results.push({
            ...c,
            result: 'stuck-closed',
            detail: `readback ${c.readback} stayed 1 for ${o.settleMs} ms after the output went off`,
          });
        else results.push({ ...c, result: 'ok', detail: `readback ${c.readback} followed on and off` });
      } catch (err) {
        results.push({ ...c, result: 'error', detail: message(err) });
      } finally {
        // Off before the next output goes on, even when this one failed half-way.
        try {
          out?.write(0);
        } catch {
          // the close below drives 0 as well
        }
      }
      progress(`output ${c.name} (${c.line}): ${results.at(-1)!.result}`);
    }
  } finally {
    for (const out of opened) {
      try {
        out.write(0);
      } catch {
        // close() drives 0 again
      }
      await out.close().catch(() => {});
    }
    for (const rb of readbacks) await rb.close().catch(() => {});
  }
  return results;
}

async function pollDevices(
  io: VerifyIo,
  config: GatewayConfig,
  catalogue: Catalogue,
  checks: DeviceCheck[],
  o: VerifyOptions,
  progress: (l: string) => void,
): Promise<DeviceResult[]> {
  const results: DeviceResult[] = [];
  const clients = new Map<string, ModbusClient | Error>();
  try {
    for (const d of checks) {
      const base = { device: d.device, bus: d.bus, unit: d.unit, point: d.point?.key ?? null };
      if (o.signal?.aborted) {
        results.push({ ...base, result: 'skipped', detail: 'interrupted' });
        continue;
      }
      if (!d.point) {
        results.push({ ...base, result: 'skipped', detail: d.skip ?? 'nothing to read' });
        continue;
      }
      let client = clients.get(d.bus);
      if (client === undefined) {
        const bus = config.buses.find((b) => b.name === d.bus)!;
        try {
          client = await io.connectBus(bus);
        } catch (err) {
          client = err as Error;
        }
        clients.set(d.bus, client);
      }
      if (client instanceof Error) {
        results.push({ ...base, result: 'error', detail: `bus ${d.bus} did not open: ${message(client)}` });
        progress(`device ${d.device}: error`);
        continue;
      }
      const profile = catalogue.get(d.profile);
      const timeoutMs = o.modbusTimeoutMs ?? (profile?.kind === 'modbus' ? profile.bus.timeoutMs : 1000);
      const p = d.point;
      const started = performance.now();
      try {
        let value: number | string | null;
        if (p.functionCode === 1 || p.functionCode === 2) {
          const bits =
            p.functionCode === 1
              ? await client.readCoils(d.unit, p.address, 1, { timeoutMs })
              : await client.readDiscreteInputs(d.unit, p.address, 1, { timeoutMs });
          value = bits[0] ? 1 : 0;
        } else {
          const count = registerCount(p.type, p.words);
          const regs =
            p.functionCode === 3
              ? await client.readHoldingRegisters(d.unit, p.address, count, { timeoutMs })
              : await client.readInputRegisters(d.unit, p.address, count, { timeoutMs });
          value = decodePoint(p, regs).value as number | string | null;
        }
        const ms = Math.round(performance.now() - started);
        results.push({
          ...base,
          result: 'answer',
          value,
          unitOfValue: p.unit,
          detail: `${p.key} = ${typeof value === 'number' ? Number(value.toFixed(3)) : (value ?? 'n/a')}${p.unit ? ` ${p.unit}` : ''} in ${ms} ms`,
        });
      } catch (err) {
        if (err instanceof ModbusTimeoutError) {
          results.push({
            ...base,
            result: 'timeout',
            detail: `no answer within ${timeoutMs} ms: check address ${d.unit}, wiring (A/B), baud rate and termination`,
          });
        } else if (err instanceof ModbusExceptionError) {
          results.push({
            ...base,
            result: 'exception',
            exceptionCode: err.exceptionCode,
            detail: message(err),
          });
        } else {
          results.push({ ...base, result: 'error', detail: message(err) });
        }
      }
      progress(`device ${d.device} (${d.bus} unit ${d.unit}): ${results.at(-1)!.result}`);
    }
  } finally {
    for (const c of clients.values()) if (!(c instanceof Error)) await c.close().catch(() => {});
  }
  return results;
}

export async function runVerify(
  plan: VerifyPlan,
  config: GatewayConfig,
  catalogue: Catalogue,
  io: VerifyIo,
  o: VerifyOptions,
): Promise<VerifyReport> {
  const progress = o.progress ?? (() => {});
  const inputs = await readInputs(io, plan.inputs, progress);
  const outputs = o.outputs
    ? await pulseOutputs(io, plan.outputs, config, o, progress)
    : plan.outputs.map((c) => ({ ...c, result: 'skipped' as const, detail: 'not pulsed: pass --outputs' }));
  const devices = await pollDevices(io, config, catalogue, plan.devices, o, progress);
  const interrupted = o.signal?.aborted ?? false;
  const ok =
    !interrupted &&
    inputs.every((i) => i.result !== 'error') &&
    outputs.every(
      (r) => r.result === 'ok' || r.result === 'pulsed' || (!o.outputs && r.result === 'skipped'),
    ) &&
    devices.every((d) => d.result === 'answer' || (d.result === 'skipped' && !d.point));
  return { inputs, outputs, devices, ok, interrupted };
}
