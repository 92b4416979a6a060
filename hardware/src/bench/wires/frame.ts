// Binary framing of the wire bus socket. Small on purpose: an edge crosses the socket on the latency
// path of the preemption benchmark, so no JSON. Every frame is [u16 BE body length][body]; the body
// starts with an opcode byte. Integers are big-endian; names are UTF-8 and fill the rest of the body.
//
//   0x01 hello  id:u32                              client → server, answered by ok
//   0x02 set    id:u32 level:u8 atNs:u64 name       client → server, answered by ok | error
//   0x03 read   id:u32 name                         client → server, answered by ok | error
//   0x81 ok     id:u32 level:u8                     server → client
//   0x82 error  id:u32 message                      server → client
//   0x83 edge   level:u8 atNs:u64 name              server → every client, on every change

import { WireError } from '../errors.ts';
import type { Level } from './types.ts';

export type WireMessage =
  | { op: 'hello'; id: number }
  | { op: 'set'; id: number; line: string; level: Level; atNs: bigint }
  | { op: 'read'; id: number; line: string }
  | { op: 'ok'; id: number; level: Level }
  | { op: 'error'; id: number; message: string }
  | { op: 'edge'; line: string; level: Level; atNs: bigint };

const OP = { hello: 0x01, set: 0x02, read: 0x03, ok: 0x81, error: 0x82, edge: 0x83 } as const;
const MAX_BODY = 4096;

export function encodeWireMessage(m: WireMessage): Buffer {
  let body: Buffer;
  switch (m.op) {
    case 'hello':
      body = Buffer.alloc(5);
      body.writeUInt32BE(m.id, 1);
      break;
    case 'set': {
      const name = Buffer.from(m.line, 'utf8');
      body = Buffer.alloc(14 + name.length);
      body.writeUInt32BE(m.id, 1);
      body[5] = m.level;
      body.writeBigUInt64BE(m.atNs, 6);
      name.copy(body, 14);
      break;
    }
    case 'read': {
      const name = Buffer.from(m.line, 'utf8');
      body = Buffer.alloc(5 + name.length);
      body.writeUInt32BE(m.id, 1);
      name.copy(body, 5);
      break;
    }
    case 'ok':
      body = Buffer.alloc(6);
      body.writeUInt32BE(m.id, 1);
      body[5] = m.level;
      break;
    case 'error': {
      const text = Buffer.from(m.message, 'utf8').subarray(0, MAX_BODY - 5);
      body = Buffer.alloc(5 + text.length);
      body.writeUInt32BE(m.id, 1);
      text.copy(body, 5);
      break;
    }
    case 'edge': {
      const name = Buffer.from(m.line, 'utf8');
      body = Buffer.alloc(10 + name.length);
      body[1] = m.level;
      body.writeBigUInt64BE(m.atNs, 2);
      name.copy(body, 10);
      break;
    }
  }
  body[0] = OP[m.op];
  if (body.length > MAX_BODY) {
    throw new WireError(
      'WIRE_FRAME_TOO_LONG',
      `wire frame of ${body.length} bytes`,
      'use shorter line names',
    );
  }
  const frame = Buffer.alloc(2 + body.length);
  frame.writeUInt16BE(body.length, 0);
  body.copy(frame, 2);
  return frame;
}

function malformed(offset: number, what: string): WireError {
  return new WireError(
    'WIRE_FRAME_MALFORMED',
    `malformed wire frame at stream byte ${offset}: ${what}`,
    'connect with connectWires() from @brana/hardware; the socket speaks only its binary framing',
  );
}

function level(body: Buffer, at: number, offset: number): Level {
  const v = body[at];
  if (v !== 0 && v !== 1) throw malformed(offset + at, `level byte ${v} is not 0 or 1`);
  return v;
}

function decodeBody(body: Buffer, offset: number): WireMessage {
  const need = (n: number): void => {
    if (body.length < n)
      throw malformed(offset, `opcode 0x${body[0]?.toString(16)} needs ${n} bytes, got ${body.length}`);
  };
  switch (body[0]) {
    case OP.hello:
      need(5);
      return { op: 'hello', id: body.readUInt32BE(1) };
    case OP.set:
      need(15);
      return {
        op: 'set',
        id: body.readUInt32BE(1),
        level: level(body, 5, offset),
        atNs: body.readBigUInt64BE(6),
        line: body.toString('utf8', 14),
      };
    case OP.read:
      need(6);
      return { op: 'read', id: body.readUInt32BE(1), line: body.toString('utf8', 5) };
    case OP.ok:
      need(6);
      return { op: 'ok', id: body.readUInt32BE(1), level: level(body, 5, offset) };
    case OP.error:
      need(5);
      return { op: 'error', id: body.readUInt32BE(1), message: body.toString('utf8', 5) };
    case OP.edge:
      need(11);
      return {
        op: 'edge',
        level: level(body, 1, offset),
        atNs: body.readBigUInt64BE(2),
        line: body.toString('utf8', 10),
      };
    default:
      throw malformed(offset, `unknown opcode 0x${(body[0] ?? 0).toString(16).padStart(2, '0')}`);
  }
}

/** Reassembles frames from arbitrarily chunked socket data. Throws `WireError` on a malformed frame. */
export class WireFrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private consumed = 0;

  push(chunk: Buffer): WireMessage[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: WireMessage[] = [];
    while (this.pending.length >= 2) {
      const len = this.pending.readUInt16BE(0);
      if (len === 0 || len > MAX_BODY)
        throw malformed(this.consumed, `body length ${len} outside 1..${MAX_BODY}`);
      if (this.pending.length < 2 + len) break;
      out.push(decodeBody(this.pending.subarray(2, 2 + len), this.consumed + 2));
      this.pending = this.pending.subarray(2 + len);
      this.consumed += 2 + len;
    }
    return out;
  }
}
