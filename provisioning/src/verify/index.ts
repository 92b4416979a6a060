// The wiring check: plan (pure: inputs to read, outputs to pulse one at a time, a point per Modbus
// device), run against a GPIO backend and buses, report as a table or JSON.
export {
  type DeviceCheck,
  firstConflict,
  type GpioKind,
  gpioLine,
  type InputCheck,
  type OutputCheck,
  type OutputEvent,
  planVerify,
  pulseSequence,
  type VerifyPlan,
} from './plan.ts';
export { formatReport, formatTable } from './report.ts';
export {
  type DeviceResult,
  type InputResult,
  type OutputResult,
  runVerify,
  type VerifyIo,
  type VerifyOptions,
  type VerifyReport,
} from './run.ts';
export { loadConfig, type VerifyCommandOptions, verifyWiring } from './verify.ts';
