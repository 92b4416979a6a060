// A vehicle unit for the bench: it signs priority-request frames (request, updates, cancel) for
// one vehicle and sends them over a serial radio link (a pty) or UDP, along a simple route.

import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { open } from 'node:fs/promises';
import type { RequestType, VehicleRole } from '../priority/frame.ts';
import { encodeSignedFrame, keyHintOf, rawPublicKeyB64u } from '../priority/signing.ts';

export interface VehiclePosition {
  /** Approach number the vehicle arrives on. */
  inbound: number;
  outbound?: number;
  etaS: number;
  latDeg: number;
  lonDeg: number;
  headingDeg: number;
  speedMps: number;
}

export interface VehicleUnitOptions {
  privateKey: KeyObject;
  vehicleId: number;
  role: VehicleRole;
  intersectionId: number;
  importance?: number;
  requestId?: number;
  /** First message counter (default 1). */
  counter?: number;
  /** Wall clock (default Date.now); the bench skews it to make stale frames. */
  nowMs?: () => number;
}

export class VehicleUnit {
  private counter: number;
  private readonly keyHint: Uint8Array;

  constructor(private readonly o: VehicleUnitOptions) {
    this.counter = o.counter ?? 1;
    this.keyHint = keyHintOf(rawPublicKeyB64u(createPublicKey(o.privateKey)));
  }

  /** The next signed frame; every frame gets a new message counter. */
  frame(
    type: RequestType,
    at: VehiclePosition,
    overrides: { intersectionId?: number; generatedMs?: number } = {},
  ): Buffer {
    return encodeSignedFrame(
      {
        type,
        role: this.o.role,
        importance: this.o.importance ?? (this.o.role === 'transit' ? 4 : 14),
        inbound: at.inbound,
        outbound: at.outbound ?? 0,
        requestId: this.o.requestId ?? 1,
        counter: this.counter++,
        intersectionId: overrides.intersectionId ?? this.o.intersectionId,
        vehicleId: this.o.vehicleId,
        keyHint: this.keyHint,
        etaS: Math.min(6553.5, Math.max(0, Math.round(at.etaS * 10) / 10)),
        latDeg: at.latDeg,
        lonDeg: at.lonDeg,
        headingDeg: Math.round(at.headingDeg * 100) / 100,
        speedMps: Math.round(at.speedMps * 100) / 100,
        generatedMs: overrides.generatedMs ?? Math.round((this.o.nowMs ?? Date.now)()),
      },
      this.o.privateKey,
    );
  }
}

/** Where a vehicle unit's frames go. */
export interface FrameLink {
  send(frame: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Frames as UDP datagrams (a dispatch feed or a cellular vehicle unit). */
export function udpLink(port: number, host = '127.0.0.1'): FrameLink {
  const socket: Socket = createSocket('udp4');
  return {
    send: (frame) =>
      new Promise((resolve, reject) =>
        socket.send(frame, port, host, (err) => (err ? reject(err) : resolve())),
      ),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** Frames written to a serial radio link: one end of a pty pair (the rt loop holds the other). */
export async function serialLink(path: string): Promise<FrameLink> {
  const fh = await open(path, 'w');
  return {
    send: async (frame) => {
      await fh.write(frame);
    },
    close: () => fh.close(),
  };
}

export interface RouteOptions {
  /** Approach number the vehicle comes in on and its inbound heading. */
  inbound: number;
  headingDeg: number;
  /** Position at `distanceM` from the stop line; the route is a straight line to it. */
  positionAt: (distanceM: number) => { latDeg: number; lonDeg: number };
  startDistanceM: number;
  speedMps: number;
  /** Simulated seconds per real second (default 1). */
  speed?: number;
  /** Updates per simulated second (default 2). */
  updateHz?: number;
  /** Leave out the final cancel (a lost cancel). */
  skipCancel?: boolean;
}

/** Drives one vehicle to the stop line: request, updates with falling ETA, cancel after passing. */
export async function driveRoute(unit: VehicleUnit, link: FrameLink, r: RouteOptions): Promise<number> {
  const speed = r.speed ?? 1;
  const stepS = 1 / (r.updateHz ?? 2);
  let distance = r.startDistanceM;
  let sent = 0;
  let type: RequestType = 'request';
  while (distance > 0) {
    const p = r.positionAt(distance);
    await link.send(
      unit.frame(type, {
        inbound: r.inbound,
        etaS: distance / r.speedMps,
        headingDeg: r.headingDeg,
        speedMps: r.speedMps,
        ...p,
      }),
    );
    sent++;
    type = 'update';
    distance -= r.speedMps * stepS;
    await new Promise((res) => setTimeout(res, (stepS * 1000) / speed));
  }
  if (!r.skipCancel) {
    const p = r.positionAt(0);
    await link.send(
      unit.frame('cancel', {
        inbound: r.inbound,
        etaS: 0,
        headingDeg: r.headingDeg,
        speedMps: r.speedMps,
        ...p,
      }),
    );
    sent++;
  }
  return sent;
}
