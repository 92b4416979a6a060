// Reading rig files: YAML → zod → cross-checks against the profile catalogue, with every error
// naming the file, the line, the path inside it and the fix.

import { formatProfileIssue, HardwareError, type ProfileIssue } from '../../errors.ts';
import type { Catalogue } from '../../profiles/index.ts';
import { loadYamlFileWith, parseYamlWith, zodIssuesToProfileIssues } from '../../profiles/index.ts';
import { type Rig, rigSchema } from './schema.ts';

/** A rig file is invalid. `issues` lists everything wrong; the message names the first. */
export class RigError extends HardwareError {
  readonly file: string;
  readonly issues: readonly ProfileIssue[];

  constructor(file: string, issues: readonly ProfileIssue[], cause?: unknown) {
    const first = issues[0] ?? { path: '', message: 'invalid rig', fix: 'check the file' };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(formatProfileIssue(file, first) + more, { code: 'RIG_INVALID', retryable: false, cause });
    this.file = file;
    this.issues = issues.length > 0 ? issues : [first];
  }

  describeAll(): string {
    return this.issues.map((i) => formatProfileIssue(this.file, i)).join('\n');
  }
}

/** Cross-checks zod cannot do: profiles exist and fit, names and unit ids are unique. */
export function checkRig(rig: Rig, catalogue: Catalogue): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  const ids = (kind: string): string =>
    [...catalogue.values()]
      .filter((p) => p.kind === kind)
      .map((p) => p.id)
      .join(', ') || '(none)';
  const busNames = new Set<string>();
  const ports = new Set<number>();
  rig.buses.forEach((bus, b) => {
    if (busNames.has(bus.name)) {
      issues.push({
        path: `buses[${b}].name`,
        message: `bus name "${bus.name}" is used twice`,
        fix: 'give each bus its own name',
      });
    }
    busNames.add(bus.name);
    if (bus.type === 'tcp' && bus.port !== 0) {
      if (ports.has(bus.port))
        issues.push({
          path: `buses[${b}].port`,
          message: `port ${bus.port} is used twice`,
          fix: 'give each TCP bus its own port, or 0',
        });
      ports.add(bus.port);
    }
    const units = new Set<number>();
    bus.devices.forEach((d, i) => {
      const at = `buses[${b}].devices[${i}]`;
      if (units.has(d.unit)) {
        issues.push({
          path: `${at}.unit`,
          message: `unit id ${d.unit} is used twice on bus ${bus.name}`,
          fix: 'give each device on a bus its own unit id',
        });
      }
      units.add(d.unit);
      const p = catalogue.get(d.profile);
      if (p === undefined) {
        issues.push({
          path: `${at}.profile`,
          message: `no device profile "${d.profile}"`,
          fix: `use one of: ${ids('modbus')}`,
        });
      } else if (p.kind !== 'modbus') {
        issues.push({
          path: `${at}.profile`,
          message: `profile "${d.profile}" is a ${p.kind} device, not Modbus`,
          fix: `use one of: ${ids('modbus')}`,
        });
      } else if (bus.type === 'rtu' && !p.bus.baudRates.includes(bus.baud)) {
        issues.push({
          path: `buses[${b}].baud`,
          message: `${d.profile} (unit ${d.unit}) cannot run at ${bus.baud} Bd`,
          fix: `set the bus baud to one every device supports; ${d.profile} supports ${p.bus.baudRates.join(', ')}`,
        });
      }
    });
  });
  rig.wires.s0.forEach((s, i) => {
    const p = catalogue.get(s.profile);
    if (p === undefined || p.kind !== 's0') {
      issues.push({
        path: `wires.s0[${i}].profile`,
        message:
          p === undefined
            ? `no device profile "${s.profile}"`
            : `profile "${s.profile}" is a ${p.kind} device, not an S0 meter`,
        fix: `use one of: ${ids('s0')}`,
      });
    } else if (p.sim.powerW === undefined && p.sim.flowM3H === undefined) {
      issues.push({
        path: `wires.s0[${i}].profile`,
        message: `profile "${s.profile}" has no sim rate (powerW or flowM3H)`,
        fix: 'add a sim block to the profile',
      });
    }
  });
  const driven = new Map<string, string>();
  const claim = (line: string, path: string): void => {
    const other = driven.get(line);
    if (other !== undefined)
      issues.push({
        path,
        message: `line "${line}" is already driven by ${other}`,
        fix: 'give each pulse train its own line',
      });
    driven.set(line, path);
  };
  rig.wires.s0.forEach((s, i) => claim(s.line, `wires.s0[${i}].line`));
  rig.wires.strobes.forEach((s, i) => {
    claim(s.line, `wires.strobes[${i}].line`);
    if (s.pulseMs >= 1000 / s.hz) {
      issues.push({
        path: `wires.strobes[${i}].pulseMs`,
        message: `${s.pulseMs} ms is not shorter than one period at ${s.hz} Hz`,
        fix: 'use a shorter pulse',
      });
    }
  });
  return issues;
}

/** Validate a rig object (parsed YAML or built in code). Throws `RigError`. */
export function validateRig(data: unknown, catalogue: Catalogue, file = '<rig>'): Rig {
  // reportInput: messages quote the value that is wrong ("300 is too big"), as profile errors do.
  const result = rigSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const issues = zodIssuesToProfileIssues(result.error.issues).map((i) => ({
      ...i,
      // The profile machinery points at the profile JSON Schemas; rig fields are documented in the README.
      fix: i.fix.replace(/\([^)]*schema[^)]*\)/i, '(hardware/README.md "Bench rig" lists the fields)'),
    }));
    throw new RigError(file, issues, result.error);
  }
  const issues = checkRig(result.data, catalogue);
  if (issues.length > 0) throw new RigError(file, issues);
  return result.data;
}

/** Parse and validate rig YAML text; issues carry the line and column in `file`. */
export function parseRig(text: string, catalogue: Catalogue, file = '<rig>'): Rig {
  return parseYamlWith(text, file, (data, f) => validateRig(data, catalogue, f), RigError);
}

export function loadRigFile(path: string, catalogue: Catalogue): Rig {
  return loadYamlFileWith(
    path,
    (data, f) => validateRig(data, catalogue, f),
    RigError,
    'check the path; rigs live in hardware/rigs/',
  );
}
