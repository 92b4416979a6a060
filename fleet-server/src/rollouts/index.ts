// Staged rollouts of a config version to a group or tag: the pure planner, the service that stores
// and carries out its decisions, a gateway's rollout history, the API and the console pages.
export { rolloutsApi } from './api.ts';
export { gatewayConfigHistory } from './history.ts';
export { rolloutsPages } from './pages.tsx';
export {
  assignStages,
  plan as planRollout,
  type RolloutAction,
  type RolloutInput,
  type RolloutPlanState,
  type RolloutTarget,
  startRollout,
  type TargetState,
} from './plan.ts';
export { type CreateRolloutInput, type ReportState, type RolloutDeps, RolloutService } from './service.ts';
