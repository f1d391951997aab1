import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('starts at the first delay, doubles per failure and stops at the cap', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((f) => backoffDelay(f, 500, 30_000)), [500, 1000, 2000, 4000, 8000, 16_000, 30_000]);
    assert.equal(backoffDelay(0), 1000, 'defaults: 1 s ...');
    assert.equal(backoffDelay(100), 30_000, '... to 30 s');
  });

  it('stays finite and capped however many failures there were', () => {
    for (const f of [31, 1000, Number.MAX_SAFE_INTEGER]) assert.equal(backoffDelay(f, 5, 60_000), 60_000);
    assert.equal(backoffDelay(1e6, 0, 10), 0, 'a zero first delay stays zero (no 0 * Infinity)');
  });
});
