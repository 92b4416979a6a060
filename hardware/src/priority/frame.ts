// The compact signed priority-request frame (SAE J2735 SRM / ETSI TS 103 301 SREM semantics).
// Vehicle units and the bench encode it; the firmware's rt loop decodes it with no per-frame objects.
//
// Layout, version 1, 116 bytes, every multi-byte integer big-endian:
//
//  offset len field
//   0     2  sync            0xB5 0x52 ("µR"): where a frame may start in a byte stream
//   2     1  version         1
//   3     1  length          110 = bytes 4..113 (fields + signature); other values are rejected
//   4     1  type            0 request, 1 update, 2 cancel (J2735 PriorityRequestType)
//   5     1  role            0 ambulance, 1 fire, 2 police, 3 transit (J2735 BasicVehicleRole subset)
//   6     1  importance      0..14 (J2735 RequestImportanceLevel; 14 = most important)
//   7     1  inbound         approach number the vehicle arrives on (config approaches[].number)
//   8     1  outbound        approach number it leaves by (0 = unknown)
//   9     1  requestId       0..255, the vehicle's id for this request (J2735 RequestID)
//  10     4  counter         message counter, strictly increasing per vehicle (replay protection;
//                            J2735's 7-bit MsgCount wraps far too fast to detect replays)
//  14     4  intersectionId  the intersection the request is for (J2735 IntersectionID, widened)
//  18     4  vehicleId       the vehicle's id (J2735 TemporaryID / station id)
//  22     8  keyHint         first 8 bytes of the signer's raw Ed25519 public key (key lookup)
//  30     2  etaDs           time to arrival at the stop line, 0.1 s units (0..6553.5 s)
//  32     4  latE7           latitude,  1e-7 degree units, signed (J2735 Latitude)
//  36     4  lonE7           longitude, 1e-7 degree units, signed (J2735 Longitude)
//  40     2  headingCd       heading, 0.01 degree units, 0..35999 (clockwise from north)
//  42     2  speedCms        speed, 0.01 m/s units
//  44     6  generatedMs     generation time, ms since the Unix epoch (48 bits: until year 10889)
//  50    64  signature       Ed25519 over bytes 2..49 (version through generatedMs)
// 114     2  crc             CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over bytes 2..113
//
// The CRC catches line noise cheaply before the (expensive) signature check; the signature is what
// makes a frame trustworthy. Sync bytes may occur inside a frame: the decoder resynchronises by
// trying the next sync position after any frame that fails its header or CRC.

export const FRAME_SYNC_0 = 0xb5;
export const FRAME_SYNC_1 = 0x52;
export const FRAME_VERSION = 1;
export const FRAME_BYTES = 116;
export const FRAME_LENGTH_FIELD = 110;
/** Bytes covered by the signature: [SIGNED_START, SIGNED_END). */
export const SIGNED_START = 2;
export const SIGNED_END = 50;
export const SIGNATURE_OFFSET = 50;
export const SIGNATURE_BYTES = 64;
export const CRC_OFFSET = 114;
export const KEY_HINT_BYTES = 8;

export const REQUEST_TYPES = ['request', 'update', 'cancel'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];
export const VEHICLE_ROLES = ['ambulance', 'fire', 'police', 'transit'] as const;
export type VehicleRole = (typeof VEHICLE_ROLES)[number];

/** The fields of one frame, in engineering units where the wire uses scaled integers. */
export interface PriorityRequestFields {
  type: RequestType;
  role: VehicleRole;
  /** 0..14. */
  importance: number;
  inbound: number;
  outbound: number;
  requestId: number;
  counter: number;
  intersectionId: number;
  vehicleId: number;
  /** 8 bytes; `keyHintOf(publicKey)`. */
  keyHint: Uint8Array;
  etaS: number;
  latDeg: number;
  lonDeg: number;
  headingDeg: number;
  speedMps: number;
  generatedMs: number;
}

/**
 * One decoded frame, raw wire integers. The decoder reuses a single instance (no per-frame
 * allocation); copy what must outlive the callback.
 */
export interface DecodedFrame {
  typeCode: number;
  roleCode: number;
  importance: number;
  inbound: number;
  outbound: number;
  requestId: number;
  counter: number;
  intersectionId: number;
  vehicleId: number;
  /** The key hint as a 64-bit number split in two halves, so lookups need no string or Buffer. */
  keyHintHi: number;
  keyHintLo: number;
  etaDs: number;
  latE7: number;
  lonE7: number;
  headingCd: number;
  speedCms: number;
  generatedMs: number;
}

export function emptyDecodedFrame(): DecodedFrame {
  return {
    typeCode: 0,
    roleCode: 0,
    importance: 0,
    inbound: 0,
    outbound: 0,
    requestId: 0,
    counter: 0,
    intersectionId: 0,
    vehicleId: 0,
    keyHintHi: 0,
    keyHintLo: 0,
    etaDs: 0,
    latE7: 0,
    lonE7: 0,
    headingCd: 0,
    speedCms: 0,
    generatedMs: 0,
  };
}

// CRC-16/CCITT-FALSE, table driven; check value of "123456789" is 0x29B1.
const CRC_TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  CRC_TABLE[i] = c;
}

export function crc16Ccitt(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >>> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** Why a field cannot be encoded; names the field and the allowed range. */
export class FrameFieldError extends Error {
  readonly code = 'PRIORITY_FRAME_FIELD';
  readonly retryable = false;
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`priority frame field ${field}: ${problem}`);
    this.name = 'FrameFieldError';
  }
}

function intIn(field: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new FrameFieldError(field, `${v} is not an integer in ${min}..${max}`);
  }
  return v;
}

function scaled(field: string, v: number, scale: number, min: number, max: number): number {
  if (!Number.isFinite(v)) throw new FrameFieldError(field, `${v} is not a finite number`);
  const raw = Math.round(v * scale);
  if (raw < min || raw > max) {
    throw new FrameFieldError(field, `${v} is outside ${min / scale}..${max / scale}`);
  }
  return raw;
}

/**
 * Writes header and fields (bytes 0..49) into `out` at `offset`; the signature and CRC follow with
 * `sealFrame`. Throws `FrameFieldError` naming the field that is out of range.
 */
export function writeFrameFields(f: PriorityRequestFields, out: Uint8Array, offset = 0): void {
  const typeCode = REQUEST_TYPES.indexOf(f.type);
  const roleCode = VEHICLE_ROLES.indexOf(f.role);
  if (typeCode < 0)
    throw new FrameFieldError('type', `"${f.type}" is not one of ${REQUEST_TYPES.join(', ')}`);
  if (roleCode < 0)
    throw new FrameFieldError('role', `"${f.role}" is not one of ${VEHICLE_ROLES.join(', ')}`);
  if (f.keyHint.length !== KEY_HINT_BYTES) {
    throw new FrameFieldError('keyHint', `must be ${KEY_HINT_BYTES} bytes, got ${f.keyHint.length}`);
  }
  const v = new DataView(out.buffer, out.byteOffset + offset, FRAME_BYTES);
  v.setUint8(0, FRAME_SYNC_0);
  v.setUint8(1, FRAME_SYNC_1);
  v.setUint8(2, FRAME_VERSION);
  v.setUint8(3, FRAME_LENGTH_FIELD);
  v.setUint8(4, typeCode);
  v.setUint8(5, roleCode);
  v.setUint8(6, intIn('importance', f.importance, 0, 14));
  v.setUint8(7, intIn('inbound', f.inbound, 0, 255));
  v.setUint8(8, intIn('outbound', f.outbound, 0, 255));
  v.setUint8(9, intIn('requestId', f.requestId, 0, 255));
  v.setUint32(10, intIn('counter', f.counter, 0, 0xffff_ffff));
  v.setUint32(14, intIn('intersectionId', f.intersectionId, 0, 0xffff_ffff));
  v.setUint32(18, intIn('vehicleId', f.vehicleId, 0, 0xffff_ffff));
  out.set(f.keyHint, offset + 22);
  v.setUint16(30, scaled('etaS', f.etaS, 10, 0, 0xffff));
  v.setInt32(32, scaled('latDeg', f.latDeg, 1e7, -900_000_000, 900_000_000));
  v.setInt32(36, scaled('lonDeg', f.lonDeg, 1e7, -1_800_000_000, 1_800_000_000));
  v.setUint16(40, scaled('headingDeg', f.headingDeg, 100, 0, 35_999));
  v.setUint16(42, scaled('speedMps', f.speedMps, 100, 0, 0xffff));
  const ms = intIn('generatedMs', f.generatedMs, 0, 2 ** 48 - 1);
  v.setUint16(44, Math.floor(ms / 2 ** 32));
  v.setUint32(46, ms % 2 ** 32);
}

/** Writes signature and CRC of a frame whose fields are already in place. */
export function sealFrame(out: Uint8Array, signature: Uint8Array, offset = 0): void {
  if (signature.length !== SIGNATURE_BYTES) {
    throw new FrameFieldError('signature', `must be ${SIGNATURE_BYTES} bytes, got ${signature.length}`);
  }
  out.set(signature, offset + SIGNATURE_OFFSET);
  const crc = crc16Ccitt(out, offset + SIGNED_START, offset + CRC_OFFSET);
  out[offset + CRC_OFFSET] = crc >>> 8;
  out[offset + CRC_OFFSET + 1] = crc & 0xff;
}

/**
 * Reads the fields of a frame that already passed header and CRC checks into `into` (reused).
 * Codes out of range (an unknown type or role) are left for the caller's checks to reject.
 */
export function readFrameFields(buf: Uint8Array, offset: number, into: DecodedFrame): DecodedFrame {
  const b = buf;
  const o = offset;
  into.typeCode = b[o + 4]!;
  into.roleCode = b[o + 5]!;
  into.importance = b[o + 6]!;
  into.inbound = b[o + 7]!;
  into.outbound = b[o + 8]!;
  into.requestId = b[o + 9]!;
  into.counter = u32(b, o + 10);
  into.intersectionId = u32(b, o + 14);
  into.vehicleId = u32(b, o + 18);
  into.keyHintHi = u32(b, o + 22);
  into.keyHintLo = u32(b, o + 26);
  into.etaDs = (b[o + 30]! << 8) | b[o + 31]!;
  into.latE7 = u32(b, o + 32) | 0;
  into.lonE7 = u32(b, o + 36) | 0;
  into.headingCd = (b[o + 40]! << 8) | b[o + 41]!;
  into.speedCms = (b[o + 42]! << 8) | b[o + 43]!;
  into.generatedMs = ((b[o + 44]! << 8) | b[o + 45]!) * 2 ** 32 + u32(b, o + 46);
  return into;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Converts a decoded frame back to engineering units (allocates; not for the hot path). */
export function frameToFields(d: DecodedFrame): PriorityRequestFields {
  const hint = new Uint8Array(KEY_HINT_BYTES);
  const v = new DataView(hint.buffer);
  v.setUint32(0, d.keyHintHi);
  v.setUint32(4, d.keyHintLo);
  return {
    type: REQUEST_TYPES[d.typeCode] ?? ('invalid' as RequestType),
    role: VEHICLE_ROLES[d.roleCode] ?? ('invalid' as VehicleRole),
    importance: d.importance,
    inbound: d.inbound,
    outbound: d.outbound,
    requestId: d.requestId,
    counter: d.counter,
    intersectionId: d.intersectionId,
    vehicleId: d.vehicleId,
    keyHint: hint,
    etaS: d.etaDs / 10,
    latDeg: d.latE7 / 1e7,
    lonDeg: d.lonE7 / 1e7,
    headingDeg: d.headingCd / 100,
    speedMps: d.speedCms / 100,
    generatedMs: d.generatedMs,
  };
}
