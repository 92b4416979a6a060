// Fieldbus records as the IPC link carries them: readings stay readings; quarter hours, status
// changes, faults and counter events become events the agent journals and the fleet shows.
import type { AgentLink, AgentRecord } from '../ipc/index.ts';
import type { FieldbusRecord, FieldbusSink } from './records.ts';

export function toAgentRecord(r: FieldbusRecord): AgentRecord {
  switch (r.kind) {
    case 'reading':
      return {
        kind: 'reading',
        channel: r.channel,
        atMs: r.atMs,
        value: r.value,
        quality: r.quality,
        ...(r.unit ? { unit: r.unit } : {}),
        ...(r.total !== undefined ? { total: r.total, channelKind: 'counter' as const } : {}),
      };
    case 'interval':
      return {
        kind: 'event',
        type: 'fieldbus.interval',
        safety: false,
        atMs: r.endMs,
        severity: 'info',
        data: {
          channel: r.channel,
          startMs: r.startMs,
          endMs: r.endMs,
          delta: r.delta,
          unit: r.unit,
          quality: r.quality,
        },
      };
    case 'device-status':
      return {
        kind: 'event',
        type: 'device.status',
        safety: false,
        atMs: r.atMs,
        severity: r.state === 'offline' ? 'warning' : 'info',
        data: { device: r.device, bus: r.bus, state: r.state, reason: r.reason },
      };
    case 'bus-status':
      return {
        kind: 'event',
        type: 'fieldbus.bus',
        safety: false,
        atMs: r.atMs,
        severity: r.state === 'down' ? 'warning' : 'info',
        data: { bus: r.bus, state: r.state, reason: r.reason },
      };
    case 'fault':
      return {
        kind: 'event',
        type: 'fieldbus.fault',
        safety: false,
        atMs: r.atMs,
        severity: r.final ? 'warning' : 'info',
        data: {
          device: r.device,
          bus: r.bus,
          code: r.code,
          message: r.message,
          functionCode: r.functionCode,
          address: r.address,
          count: r.count,
          attempt: r.attempt,
          final: r.final,
        },
      };
    case 'counter-event':
      return {
        kind: 'event',
        type: `fieldbus.counter.${r.event}`,
        safety: false,
        atMs: r.atMs,
        severity: r.event === 'rollover' ? 'info' : 'warning',
        data: { channel: r.channel, device: r.device, point: r.point, from: r.from, to: r.to },
      };
  }
}

/** A FieldbusSink that sends through the agent link. */
export function agentSink(link: Pick<AgentLink, 'send'>): FieldbusSink {
  return { send: (r) => link.send(toAgentRecord(r)) };
}

/** A FieldbusSink that writes JSON lines (no agent: development, the bench, `--stdout`). */
export function jsonLinesSink(out: NodeJS.WritableStream): FieldbusSink {
  return {
    send: (r) => {
      out.write(`${JSON.stringify(r)}\n`);
      return true;
    },
  };
}
