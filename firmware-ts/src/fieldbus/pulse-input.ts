// An S0 pulse meter on a digital input: edges go through the pure S0 logic; every `reportMs`
// the total (energy or volume, a counter) and the rate (power or flow) are reported, the total
// also as quarter hours. The count is kept in the fieldbus state so it survives restarts.
import type { S0Profile } from '@brana/hardware';
import type { Clock, DigitalInput, TimerHandle, Unsubscribe } from '../hal/index.ts';
import { intervalStep } from './quarter-hours.ts';
import type { FieldbusSink } from './records.ts';
import { type S0State, s0Edge, s0Initial, s0RatePerH, s0Total } from './s0-pulse.ts';
import type { FieldbusState } from './state-file.ts';

export interface PulseInputOptions {
  name: string;
  input: DigitalInput;
  profile: S0Profile;
  /** Overrides the profile's impulses per unit (a meter set to another constant). */
  impulsesPerUnit?: number;
  debounceMs: number;
  clock: Clock;
  sink: FieldbusSink;
  /** Shared fieldbus state; `pulses[name].count` is read at start and kept current. */
  state: FieldbusState;
  reportMs?: number;
}

export class PulseInput {
  readonly #o: PulseInputOptions;
  readonly #imp: number;
  #s0: S0State;
  readonly #unsubscribe: Unsubscribe;
  readonly #timer: TimerHandle;

  constructor(o: PulseInputOptions) {
    this.#o = o;
    this.#imp = o.impulsesPerUnit ?? o.profile.pulse.impulsesPerUnit;
    this.#s0 = s0Initial(o.state.pulses[o.name]?.count ?? 0);
    this.#unsubscribe = o.input.onEdge((level, atNs) => {
      const r = s0Edge(this.#s0, level, Number(atNs) / 1e6, { debounceMs: o.debounceMs });
      this.#s0 = r.state;
      if (r.counted) o.state.pulses[o.name] = { count: r.state.count };
    });
    this.#timer = o.clock.setInterval(() => this.report(), o.reportMs ?? 10_000);
  }

  get count(): number {
    return this.#s0.count;
  }

  /** Sends the total and the rate now. */
  report(): void {
    const o = this.#o;
    const atMs = o.clock.nowMs();
    const kwh = o.profile.pulse.unit === 'kWh';
    const totalKey = kwh ? 'energyKWh' : 'volumeM3';
    const channel = `${o.name}.${totalKey}`;
    const total = s0Total(this.#s0, this.#imp);
    o.sink.send({
      kind: 'reading',
      channel,
      device: o.name,
      point: totalKey,
      value: total,
      unit: kwh ? 'kWh' : 'm3',
      quality: 'good',
      atMs,
      total,
    });
    const rate = s0RatePerH(this.#s0, o.clock.monotonicMs(), this.#imp);
    const rateKey = kwh ? 'powerW' : 'flowM3H';
    o.sink.send({
      kind: 'reading',
      channel: `${o.name}.${rateKey}`,
      device: o.name,
      point: rateKey,
      value: rate === null ? null : kwh ? rate * 1000 : rate,
      unit: kwh ? 'W' : 'm3/h',
      // Until two pulses have been timed the rate is unknown, not zero.
      quality: rate === null ? 'stale' : 'good',
      atMs,
    });
    const iv = intervalStep(o.state.intervals[channel], { atMs, total });
    o.state.intervals[channel] = iv.state;
    for (const c of iv.closed) {
      o.sink.send({
        kind: 'interval',
        channel,
        device: o.name,
        point: totalKey,
        unit: kwh ? 'kWh' : 'm3',
        ...c,
      });
    }
  }

  async close(): Promise<void> {
    this.#o.clock.clearInterval(this.#timer);
    this.#unsubscribe();
    await this.#o.input.close();
  }
}
