import type { ProfileIssue } from '../errors.ts';
import { integerLimits, registerCount } from '../registers/index.ts';
import type {
  DeviceProfile,
  FlowSim,
  ModbusPoint,
  ModbusProfile,
  OpticalDetectorProfile,
  PointSim,
  S0Profile,
} from './types.ts';
import { UNIT_SUFFIX } from './units.ts';

// Checks a schema cannot express: relations between fields and between points.
// Pure: takes a resolved profile, returns issues with paths into the file (no line numbers).

const issue = (path: string, message: string, fix: string): ProfileIssue => ({ path, message, fix });

/** Every issue of a resolved profile; empty when it is consistent. */
export function checkProfileInvariants(profile: DeviceProfile): ProfileIssue[] {
  switch (profile.kind) {
    case 'modbus':
      return checkModbus(profile);
    case 's0':
      return checkS0(profile);
    case 'optical-detector':
      return checkOptical(profile);
    case 'serial-radio': {
      const [lo, hi] = profile.sim.latencyMs;
      return lo <= hi
        ? []
        : [issue('sim.latencyMs', `min ${lo} is above max ${hi}`, 'write it as [min, max]')];
    }
  }
}

/** Keys a sim model reads from other points. */
export function simDependencies(sim: PointSim | undefined): string[] {
  if (!sim) return [];
  if ('integral' in sim) return [sim.integral.of];
  if ('follow' in sim) return sim.divideBy === undefined ? [sim.follow] : [sim.follow, sim.divideBy];
  if ('sum' in sim) return [...sim.sum];
  return [];
}

/** The engineering values a simulator may serve for a point, if known: from its sim model or range. */
export function simValueRange(point: ModbusPoint): [number, number] | undefined {
  const sim = point.sim;
  if (sim && 'walk' in sim) return [sim.walk.min, sim.walk.max];
  if (sim && 'constant' in sim && typeof sim.constant === 'number') return [sim.constant, sim.constant];
  if (sim && 'flow' in sim) return flowSimRange(sim.flow);
  return point.range ? [point.range[0], point.range[1]] : undefined;
}

/** Bounds of a flow model's output, as its schema description defines them. */
export function flowSimRange(flow: FlowSim['flow']): [number, number] {
  return [flow.nightLeakM3H, 3 * flow.baseM3H + flow.nightLeakM3H];
}

function checkModbus(p: ModbusProfile): ProfileIssue[] {
  const out: ProfileIssue[] = [];
  const { bus } = p;
  if (!bus.baudRates.includes(bus.defaultBaud)) {
    out.push(
      issue(
        'bus.defaultBaud',
        `${bus.defaultBaud} Bd is not in bus.baudRates`,
        'add it to baudRates or pick one of them',
      ),
    );
  }
  if (bus.gapFill >= bus.maxRegistersPerRead) {
    out.push(
      issue(
        'bus.gapFill',
        `gapFill ${bus.gapFill} is not below maxRegistersPerRead ${bus.maxRegistersPerRead}`,
        'lower gapFill',
      ),
    );
  }
  if (bus.gapFill > 0 && !bus.readableHoles) {
    out.push(
      issue(
        'bus.gapFill',
        `gapFill ${bus.gapFill} reads through holes, but readableHoles is false`,
        'set gapFill: 0, or readableHoles: true if the device answers reads of unmapped registers',
      ),
    );
  }
  if (p.sim.turnaroundMs[0] > p.sim.turnaroundMs[1]) {
    out.push(
      issue(
        'sim.turnaroundMs',
        `min ${p.sim.turnaroundMs[0]} is above max ${p.sim.turnaroundMs[1]}`,
        'write it as [min, max]',
      ),
    );
  }

  const byKey = new Map<string, number>();
  p.points.forEach((pt, i) => {
    const at = `points[${i}]`;
    const first = byKey.get(pt.key);
    if (first !== undefined) {
      out.push(
        issue(
          `${at}.key`,
          `key "${pt.key}" is already used by points[${first}]`,
          'give every point its own key',
        ),
      );
    } else byKey.set(pt.key, i);
    out.push(...checkPoint(p, pt, at));
  });

  // No two points may share a register within one function code (address space).
  for (const fc of [1, 2, 3, 4] as const) {
    const spans = p.points
      .map((pt, i) => ({ i, pt, start: pt.address, end: pt.address + safeCount(pt) - 1 }))
      .filter((s) => s.pt.functionCode === fc)
      .sort((a, b) => a.start - b.start);
    for (let j = 1; j < spans.length; j++) {
      const a = spans[j - 1]!;
      const b = spans[j]!;
      if (b.start <= a.end) {
        out.push(
          issue(
            `points[${b.i}].address`,
            `${b.pt.key} at ${b.start} overlaps ${a.pt.key} (points[${a.i}], registers ${a.start}..${a.end}) on function code ${fc}`,
            'check the address in the register map; a 32-bit value takes 2 registers, a 64-bit one 4',
          ),
        );
      }
    }
  }

  // Sim references must exist and must not form cycles.
  p.points.forEach((pt, i) => {
    for (const dep of simDependencies(pt.sim)) {
      if (!byKey.has(dep)) {
        out.push(
          issue(
            `points[${i}].sim`,
            `sim model refers to "${dep}", which is not a point of this profile`,
            `use one of: ${[...byKey.keys()].join(', ')}`,
          ),
        );
      }
    }
  });
  const cycle = findCycle(p.points);
  if (cycle) {
    out.push(
      issue(
        `points[${byKey.get(cycle[0]!)}].sim`,
        `sim models depend on each other in a cycle: ${cycle.join(' → ')}`,
        'make one of them a walk or constant',
      ),
    );
  }
  return out;
}

function safeCount(pt: ModbusPoint): number {
  try {
    return registerCount(pt.type, pt.words);
  } catch {
    return 1;
  }
}

function checkPoint(p: ModbusProfile, pt: ModbusPoint, at: string): ProfileIssue[] {
  const out: ProfileIssue[] = [];
  if (pt.type === 'str' && pt.words === undefined) {
    out.push(
      issue(`${at}.words`, `str point ${pt.key} has no words`, 'add words: <registers> (2 characters each)'),
    );
  }
  if (pt.type !== 'str' && pt.words !== undefined) {
    out.push(issue(`${at}.words`, `words is only for str points, ${pt.key} is ${pt.type}`, 'remove words'));
  }
  const count = safeCount(pt);
  if (count > p.bus.maxRegistersPerRead) {
    out.push(
      issue(
        `${at}.type`,
        `${pt.key} spans ${count} registers, more than bus.maxRegistersPerRead ${p.bus.maxRegistersPerRead}`,
        'use fewer words or raise maxRegistersPerRead',
      ),
    );
  }
  if (pt.address + count - 1 > 0xffff) {
    out.push(issue(`${at}.address`, `${pt.key} runs past register 65535`, 'check the address'));
  }
  if (pt.unit !== '' && !pt.key.endsWith(UNIT_SUFFIX[pt.unit])) {
    out.push(
      issue(
        `${at}.key`,
        `key ${pt.key} has unit ${pt.unit} but does not end with "${UNIT_SUFFIX[pt.unit]}"`,
        `rename it to end with ${UNIT_SUFFIX[pt.unit]} (units in names), or fix the unit`,
      ),
    );
  }
  const isBit = pt.functionCode === 1 || pt.functionCode === 2;
  if (isBit && (pt.type !== 'u16' || pt.scale !== 1 || pt.offset !== 0)) {
    out.push(
      issue(
        `${at}.type`,
        `${pt.key} is a coil/discrete input (function code ${pt.functionCode}): one bit`,
        'use type u16 with scale 1 and offset 0, values 0 and 1',
      ),
    );
  }
  if (pt.writable && (pt.functionCode === 2 || pt.functionCode === 4)) {
    out.push(
      issue(
        `${at}.writable`,
        `${pt.key} is read-only by function code ${pt.functionCode}`,
        'writable points use function code 1 (coil) or 3 (holding register)',
      ),
    );
  }
  if (pt.writable && pt.sim?.set === undefined) {
    out.push(
      issue(
        `${at}.sim`,
        `writable point ${pt.key} has no setter in its sim model`,
        'add `set: store` to its sim model so the simulator accepts writes',
      ),
    );
  }
  if (pt.type !== 'str' && pt.range === undefined) {
    out.push(
      issue(
        `${at}.range`,
        `${pt.key} has no plausible range`,
        'add range: [min, max] in engineering units from the data sheet',
      ),
    );
  }
  if (pt.range) {
    const [min, max] = pt.range;
    if (!(min < max))
      out.push(
        issue(
          `${at}.range`,
          `range [${min}, ${max}] is empty: min must be below max`,
          'write it as [min, max]',
        ),
      );
    const limits = integerLimits(pt.type);
    if (limits && min < max) {
      const raws = [(min - pt.offset) / pt.scale, (max - pt.offset) / pt.scale];
      const lo = BigInt(Math.round(Math.min(...raws)));
      const hi = BigInt(Math.round(Math.max(...raws)));
      if (lo < limits[0] || hi > limits[1]) {
        out.push(
          issue(
            `${at}.range`,
            `range [${min}, ${max}] needs raw values ${lo}..${hi}, outside type ${pt.type}`,
            'fix the range, the scale or the type',
          ),
        );
      }
    }
    if (isBit && (min < 0 || max > 1)) out.push(issue(`${at}.range`, 'a bit is 0 or 1', 'use range [0, 1]'));
  }
  if (pt.nan !== undefined) {
    const limits = integerLimits(pt.type);
    for (const s of typeof pt.nan === 'number' ? [pt.nan] : pt.nan) {
      if (pt.type === 'str') out.push(issue(`${at}.nan`, 'text points have no NaN sentinel', 'remove nan'));
      else if (limits && (!Number.isInteger(s) || BigInt(s) < limits[0] || BigInt(s) > limits[1])) {
        out.push(
          issue(
            `${at}.nan`,
            `sentinel ${s} is not a raw ${pt.type} value`,
            `give the raw register value, e.g. ${limits[1]}`,
          ),
        );
      }
    }
  }
  out.push(...checkPointSim(pt, at));
  return out;
}

function checkPointSim(pt: ModbusPoint, at: string): ProfileIssue[] {
  const sim = pt.sim;
  if (!sim) return [];
  const out: ProfileIssue[] = [];
  const path = `${at}.sim`;
  if ('constant' in sim) {
    if (pt.type === 'str' && typeof sim.constant !== 'string')
      out.push(issue(`${path}.constant`, `${pt.key} is text`, 'give a quoted string'));
    if (pt.type !== 'str' && typeof sim.constant !== 'number')
      out.push(issue(`${path}.constant`, `${pt.key} is numeric`, 'give a number'));
    if (
      typeof sim.constant === 'number' &&
      pt.range &&
      (sim.constant < pt.range[0] || sim.constant > pt.range[1])
    ) {
      out.push(
        issue(
          `${path}.constant`,
          `${sim.constant} is outside the point range [${pt.range.join(', ')}]`,
          'pick a value inside the range',
        ),
      );
    }
    if (typeof sim.constant === 'string' && pt.words !== undefined && sim.constant.length > 2 * pt.words) {
      out.push(
        issue(
          `${path}.constant`,
          `"${sim.constant}" is longer than ${2 * pt.words} characters`,
          'shorten it or raise words',
        ),
      );
    }
  } else if (pt.type === 'str') {
    out.push(
      issue(path, `text point ${pt.key} can only be simulated with constant`, 'use { constant: "text" }'),
    );
  }
  if ('walk' in sim) {
    const { min, max, start } = sim.walk;
    if (!(min < max))
      out.push(issue(`${path}.walk`, `walk min ${min} is not below max ${max}`, 'write min below max'));
    if (pt.range && (min < pt.range[0] || max > pt.range[1])) {
      out.push(
        issue(
          `${path}.walk`,
          `walk [${min}, ${max}] leaves the point range [${pt.range.join(', ')}]`,
          'keep the walk inside the plausible range',
        ),
      );
    }
    if (start !== undefined && (start < min || start > max))
      out.push(
        issue(`${path}.walk.start`, `start ${start} is outside [${min}, ${max}]`, 'start inside the walk'),
      );
  }
  if ('integral' in sim && pt.kind !== 'counter') {
    out.push(issue(`${at}.kind`, `${pt.key} is integrated but its kind is ${pt.kind}`, 'set kind: counter'));
  }
  if ('flow' in sim && sim.flow.nightHours[0] >= sim.flow.nightHours[1]) {
    out.push(
      issue(`${path}.flow.nightHours`, 'night must start before it ends', 'write [from, to), e.g. [0, 5]'),
    );
  }
  return out;
}

function findCycle(points: readonly ModbusPoint[]): string[] | undefined {
  const deps = new Map(points.map((pt) => [pt.key, simDependencies(pt.sim)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (k: string): string[] | undefined => {
    if (state.get(k) === 'done') return undefined;
    if (state.get(k) === 'visiting') return [...stack.slice(stack.indexOf(k)), k];
    state.set(k, 'visiting');
    stack.push(k);
    for (const d of deps.get(k) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(k, 'done');
    return undefined;
  };
  for (const k of deps.keys()) {
    const c = visit(k);
    if (c) return c;
  }
  return undefined;
}

function checkS0(p: S0Profile): ProfileIssue[] {
  const out: ProfileIssue[] = [];
  const { pulse, sim } = p;
  if (pulse.minPulseMs > pulse.maxPulseMs)
    out.push(
      issue(
        'pulse.minPulseMs',
        `minPulseMs ${pulse.minPulseMs} is above maxPulseMs ${pulse.maxPulseMs}`,
        'swap them',
      ),
    );
  const rate = pulse.unit === 'kWh' ? sim.powerW : sim.flowM3H;
  const wrong = pulse.unit === 'kWh' ? sim.flowM3H : sim.powerW;
  const want = pulse.unit === 'kWh' ? 'powerW' : 'flowM3H';
  if (!rate)
    out.push(
      issue(
        'sim',
        `a ${pulse.unit} meter needs sim.${want}`,
        `add sim.${want} (a constant, walk${pulse.unit === 'm3' ? ' or flow' : ''})`,
      ),
    );
  if (wrong)
    out.push(
      issue(
        `sim.${want === 'powerW' ? 'flowM3H' : 'powerW'}`,
        `a ${pulse.unit} meter is driven by ${want} only`,
        'remove it',
      ),
    );
  if (rate) {
    // Highest rate in units per hour (W → kWh/h is /1000). Each pulse needs ON (minPulseMs) plus an equal OFF time.
    const maxRate =
      'constant' in rate
        ? Number(rate.constant)
        : 'walk' in rate
          ? rate.walk.max
          : flowSimRange(rate.flow)[1];
    const perHour = pulse.unit === 'kWh' ? maxRate / 1000 : maxRate;
    const pulsesPerS = (perHour * pulse.impulsesPerUnit) / 3600;
    if (pulsesPerS > 1000 / (2 * pulse.minPulseMs)) {
      out.push(
        issue(
          `sim.${want}`,
          `at its peak the simulated ${want} needs ${pulsesPerS.toFixed(1)} pulses/s, more than ${pulse.minPulseMs} ms pulses allow`,
          'lower the simulated rate or impulsesPerUnit',
        ),
      );
    }
  }
  return out;
}

function checkOptical(p: OpticalDetectorProfile): ProfileIssue[] {
  const out: ProfileIssue[] = [];
  const cls = p.strobe.classes;
  cls.forEach((c, i) => {
    if (c.toleranceHz >= c.hz)
      out.push(
        issue(
          `strobe.classes[${i}].toleranceHz`,
          `tolerance ${c.toleranceHz} Hz is not below ${c.hz} Hz`,
          'narrow the tolerance',
        ),
      );
    const periodMs = 1000 / (c.hz + c.toleranceHz);
    if (p.strobe.pulseWidthMs >= periodMs / 2) {
      out.push(
        issue(
          'strobe.pulseWidthMs',
          `${p.strobe.pulseWidthMs} ms pulses do not fit ${c.name} flashes at up to ${c.hz + c.toleranceHz} Hz`,
          `use pulses shorter than ${(periodMs / 2).toFixed(1)} ms`,
        ),
      );
    }
    cls.forEach((d, j) => {
      if (j <= i) return;
      if (c.name === d.name)
        out.push(
          issue(`strobe.classes[${j}].name`, `class ${d.name} appears twice`, 'keep one entry per class'),
        );
      if (Math.abs(c.hz - d.hz) <= c.toleranceHz + d.toleranceHz) {
        out.push(
          issue(
            `strobe.classes[${j}].toleranceHz`,
            `${d.name} (${d.hz}±${d.toleranceHz} Hz) overlaps ${c.name} (${c.hz}±${c.toleranceHz} Hz)`,
            'narrow the tolerances so a frequency belongs to one class',
          ),
        );
      }
    });
  });
  return out;
}
