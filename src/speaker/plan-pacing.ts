// When the speaker re-plans after informer changes. Each plan reads every service (the L2
// election, the BGP plan, the status objects), so planning on every change costs
// O(changes x services): while 10,000 Services were being created, each speaker used
// 213 s of CPU in the first 23 minutes, and at 200 services the plans' garbage was most
// of the speaker's peak memory above its steady state (docs/BENCHMARKS.md, "Footprint").
// A lone change is still planned within PLAN_DEBOUNCE_MS; changes that keep coming are
// gathered into plans spaced, start to start, at least PLAN_MIN_INTERVAL_MS and
// PLAN_COST_FACTOR times the last plan's duration apart, which keeps planning under
// 1 / PLAN_COST_FACTOR of the JavaScript thread for plans of up to PLAN_MAX_INTERVAL_MS /
// PLAN_COST_FACTOR. The failover path (a member leaving or returning) does not wait for
// this: it plans at once.

/** Informer changes are gathered this long before one re-plan (a rollout touches many slices). */
export const PLAN_DEBOUNCE_MS = 10;
/** The shortest time between the starts of two plans made for informer changes. */
export const PLAN_MIN_INTERVAL_MS = 100;
/** Between plans, at least this many times the last plan's duration. */
export const PLAN_COST_FACTOR = 5;
/**
 * However long plans take, a change is planned within this. A plan of 10,000 services (half
 * L2, half BGP, 3 nodes) took 0.5-1.5 s on the 2-core lab machine under the daemons' V8
 * flags with the lab busy, so at that size the cap, not the factor, sets the spacing:
 * latency for new services over the speaker's CPU.
 */
export const PLAN_MAX_INTERVAL_MS = 2000;

export interface LastPlan {
  readonly startedAt: number;
  readonly durationMs: number;
}

/** How long from `now` until the plan for a change that just arrived. */
export function planDelay(now: number, last: LastPlan | undefined): number {
  if (!last) return PLAN_DEBOUNCE_MS;
  const spacing = Math.min(PLAN_MAX_INTERVAL_MS, Math.max(PLAN_MIN_INTERVAL_MS, PLAN_COST_FACTOR * last.durationMs));
  return Math.max(PLAN_DEBOUNCE_MS, last.startedAt + spacing - now);
}
