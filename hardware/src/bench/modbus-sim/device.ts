// One simulated device on a bus: its unit id, what answers its requests, its turnaround and faults.

import { decodeRequest, ExceptionCode, type ModbusRequest, type ModbusResponse } from '../../modbus/index.ts';
import { type Random, seededRandom, uniform } from '../sim/random.ts';
import { FaultPlan, type FaultRule } from './faults.ts';

/** Anything that answers Modbus requests: a register bank, or a test double. */
export interface ModbusHandler {
  handle(request: ModbusRequest): ModbusResponse;
}

export interface BusDeviceSpec {
  /** Modbus unit id 1-247. */
  unit: number;
  handler: ModbusHandler;
  /** [min, max] ms between request end and answer start on RTU. Default [10, 40]. */
  turnaroundMs?: readonly [number, number];
  /**
   * RTU: quiet time the device needs after the end of its own answer before it listens again (the
   * profile's `bus.interFrameDelayMs`). A request to it that starts sooner is ignored, as a busy
   * slow meter does, and the master times out. Default 0.
   */
  interFrameDelayMs?: number;
  faults?: readonly FaultRule[];
  seed?: number;
}

export class BusDevice {
  readonly unit: number;
  readonly handler: ModbusHandler;
  readonly faults: FaultPlan;
  readonly interFrameDelayMs: number;
  /** performance.now() when its last answer had left the wire. */
  lastAnswerEndMs = Number.NEGATIVE_INFINITY;
  private readonly turnaround: readonly [number, number];
  private readonly random: Random;

  constructor(spec: BusDeviceSpec) {
    if (!Number.isInteger(spec.unit) || spec.unit < 1 || spec.unit > 247) {
      throw new RangeError(`unit id ${spec.unit} must be 1-247`);
    }
    this.unit = spec.unit;
    this.handler = spec.handler;
    this.turnaround = spec.turnaroundMs ?? [10, 40];
    this.interFrameDelayMs = spec.interFrameDelayMs ?? 0;
    this.random = seededRandom((spec.seed ?? 1) * 7919 + spec.unit);
    this.faults = new FaultPlan(spec.faults ?? [], this.random);
  }

  turnaroundMs(): number {
    return uniform(this.random, this.turnaround[0], this.turnaround[1]);
  }
}

export function isWrite(r: ModbusRequest): boolean {
  return r.fc === 5 || r.fc === 6 || r.fc === 15 || r.fc === 16;
}

/** Decode a request PDU and let the handler answer it, or answer the exception the spec requires. */
export function answer(
  handler: ModbusHandler,
  pdu: Buffer,
): { request?: ModbusRequest; response: ModbusResponse } {
  const decoded = decodeRequest(pdu);
  if (!decoded.ok) return { response: { fc: decoded.fc, exception: decoded.exception } };
  try {
    return { request: decoded.request, response: handler.handle(decoded.request) };
  } catch {
    return {
      request: decoded.request,
      response: { fc: decoded.request.fc, exception: ExceptionCode.serverDeviceFailure },
    };
  }
}
