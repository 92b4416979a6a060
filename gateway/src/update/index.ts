// Software updates of the gateway: signed releases fetched by difference, verified, switched to by
// an atomic rename, tried, committed or switched back (by the agent, or by the independent guard).
export { type ReleaseCliContext, releaseCommand } from './cli.ts';
export {
  serviceControl,
  switchSettings,
  trialTiming,
  type UpdateConfig,
  updateConfigSchema,
} from './config.ts';
export { UpdateFetchError, UpdateRefusedError, UpdateSetupError } from './errors.ts';
export { ReleaseFetcher } from './fetch.ts';
export type { RestartCommand, SwitchRecord } from './guard/decide.ts';
export { currentVersion, type ReleasePaths, releaseDir, releasePaths, switchCurrent } from './guard/disk.ts';
export type { Outcome, RefusalReason, UpdateEvent, UpdateState } from './machine.ts';
export { checkManifest, type StageResult, stageRelease } from './stage.ts';
export { installGuard } from './switch.ts';
export {
  judgeTrial,
  TRIAL_CHECKS,
  type TrialCheck,
  type TrialObservation,
  TrialProbe,
  type TrialProbeSources,
} from './trial.ts';
export { checkServiceControl, Updater, type UpdaterOptions, type UpdaterStatus } from './updater.ts';
