// Checks of serial settings, shared by every serial backend.
import { HalConfigError } from '../../errors.ts';
import { DEFAULT_SERIAL_SETTINGS, type SerialSettings } from './serial-port.ts';

/** Baud rates the Pi's UARTs and common USB adapters accept. */
export const STANDARD_BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400] as const;

export function resolveSerialSettings(path: string, given: Partial<SerialSettings>): SerialSettings {
  const s = { ...DEFAULT_SERIAL_SETTINGS, ...given };
  if (!Number.isInteger(s.baudRate) || s.baudRate < 50 || s.baudRate > 4_000_000) {
    throw new HalConfigError(
      `${path}.baudRate`,
      `baud rate ${s.baudRate} is not valid`,
      `use one of ${STANDARD_BAUD_RATES.join(', ')} (the device's setting)`,
    );
  }
  if (s.dataBits !== 7 && s.dataBits !== 8) {
    throw new HalConfigError(
      `${path}.dataBits`,
      `data bits must be 7 or 8, got ${s.dataBits}`,
      'Modbus RTU uses 8',
    );
  }
  if (s.parity !== 'none' && s.parity !== 'even' && s.parity !== 'odd') {
    throw new HalConfigError(
      `${path}.parity`,
      `parity '${String(s.parity)}' is not valid`,
      "use 'none', 'even' or 'odd'",
    );
  }
  if (s.stopBits !== 1 && s.stopBits !== 2) {
    throw new HalConfigError(
      `${path}.stopBits`,
      `stop bits must be 1 or 2, got ${s.stopBits}`,
      'Modbus RTU uses 1 with parity, 2 without',
    );
  }
  return s;
}
