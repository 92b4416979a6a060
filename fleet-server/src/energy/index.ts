// Energy: consumption per site from the meters' counters, the dispatch figures (totals, biggest
// consumers, night-flow leak indicator, CSV), its API and the console's energy pages.
export { energyApi } from './api.ts';
export {
  type CounterRow,
  counterPerSite,
  type EnergyInterval,
  type EnergyRow,
  energyPerSite,
} from './counters.ts';
export { type EnergyPagesDeps, energyPages } from './pages.tsx';
