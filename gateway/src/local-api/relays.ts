// Relay switching for flows: the request goes to the rt process as an IPC `command`, and rt alone
// decides (ownership, rate); its refusal becomes an HTTP error with rt's reason. The last state of
// every relay is followed from the `relay.switched` events on the journal stream.
import { z } from 'zod';
import { byField } from './alarm-service.ts';
import { ApiError } from './api-error.ts';
import type { CommittedRecord } from './committed.ts';

/** The IPC command a flow's switch becomes (CONTRACTS.md, "IPC: agent → firmware commands"). */
export interface RelaySetRequest {
  op: 'relay.set';
  relay: string;
  on: boolean;
  by: { kind: 'flow'; node?: string; flow?: string };
}

export type RelayReply =
  | { id: number; ok: true; relay: string; on: boolean; changed: boolean }
  | {
      id: number;
      ok: false;
      code: 'not-owned' | 'unknown-relay' | 'not-ready' | 'rate-limited' | 'bad-command';
      message: string;
    };

/** Sends a command to rt and resolves with its reply (IpcServer.command('rt', …)); never rejects. */
export type RelayCommand = (request: RelaySetRequest) => Promise<RelayReply>;

export const relayBodySchema = z.strictObject({
  on: z.boolean().describe('true switches the relay on, false off'),
  by: byField,
});

const REFUSAL_STATUS = {
  'not-owned': 403,
  'unknown-relay': 404,
  'not-ready': 503,
  'rate-limited': 429,
  'bad-command': 400,
} as const;

export class Relays {
  readonly #states = new Map<string, boolean>();
  #refused = 0;
  constructor(private readonly send: RelayCommand) {}

  /** Follows relay.switched events (from rt's rules and from flows alike). */
  observe(records: readonly CommittedRecord[]): void {
    for (const { record: r } of records) {
      if (r.kind === 'event' && r.type === 'relay.switched') {
        const d = r.data as { relay?: unknown; on?: unknown };
        if (typeof d.relay === 'string' && typeof d.on === 'boolean') this.#states.set(d.relay, d.on);
      }
    }
  }

  states(): ReadonlyMap<string, boolean> {
    return this.#states;
  }

  get refused(): number {
    return this.#refused;
  }

  async set(
    relay: string,
    body: z.output<typeof relayBodySchema>,
  ): Promise<{ relay: string; on: boolean; changed: boolean }> {
    if (relay.length === 0 || relay.length > 100) {
      throw new ApiError(400, 'bad-request', 'params.relay: a relay name is 1-100 characters', {
        field: 'params.relay',
      });
    }
    const by: RelaySetRequest['by'] = { kind: 'flow' };
    if (body.by?.node) by.node = body.by.node;
    if (body.by?.flow) by.flow = body.by.flow;
    const reply = await this.send({ op: 'relay.set', relay, on: body.on, by });
    if (reply.ok) {
      return { relay: reply.relay, on: reply.on, changed: reply.changed };
    }
    this.#refused++;
    const status = REFUSAL_STATUS[reply.code] ?? 400;
    throw new ApiError(status, reply.code, `relay "${relay}": ${reply.message}`, {
      field: reply.code === 'bad-command' ? 'body' : 'params.relay',
      ...(status === 503 || status === 429 ? { retryAfterS: 1 } : {}),
    });
  }
}
