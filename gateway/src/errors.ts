// Typed errors of the gateway agent. Every error has a stable `code`, says whether retrying can
// help (`retryable`), keeps its `cause`, and its message ends with what to do ("Fix: …").

export interface GatewayErrorOptions {
  code: string;
  retryable?: boolean;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  override readonly cause: unknown;

  constructor(message: string, options: GatewayErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    this.cause = options.cause;
  }
}

/** The journal file is damaged (not SQLite, failed integrity check). */
export class JournalCorruptError extends GatewayError {
  readonly file: string;
  constructor(file: string, problem: string, cause?: unknown) {
    super(
      `journal ${file}: ${problem}. Fix: move the file aside (mv ${file} ${file}.bad); the agent then starts a new journal, or restarts with --quarantine-corrupt-journal to do it itself`,
      { code: 'JOURNAL_CORRUPT', cause },
    );
    this.file = file;
  }
}

/** The journal path holds a database that some other program (or a newer Brána) wrote. */
export class JournalForeignError extends GatewayError {
  readonly file: string;
  constructor(file: string, problem: string, fix: string) {
    super(`journal ${file}: ${problem}. Fix: ${fix}`, { code: 'JOURNAL_FOREIGN' });
    this.file = file;
  }
}

/** A commit failed because the disk (not the quota) is full; the batch stays unacked and is resent. */
export class JournalWriteError extends GatewayError {
  readonly file: string;
  constructor(file: string, problem: string, cause?: unknown) {
    super(
      `journal ${file}: ${problem}. Fix: free disk space on the data partition or lower journal.quotaMB`,
      {
        code: 'JOURNAL_WRITE_FAILED',
        retryable: true,
        cause,
      },
    );
    this.file = file;
  }
}

/** A configuration value or CLI argument is invalid; `path` names it. */
export class GatewayConfigError extends GatewayError {
  readonly path: string;
  readonly fix: string;
  constructor(path: string, problem: string, fix: string) {
    super(`${path}: ${problem}. Fix: ${fix}`, { code: 'GATEWAY_CONFIG_INVALID' });
    this.path = path;
    this.fix = fix;
  }
}

/** Enrolment with the fleet server failed (bad token, server unreachable, bad answer). */
export class EnrolmentError extends GatewayError {
  constructor(problem: string, fix: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(`enrolment: ${problem}. Fix: ${fix}`, { code: 'ENROLMENT_FAILED', ...options });
  }
}

/** The fleet server broke the wire protocol (garbage, wrong signature, unexpected message). */
export class FleetProtocolError extends GatewayError {
  constructor(problem: string, cause?: unknown) {
    super(
      `fleet server: ${problem}. Fix: check that serverUrl points at a Brána fleet server of the same version`,
      {
        code: 'FLEET_PROTOCOL',
        retryable: true,
        cause,
      },
    );
  }
}

/** A state or key file in the data directory is unreadable or malformed. */
export class StateFileError extends GatewayError {
  readonly file: string;
  constructor(file: string, problem: string, fix: string, cause?: unknown) {
    super(`${file}: ${problem}. Fix: ${fix}`, { code: 'STATE_FILE_INVALID', cause });
    this.file = file;
  }
}

/** Node-RED could not be started, reached or told what to run; the message names the step. */
export class NodeRedError extends GatewayError {
  constructor(
    problem: string,
    fix: string,
    options: { code?: string; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(`Node-RED: ${problem}. Fix: ${fix}`, {
      code: options.code ?? 'NODE_RED',
      retryable: options.retryable ?? true,
      cause: options.cause,
    });
  }
}

/** A part of the gateway could not put a config into effect; `issues` say where in the config. */
export class ConfigTargetError extends GatewayError {
  readonly issues: { path: string; message: string; fix?: string }[];
  constructor(target: string, issues: { path: string; message: string; fix?: string }[], cause?: unknown) {
    super(`${target}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      code: 'CONFIG_TARGET_FAILED',
      cause,
    });
    this.issues = issues;
  }
}
