// IPC between the firmware processes (rt, fieldbus) and the gateway agent: length-prefixed,
// versioned JSON frames over a Unix stream socket, records numbered (bootEpoch, seq), acked after commit.
export { type AgentLink, type AgentLinkOptions, type AgentLinkStats, connectAgent } from './client.ts';
export { IpcFrameError, IpcMessageError, IpcRemoteError, IpcUsageError } from './errors.ts';
export {
  encodeFrame,
  FRAME_TYPES,
  type Frame,
  FrameDecoder,
  type FrameType,
  IPC_PROTOCOL_VERSION,
  MAX_FRAME_BYTES,
  parseFrameJson,
} from './frame.ts';
export {
  type AgentRecord,
  agentRecordSchema,
  IPC_SOURCES,
  type IpcEvent,
  type IpcReading,
  type IpcReadingQuality,
  type IpcSource,
  type IpcStatus,
  ipcEventSchema,
  ipcReadingSchema,
  ipcStatusSchema,
  type ParsedAgentRecord,
  readingQualities,
  type SequencedRecord,
} from './records.ts';
export { createIpcServer, type IpcConnectionInfo, type IpcServer, type IpcServerOptions } from './server.ts';
