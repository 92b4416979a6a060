// How failures reported by modbus-serial (shapes taken from its index.js) become typed errors.
import { describe, expect, it } from 'vitest';
import {
  ModbusBadResponseError,
  ModbusCrcError,
  ModbusError,
  ModbusExceptionError,
  ModbusTimeoutError,
  PortClosedError,
} from '../../errors.ts';
import { mapModbusError } from './modbus-serial-client.ts';

const req = { target: 'rtu:/dev/ttyAMA0', unitId: 7, functionCode: 4, address: 30 };

describe('mapModbusError', () => {
  it.each([
    [{ name: 'TransactionTimedOutError', message: 'Timed out', errno: 'ETIMEDOUT' }, ModbusTimeoutError],
    [
      Object.assign(new Error('Modbus exception 6: Slave device busy'), { modbusCode: 6 }),
      ModbusExceptionError,
    ],
    [new Error('CRC error'), ModbusCrcError],
    [new Error('Data length error, expected 9 got 7'), ModbusBadResponseError],
    [new Error('Unexpected data error, expected address 7 got 8'), ModbusBadResponseError],
    [{ name: 'PortNotOpenError', message: 'Port Not Open', errno: 'ECONNREFUSED' }, PortClosedError],
  ])('maps %o', (raw, type) => {
    const mapped = mapModbusError(req, 250, false, raw);
    expect(mapped).toBeInstanceOf(type);
    expect((mapped as { cause?: unknown }).cause).toBe(raw);
  });

  it('busy is retryable, illegal address is not', () => {
    const busy = mapModbusError(req, 250, false, { message: 'x', modbusCode: 6 }) as ModbusExceptionError;
    const illegal = mapModbusError(req, 250, false, { message: 'x', modbusCode: 2 }) as ModbusExceptionError;
    expect(busy.retryable).toBe(true);
    expect(busy.exceptionName).toBe('server device busy');
    expect(illegal.retryable).toBe(false);
  });

  it('anything after close is PortClosedError; anything unknown is a generic ModbusError naming the request', () => {
    expect(mapModbusError(req, 250, true, new Error('Timed out'))).toBeInstanceOf(PortClosedError);
    const other = mapModbusError(req, 250, false, new Error('EIO'));
    expect(other).toBeInstanceOf(ModbusError);
    expect(other.message).toBe(
      'rtu:/dev/ttyAMA0 unit 7 FC04 @30: request failed (EIO). Fix: check the connection and the device',
    );
  });
});
