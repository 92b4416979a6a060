import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Document, isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ProfileError, type ProfileIssue } from '../errors.ts';
import { checkProfileInvariants } from './invariants.ts';
import { DEVICE_KINDS, deviceProfileSchema, SIM_MODELS } from './schema.ts';
import type { Catalogue, DeviceProfile, ModbusProfile } from './types.ts';
import { unitFromKey } from './units.ts';

/** The catalogue shipped with the package: hardware/profiles. */
export const DEFAULT_PROFILES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'profiles');

type Path = readonly PropertyKey[];

export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/** Turns zod issues into profile issues with a message and a fix a person can act on. */
export function zodIssuesToProfileIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: Path = [],
): ProfileIssue[] {
  const out: ProfileIssue[] = [];
  for (const iss of issues) {
    const path = [...prefix, ...iss.path];
    const at = formatPath(path);
    const last = path[path.length - 1];
    const field = typeof last === 'string' ? last : at === '' ? 'the document' : at;
    switch (iss.code) {
      case 'invalid_type': {
        if (isMissing(iss)) {
          out.push({
            path: at,
            message: `missing required field "${field}"`,
            fix: `add ${field}: <${iss.expected}>`,
          });
        } else {
          out.push({
            path: at,
            message: `expected ${iss.expected}, got ${describeInput(iss.input)}`,
            fix: `set ${field} to a ${iss.expected}`,
          });
        }
        break;
      }
      case 'unrecognized_keys':
        for (const k of iss.keys) {
          out.push({
            path: formatPath([...path, k]),
            message: `unknown field "${k}"`,
            fix: 'remove it or correct its spelling (the JSON Schemas in hardware/schema/ list the fields)',
          });
        }
        break;
      case 'invalid_value':
        out.push({
          path: at,
          message: `${describeInput(iss.input)} is not allowed here`,
          fix: `use one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`,
        });
        break;
      case 'too_small':
      case 'too_big': {
        const bound = iss.code === 'too_small' ? iss.minimum : iss.maximum;
        const dir = iss.code === 'too_small' ? 'at least' : 'at most';
        const what = iss.origin === 'array' ? `${dir} ${bound} item(s)` : `${dir} ${bound}`;
        out.push({
          path: at,
          message: `${describeInput(iss.input)} is too ${iss.code === 'too_small' ? 'small' : 'big'}`,
          fix: `use ${what}${iss.inclusive === false ? ' (exclusive)' : ''}`,
        });
        break;
      }
      case 'invalid_union':
        out.push(...unionIssues(iss, path));
        break;
      default:
        out.push({ path: at, message: iss.message, fix: fixFor(iss.message, field) });
    }
  }
  return out;
}

function isMissing(iss: z.core.$ZodIssue): boolean {
  return iss.code === 'invalid_type' && iss.input === undefined && /received undefined/.test(iss.message);
}

function fixFor(message: string, field: string): string {
  if (message.startsWith('an id is') || message.startsWith('a point key is')) return `rename ${field}`;
  if (message.includes('integer')) return `use a whole number for ${field}`;
  return `correct ${field}`;
}

function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (typeof input === 'string') return JSON.stringify(input);
  if (Array.isArray(input)) return 'a list';
  if (input !== null && typeof input === 'object') return 'an object';
  return String(input);
}

function unionIssues(iss: z.core.$ZodIssueInvalidUnion, path: Path): ProfileIssue[] {
  const at = formatPath(path);
  if ((iss as { discriminator?: string }).discriminator === 'kind' || path[path.length - 1] === 'kind') {
    return [
      { path: at, message: 'unknown device kind', fix: `set kind to one of ${DEVICE_KINDS.join(', ')}` },
    ];
  }
  // Keep the branches whose own main field is present: that is the one the author meant.
  // The branch that does not complain about unknown keys at its root is the one the author meant.
  const meant = iss.errors.filter(
    (branch) => !branch.some((e) => e.code === 'unrecognized_keys' && e.path.length === 0),
  );
  if (meant.length === 1) return zodIssuesToProfileIssues(meant[0]!, path);
  const isSim = path.includes('sim');
  return [
    {
      path: at,
      message: isSim ? 'not a sim model' : iss.message,
      fix: isSim
        ? `use exactly one of ${SIM_MODELS.map((m) => `{ ${m}: … }`).join(', ')} (see the README "Sim models")`
        : 'see the JSON Schemas in hardware/schema/ for the accepted forms',
    },
  ];
}

/** Adds line/column from the YAML document to issues, using the deepest node that exists on the path. */
function locate(doc: Document, lines: LineCounter, issues: ProfileIssue[]): ProfileIssue[] {
  return issues.map((iss) => {
    const path = parsePath(iss.path);
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (n === path.length - 1 && isMap(node)) {
        // The field is absent or unknown: point at the key if it is written, else at its map.
        const at = keyOffset(node, path[n]) ?? range?.[0];
        if (at !== undefined) return withPos(iss, lines, at);
      } else if (range && (n > 0 || isMap(node) || isSeq(node))) {
        const parent = n === 0 ? undefined : n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
        return withPos(iss, lines, keyOffset(parent, path[n - 1]) ?? range[0]);
      }
    }
    return iss;
  });
}

function withPos(iss: ProfileIssue, lines: LineCounter, offset: number): ProfileIssue {
  const pos = lines.linePos(offset);
  return { ...iss, line: pos.line, column: pos.col };
}

function keyOffset(map: unknown, key: string | number | undefined): number | undefined {
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    const k = pair.key as { value?: unknown; range?: [number, number, number] } | null;
    if (k && k.value === key && k.range) return k.range[0];
  }
  return undefined;
}

/** Applies profile-level defaults to Modbus points and implies units from keys. */
function resolve(parsed: z.output<typeof deviceProfileSchema>): DeviceProfile {
  if (parsed.kind !== 'modbus') return parsed;
  const d = parsed.defaults;
  const profile: ModbusProfile = {
    ...parsed,
    bus: { ...parsed.bus, baudRates: parsed.bus.baudRates ?? [parsed.bus.defaultBaud] },
    points: parsed.points.map((pt) => ({
      ...pt,
      functionCode: pt.functionCode ?? d.functionCode,
      type: pt.type ?? d.type,
      wordOrder: pt.wordOrder ?? d.wordOrder,
      poll: pt.poll ?? d.poll,
      unit: pt.unit ?? unitFromKey(pt.key),
    })),
  };
  return profile;
}

/**
 * Validates a profile object (already parsed from YAML or built in code) and checks its invariants.
 * Throws ProfileError listing every issue.
 */
export function validateProfile(data: unknown, file = '<profile>'): DeviceProfile {
  const result = deviceProfileSchema.safeParse(data, { reportInput: true });
  if (!result.success)
    throw new ProfileError(file, zodIssuesToProfileIssues(result.error.issues), result.error);
  const profile = resolve(result.data);
  const issues = checkProfileInvariants(profile);
  if (issues.length > 0) throw new ProfileError(file, issues);
  return profile;
}

/** An error class listing located issues in one file: ProfileError, or RigError for rig files. */
export type LocatedErrorClass = new (
  file: string,
  issues: readonly ProfileIssue[],
  cause?: unknown,
) => Error & { readonly issues: readonly ProfileIssue[] };

/**
 * Parses YAML text and hands the data to `validate`; YAML syntax errors and the errors of class
 * `errorClass` (default ProfileError) that `validate` throws come back as that class with line and
 * column in `file`. Shared by device, board and rig files.
 */
export function parseYamlWith<T>(
  text: string,
  file: string,
  validate: (data: unknown, file: string) => T,
  errorClass: LocatedErrorClass = ProfileError,
): T {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new errorClass(
      file,
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return {
          path: '',
          message: `not valid YAML: ${e.message.split('\n')[0]}`,
          fix: 'fix the YAML syntax at this line (indentation, quotes, duplicate keys)',
          line: pos.line,
          column: pos.col,
        };
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // An alias to an anchor that does not exist (`id: *x`) only fails when the document is built.
    throw new errorClass(
      file,
      [
        {
          path: '',
          message: `not valid YAML: ${(e as Error).message.split('\n')[0]}`,
          fix: 'define the anchor (&name) before the alias (*name) that refers to it, or remove the alias',
        },
      ],
      e,
    );
  }
  try {
    return validate(data, file);
  } catch (e) {
    if (e instanceof errorClass) throw new errorClass(file, locate(doc, lines, [...e.issues]), e.cause);
    throw e;
  }
}

/** Reads a YAML file and validates it with `validate` (see parseYamlWith). */
export function loadYamlFileWith<T>(
  path: string,
  validate: (data: unknown, file: string) => T,
  errorClass: LocatedErrorClass = ProfileError,
  missingFix = 'check the path',
): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new errorClass(
      path,
      [
        {
          path: '',
          message: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
          fix: missingFix,
        },
      ],
      e,
    );
  }
  return parseYamlWith(text, path, validate, errorClass);
}

/** Parses and validates YAML text; issues carry line and column in `file`. */
export function parseProfile(text: string, file = '<profile>'): DeviceProfile {
  return parseYamlWith(text, file, validateProfile);
}

/** Reads, parses and validates one profile file. */
export function loadProfileFile(path: string): DeviceProfile {
  return loadYamlFileWith(path, validateProfile);
}

/** Profile files under `dir`, skipping names starting with `_` (the template) or `.`. */
export function listProfileFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('_') || name.startsWith('.')) continue;
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.yaml') || name.endsWith('.yml')) out.push(full);
    }
  };
  walk(dir);
  return out;
}

export interface CatalogueCheck {
  profiles: Map<string, DeviceProfile>;
  /** File of each profile id. */
  files: Map<string, string>;
  errors: ProfileError[];
}

/**
 * Loads every profile under `dir` and then under each of `extraDirs` (a site's own profiles on top
 * of the catalogue), collecting errors instead of stopping at the first. In `dir` a profile lives
 * at `<kind>/<id>.yaml`; an extra directory may also hold `<id>.yaml` directly. An id is defined
 * once: a second file with it is an error naming both.
 */
export function checkCatalogue(
  dir = DEFAULT_PROFILES_DIR,
  extraDirs: readonly string[] = [],
): CatalogueCheck {
  const profiles = new Map<string, DeviceProfile>();
  const files = new Map<string, string>();
  const errors: ProfileError[] = [];
  for (const [n, root] of [dir, ...extraDirs].entries()) {
    let list: string[];
    try {
      list = listProfileFiles(root);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      errors.push(
        new ProfileError(
          root,
          [
            {
              path: '',
              message: `cannot list the profile directory${code ? ` (${code})` : ''}`,
              fix:
                n === 0
                  ? 'check the directory exists'
                  : 'check the directory exists and is readable, or remove it from the profile directories',
            },
          ],
          e,
        ),
      );
      continue;
    }
    for (const file of list) {
      let profile: DeviceProfile;
      try {
        profile = loadProfileFile(file);
      } catch (e) {
        if (e instanceof ProfileError) errors.push(e);
        else throw e;
        continue;
      }
      const misplaced = placementIssue(root, file, profile, n > 0);
      if (misplaced) {
        errors.push(new ProfileError(file, [misplaced]));
        continue;
      }
      const other = files.get(profile.id);
      if (other !== undefined) {
        errors.push(
          new ProfileError(file, [
            {
              path: 'id',
              message: `id ${profile.id} is already used by ${other}`,
              fix:
                n > 0
                  ? `give this profile its own id (e.g. ${profile.id}-site, and rename the file to match), or remove one of the two`
                  : 'give each profile its own id',
            },
          ]),
        );
        continue;
      }
      profiles.set(profile.id, profile);
      files.set(profile.id, file);
    }
  }
  return { profiles, files, errors };
}

/** A profile at the wrong place: not `<kind>/<id>.yaml` (or, in an extra directory, `<id>.yaml`). */
function placementIssue(root: string, file: string, profile: DeviceProfile, flatAllowed: boolean) {
  const rel = relative(root, file).split(sep);
  const named = basename(file).replace(/\.ya?ml$/, '') === profile.id;
  const inKind = rel.length === 2 && rel[0] === profile.kind;
  if (named && (inKind || (flatAllowed && rel.length === 1))) return undefined;
  const want = join(profile.kind, `${profile.id}.yaml`);
  return {
    path: 'id',
    message: `profile ${profile.id} of kind ${profile.kind} is not at ${want}${flatAllowed ? ` or ${profile.id}.yaml` : ''}`,
    fix: `move it to ${join(root, want)} or fix id/kind`,
  };
}

/**
 * Loads the catalogue (and a site's extra profile directories) as profiles by id; throws the first
 * ProfileError if any file is bad.
 */
export function loadCatalogue(dir = DEFAULT_PROFILES_DIR, extraDirs: readonly string[] = []): Catalogue {
  const { profiles, errors } = checkCatalogue(dir, extraDirs);
  if (errors.length > 0) throw errors[0]!;
  return profiles;
}
