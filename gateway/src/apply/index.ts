// Signed config apply: the pure planner and one-at-a-time machine (plan, step), and the executor
// that verifies, validates, stages, restarts the firmware, trials and commits or rolls back.

export {
  type ApplierOptions,
  type ApplierStatus,
  ConfigApplier,
  type ConfigValidator,
  type FirmwareControl,
  type TrialResult,
} from './applier.ts';
export {
  type ApplyAction,
  type ApplyActionKind,
  type ApplyInput,
  type ApplyIssue,
  type ApplyMachine,
  type ApplyState,
  type ApplyStepResult,
  type CurrentConfig,
  initialMachine,
  plan,
  type ReportedState,
  recover,
  sameRef,
  step,
} from './plan.ts';
