// Test support: a Modbus RTU slave on any SerialPort (a memory pair's far end, a pty), answering
// through the bench's ModbusHandler interface after a turnaround on the given clock. Hooks let a
// test spoil or delay answers.
import {
  decodeRequest,
  encodeResponse,
  encodeRtu,
  type ModbusHandler,
  type ModbusResponse,
  RtuRequestFramer,
} from '@brana/hardware';
import type { Clock } from '../clock/clock.ts';
import type { SerialPort } from '../serial/serial-port.ts';

export interface RtuResponderOptions {
  port: SerialPort;
  clock: Clock;
  devices: ReadonlyMap<number, ModbusHandler>;
  /** Time between the request's last byte and the answer. Default 5 ms. */
  turnaroundMs?: number;
  /** Rewrites the answer frame (CRC included), or drops it by returning undefined. */
  spoil?: (frame: Buffer, unit: number) => Buffer | undefined;
  /** Extra delay for this answer, ms (a slow device, a late answer). */
  extraDelayMs?: (unit: number) => number;
}

export interface RtuResponder {
  readonly requests: number;
  detach(): void;
}

export function attachRtuResponder(options: RtuResponderOptions): RtuResponder {
  const framer = new RtuRequestFramer();
  let requests = 0;
  const unsubscribe = options.port.onData((chunk) => {
    for (const frame of framer.push(chunk)) {
      if (frame.unit === 0) {
        // Broadcast: every device acts on it, none answers (Modbus over Serial Line 2.1).
        const decoded = decodeRequest(frame.pdu);
        if (decoded.ok) for (const h of options.devices.values()) h.handle(decoded.request);
        continue;
      }
      const handler = options.devices.get(frame.unit);
      if (handler === undefined) continue; // not ours: stay silent, as a real slave does
      requests++;
      const decoded = decodeRequest(frame.pdu);
      const response: ModbusResponse = decoded.ok
        ? handler.handle(decoded.request)
        : { fc: decoded.fc, exception: decoded.exception };
      const answer = encodeRtu(frame.unit, encodeResponse(response));
      const out = options.spoil ? options.spoil(answer, frame.unit) : answer;
      if (out === undefined) continue;
      const delay = (options.turnaroundMs ?? 5) + (options.extraDelayMs?.(frame.unit) ?? 0);
      options.clock.setTimeout(() => {
        if (options.port.isOpen) void options.port.write(out).catch(() => {});
      }, delay);
    }
  });
  return {
    get requests() {
      return requests;
    },
    detach: unsubscribe,
  };
}
