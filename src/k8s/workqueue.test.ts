import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from './workqueue.ts';
import { ManualClock } from '../time/clock.ts';

describe('WorkQueue', () => {
  it('de-duplicates waiting keys and keeps order', async () => {
    const q = new WorkQueue(new ManualClock());
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
  });

  it('a key added while processing is processed again after done, never concurrently', async () => {
    const q = new WorkQueue(new ManualClock());
    q.add('a');
    const k = await q.get();
    q.add('a');
    assert.equal(q.length, 0, 'not queued while processing');
    q.done(k!);
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'a');
  });

  it('a waiting get receives the next key', async () => {
    const q = new WorkQueue(new ManualClock());
    const p = q.get();
    q.add('x');
    assert.equal(await p, 'x');
  });

  it('retries with exponential backoff, capped, and forget resets it', () => {
    const clock = new ManualClock();
    const q = new WorkQueue(clock, { baseDelay: 10, maxDelay: 50 });
    assert.deepEqual([q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k'), q.addRateLimited('k')], [10, 20, 40, 50]);
    assert.equal(q.length, 0);
    clock.advance(49);
    assert.equal(q.length, 0);
    clock.advance(1);
    assert.equal(q.length, 1);
    q.forget('k');
    assert.equal(q.failures('k'), 0);
  });

  it('shutDown releases waiters and drops delayed keys', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue(clock);
    const p = q.get();
    q.addAfter('later', 100);
    q.shutDown();
    assert.equal(await p, undefined);
    clock.advance(200);
    assert.equal(q.length, 0);
    assert.equal(await q.get(), undefined);
  });
});
