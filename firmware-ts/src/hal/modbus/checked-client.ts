// The eight ModbusClient methods, once for every master: arguments are checked synchronously (so a
// wrong address or count throws HalConfigError at the call, before a promise or the bus is
// involved), then one ModbusRequest goes to the backend's `send`.
import type { ModbusRequest, ModbusResponse } from '@brana/hardware';
import type { ModbusRequestInfo } from '../../errors.ts';
import { MODBUS_LIMITS, type ModbusClient, type ModbusRequestOptions } from './modbus-client.ts';
import { checkRange, checkRegisterValues, checkTimeout, checkUnitId } from './request-checks.ts';

const bitsOf = (r: ModbusResponse) => (r as { bits: boolean[] }).bits;
const registersOf = (r: ModbusResponse) => (r as { registers: number[] }).registers;
const nothing = () => {};

export abstract class CheckedModbusClient implements ModbusClient {
  abstract readonly target: string;
  abstract readonly isOpen: boolean;
  abstract close(): Promise<void>;

  /** Timeout of a request that names none, ms. */
  protected abstract readonly defaultTimeoutMs: number;

  /**
   * Puts one checked request on the line and resolves with the device's normal answer (bits for
   * FC01/02, registers for FC03/04); failures reject with the typed Modbus errors, naming `info`.
   */
  protected abstract transact(
    info: ModbusRequestInfo,
    request: ModbusRequest,
    timeoutMs: number,
  ): Promise<ModbusResponse>;

  /** The request's timeout is checked here, synchronously, like its other arguments. */
  protected send(
    unitId: number,
    request: ModbusRequest,
    options?: ModbusRequestOptions,
  ): Promise<ModbusResponse> {
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    checkTimeout(timeoutMs);
    const info = { target: this.target, unitId, functionCode: request.fc, address: request.address };
    return this.transact(info, request, timeoutMs);
  }

  readCoils(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<boolean[]> {
    checkUnitId(unitId, false);
    checkRange(address, count, MODBUS_LIMITS.maxReadBits);
    return this.send(unitId, { fc: 1, address, quantity: count }, options).then(bitsOf);
  }

  readDiscreteInputs(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<boolean[]> {
    checkUnitId(unitId, false);
    checkRange(address, count, MODBUS_LIMITS.maxReadBits);
    return this.send(unitId, { fc: 2, address, quantity: count }, options).then(bitsOf);
  }

  readHoldingRegisters(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<number[]> {
    checkUnitId(unitId, false);
    checkRange(address, count, MODBUS_LIMITS.maxReadRegisters);
    return this.send(unitId, { fc: 3, address, quantity: count }, options).then(registersOf);
  }

  readInputRegisters(
    unitId: number,
    address: number,
    count: number,
    options?: ModbusRequestOptions,
  ): Promise<number[]> {
    checkUnitId(unitId, false);
    checkRange(address, count, MODBUS_LIMITS.maxReadRegisters);
    return this.send(unitId, { fc: 4, address, quantity: count }, options).then(registersOf);
  }

  writeSingleCoil(
    unitId: number,
    address: number,
    value: boolean,
    options?: ModbusRequestOptions,
  ): Promise<void> {
    checkUnitId(unitId, true);
    checkRange(address, 1, 1);
    return this.send(unitId, { fc: 5, address, value }, options).then(nothing);
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
    return this.send(unitId, { fc: 6, address, value }, options).then(nothing);
  }

  writeMultipleCoils(
    unitId: number,
    address: number,
    values: readonly boolean[],
    options?: ModbusRequestOptions,
  ): Promise<void> {
    checkUnitId(unitId, true);
    checkRange(address, values.length, MODBUS_LIMITS.maxWriteBits);
    return this.send(unitId, { fc: 15, address, values: [...values] }, options).then(nothing);
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
    return this.send(unitId, { fc: 16, address, values: [...values] }, options).then(nothing);
  }
}
