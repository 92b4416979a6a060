import { readFile } from 'node:fs/promises';
import { formatPath } from '@brana/hardware';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { type GatewayConfig, gatewayConfigSchemaWith } from './schema.ts';

// Validation with errors a person can act on: each names the config path, what is wrong and the fix.

export interface ConfigIssue {
  /** Dotted path with indices, e.g. `preemption.approaches[2].output`; "" for the whole document. */
  path: string;
  message: string;
  fix: string;
}

export type ValidationResult = { ok: true; config: GatewayConfig } | { ok: false; errors: ConfigIssue[] };

// Paths read `preemption.approaches[2].output`: the same form as device-profile errors.
export { formatPath };

function describeIssue(issue: z.core.$ZodIssue): ConfigIssue {
  const path = formatPath(issue.path);
  const at = path || 'the document';
  switch (issue.code) {
    case 'invalid_type':
      return {
        path,
        message: issue.message,
        fix:
          issue.input === undefined ? `add ${at} (a ${issue.expected})` : `set ${at} to a ${issue.expected}`,
      };
    case 'unrecognized_keys':
      return {
        path,
        message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
        fix: `remove ${issue.keys.join(', ')} from ${at} or check the spelling against the JSON Schema`,
      };
    case 'invalid_value':
      return {
        path,
        message: issue.message,
        fix: `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'too_small':
    case 'too_big':
      return { path, message: issue.message, fix: `change ${at} to fit: ${issue.message.toLowerCase()}` };
    case 'invalid_union':
      return {
        path,
        message: issue.message,
        fix: `check ${at} against the JSON Schema (its "type" decides the fields)`,
      };
    case 'custom': {
      // Cross-field rules write "what is wrong; how to fix it".
      const cut = issue.message.indexOf('; ');
      return cut > 0
        ? { path, message: issue.message.slice(0, cut), fix: issue.message.slice(cut + 2) }
        : { path, message: issue.message, fix: `correct ${at}` };
    }
    default:
      return { path, message: issue.message, fix: `correct ${at}` };
  }
}

export interface ValidateOptions {
  /** Device profile ids of the hardware catalogue; when given, unknown profiles are errors. */
  knownProfiles?: ReadonlySet<string>;
}

export function validateGatewayConfig(doc: unknown, options: ValidateOptions = {}): ValidationResult {
  const result = gatewayConfigSchemaWith(options.knownProfiles).safeParse(doc);
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, errors: result.error.issues.map(describeIssue) };
}

export function formatConfigIssues(source: string, errors: readonly ConfigIssue[]): string {
  return errors.map((e) => `${source}: ${e.path || '(document)'}: ${e.message} (fix: ${e.fix})`).join('\n');
}

/** Reads a YAML or JSON config file; parse errors carry the line and column. */
export async function loadGatewayConfigFile(
  file: string,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      errors: [
        {
          path: '',
          message: code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file} (${code ?? 'error'})`,
          fix: 'pass the path of an existing config file with --config',
        },
      ],
    };
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      return {
        ok: false,
        errors: [
          {
            path: '',
            message: `not valid YAML/JSON${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${err.message.split('\n')[0]}`,
            fix: 'correct the syntax at that position',
          },
        ],
      };
    }
    throw err;
  }
  return validateGatewayConfig(doc, options);
}
