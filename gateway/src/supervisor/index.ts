// Process supervision: one child with restart backoff (SupervisedChild, used for Node-RED too),
// and the firmware processes for development and the bench, whose exits the config trial counts.
// On a Pi, systemd supervises the firmware instead (gateway/systemd/).
export { type BackoffPolicy, DEFAULT_BACKOFF, restartDelay } from './backoff.ts';
export {
  type ChildCommand,
  type ChildExit,
  type ChildState,
  type ChildStatus,
  SupervisedChild,
  type SupervisedChildOptions,
} from './child.ts';
export { runCommand } from './run-command.ts';
export {
  type FirmwareCommand,
  type FirmwareName,
  type FirmwareProcessStatus,
  Supervisor,
  type SupervisorOptions,
} from './supervisor.ts';
