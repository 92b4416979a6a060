// Preemption bench: a vehicle unit that sends signed priority requests over a serial radio (pty)
// or UDP, and a traffic-controller model that watches relays and heartbeat and records violations.
export {
  type ContactChange,
  type ControllerApproach,
  TrafficControllerModel,
  type TrafficControllerOptions,
  type Violation,
  type ViolationKind,
} from './traffic-controller.ts';
export {
  driveRoute,
  type FrameLink,
  type RouteOptions,
  serialLink,
  udpLink,
  type VehiclePosition,
  VehicleUnit,
  type VehicleUnitOptions,
} from './vehicle-unit.ts';
