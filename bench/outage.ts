// What a client saw during a failure: from the results of a fixed-rate request loop
// (bench/http-probe.ts), the longest outage, i.e. the time from the first failed
// request of a run of failures to the next request that succeeded. Pure.

export interface ProbeResult {
  /** Wall-clock start, ms. */
  readonly start: number;
  readonly ok: boolean;
}

export interface Outage {
  /** Longest run of failures, ms (0 when none failed). */
  readonly longestMs: number;
  readonly failed: number;
  readonly total: number;
}

/**
 * Results whose start lies in [from, to) count. A run still failing at the end is
 * measured to `to` (the window ended before the client recovered).
 */
export function outage(results: readonly ProbeResult[], from: number, to: number): Outage {
  const window = results.filter((r) => r.start >= from && r.start < to).sort((a, b) => a.start - b.start);
  let longest = 0;
  let runStart: number | undefined;
  for (const r of window) {
    if (!r.ok && runStart === undefined) runStart = r.start;
    if (r.ok && runStart !== undefined) {
      longest = Math.max(longest, r.start - runStart);
      runStart = undefined;
    }
  }
  if (runStart !== undefined) longest = Math.max(longest, to - runStart);
  return { longestMs: longest, failed: window.filter((r) => !r.ok).length, total: window.length };
}

/** "min, p50, p90, p99, max (n)" of a list of milliseconds. */
export function percentiles(ms: readonly number[]): string {
  if (ms.length === 0) return 'no rounds';
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return `min ${s[0]!.toFixed(0)} ms, p50 ${q(0.5).toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms, max ${s[s.length - 1]!.toFixed(0)} ms (n=${s.length})`;
}
