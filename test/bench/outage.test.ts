import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outage, percentiles } from '../../bench/outage.ts';

const at = (start: number, ok: boolean) => ({ start, ok });

test('the longest run of failures, first failure to next success', () => {
  const r = [at(0, true), at(10, false), at(20, false), at(30, true), at(40, false), at(50, false), at(60, false), at(70, false), at(80, true)];
  assert.deepEqual(outage(r, 0, 100), { longestMs: 40, failed: 6, total: 9 });
  assert.deepEqual(outage(r, 35, 100), { longestMs: 40, failed: 4, total: 5 });
  assert.deepEqual(outage(r, 0, 30), { longestMs: 20, failed: 2, total: 3 }, 'a run cut by the window ends at the window');
  assert.deepEqual(outage([at(5, true)], 0, 10), { longestMs: 0, failed: 0, total: 1 });
  assert.deepEqual(outage([at(50, false), at(0, true)], 0, 100), { longestMs: 50, failed: 1, total: 2 }, 'order of arrival does not matter');
});

test('percentiles by nearest rank', () => {
  assert.equal(percentiles([3, 1, 2, 4]), 'min 1 ms, p50 2 ms, p90 4 ms, p99 4 ms, max 4 ms (n=4)');
  assert.equal(percentiles([]), 'no rounds');
});
