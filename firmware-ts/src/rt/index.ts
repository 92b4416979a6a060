// The rt process core: priority-request checks, the pure preemption arbiter, the optical strobe
// classifier, the event sink, watchdogs and the RtLoop that wires them to GPIO, radio and UDP.
export {
  type ApproachPhase,
  type ApproachState,
  type ArbiterCommand,
  type ArbiterCommandKind,
  type ArbiterConfig,
  type ArbiterEvent,
  type ArbiterInput,
  type ArbiterMode,
  type ArbiterState,
  arbiterConfigFrom,
  createStepOutput,
  type IgnoreReason,
  initialArbiterState,
  NO_VEHICLE,
  outputLevels,
  type Priority,
  type ReleaseReason,
  type RequestInput,
  type RequestKind,
  type StepOutput,
  step,
  stepCommands,
  stepEvents,
} from './arbiter.ts';
export {
  type ChecksOptions,
  type CheckTime,
  distanceM,
  emptyRejectCounts,
  headingDiffDeg,
  REJECT_REASONS,
  type RejectCounts,
  type RejectReason,
  RequestChecks,
} from './checks.ts';
export { RtConfigError, RtStartError } from './errors.ts';
export { type FrameInput, RtEventRing, type RtEventSlot, type RtEventType } from './event-ring.ts';
export { agentEventSink, type EventSink, type EventSinkStats, RingEventSink } from './event-sink.ts';
export { type GcPauses, RtLoop, type RtLoopOptions, type RtStats } from './rt-loop.ts';
export { StrobeClassifier, type StrobeClassSpec } from './strobe-classifier.ts';
export { HardwareWatchdog, type Notifier, systemdNotifier, watchdogIntervalMs } from './watchdog.ts';
