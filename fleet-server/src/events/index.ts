// The event log gateways send (preemptions, faults, alarms, fieldbus events): its queries and API,
// and the console's intersections page built from preemption events.
export { eventsApi } from './api.ts';
export { eventsPages } from './pages.tsx';
export { type IntersectionDay, intersectionDay, isFault, type Preemption } from './preemptions.ts';
export { type EventRow, listEvents } from './store.ts';
