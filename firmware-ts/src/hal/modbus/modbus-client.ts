// Modbus master primitives. Meaning (which register is energy, what scale) lives in device
// profiles; the poller turns profile points into these calls.
//
// Failures reject with the typed errors of ../../errors.ts: ModbusTimeoutError,
// ModbusExceptionError (with `exceptionCode`), ModbusCrcError, ModbusBadResponseError, PortClosedError.

export interface ModbusRequestOptions {
  /** Overrides the client's default timeout for this request. */
  timeoutMs?: number;
}

export interface ModbusClient {
  /** `rtu:<path>` or `tcp:<host>:<port>`, used in errors and logs. */
  readonly target: string;
  readonly isOpen: boolean;
  /** Once closed: why, when the client knows (`the device closed the connection`). */
  readonly closeReason?: string;
  /** FC01. Addresses are 0-based protocol addresses, not 1-based "coil 00001" numbers. */
  readCoils(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<boolean[]>;
  /** FC02. */
  readDiscreteInputs(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<boolean[]>;
  /** FC03. Returns raw 16-bit words (0..65535). */
  readHoldingRegisters(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<number[]>;
  /** FC04. Returns raw 16-bit words (0..65535). */
  readInputRegisters(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<number[]>;
  /** FC05. */
  writeSingleCoil(
    unitId: number,
    address: number,
    value: boolean,
    options?: ModbusRequestOptions,
  ): Promise<void>;
  /** FC06. */
  writeSingleRegister(
    unitId: number,
    address: number,
    value: number,
    options?: ModbusRequestOptions,
  ): Promise<void>;
  /** FC15. */
  writeMultipleCoils(
    unitId: number,
    address: number,
    values: readonly boolean[],
    options?: ModbusRequestOptions,
  ): Promise<void>;
  /** FC16. */
  writeMultipleRegisters(
    unitId: number,
    address: number,
    values: readonly number[],
    options?: ModbusRequestOptions,
  ): Promise<void>;
  /** Closes the connection; requests in flight reject with PortClosedError. Idempotent. */
  close(): Promise<void>;
}

/** Protocol limits, Modbus Application Protocol v1.1b3 section 6. */
export const MODBUS_LIMITS = {
  maxReadBits: 2000,
  maxReadRegisters: 125,
  maxWriteBits: 1968,
  maxWriteRegisters: 123,
  /** Unit 0 is broadcast (write only, no answer); 248..255 are reserved on RTU. TCP allows 255. */
  maxUnitId: 255,
} as const;
