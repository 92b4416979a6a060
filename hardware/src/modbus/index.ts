// Modbus protocol, pure: CRC-16, PDUs for FC 1-6, 15, 16 and exceptions, RTU and TCP (MBAP) framing,
// and RTU wire-time arithmetic. No I/O here; the bench simulators and the firmware's poller build on it.
export { crc16Modbus } from './crc.ts';
export { ModbusFrameError } from './errors.ts';
export { encodeMbap, type MbapFrame, MbapFramer } from './mbap.ts';
export {
  type DecodedRequest,
  decodeRequest,
  decodeResponse,
  ExceptionCode,
  encodeRequest,
  encodeResponse,
  isException,
  MAX_QUANTITY,
  type ModbusException,
  ModbusFunctionCode,
  type ModbusRequest,
  type ModbusResponse,
  type ReadBitsRequest,
  type ReadRegistersRequest,
} from './pdu.ts';
export {
  decodeRtu,
  encodeRtu,
  type RtuFrame,
  type RtuFramerStats,
  RtuRequestFramer,
  rtuRequestLength,
} from './rtu.ts';
export {
  charTimeMs,
  frameTimeMs,
  type RtuTransaction,
  rtuTransactionTimeMs,
  t15Ms,
  t35Ms,
} from './timing.ts';
