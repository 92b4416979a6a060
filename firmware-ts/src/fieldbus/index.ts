// Fieldbus poller: plans coalesced Modbus reads from device profiles, polls buses one request at a
// time per line, and turns registers into readings, monotonic counter totals and quarter hours.
export { agentSink, jsonLinesSink, toAgentRecord } from './agent-records.ts';
export {
  type CounterEvent,
  type CounterOptions,
  type CounterState,
  type CounterStep,
  counterStep,
  rolloverBits,
} from './counter.ts';
export {
  type EngineBus,
  type EngineDevice,
  type EngineOptions,
  type EngineStats,
  FieldbusEngine,
  type PollProfile,
  readBlock,
} from './engine.ts';
export { FieldbusConfigError, FieldbusPlanError, FieldbusStateError } from './errors.ts';
export {
  type BusOpeners,
  buildFieldbus,
  type FieldbusPlan,
  modbusSerialOpeners,
  pollProfile,
} from './from-config.ts';
export { nextTurn, type Turn, type TurnCandidate } from './lane-turn.ts';
export { type MemoryDevice, type MemoryFault, MemoryModbusClient } from './memory-modbus.ts';
export {
  afterPoll,
  dueClasses,
  initialSchedule,
  nextDueMs,
  nextSlot,
  type PollPeriods,
  type PollSchedule,
  rearmOnce,
} from './poll-schedule.ts';
export {
  type FieldbusProcess,
  type FieldbusProcessOptions,
  loadOrResetState,
  startFieldbusProcess,
} from './process.ts';
export { PulseInput, type PulseInputOptions } from './pulse-input.ts';
export {
  type ClosedInterval,
  floorQuarterHour,
  type IntervalOptions,
  type IntervalQuality,
  type IntervalState,
  intervalStep,
  localMidnightMs,
  QUARTER_HOUR_MS,
  quarterHoursOfLocalDay,
  zoneOffsetMs,
} from './quarter-hours.ts';
export {
  allowedHole,
  holeCount,
  type LineCost,
  MAX_READ_BITS,
  MAX_READ_REGISTERS,
  maxReadCount,
  minUsefulWireMs,
  type PlannedPoint,
  planCostMs,
  planReads,
  planReadsByCost,
  pointWidth,
  type ReadBlock,
  readCostMs,
  responseDataBytes,
} from './read-planner.ts';
export type {
  BusStatusRecord,
  CounterEventRecord,
  DeviceState,
  DeviceStatusRecord,
  FaultRecord,
  FieldbusRecord,
  FieldbusSink,
  IntervalRecord,
  ReadingRecord,
} from './records.ts';
export { type S0Options, type S0State, s0Edge, s0Initial, s0RatePerH, s0Total } from './s0-pulse.ts';
export {
  emptyState,
  type FieldbusState,
  fieldbusStateSchema,
  loadStateFile,
  saveStateFile,
} from './state-file.ts';
export type {
  DeviceTiming,
  FunctionCode,
  PointKind,
  PollClass,
  PollPoint,
  ReadingQuality,
  ReadLimits,
} from './types.ts';
