// IPC between the firmware processes (rt, fieldbus) and the gateway agent: length-prefixed,
// versioned JSON frames over a Unix stream socket, records numbered (bootEpoch, seq), acked after commit.

export { type AgentLink, type AgentLinkOptions, type AgentLinkStats, connectAgent } from './client.ts';
export {
  COMMAND_OPS,
  COMMAND_REFUSALS,
  type Command,
  type CommandAccepted,
  type CommandBy,
  type CommandOp,
  type CommandRefusal,
  type CommandRefused,
  type CommandReply,
  type CommandRequest,
  commandBySchema,
  commandReplySchema,
  commandRequestSchema,
  commandSchema,
  MAX_COMMAND_BYTES,
  parseCommand,
  type RelaySetCommand,
  refuse as refuseCommand,
} from './commands.ts';
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
export {
  type CommandOptions,
  createIpcServer,
  type IpcConnectionInfo,
  type IpcServer,
  type IpcServerOptions,
} from './server.ts';
