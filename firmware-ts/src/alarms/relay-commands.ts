// The rt process's gate for flows' relay commands (IPC `command` frames from the agent). Commands
// are outside input: a global rate limit before anything is parsed, a bounded strict parse, ids
// that rise per connection, then the relay by name and its owner from the config. Only a relay the
// config gives to flows can move; a preemption output, an alarm line or a relay owned by rules
// cannot, whatever the body says. Switches of one relay are limited too (contacts wear, and a
// runaway flow must not chatter a load). Every refusal is counted by its code.
import type { PreemptionConfig } from '../config/index.ts';
import type { Clock } from '../hal/index.ts';
import {
  COMMAND_REFUSALS,
  type CommandBy,
  type CommandRefusal,
  type CommandReply,
  parseCommand,
  refuseCommand,
} from '../ipc/index.ts';
import type { RelayConfig } from './rules.ts';

/** What the gate switches: the alarm unit, which runs the relays' pure rules step. */
export interface FlowRelayTarget {
  /** The level relay `relay` (config index) has now. */
  isOn(relay: number): boolean | undefined;
  switchForFlow(relay: number, on: boolean, by: CommandBy): { changed: boolean; fault?: string };
}

export interface RelayCommandLimits {
  /** Commands per second over all relays, sustained (default 50). */
  commandsPerS: number;
  /** Commands at once before the sustained rate applies (default 100). */
  commandBurst: number;
  /** Switches (changes, not repeats) per minute of one relay, sustained (default 6). */
  switchesPerMin: number;
  /** Switches of one relay at once before the sustained rate applies (default 10). */
  switchBurst: number;
}

export const DEFAULT_RELAY_COMMAND_LIMITS: RelayCommandLimits = {
  commandsPerS: 50,
  commandBurst: 100,
  switchesPerMin: 6,
  switchBurst: 10,
};

export interface RelayCommandsOptions {
  relays: readonly RelayConfig[];
  /** The gateway's other outputs and inputs, so that a refusal can say what a name is. */
  alarms?: readonly { name: string; line: string }[];
  preemption?: Pick<PreemptionConfig, 'approaches' | 'heartbeat'>;
  /** The alarm unit, once it runs; undefined before (commands are then `not-ready`). */
  target: () => FlowRelayTarget | undefined;
  clock: Clock;
  limits?: Partial<RelayCommandLimits>;
}

export interface RelayCommandStats {
  accepted: number;
  /** Accepted commands that switched a relay. */
  switched: number;
  refused: Record<CommandRefusal, number>;
}

/** A token bucket on the monotonic clock. */
class Bucket {
  private tokens: number;
  private lastMs: number;
  constructor(
    private readonly burst: number,
    private readonly perMs: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }
  /** Refills to `nowMs`; true when a token is left to take. */
  has(nowMs: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + Math.max(0, nowMs - this.lastMs) * this.perMs);
    this.lastMs = nowMs;
    return this.tokens >= 1;
  }
  take(): void {
    this.tokens -= 1;
  }
  /** Milliseconds until a token is there. */
  waitMs(): number {
    return Math.ceil(Math.max(0, 1 - this.tokens) / this.perMs);
  }
}

export class RelayCommands {
  readonly #o: RelayCommandsOptions;
  readonly #limits: RelayCommandLimits;
  readonly #index = new Map<string, number>();
  /** Names that are not relays but something a flow might try: what each is. */
  readonly #others = new Map<string, string>();
  readonly #flowsRelays: string[];
  readonly #global: Bucket;
  readonly #perRelay: Bucket[];
  #connection = -1;
  #lastId = 0;
  readonly #stats: RelayCommandStats = {
    accepted: 0,
    switched: 0,
    refused: Object.fromEntries(COMMAND_REFUSALS.map((c) => [c, 0])) as Record<CommandRefusal, number>,
  };

  constructor(o: RelayCommandsOptions) {
    this.#o = o;
    this.#limits = { ...DEFAULT_RELAY_COMMAND_LIMITS, ...o.limits };
    const l = this.#limits;
    const now = o.clock.monotonicMs();
    this.#global = new Bucket(l.commandBurst, l.commandsPerS / 1000, now);
    o.relays.forEach((r, i) => this.#index.set(r.name, i));
    this.#perRelay = o.relays.map(() => new Bucket(l.switchBurst, l.switchesPerMin / 60_000, now));
    this.#flowsRelays = o.relays.filter((r) => r.owner === 'flows').map((r) => r.name);
    for (const a of o.preemption?.approaches ?? []) {
      this.#others.set(a.id, `the preemption output of approach "${a.id}"`);
      this.#others.set(a.output, `the preemption output of approach "${a.id}"`);
      if (a.readback !== undefined) this.#others.set(a.readback, `the readback of approach "${a.id}"`);
    }
    if (o.preemption !== undefined) this.#others.set(o.preemption.heartbeat.output, 'the dead-man heartbeat');
    for (const a of o.alarms ?? []) {
      this.#others.set(a.name, `the alarm input "${a.name}"`);
      this.#others.set(a.line, `the line of alarm input "${a.name}"`);
    }
  }

  stats(): RelayCommandStats {
    return { ...this.#stats, refused: { ...this.#stats.refused } };
  }

  /** Answers one command body (JSON text) that arrived on link connection `connection`. */
  handle(body: string, connection: number): CommandReply {
    const reply = this.#decide(body, connection);
    if (reply.ok) this.#stats.accepted++;
    else this.#stats.refused[reply.code]++;
    return reply;
  }

  #decide(body: string, connection: number): CommandReply {
    const now = this.#o.clock.monotonicMs();
    // Cheapest first: a flood is refused before its body is even parsed.
    if (!this.#global.has(now)) {
      return refuseCommand(
        0,
        'rate-limited',
        `more than ${this.#limits.commandsPerS} relay commands per second; send fewer (retry in ${this.#global.waitMs()} ms)`,
      );
    }
    this.#global.take();
    const parsed = parseCommand(body);
    if (!parsed.ok) return parsed.reply;
    const c = parsed.command;
    if (connection !== this.#connection) {
      this.#connection = connection;
      this.#lastId = 0;
    }
    if (c.id <= this.#lastId) {
      return refuseCommand(
        c.id,
        'bad-command',
        `id ${c.id} is not above the last id ${this.#lastId} on this connection; number commands increasing`,
      );
    }
    this.#lastId = c.id;
    const i = this.#index.get(c.relay);
    if (i === undefined) {
      const what = this.#others.get(c.relay);
      if (what !== undefined) {
        return refuseCommand(
          c.id,
          'not-owned',
          `"${c.relay}" is ${what}, which no flow can ever switch; flows switch only relays with owner: flows (${this.#listFlows()})`,
        );
      }
      return refuseCommand(
        c.id,
        'unknown-relay',
        `this gateway's config has no relay "${c.relay}"; relays flows may switch: ${this.#listFlows()}`,
      );
    }
    const relay = this.#o.relays[i]!;
    if (relay.owner !== 'flows') {
      return refuseCommand(
        c.id,
        'not-owned',
        `relay "${c.relay}" is switched by its rules (owner: rules), never by a flow; to give it to flows set owner: flows and remove its rules in the gateway config`,
      );
    }
    const target = this.#o.target();
    if (target === undefined) {
      return refuseCommand(
        c.id,
        'not-ready',
        'the relays are not open yet (rt is starting); try again shortly',
      );
    }
    // A repeat of the current level switches nothing and costs nothing; a change needs a token
    // of this relay's bucket.
    if (target.isOn(i) === c.on) return this.#accepted(c.id, c.relay, c.on, false);
    const bucket = this.#perRelay[i]!;
    if (!bucket.has(now)) {
      return refuseCommand(
        c.id,
        'rate-limited',
        `relay "${c.relay}" switched ${this.#limits.switchBurst} times recently; at most ${this.#limits.switchesPerMin} switches a minute (contacts wear), retry in ${Math.ceil(bucket.waitMs() / 1000)} s or switch it less often`,
      );
    }
    const r = target.switchForFlow(i, c.on, c.by);
    if (r.fault !== undefined) {
      return refuseCommand(c.id, 'not-ready', `relay "${c.relay}" could not be switched: ${r.fault}`);
    }
    if (r.changed) bucket.take();
    return this.#accepted(c.id, c.relay, c.on, r.changed);
  }

  #accepted(id: number, relay: string, on: boolean, changed: boolean): CommandReply {
    if (changed) this.#stats.switched++;
    return { id, ok: true, relay, on, changed };
  }

  #listFlows(): string {
    return this.#flowsRelays.length === 0
      ? 'none in this config'
      : this.#flowsRelays.map((n) => `"${n}"`).join(', ');
  }
}
