// Signed config apply: the pure planner and one-at-a-time machine (plan, step), and the executor
// that verifies, validates, stages, restarts the firmware, trials and commits or rolls back.

export {
  type ActiveConfig,
  type ApplierOptions,
  type ApplierStatus,
  type ApplyReason,
  ConfigApplier,
  type ConfigTarget,
  type ConfigValidator,
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
