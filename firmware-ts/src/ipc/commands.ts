// Commands from the agent to a firmware process (`command` frames) and their answers (`reply`
// frames). Today one operation: a Node-RED flow asks rt to switch a relay the config gives to flows.
// The body is outside input (a flow's message passed on by the local API): the schemas are strict,
// every string is bounded, and the rt process decides ownership whatever the body says.
import { z } from 'zod';

/** A command body larger than this is refused before it is parsed. */
export const MAX_COMMAND_BYTES = 4096;

export const COMMAND_OPS = ['relay.set'] as const;
export type CommandOp = (typeof COMMAND_OPS)[number];

/** Why a command was refused; each reply also carries a message saying why and what to do. */
export const COMMAND_REFUSALS = [
  'not-owned',
  'unknown-relay',
  'not-ready',
  'rate-limited',
  'bad-command',
] as const;
export type CommandRefusal = (typeof COMMAND_REFUSALS)[number];

const commandId = z.int().min(1).max(Number.MAX_SAFE_INTEGER);
const relayName = z.string().min(1).max(100);

/** Who asked: a Node-RED flow (node and flow ids as Node-RED gives them, for the event log). */
export const commandBySchema = z.strictObject({
  kind: z.literal('flow'),
  node: z.string().min(1).max(100).optional(),
  flow: z.string().min(1).max(100).optional(),
});
export type CommandBy = z.infer<typeof commandBySchema>;

export const relaySetCommandSchema = z.strictObject({
  /** Numbered by the agent per connection, increasing; the reply carries the same id. */
  id: commandId,
  op: z.literal('relay.set'),
  /** The relay's name in the gateway config (`relays[].name`). */
  relay: relayName,
  on: z.boolean(),
  by: commandBySchema,
});
export type RelaySetCommand = z.infer<typeof relaySetCommandSchema>;

export const commandSchema = relaySetCommandSchema;
export type Command = z.infer<typeof commandSchema>;
/** What a caller of `IpcServer.command` passes: the agent numbers it. */
export type CommandRequest = Omit<Command, 'id'>;
export const commandRequestSchema = relaySetCommandSchema.omit({ id: true });

export const commandAcceptedSchema = z.strictObject({
  id: commandId,
  ok: z.literal(true),
  relay: relayName,
  on: z.boolean(),
  /** False when the relay already was in the asked state (no switch, no event). */
  changed: z.boolean(),
});

export const commandRefusedSchema = z.strictObject({
  /** 0 when the refused body had no usable id. */
  id: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  ok: z.literal(false),
  code: z.enum(COMMAND_REFUSALS),
  message: z.string().min(1).max(1000),
});

export const commandReplySchema = z.discriminatedUnion('ok', [commandAcceptedSchema, commandRefusedSchema]);
export type CommandAccepted = z.infer<typeof commandAcceptedSchema>;
export type CommandRefused = z.infer<typeof commandRefusedSchema>;
export type CommandReply = z.infer<typeof commandReplySchema>;

export function refuse(id: number, code: CommandRefusal, message: string): CommandRefused {
  return { id, ok: false, code, message: message.length > 1000 ? `${message.slice(0, 997)}...` : message };
}

const USAGE = `send {"id":<n>,"op":"relay.set","relay":"<relay name>","on":true|false,"by":{"kind":"flow"}}`;

/**
 * Parses and checks a command body (JSON text). A refusal names the field and the fix; its id is
 * the body's own when that is a usable number, else 0.
 */
export function parseCommand(
  text: string,
): { ok: true; command: Command } | { ok: false; reply: CommandRefused } {
  if (text.length > MAX_COMMAND_BYTES) {
    return {
      ok: false,
      reply: refuse(
        0,
        'bad-command',
        `command of ${text.length} bytes is over the ${MAX_COMMAND_BYTES}-byte limit; ${USAGE}`,
      ),
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      reply: refuse(0, 'bad-command', `command is not JSON (${(err as Error).message}); ${USAGE}`),
    };
  }
  const rawId = (body as { id?: unknown } | null)?.id;
  const id = typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId >= 0 ? rawId : 0;
  const op = (body as { op?: unknown } | null)?.op;
  if (typeof op !== 'string' || !(COMMAND_OPS as readonly string[]).includes(op)) {
    return {
      ok: false,
      reply: refuse(
        id,
        'bad-command',
        `op ${JSON.stringify(op)?.slice(0, 60) ?? 'undefined'} is not one of ${COMMAND_OPS.join(', ')}; ${USAGE}`,
      ),
    };
  }
  const parsed = commandSchema.safeParse(body);
  if (parsed.success) return { ok: true, command: parsed.data };
  const issue = parsed.error.issues[0];
  const path = issue?.path.length ? issue.path.join('.') : '(body)';
  return { ok: false, reply: refuse(id, 'bad-command', `${path}: ${issue?.message ?? 'invalid'}; ${USAGE}`) };
}
