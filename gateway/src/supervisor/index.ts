// Firmware supervision for development and the bench: start, restart with backoff, stop; exits
// are counted for the config trial. On a Pi, systemd supervises instead (gateway/systemd/).
export {
  type FirmwareCommand,
  type FirmwareName,
  type FirmwareProcessStatus,
  Supervisor,
  type SupervisorOptions,
} from './supervisor.ts';
