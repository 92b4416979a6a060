// Alarm inputs (care-home SOS cords, bed mats, doors) and relays switched by rule: the pure rules
// and the unit that wires them to GPIO inside the rt process.
export { AlarmUnit, type AlarmUnitOptions, type AlarmUnitStats, type SwitchedBy } from './alarm-unit.ts';
export {
  DEFAULT_RELAY_COMMAND_LIMITS,
  type FlowRelayTarget,
  type RelayCommandLimits,
  type RelayCommandStats,
  RelayCommands,
  type RelayCommandsOptions,
} from './relay-commands.ts';
export {
  type AlarmCommand,
  type AlarmEvent,
  type AlarmInput,
  type AlarmRules,
  type AlarmState,
  compileAlarmRules,
  conditionHolds,
  initialAlarmState,
  nextDeadlineMs,
  type RelayConfig,
  step as stepAlarms,
} from './rules.ts';
