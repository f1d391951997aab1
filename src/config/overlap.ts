// Overlap detection between address ranges by one sort and one sweep: O(n log n) in
// the number of entries, never in the number of addresses (a /8 or a /64 costs the
// same as a /32).
import type { Family } from '../net/ip.ts';

export interface Span<T> {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
  readonly owner: T;
}

export interface Overlap<T> {
  /** The range that sorts later; it overlaps `earlier`. */
  readonly later: Span<T>;
  readonly earlier: Span<T>;
}

/**
 * Sorts spans by (family, first, last, input order) and sweeps keeping the span that
 * reaches furthest. Every span that overlaps any span sorting before it is reported
 * once, paired with a span it truly overlaps; so there is at least one report iff any
 * two spans overlap. `order` breaks ties so the result does not depend on input order.
 */
export function findOverlaps<T>(spans: readonly Span<T>[], order: (a: T, b: T) => number): Overlap<T>[] {
  const sorted = [...spans].sort(
    (a, b) =>
      (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1) ||
      (a.first < b.first ? -1 : a.first > b.first ? 1 : 0) ||
      (a.last < b.last ? -1 : a.last > b.last ? 1 : 0) ||
      order(a.owner, b.owner),
  );
  const out: Overlap<T>[] = [];
  let reach: Span<T> | undefined;
  for (const span of sorted) {
    if (reach && reach.family === span.family && span.first <= reach.last) {
      out.push({ later: span, earlier: reach });
    }
    if (!reach || reach.family !== span.family || span.last > reach.last) reach = span;
  }
  return out;
}
