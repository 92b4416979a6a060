// The agent's own events (Node-RED started, exited, logged; flows drifted, reverted) go into the
// journal like the firmware's, so they reach the fleet exactly once: source "agent", a boot epoch
// per agent start that is never reused (kept in <dataDir>/agent-epoch), and a sequence number.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '@brana/firmware';
import type { Journal } from '../journal/index.ts';
import { writeFileAtomic } from '../state/index.ts';
import type { LogFn } from './options.ts';

export interface AgentEvent {
  type: string;
  severity: 'info' | 'warning' | 'critical';
  data: Record<string, unknown>;
  /** Safety events are never evicted (none of the agent's are, so far). */
  safety?: boolean;
}

export interface AgentEventsOptions {
  journal: Journal;
  dataDir: string;
  clock: Clock;
  /** After each commit (the fleet link sends sooner). */
  onCommit?: () => void;
  log: LogFn;
}

export class AgentEvents {
  readonly bootEpoch: number;
  readonly #o: AgentEventsOptions;
  #seq = 0;
  #failed = 0;

  constructor(options: AgentEventsOptions) {
    this.#o = options;
    const file = join(options.dataDir, 'agent-epoch');
    let last = 0;
    try {
      last = Number(readFileSync(file, 'utf8').trim()) || 0;
    } catch {
      // First start.
    }
    // The wall clock may have gone back since the last start: the epoch still only goes up.
    this.bootEpoch = Math.max(Math.floor(options.clock.nowMs()), last + 1);
    writeFileAtomic(file, `${this.bootEpoch}\n`);
  }

  emit(e: AgentEvent): void {
    try {
      this.#o.journal.append([
        {
          source: 'agent',
          bootEpoch: this.bootEpoch,
          seq: ++this.#seq,
          record: {
            kind: 'event',
            type: e.type,
            safety: e.safety ?? false,
            atMs: this.#o.clock.nowMs(),
            severity: e.severity,
            data: e.data,
          },
        },
      ]);
      this.#o.onCommit?.();
    } catch (err) {
      this.#failed++;
      this.#o.log('error', `agent event ${e.type} not journalled: ${(err as Error).message}`);
    }
  }

  /** Events that could not be committed (a full disk). */
  failed(): number {
    return this.#failed;
  }
}
