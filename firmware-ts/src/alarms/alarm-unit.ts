// The I/O around the alarm rules: alarm inputs (debounced by the HAL), relay outputs, the timer
// that ends a relay's hold, and the events that reach the fleet. Relays are off at open and on
// stop; a relay write that fails is a fault event, never an exception out of an edge callback.
import type { GatewayConfig } from '../config/index.ts';
import type {
  Clock,
  DigitalInput,
  DigitalOutput,
  GpioBackend,
  TimerHandle,
  Unsubscribe,
} from '../hal/index.ts';
import type { CommandBy, IpcEvent } from '../ipc/index.ts';
import {
  type AlarmInput,
  type AlarmRules,
  type AlarmState,
  compileAlarmRules,
  initialAlarmState,
  nextDeadlineMs,
  type RelayConfig,
  step,
} from './rules.ts';

/** Who switched a relay, as `relay.switched` events say it. */
export type SwitchedBy = { kind: 'rules' } | CommandBy;

export interface AlarmUnitOptions {
  config: { alarms: GatewayConfig['alarms']; relays: readonly RelayConfig[] };
  gpio: GpioBackend;
  clock: Clock;
  /** Queues one event for the agent; never blocks (false: dropped and counted by the sink). */
  emit: (event: IpcEvent) => boolean;
}

export interface AlarmUnitStats {
  alarmsRaised: number;
  relaySwitches: number;
  relayFaults: number;
}

export class AlarmUnit {
  readonly rules: AlarmRules;
  #state: AlarmState;
  #inputs: DigitalInput[] = [];
  #outputs: DigitalOutput[] = [];
  #unsubscribe: Unsubscribe[] = [];
  #timer: TimerHandle | undefined;
  #stopped = false;
  readonly #stats: AlarmUnitStats = { alarmsRaised: 0, relaySwitches: 0, relayFaults: 0 };
  readonly #channelIndex: Map<string, number>;

  private constructor(private readonly o: AlarmUnitOptions) {
    this.rules = compileAlarmRules(o.config);
    this.#state = initialAlarmState(this.rules);
    this.#channelIndex = new Map(this.rules.channels.map((c, i) => [c, i]));
  }

  /** Opens every relay (off) and alarm input; an alarm already active at start is raised at once. */
  static async start(options: AlarmUnitOptions): Promise<AlarmUnit> {
    const unit = new AlarmUnit(options);
    try {
      for (const r of options.config.relays) {
        unit.#outputs.push(
          await options.gpio.openOutput(r.line, { initial: 0, activeLow: r.activeLevel === 0 }),
        );
      }
      for (const a of options.config.alarms) {
        unit.#inputs.push(
          await options.gpio.openInput(a.line, {
            edge: 'both',
            debounceMs: a.debounceMs,
            activeLow: a.activeLevel === 0,
          }),
        );
      }
    } catch (err) {
      await unit.stop();
      throw err;
    }
    unit.#inputs.forEach((input, i) => {
      unit.#unsubscribe.push(
        input.onEdge((level) => unit.#apply({ kind: 'alarm', alarm: i, active: level === 1 })),
      );
      if (input.read() === 1) unit.#apply({ kind: 'alarm', alarm: i, active: true });
    });
    return unit;
  }

  /** Channel keys some relay rule compares; feed their readings with `value`. */
  get channels(): readonly string[] {
    return this.rules.channels;
  }

  /** A new reading of a channel a rule compares (others are ignored). */
  value(channel: string, value: number): void {
    const i = this.#channelIndex.get(channel);
    if (i !== undefined && Number.isFinite(value)) this.#apply({ kind: 'value', channel: i, value });
  }

  /**
   * A flow's switch of relay `relay` (index in the config's relays). Only a relay owned by flows
   * moves (the rules step enforces it); `changed` says whether it did, `fault` why its output
   * could not be driven.
   */
  switchForFlow(relay: number, on: boolean, by: CommandBy): { changed: boolean; fault?: string } {
    if (this.#stopped) return { changed: false, fault: 'the relay unit is stopping' };
    const before = this.#state.relayOn[relay];
    const fault = this.#apply({ kind: 'flow', relay, on }, by);
    const changed = this.#state.relayOn[relay] !== before;
    return fault === undefined ? { changed } : { changed, fault };
  }

  /** The level relay `relay` (config index) has now. */
  isOn(relay: number): boolean | undefined {
    return this.#state.relayOn[relay];
  }

  relayOn(name: string): boolean | undefined {
    const i = this.rules.relays.findIndex((r) => r.name === name);
    return i < 0 ? undefined : this.#state.relayOn[i];
  }

  alarmActive(name: string): boolean | undefined {
    const i = this.rules.alarms.findIndex((a) => a.name === name);
    return i < 0 ? undefined : this.#state.alarmActive[i];
  }

  stats(): AlarmUnitStats {
    return { ...this.#stats };
  }

  /** Stops input, switches every relay off and releases the lines. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) this.o.clock.clearTimeout(this.#timer);
    for (const u of this.#unsubscribe) u();
    for (const input of this.#inputs) await input.close().catch(() => {});
    // close() drives each output to 0 before it releases the line.
    for (const output of this.#outputs) await output.close().catch(() => {});
  }

  /** Runs one rules step and carries out its commands; returns the first output fault, if any. */
  #apply(input: AlarmInput, by?: CommandBy): string | undefined {
    if (this.#stopped) return undefined;
    let fault: string | undefined;
    const now = this.o.clock.monotonicMs();
    const r = step(this.rules, this.#state, input, now);
    this.#state = r.state;
    const atMs = this.o.clock.nowMs();
    for (const c of r.commands) {
      const relay = this.rules.relays[c.relay];
      try {
        this.#outputs[c.relay]?.write(c.on ? 1 : 0);
      } catch (err) {
        this.#stats.relayFaults++;
        fault ??= `output ${relay?.name ?? c.relay} failed: ${(err as Error).message}`;
        this.o.emit({
          kind: 'event',
          type: 'relay.fault',
          safety: false,
          severity: 'warning',
          atMs,
          data: { relay: relay?.name, on: c.on, error: (err as Error).message },
        });
      }
    }
    for (const e of r.events) {
      if (e.kind === 'relay.switched') {
        this.#stats.relaySwitches++;
        this.o.emit({
          kind: 'event',
          type: 'relay.switched',
          safety: false,
          severity: 'info',
          atMs,
          data: {
            relay: this.rules.relays[e.relay]?.name,
            on: e.on,
            by: e.cause === 'flow' && by !== undefined ? by : { kind: 'rules' },
          },
        });
      } else {
        const alarm = this.rules.alarms[e.alarm];
        if (e.kind === 'alarm.raised') this.#stats.alarmsRaised++;
        // Alarms are life-safety events (a care home's SOS cord): never evicted from the journal.
        this.o.emit({
          kind: 'event',
          type: e.kind,
          safety: true,
          severity: e.kind === 'alarm.raised' ? 'critical' : 'info',
          atMs,
          data: { alarm: alarm?.name, alarmKind: alarm?.kind },
        });
      }
    }
    this.#schedule(now);
    return fault;
  }

  #schedule(now: number): void {
    if (this.#timer !== undefined) this.o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const next = nextDeadlineMs(this.#state, now);
    if (next === undefined) return;
    this.#timer = this.o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#apply({ kind: 'tick' });
    }, next - now);
  }
}
