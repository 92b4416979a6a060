// Register codec: Modbus register words ⇄ typed values (u16 … f64, str, word order), and the point
// layer that applies scale, offset, NaN sentinels and plausible ranges. Pure, no I/O.
export {
  decodeValue,
  encodeValue,
  integerLimits,
  isRegisterType,
  MAX_STR_WORDS,
  type RawValue,
  REGISTER_TYPES,
  type RegisterType,
  registerCount,
  WORD_ORDERS,
  type WordOrder,
} from './codec.ts';
export {
  type CodecPoint,
  decodePoint,
  encodePoint,
  type PointReading,
  pointRegisterCount,
  type Quality,
} from './point.ts';
