// The one retry backoff: every loop that retries after a failure (a write to the API
// server, a watch, a work-queue key, a BGP connection) waits this long, so a peer or an
// API server that is down is asked at a steady, low rate instead of being flooded.

/**
 * Exponential backoff: `firstMs` after the first failure, doubled per further failure,
 * capped at `maxMs` (the exponent is bounded too, so no count overflows the arithmetic).
 * `failures` counts the failures before this one: 0 gives `firstMs`.
 */
export function backoffDelay(failures: number, firstMs = 1000, maxMs = 30_000): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(failures, 30));
}
