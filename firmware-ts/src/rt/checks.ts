// The checks every priority-request frame passes before the arbiter sees it, in the order of
// issue 3: frame and checksum → signature (with revocation) → role → freshness → replay →
// intersection → approach corridor → per-vehicle rate limit. State is preallocated per vehicle slot.
import type { KeyObject } from 'node:crypto';
import {
  type DecodedFrame,
  publicKeyFromB64u,
  REQUEST_TYPES,
  VEHICLE_ROLES,
  verifyFrameSignature,
} from '@brana/hardware';
import type { PreemptionConfig } from '../config/index.ts';

export const REJECT_REASONS = [
  'frame',
  'signature',
  'revoked',
  'role',
  'stale',
  'replay',
  'intersection',
  'corridor',
  'rate',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export type RejectCounts = Record<RejectReason, number>;

export function emptyRejectCounts(): RejectCounts {
  return {
    frame: 0,
    signature: 0,
    revoked: 0,
    role: 0,
    stale: 0,
    replay: 0,
    intersection: 0,
    corridor: 0,
    rate: 0,
  };
}

interface TrustedKey {
  id: string;
  publicKey: KeyObject;
  hintHi: number;
  hintLo: number;
  /** Bit i set: role VEHICLE_ROLES[i] permitted. */
  roleMask: number;
  revoked: boolean;
}

export interface Corridor {
  headingDeg: number;
  toleranceDeg: number;
  latDeg: number;
  lonDeg: number;
  radiusM: number;
}

/**
 * When a frame is checked. An object the caller reuses, not two number arguments: a fractional
 * number passed to a call V8 does not inline is boxed, an allocation per frame.
 */
export interface CheckTime {
  /** Wall-clock time, ms since the epoch: freshness compares it with the generation time. */
  wallMs: number;
  /** Monotonic time, ms: rate limit and slot ageing. */
  monoMs: number;
}

export interface ChecksOptions {
  /** Vehicles tracked at once for replay and rate state; more at once is a flood (rejected as rate). */
  maxVehicles?: number;
}

const EARTH_RADIUS_M = 6_371_008.8;
const DEG = Math.PI / 180;

/** Great-circle distance (haversine), metres. */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * DEG;
  const dLon = (lon2 - lon1) * DEG;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * DEG) * Math.cos(lat2 * DEG) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Smallest angle between two headings, degrees 0..180. */
export function headingDiffDeg(a: number, b: number): number {
  const d = Math.abs((((a - b) % 360) + 360) % 360);
  return d > 180 ? 360 - d : d;
}

/**
 * Heading within the tolerance and position within the radius: `headingDiffDeg` and `distanceM`
 * written out over the frame and corridor records, because a call V8 does not inline boxes each
 * fractional argument and result (an allocation per frame). A property test holds it to them.
 */
export function insideCorridor(f: DecodedFrame, c: Corridor): boolean {
  const d = Math.abs((((f.headingCd / 100 - c.headingDeg) % 360) + 360) % 360);
  if ((d > 180 ? 360 - d : d) > c.toleranceDeg) return false;
  const lat = f.latE7 / 1e7;
  const dLat = (c.latDeg - lat) * DEG;
  const dLon = (c.lonDeg - f.lonE7 / 1e7) * DEG;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(lat * DEG) * Math.cos(c.latDeg * DEG) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h))) <= c.radiusM;
}

/**
 * Runs the checks; `check()` returns 'ok' or the first failing reason, and counts it. After 'ok',
 * `approachIndex`, `keyIndex` and `keyId` describe the accepted frame.
 */
export class RequestChecks {
  readonly rejected: RejectCounts = emptyRejectCounts();
  accepted = 0;
  approachIndex = -1;
  keyIndex = -1;

  private readonly keys: TrustedKey[];
  private readonly intersectionId: number;
  private readonly freshnessMs: number;
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly approachByNumber = new Int16Array(256).fill(-1);
  private readonly corridors: (Corridor | undefined)[];
  // Per-vehicle slots, preallocated: replay and token-bucket state, found through an open-addressing
  // hash table over (key index, vehicle id) so that a lookup builds no string and boxes no number.
  private readonly slotKeyIndex: Int32Array;
  private readonly slotVehicleId: Uint32Array;
  /** Hash table: slot + 1, 0 = empty; linear probing, at most half full. */
  private readonly table: Int32Array;
  private readonly tableMask: number;
  private readonly lastCounter: Float64Array;
  private readonly lastSeenMs: Float64Array;
  private readonly tokens: Float64Array;
  private used = 0;

  constructor(config: PreemptionConfig, options: ChecksOptions = {}) {
    this.keys = config.vehicleKeys.map((k) => {
      const raw = Buffer.from(k.publicKey, 'base64url');
      return {
        id: k.id,
        publicKey: publicKeyFromB64u(k.publicKey),
        hintHi: raw.readUInt32BE(0),
        hintLo: raw.readUInt32BE(4),
        roleMask: k.roles.reduce((m, r) => m | (1 << VEHICLE_ROLES.indexOf(r)), 0),
        revoked: k.revoked,
      };
    });
    this.intersectionId = config.intersectionId;
    this.freshnessMs = config.timing.freshnessS * 1000;
    this.ratePerMs = config.timing.ratePerVehiclePerS / 1000;
    this.burst = Math.max(2, config.timing.ratePerVehiclePerS);
    config.approaches.forEach((a, i) => {
      this.approachByNumber[a.number] = i;
    });
    this.corridors = config.approaches.map((a) =>
      a.corridor === undefined
        ? undefined
        : {
            headingDeg: a.corridor.headingDeg,
            toleranceDeg: a.corridor.headingToleranceDeg,
            latDeg: a.corridor.centerLat,
            lonDeg: a.corridor.centerLon,
            radiusM: a.corridor.radiusM,
          },
    );
    const n = options.maxVehicles ?? 1024;
    this.slotKeyIndex = new Int32Array(n);
    this.slotVehicleId = new Uint32Array(n);
    let size = 16;
    while (size < 2 * n) size *= 2;
    this.table = new Int32Array(size);
    this.tableMask = size - 1;
    this.lastCounter = new Float64Array(n);
    this.lastSeenMs = new Float64Array(n);
    this.tokens = new Float64Array(n);
  }

  /** The accepted frame's vehicle as one number: key index × 2^32 + vehicle id (unique, no string). */
  vehicleKey(f: DecodedFrame): number {
    return this.keyIndex * 2 ** 32 + f.vehicleId;
  }

  /** Id of the key at `index` (config vehicleKeys[index].id). */
  keyId(index: number): string {
    return this.keys[index]?.id ?? '?';
  }

  /** A frame the decoder dropped (header, CRC, truncation) is a 'frame' rejection too. */
  countFrameErrors(n: number): void {
    this.rejected.frame += n;
  }

  /** `buf[offset..]` is a frame that passed its CRC, decoded into `f`, received at `at`. */
  check(buf: Buffer, offset: number, f: DecodedFrame, at: CheckTime): RejectReason | 'ok' {
    const reason = this.run(buf, offset, f, at);
    if (reason === 'ok') this.accepted++;
    else this.rejected[reason]++;
    return reason;
  }

  private run(buf: Buffer, offset: number, f: DecodedFrame, at: CheckTime): RejectReason | 'ok' {
    if (f.typeCode >= REQUEST_TYPES.length || f.roleCode >= VEHICLE_ROLES.length || f.importance > 14) {
      return 'frame';
    }
    let k = -1;
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (key.hintHi === f.keyHintHi && key.hintLo === f.keyHintLo) {
        k = i;
        break;
      }
    }
    if (k < 0) return 'signature';
    const key = this.keys[k]!;
    if (!verifyFrameSignature(buf, offset, key.publicKey)) return 'signature';
    if (key.revoked) return 'revoked';
    if ((key.roleMask & (1 << f.roleCode)) === 0) return 'role';
    if (Math.abs(at.wallMs - f.generatedMs) > this.freshnessMs) return 'stale';

    const slot = this.slotFor(k, f.vehicleId, at);
    if (slot < 0) return 'rate';
    if (f.counter <= this.lastCounter[slot]!) return 'replay';
    this.lastCounter[slot] = f.counter;

    if (f.intersectionId !== this.intersectionId) return 'intersection';
    const a = this.approachByNumber[f.inbound]!;
    if (a < 0) return 'corridor';
    // A cancel is sent after the vehicle has passed the stop line, when it has left the corridor.
    const corridor = this.corridors[a];
    if (corridor !== undefined && f.typeCode !== 2 && !insideCorridor(f, corridor)) return 'corridor';

    const monoMs = at.monoMs;
    const elapsed = Math.max(0, monoMs - this.lastSeenMs[slot]!);
    this.tokens[slot] = Math.min(this.burst, this.tokens[slot]! + elapsed * this.ratePerMs);
    this.lastSeenMs[slot] = monoMs;
    if (this.tokens[slot]! < 1) return 'rate';
    this.tokens[slot] = this.tokens[slot]! - 1;
    this.approachIndex = a;
    this.keyIndex = k;
    return 'ok';
  }

  /** Finds or makes the slot of a vehicle; -1 when every slot is in recent use (a flood). */
  private slotFor(keyIndex: number, vehicleId: number, at: CheckTime): number {
    const monoMs = at.monoMs;
    const found = this.lookup(keyIndex, vehicleId);
    if (found >= 0) return found;
    let slot = -1;
    if (this.used < this.slotKeyIndex.length) {
      slot = this.used++;
    } else {
      // A vehicle silent for twice the freshness bound can be forgotten: any replay of its old
      // frames is stale by now, so the stale check still rejects it.
      const before = monoMs - 2 * this.freshnessMs;
      let oldest = Number.POSITIVE_INFINITY;
      for (let i = 0; i < this.slotKeyIndex.length; i++) {
        const seen = this.lastSeenMs[i]!;
        if (seen < before && seen < oldest) {
          oldest = seen;
          slot = i;
        }
      }
      if (slot < 0) return -1;
      this.unlink(slot);
    }
    this.slotKeyIndex[slot] = keyIndex;
    this.slotVehicleId[slot] = vehicleId;
    let i = this.hash(keyIndex, vehicleId);
    while (this.table[i] !== 0) i = (i + 1) & this.tableMask;
    this.table[i] = slot + 1;
    this.lastCounter[slot] = -1;
    this.lastSeenMs[slot] = monoMs;
    this.tokens[slot] = this.burst;
    return slot;
  }

  private hash(keyIndex: number, vehicleId: number): number {
    return (Math.imul(vehicleId, 0x9e3779b1) ^ Math.imul(keyIndex + 1, 0x85ebca6b)) & this.tableMask;
  }

  private lookup(keyIndex: number, vehicleId: number): number {
    let i = this.hash(keyIndex, vehicleId);
    for (;;) {
      const s = this.table[i]! - 1;
      if (s < 0) return -1;
      if (this.slotKeyIndex[s] === keyIndex && this.slotVehicleId[s] === vehicleId) return s;
      i = (i + 1) & this.tableMask;
    }
  }

  /** Removes a slot from the hash table (backward-shift deletion keeps every probe chain whole). */
  private unlink(slot: number): void {
    const t = this.table;
    const mask = this.tableMask;
    let i = this.hash(this.slotKeyIndex[slot]!, this.slotVehicleId[slot]!);
    while (t[i] !== slot + 1) i = (i + 1) & mask;
    t[i] = 0;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = t[j]! - 1;
      if (s < 0) return;
      const h = this.hash(this.slotKeyIndex[s]!, this.slotVehicleId[s]!);
      // The entry at j may stay if its home h lies cyclically in (i, j]; otherwise it moves to i.
      const stays = i <= j ? i < h && h <= j : i < h || h <= j;
      if (stays) continue;
      t[i] = t[j]!;
      t[j] = 0;
      i = j;
    }
  }
}
