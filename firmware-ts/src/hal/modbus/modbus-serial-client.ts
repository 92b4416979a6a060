// ModbusClient on the `modbus-serial` library: RTU on a serial path (Pi UART, USB RS-485
// adapter, or a bench pty) and TCP. Requests are single-flight per client: modbus-serial keeps
// the unit id and timeout as client state, and one RS-485 line carries one request at a time.
// Request timeouts run on the library's own (real) timers.
import { createRequire } from 'node:module';
import { type ModbusRequest, type ModbusResponse, UnsupportedPlatformError } from '@brana/hardware';
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
import { CheckedModbusClient } from './checked-client.ts';
import { checkTimeout } from './request-checks.ts';
import { describeConnectFailure } from './tcp-connect.ts';

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
  /** Give up a connection attempt after this long. Default 3000 ms. */
  connectTimeoutMs?: number;
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

/** One request through modbus-serial's per-function-code methods, answered as a ModbusResponse. */
async function callModbusSerial(c: ModbusRTU, r: ModbusRequest): Promise<ModbusResponse> {
  switch (r.fc) {
    case 1:
      return { fc: 1, bits: (await c.readCoils(r.address, r.quantity)).data.slice(0, r.quantity) };
    case 2:
      return { fc: 2, bits: (await c.readDiscreteInputs(r.address, r.quantity)).data.slice(0, r.quantity) };
    case 3:
      return { fc: 3, registers: (await c.readHoldingRegisters(r.address, r.quantity)).data };
    case 4:
      return { fc: 4, registers: (await c.readInputRegisters(r.address, r.quantity)).data };
    case 5:
      await c.writeCoil(r.address, r.value);
      return r;
    case 6:
      await c.writeRegister(r.address, r.value);
      return r;
    case 15:
      await c.writeCoils(r.address, r.values);
      return { fc: 15, address: r.address, quantity: r.values.length };
    case 16:
      await c.writeRegisters(r.address, r.values);
      return { fc: 16, address: r.address, quantity: r.values.length };
  }
}

export class ModbusSerialClient extends CheckedModbusClient {
  readonly target: string;
  readonly #client: ModbusRTU;
  readonly #defaultTimeoutMs: number;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(target: string, client: ModbusRTU, defaultTimeoutMs: number) {
    super();
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
    const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    const client = new (loadModbusSerial())();
    // Without a bound, an attempt to a host that is switched off waits out the kernel's SYN retries.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        client.destroy(() => {});
        reject(
          new PortOpenError(
            target,
            `no answer to the connection attempt within ${connectTimeoutMs} ms`,
            'check that the device is powered and on the network (ping it), and its address',
          ),
        );
      }, connectTimeoutMs);
    });
    try {
      await Promise.race([client.connectTCP(options.host, { port }), timedOut]);
    } catch (e) {
      if (e instanceof PortOpenError) throw e;
      const { problem, fix } = describeConnectFailure(e as NodeJS.ErrnoException, {
        host: options.host,
        port,
      });
      throw new PortOpenError(target, problem, fix, e);
    } finally {
      clearTimeout(timer);
    }
    return new ModbusSerialClient(target, client, timeoutMs);
  }

  get isOpen(): boolean {
    return !this.#closed && this.#client.isOpen;
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

  protected get defaultTimeoutMs(): number {
    return this.#defaultTimeoutMs;
  }

  protected transact(
    info: ModbusRequestInfo,
    request: ModbusRequest,
    timeoutMs: number,
  ): Promise<ModbusResponse> {
    const { unitId } = info;
    const run = async (): Promise<ModbusResponse> => {
      if (this.#closed || !this.#client.isOpen)
        throw new PortClosedError(this.target, 'the connection is closed');
      this.#client.setID(unitId);
      this.#client.setTimeout(timeoutMs);
      this.#discardStaleBytes();
      try {
        return await callModbusSerial(this.#client, request);
      } catch (e) {
        throw mapModbusError(info, timeoutMs, this.#closed, e);
      }
    };
    const result = this.#chain.then(run, run);
    this.#chain = result.catch(() => {});
    return result;
  }
}
