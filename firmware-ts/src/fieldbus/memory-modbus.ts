// An in-memory Modbus master for engine tests and laptops without a serial line: devices are
// register maps, answers take `latencyMs` on the given clock, and faults can be switched on per
// unit (silent, exception, CRC error, port gone). It keeps the ModbusClient contract: typed
// errors, timeouts measured on the clock, PortClosedError after close.
import {
  ModbusCrcError,
  ModbusExceptionError,
  type ModbusRequestInfo,
  ModbusTimeoutError,
  PortClosedError,
} from '../errors.ts';
import type { Clock, ModbusClient, ModbusRequestOptions } from '../hal/index.ts';

export type MemoryFault = 'silent' | 'crc' | { exception: number };

export interface MemoryDevice {
  /** FC03 holding registers by address. */
  holding: Map<number, number>;
  /** FC04 input registers by address. */
  input: Map<number, number>;
  fault?: MemoryFault;
}

export class MemoryModbusClient implements ModbusClient {
  readonly target: string;
  readonly devices = new Map<number, MemoryDevice>();
  /** Every request as `unit:fc:address:count`, in order, for checking what went on the line. */
  readonly log: string[] = [];
  #open = true;
  #inFlight = 0;
  /** Most requests ever outstanding at once. */
  maxInFlight = 0;

  constructor(
    readonly clock: Clock,
    readonly latencyMs = 20,
    readonly defaultTimeoutMs = 500,
    name = 'memory',
  ) {
    this.target = `memory:${name}`;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  device(unit: number): MemoryDevice {
    let d = this.devices.get(unit);
    if (!d) {
      d = { holding: new Map(), input: new Map() };
      this.devices.set(unit, d);
    }
    return d;
  }

  /** Simulates the adapter being unplugged: requests in flight and later ones fail with PortClosedError. */
  unplug(): void {
    this.#open = false;
  }

  async #request(unit: number, fc: number, address: number, count: number, o?: ModbusRequestOptions) {
    const info: ModbusRequestInfo = { target: this.target, unitId: unit, functionCode: fc, address };
    if (!this.#open) throw new PortClosedError(this.target);
    this.log.push(`${unit}:${fc}:${address}:${count}`);
    this.#inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    try {
      const d = this.devices.get(unit);
      const timeoutMs = o?.timeoutMs ?? this.defaultTimeoutMs;
      if (!d || d.fault === 'silent') {
        await this.#sleep(timeoutMs);
        throw new ModbusTimeoutError(info, timeoutMs);
      }
      await this.#sleep(this.latencyMs);
      if (!this.#open) throw new PortClosedError(this.target, 'the port closed during the request');
      if (d.fault === 'crc') throw new ModbusCrcError(info);
      if (typeof d.fault === 'object') throw new ModbusExceptionError(info, d.fault.exception);
      const map = fc === 3 ? d.holding : d.input;
      const out: number[] = [];
      for (let a = address; a < address + count; a++) {
        const v = map.get(a);
        if (v === undefined) throw new ModbusExceptionError(info, 2);
        out.push(v);
      }
      return out;
    } finally {
      this.#inFlight--;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }

  readHoldingRegisters(unit: number, address: number, count: number, o?: ModbusRequestOptions) {
    return this.#request(unit, 3, address, count, o);
  }
  readInputRegisters(unit: number, address: number, count: number, o?: ModbusRequestOptions) {
    return this.#request(unit, 4, address, count, o);
  }
  async readCoils(unit: number, address: number, count: number, o?: ModbusRequestOptions) {
    return (await this.#request(unit, 3, address, count, o)).map((w) => w !== 0);
  }
  async readDiscreteInputs(unit: number, address: number, count: number, o?: ModbusRequestOptions) {
    return (await this.#request(unit, 4, address, count, o)).map((w) => w !== 0);
  }
  async writeSingleCoil(unit: number, address: number, value: boolean) {
    this.device(unit).holding.set(address, value ? 1 : 0);
  }
  async writeSingleRegister(unit: number, address: number, value: number) {
    this.device(unit).holding.set(address, value);
  }
  async writeMultipleCoils(unit: number, address: number, values: readonly boolean[]) {
    values.forEach((v, i) => this.device(unit).holding.set(address + i, v ? 1 : 0));
  }
  async writeMultipleRegisters(unit: number, address: number, values: readonly number[]) {
    values.forEach((v, i) => this.device(unit).holding.set(address + i, v));
  }
  async close(): Promise<void> {
    this.#open = false;
  }
}
