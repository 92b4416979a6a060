// Argument checks done before anything reaches the bus, so a wrong address or count in a profile
// is reported as a configuration mistake and never as a device exception.
import { HalConfigError } from '../../errors.ts';
import { MODBUS_LIMITS } from './modbus-client.ts';

export function checkUnitId(unitId: number, isWrite: boolean): void {
  if (!Number.isInteger(unitId) || unitId < 0 || unitId > MODBUS_LIMITS.maxUnitId) {
    throw new HalConfigError(
      'unitId',
      `unit id must be an integer 0-255, got ${unitId}`,
      'use the address set on the device (1-247 on RTU)',
    );
  }
  if (unitId === 0 && !isWrite) {
    throw new HalConfigError(
      'unitId',
      'unit id 0 is broadcast and never answers a read',
      'use the device address (1-247)',
    );
  }
}

export function checkRange(address: number, count: number, max: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff) {
    throw new HalConfigError(
      'address',
      `address must be an integer 0-65535, got ${address}`,
      'use the 0-based protocol address (register 40001 is address 0)',
    );
  }
  if (!Number.isInteger(count) || count < 1 || count > max) {
    throw new HalConfigError(
      'count',
      `count must be 1-${max}, got ${count}`,
      `split the read into blocks of at most ${max}`,
    );
  }
  if (address + count > 0x10000) {
    throw new HalConfigError(
      'count',
      `address ${address} + count ${count} runs past 65535`,
      'shorten the block',
    );
  }
}

export function checkRegisterValues(values: readonly number[]): void {
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
      throw new HalConfigError(
        `values[${i}]`,
        `a register holds 0-65535, got ${v}`,
        'encode signed and wider values with the register codec first',
      );
    }
  });
}

export function checkTimeout(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 60_000) {
    throw new HalConfigError(
      'timeoutMs',
      `timeout must be 1-60000 ms, got ${timeoutMs}`,
      "use the device profile's timeout (typically 100-1000 ms)",
    );
  }
}
