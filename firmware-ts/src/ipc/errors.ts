// Typed errors of the firmware ↔ agent IPC link. They extend the package's FirmwareError so a
// caller can catch them with the rest; each message names the byte offset or field and the fix.
import { FirmwareError } from '../errors.ts';

/** The byte stream on the IPC socket is not a valid frame sequence; the connection is closed. */
export class IpcFrameError extends FirmwareError {
  /** Offset of the offending frame's first byte in the connection's byte stream. */
  readonly offset: number;

  constructor(offset: number, problem: string, fix: string) {
    super(`IPC stream byte ${offset}: ${problem}. Fix: ${fix}`, { code: 'IPC_FRAME_INVALID' });
    this.offset = offset;
  }
}

/** A frame was well-formed but its message (JSON body, record fields) is not. */
export class IpcMessageError extends FirmwareError {
  readonly path: string;

  constructor(path: string, problem: string, fix: string) {
    super(`IPC message ${path}: ${problem}. Fix: ${fix}`, { code: 'IPC_MESSAGE_INVALID' });
    this.path = path;
  }
}

/** The IPC link or server was used wrongly (bad option, closed link). */
export class IpcUsageError extends FirmwareError {
  constructor(problem: string, fix: string, cause?: unknown) {
    super(`IPC: ${problem}. Fix: ${fix}`, { code: 'IPC_USAGE', cause });
  }
}

/** The agent reported that it could not commit a batch (disk full, journal broken). Retried. */
export class IpcRemoteError extends FirmwareError {
  readonly remoteCode: string;

  constructor(remoteCode: string, message: string) {
    super(`IPC agent refused a batch (${remoteCode}): ${message}`, {
      code: 'IPC_REMOTE_ERROR',
      retryable: true,
    });
    this.remoteCode = remoteCode;
  }
}
