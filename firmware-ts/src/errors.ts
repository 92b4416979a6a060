// Typed errors of @brana/firmware. Every error carries a stable `code`, says whether retrying can
// help (`retryable`), keeps the underlying `cause`, and its message ends with what to do about it.
// Other modules append their classes below; keep one class per failure a caller can act on.

export interface FirmwareErrorOptions {
  code: string;
  retryable?: boolean;
  cause?: unknown;
}

/** Base of every error this package throws on purpose. */
export class FirmwareError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  override readonly cause: unknown;

  constructor(message: string, options: FirmwareErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    this.cause = options.cause;
  }
}

// ---------------------------------------------------------------------------------------------
// Hardware abstraction (hal/)

/** A HAL configuration or an argument to a HAL call is invalid; `path` names the offending field. */
export class HalConfigError extends FirmwareError {
  readonly path: string;
  readonly fix: string;

  constructor(path: string, problem: string, fix: string) {
    super(`${path}: ${problem}. Fix: ${fix}`, { code: 'HAL_CONFIG_INVALID', retryable: false });
    this.path = path;
    this.fix = fix;
  }
}

/** A GPIO line could not be opened, read or written (permissions, line busy, bench bus gone). */
export class GpioError extends FirmwareError {
  readonly line: string;

  constructor(line: string, problem: string, fix: string, cause?: unknown) {
    super(`GPIO ${line}: ${problem}. Fix: ${fix}`, { code: 'GPIO_FAILED', retryable: false, cause });
    this.line = line;
  }
}

/** A serial port (or Modbus connection) is closed, or closed while a request was in flight. */
export class PortClosedError extends FirmwareError {
  readonly port: string;

  constructor(port: string, what = 'the port is closed', cause?: unknown) {
    super(`${port}: ${what}. Fix: open the port first, or reopen it after a disconnect`, {
      code: 'PORT_CLOSED',
      retryable: true,
      cause,
    });
    this.port = port;
  }
}

/** Opening a serial port or connecting to a Modbus TCP server failed. */
export class PortOpenError extends FirmwareError {
  readonly port: string;

  constructor(port: string, problem: string, fix: string, cause?: unknown) {
    super(`${port}: ${problem}. Fix: ${fix}`, { code: 'PORT_OPEN_FAILED', retryable: true, cause });
    this.port = port;
  }
}

/** What every Modbus failure names: which bus, which device, which function, which address. */
export interface ModbusRequestInfo {
  /** `rtu:/dev/ttyAMA0` or `tcp:10.0.0.5:502`. */
  target: string;
  unitId: number;
  functionCode: number;
  address: number;
}

function describeRequest(r: ModbusRequestInfo): string {
  const fc = `FC${String(r.functionCode).padStart(2, '0')}`;
  return `${r.target} unit ${r.unitId} ${fc} @${r.address}`;
}

/** Base of Modbus request failures; catch this to handle them all. */
export class ModbusError extends FirmwareError {
  readonly request: ModbusRequestInfo;

  constructor(request: ModbusRequestInfo, message: string, options: FirmwareErrorOptions) {
    super(`${describeRequest(request)}: ${message}`, options);
    this.request = request;
  }
}

/** No (complete) answer within the per-request timeout. */
export class ModbusTimeoutError extends ModbusError {
  readonly timeoutMs: number;

  constructor(request: ModbusRequestInfo, timeoutMs: number, cause?: unknown) {
    super(
      request,
      `no answer within ${timeoutMs} ms. Fix: check wiring, unit id, baud rate and parity, or raise the timeout`,
      { code: 'MODBUS_TIMEOUT', retryable: true, cause },
    );
    this.timeoutMs = timeoutMs;
  }
}

/** Names of the exception codes in the Modbus Application Protocol v1.1b3, section 7. */
export const MODBUS_EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

const EXCEPTION_FIXES: Readonly<Record<number, string>> = {
  1: 'the device does not support this function code; check the device profile',
  2: 'the device has no register at this address; check the address and count in the device profile',
  3: 'the device rejected the value or count; check the value range and the maximum registers per read',
  4: 'the device reports an internal fault; check the device',
  5: 'the device accepted a long-running command; poll again later',
  6: 'the device is busy; retry later',
  8: 'the device reports a memory parity error; check the device',
  10: 'the gateway has no path to the target; check the gateway configuration',
  11: 'the target behind the gateway did not answer; check the unit id and its wiring',
};

/** The device answered with a Modbus exception response (function code | 0x80). */
export class ModbusExceptionError extends ModbusError {
  readonly exceptionCode: number;
  readonly exceptionName: string;

  constructor(request: ModbusRequestInfo, exceptionCode: number, cause?: unknown) {
    const name = MODBUS_EXCEPTION_NAMES[exceptionCode] ?? 'unknown exception';
    const fix = EXCEPTION_FIXES[exceptionCode] ?? 'see the device manual for this exception code';
    super(request, `exception ${exceptionCode} (${name}). Fix: ${fix}`, {
      code: 'MODBUS_EXCEPTION',
      // Acknowledge, busy and gateway-target-silent are transient by definition.
      retryable: exceptionCode === 5 || exceptionCode === 6 || exceptionCode === 11,
      cause,
    });
    this.exceptionCode = exceptionCode;
    this.exceptionName = name;
  }
}

/** An RTU answer arrived with a wrong CRC-16 (noise, wrong baud rate, two masters on one line). */
export class ModbusCrcError extends ModbusError {
  /** Where the check failed, e.g. "CRC 0x1234 at byte 7, expected 0xabcd", when the master knows. */
  readonly detail: string | undefined;

  constructor(request: ModbusRequestInfo, cause?: unknown, detail?: string) {
    super(
      request,
      `answer failed the CRC check${detail ? ` (${detail})` : ''}. Fix: check termination, shielding and baud rate; make sure only one master drives the line`,
      { code: 'MODBUS_CRC', retryable: true, cause },
    );
    this.detail = detail;
  }
}

/** An answer arrived but was malformed: wrong length, wrong unit id, wrong function code. */
export class ModbusBadResponseError extends ModbusError {
  readonly detail: string;

  constructor(request: ModbusRequestInfo, detail: string, cause?: unknown) {
    super(
      request,
      `malformed answer (${detail}). Fix: check for a second master or a device answering for another unit id`,
      {
        code: 'MODBUS_BAD_RESPONSE',
        retryable: true,
        cause,
      },
    );
    this.detail = detail;
  }
}
