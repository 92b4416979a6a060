// The live gateway sessions: one WebSocket per gateway (a newer one replaces the older), and what
// other parts do with them: ask who is online, push a desired config, close a revoked one.
import type { ServerMessage, SignedConfigDocument } from '@brana/protocol';
import { WebSocket } from 'ws';

export interface Session {
  ws: WebSocket;
  gatewayId: string;
  gatewayNum: number;
  sessionId: string;
  /** Date.now() of the last message: silent sessions are dropped after three heartbeats. */
  lastMessageAt: number;
  /** Server time of the last last_seen_at write for this session. */
  lastSeenWrittenAt: number;
}

export class GatewaySessions {
  private readonly byGateway = new Map<string, Session>();
  private readonly desiredText = new WeakMap<SignedConfigDocument, string>();

  isOnline(gatewayId: string): boolean {
    return this.byGateway.has(gatewayId);
  }

  onlineIds(): string[] {
    return [...this.byGateway.keys()];
  }

  /** Sends a desired config to a gateway online now; false when it is not connected. */
  push(gatewayId: string, doc: SignedConfigDocument): boolean {
    const s = this.byGateway.get(gatewayId);
    if (!s || s.ws.readyState !== WebSocket.OPEN) return false;
    // One serialisation per document, not one per gateway (a rollout pushes it thousands of times).
    let text = this.desiredText.get(doc);
    if (!text) {
      text = JSON.stringify({ type: 'desired', document: doc } satisfies ServerMessage);
      this.desiredText.set(doc, text);
    }
    s.ws.send(text);
    return true;
  }

  /** Closes the live session of a gateway (revoked), if it has one. */
  disconnect(gatewayId: string, code: number, reason: string): void {
    this.byGateway.get(gatewayId)?.ws.close(code, reason);
  }

  /** Makes `s` its gateway's session; returns the one it replaces. */
  open(s: Session): Session | undefined {
    const old = this.byGateway.get(s.gatewayId);
    this.byGateway.set(s.gatewayId, s);
    return old;
  }

  /** Forgets `s` if it is still its gateway's session; true when it was. */
  close(s: Session): boolean {
    if (this.byGateway.get(s.gatewayId) !== s) return false;
    this.byGateway.delete(s.gatewayId);
    return true;
  }

  all(): IterableIterator<Session> {
    return this.byGateway.values();
  }
}
