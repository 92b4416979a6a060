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

interface Corridor {
  headingDeg: number;
  toleranceDeg: number;
  latDeg: number;
  lonDeg: number;
  radiusM: number;
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
  // Per-vehicle slots, preallocated: replay and token-bucket state.
  private readonly slotOf = new Map<number, number>();
  private readonly slotKey: Float64Array;
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
    this.slotKey = new Float64Array(n);
    this.lastCounter = new Float64Array(n);
    this.lastSeenMs = new Float64Array(n);
    this.tokens = new Float64Array(n);
  }

  /** Id of the key at `index` (config vehicleKeys[index].id). */
  keyId(index: number): string {
    return this.keys[index]?.id ?? '?';
  }

  /** A frame the decoder dropped (header, CRC, truncation) is a 'frame' rejection too. */
  countFrameErrors(n: number): void {
    this.rejected.frame += n;
  }

  /**
   * `buf[offset..]` is a frame that passed its CRC, decoded into `f`. `wallMs` is wall-clock time
   * (freshness compares it with the vehicle's generation time); `monoMs` is monotonic (rate, slots).
   */
  check(buf: Buffer, offset: number, f: DecodedFrame, wallMs: number, monoMs: number): RejectReason | 'ok' {
    const reason = this.run(buf, offset, f, wallMs, monoMs);
    if (reason === 'ok') this.accepted++;
    else this.rejected[reason]++;
    return reason;
  }

  private run(
    buf: Buffer,
    offset: number,
    f: DecodedFrame,
    wallMs: number,
    monoMs: number,
  ): RejectReason | 'ok' {
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
    if (Math.abs(wallMs - f.generatedMs) > this.freshnessMs) return 'stale';

    const slot = this.slotFor(k * 2 ** 32 + f.vehicleId, monoMs);
    if (slot < 0) return 'rate';
    if (f.counter <= this.lastCounter[slot]!) return 'replay';
    this.lastCounter[slot] = f.counter;

    if (f.intersectionId !== this.intersectionId) return 'intersection';
    const a = this.approachByNumber[f.inbound]!;
    if (a < 0) return 'corridor';
    // A cancel is sent after the vehicle has passed the stop line, when it has left the corridor.
    const corridor = this.corridors[a];
    if (corridor !== undefined && f.typeCode !== 2) {
      if (headingDiffDeg(f.headingCd / 100, corridor.headingDeg) > corridor.toleranceDeg) return 'corridor';
      if (distanceM(f.latE7 / 1e7, f.lonE7 / 1e7, corridor.latDeg, corridor.lonDeg) > corridor.radiusM) {
        return 'corridor';
      }
    }

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
  private slotFor(vehicleKey: number, monoMs: number): number {
    const found = this.slotOf.get(vehicleKey);
    if (found !== undefined) return found;
    let slot = -1;
    if (this.used < this.slotKey.length) {
      slot = this.used++;
    } else {
      // A vehicle silent for twice the freshness bound can be forgotten: any replay of its old
      // frames is stale by now, so the stale check still rejects it.
      const before = monoMs - 2 * this.freshnessMs;
      let oldest = Number.POSITIVE_INFINITY;
      for (let i = 0; i < this.slotKey.length; i++) {
        const seen = this.lastSeenMs[i]!;
        if (seen < before && seen < oldest) {
          oldest = seen;
          slot = i;
        }
      }
      if (slot < 0) return -1;
      this.slotOf.delete(this.slotKey[slot]!);
    }
    this.slotOf.set(vehicleKey, slot);
    this.slotKey[slot] = vehicleKey;
    this.lastCounter[slot] = -1;
    this.lastSeenMs[slot] = monoMs;
    this.tokens[slot] = this.burst;
    return slot;
  }
}
