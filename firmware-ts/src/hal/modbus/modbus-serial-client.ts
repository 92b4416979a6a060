// ModbusClient on the `modbus-serial` library: RTU on a serial path (Pi UART, USB RS-485
// adapter, or a bench pty) and TCP. Requests are single-flight per client: modbus-serial keeps
// the unit id and timeout as client state, and one RS-485 line carries one request at a time.
// Request timeouts run on the library's own (real) timers.
import { createRequire } from 'node:module';
import { UnsupportedPlatformError } from '@brana/hardware';
import type { ModbusRTU as ModbusRTUInstanceType } from 'modbus-serial/ModbusRTU.js';
import {
  FirmwareError,
  ModbusBadResponseError,
  ModbusCrcError,
  ModbusError,
  ModbusExceptionError,
  type ModbusRequestInfo,
  ModbusTimeoutError,
  PortClosedError,
  PortOpenError,
} from '../../errors.ts';
import { resolveSerialSettings } from '../serial/options.ts';
import type { SerialSettings } from '../serial/serial-port.ts';
import { MODBUS_LIMITS, type ModbusClient, type ModbusRequestOptions } from './modbus-client.ts';
import { checkRange, checkRegisterValues, checkTimeout, checkUnitId } from './request-checks.ts';

type ModbusRTU = ModbusRTUInstanceType;
type ModbusRTUClass = new () => ModbusRTU;

const require = createRequire(import.meta.url);

export interface ModbusRtuOptions extends Partial<SerialSettings> {
  /** Serial device or pty path. */
  path: string;
  /** Default per-request timeout. Default 500 ms. */
  timeoutMs?: number;
}

export interface ModbusTcpOptions {
  host: string;
  /** Default 502. */
  port?: number;
  /** Default per-request timeout. Default 500 ms. */
  timeoutMs?: number;
}

/** Wraps a modbus-serial failure in the typed error a caller can act on. */
export function mapModbusError(
  request: ModbusRequestInfo,
  timeoutMs: number,
  closed: boolean,
  e: unknown,
): Error {
  if (e instanceof FirmwareError) return e;
  const err = e as { message?: string; errno?: string; modbusCode?: number; name?: string };
  const message = String(err?.message ?? e);
  if (typeof err?.modbusCode === 'number') return new ModbusExceptionError(request, err.modbusCode, e);
  if (closed || message === 'Port Not Open' || err?.name === 'PortNotOpenError') {
    return new PortClosedError(request.target, 'the connection is closed', e);
  }
  if (err?.errno === 'ETIMEDOUT' || message === 'Timed out')
    return new ModbusTimeoutError(request, timeoutMs, e);
  if (message === 'CRC error') return new ModbusCrcError(request, e);
  if (/^(Data length error|Unexpected data error)/.test(message))
    return new ModbusBadResponseError(request, message, e);
  return new ModbusError(request, `request failed (${message}). Fix: check the connection and the device`, {
    code: 'MODBUS_FAILED',
    retryable: true,
    cause: e,
  });
}

function loadModbusSerial(): ModbusRTUClass {
  try {
    return require('modbus-serial') as ModbusRTUClass;
  } catch (e) {
    throw new UnsupportedPlatformError(
      'modbus',
      'the modbus-serial library cannot load here',
      'run npm install in the repository',
      e,
    );
  }
}

export class ModbusSerialClient implements ModbusClient {
  readonly target: string;
  readonly #client: ModbusRTU;
  readonly #defaultTimeoutMs: number;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(target: string, client: ModbusRTU, defaultTimeoutMs: number) {
    this.target = target;
    this.#client = client;
    this.#defaultTimeoutMs = defaultTimeoutMs;
    // The library emits 'error' on socket failures; requests report them, so don't crash here.
    client.on('error', () => {});
  }

  /** Opens RTU on a serial path. Throws PortOpenError naming the path and what to check. */
  static async connectRtu(options: ModbusRtuOptions): Promise<ModbusSerialClient> {
    const target = `rtu:${options.path}`;
    const timeoutMs = options.timeoutMs ?? 500;
    checkTimeout(timeoutMs);
    const s = resolveSerialSettings(options.path, options);
    const client = new (loadModbusSerial())();
    try {
      await client.connectRTUBuffered(options.path, {
        baudRate: s.baudRate,
        dataBits: s.dataBits,
        parity: s.parity,
        stopBits: s.stopBits,
      });
    } catch (e) {
      throw new PortOpenError(
        target,
        `cannot open the serial line (${String((e as Error)?.message ?? e)})`,
        'check the path, that no other process holds it, and that this user is in the dialout group',
        e,
      );
    }
    return new ModbusSerialClient(target, client, timeoutMs);
  }

  /** Connects over TCP. Throws PortOpenError naming host and port. */
  static async connectTcp(options: ModbusTcpOptions): Promise<ModbusSerialClient> {
    const port = options.port ?? 502;
    const target = `tcp:${options.host}:${port}`;
    const timeoutMs = options.timeoutMs ?? 500;
    checkTimeout(timeoutMs);
    const client = new (loadModbusSerial())();
    try {
      await client.connectTCP(options.host, { port });
    } catch (e) {
      throw new PortOpenError(
        target,
        `cannot connect (${String((e as Error)?.message ?? e)})`,
        `check that the device or simulator listens on ${options.host}:${port} and that no firewall blocks it`,
        e,
      );
    }
    return new ModbusSerialClient(target, client, timeoutMs);
  }

  get isOpen(): boolean {
    return !this.#closed && this.#client.isOpen;
  }

  readCoils(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<boolean[]> {
    checkUnitId(unitId, false);
    checkRange(address, count, MODBUS_LIMITS.maxReadBits);
    return this.#run(unitId, 1, address, options, async (c) =>
      (await c.readCoils(address, count)).data.slice(0, count),
    );
  }

  readDiscreteInputs(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<boolean[]> {
    checkUnitId(unitId, false);
    checkRange(address, count, MODBUS_LIMITS.maxReadBits);
    return this.#run(unitId, 2, address, options, async (c) =>
      (await c.readDiscreteInputs(address, count)).data.slice(0, count),
    );
  }

  readHoldingRegisters(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<number[]> {
    checkUnitId(unitId, false);
    checkRange(address, count, MODBUS_LIMITS.maxReadRegisters);
    return this.#run(
      unitId,
      3,
      address,
      options,
      async (c) => (await c.readHoldingRegisters(address, count)).data,
    );
  }

  readInputRegisters(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<number[]> {
    checkUnitId(unitId, false);
    checkRange(address, count, MODBUS_LIMITS.maxReadRegisters);
    return this.#run(
      unitId,
      4,
      address,
      options,
      async (c) => (await c.readInputRegisters(address, count)).data,
    );
  }

  writeSingleCoil(
    unitId: number,
    address: number,
    value: boolean,
    options?: ModbusRequestOptions,
  ): Promise<void> {
    checkUnitId(unitId, true);
    checkRange(address, 1, 1);
    return this.#run(unitId, 5, address, options, async (c) => {
      await c.writeCoil(address, value);
    });
  }

  writeSingleRegister(
    unitId: number,
    address: number,
    value: number,
    options?: ModbusRequestOptions,
  ): Promise<void> {
    checkUnitId(unitId, true);
    checkRange(address, 1, 1);
    checkRegisterValues([value]);
    return this.#run(unitId, 6, address, options, async (c) => {
      await c.writeRegister(address, value);
    });
  }

  writeMultipleCoils(
    unitId: number,
    address: number,
    values: readonly boolean[],
    options?: ModbusRequestOptions,
  ): Promise<void> {
    checkUnitId(unitId, true);
    checkRange(address, values.length, MODBUS_LIMITS.maxWriteBits);
    return this.#run(unitId, 15, address, options, async (c) => {
      await c.writeCoils(address, [...values]);
    });
  }

  writeMultipleRegisters(
    unitId: number,
    address: number,
    values: readonly number[],
    options?: ModbusRequestOptions,
  ): Promise<void> {
    checkUnitId(unitId, true);
    checkRange(address, values.length, MODBUS_LIMITS.maxWriteRegisters);
    checkRegisterValues(values);
    return this.#run(unitId, 16, address, options, async (c) => {
      await c.writeRegisters(address, [...values]);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => {
      if (!this.#client.isOpen) {
        resolve();
        return;
      }
      this.#client.close(() => resolve());
    });
  }

  /**
   * A new RTU frame starts after line silence, so bytes left from an earlier transaction (a frame
   * cut short by noise, a late answer to a timed-out request) must not prefix the next answer.
   * modbus-serial 8's buffered RTU port keeps them in `_buffer` and would report the next answer
   * as a CRC error; clear it before each request. TCP ports have no such buffer.
   */
  #discardStaleBytes(): void {
    const port = (this.#client as unknown as { _port?: { _buffer?: Buffer } })._port;
    if (port !== undefined && Buffer.isBuffer(port._buffer)) port._buffer = Buffer.alloc(0);
  }

  #run<T>(
    unitId: number,
    functionCode: number,
    address: number,
    options: ModbusRequestOptions | undefined,
    call: (client: ModbusRTU) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = options?.timeoutMs ?? this.#defaultTimeoutMs;
    checkTimeout(timeoutMs);
    const request: ModbusRequestInfo = { target: this.target, unitId, functionCode, address };
    const run = async (): Promise<T> => {
      if (this.#closed || !this.#client.isOpen)
        throw new PortClosedError(this.target, 'the connection is closed');
      this.#client.setID(unitId);
      this.#client.setTimeout(timeoutMs);
      this.#discardStaleBytes();
      try {
        return await call(this.#client);
      } catch (e) {
        throw mapModbusError(request, timeoutMs, this.#closed, e);
      }
    };
    const result = this.#chain.then(run, run);
    this.#chain = result.catch(() => {});
    return result;
  }
}
