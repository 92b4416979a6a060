// Alarm inputs (care-home SOS cords, bed mats, doors) and relays switched by rule: the pure rules
// and the unit that wires them to GPIO inside the rt process.
export { AlarmUnit, type AlarmUnitOptions, type AlarmUnitStats } from './alarm-unit.ts';
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
  step as stepAlarms,
} from './rules.ts';
