import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PLAN_COST_FACTOR, PLAN_DEBOUNCE_MS, PLAN_MAX_INTERVAL_MS, PLAN_MIN_INTERVAL_MS, planDelay } from './plan-pacing.ts';

describe('planDelay', () => {
  it('plans a lone change after the debounce: at start and when the last plan is long past', () => {
    assert.equal(planDelay(1000, undefined), PLAN_DEBOUNCE_MS);
    assert.equal(planDelay(10_000, { startedAt: 1000, durationMs: 5 }), PLAN_DEBOUNCE_MS);
  });

  it('spaces plans for changes that keep coming at least the minimum interval apart', () => {
    assert.equal(planDelay(1030, { startedAt: 1000, durationMs: 2 }), PLAN_MIN_INTERVAL_MS - 30);
    assert.equal(planDelay(1095, { startedAt: 1000, durationMs: 2 }), PLAN_DEBOUNCE_MS, 'never sooner than the debounce');
  });

  it('spaces them by a multiple of the last plan\'s duration when plans are slow, up to the cap', () => {
    assert.equal(planDelay(1200, { startedAt: 1000, durationMs: 150 }), 550, '5 x 150 ms after the start');
    assert.equal(planDelay(1000, { startedAt: 1000, durationMs: 10_000 }), PLAN_MAX_INTERVAL_MS);
  });

  it('bounds planning to 1 / PLAN_COST_FACTOR of the time while changes arrive without pause (a simulated minute)', () => {
    for (const durationMs of [1, 20, 80, 300, 400, 1000]) {
      // A change arrives whenever one can: right after each plan ends.
      const starts: number[] = [];
      let now = 0;
      let last: { startedAt: number; durationMs: number } | undefined;
      while (now < 60_000) {
        now += planDelay(now, last);
        starts.push(now);
        last = { startedAt: now, durationMs };
        now += durationMs;
      }
      // Busy time over the span from the first plan's start to the last one's.
      const busy = (durationMs * (starts.length - 1)) / (starts.at(-1)! - starts[0]!);
      // Beyond the cap / the factor (400 ms a plan) the cap wins: latency over CPU.
      if (durationMs * PLAN_COST_FACTOR <= PLAN_MAX_INTERVAL_MS) assert.ok(busy <= 1 / PLAN_COST_FACTOR + 1e-9, `${durationMs} ms plans: ${(100 * busy).toFixed(1)}% busy`);
      const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
      assert.ok(Math.max(...gaps) <= PLAN_MAX_INTERVAL_MS, 'and a change waits at most the cap');
    }
  });
});
