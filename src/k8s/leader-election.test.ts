import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { electionStep, LeaderElector, DEFAULT_TIMING, type LeaseRecord, type LeaseStore, type StoredLease } from './leader-election.ts';
import { ManualClock } from '../time/clock.ts';

/** An in-memory Lease with the API server's optimistic concurrency (resourceVersion). */
class MemoryLeaseStore implements LeaseStore {
  lease: StoredLease | undefined;
  #rv = 0;
  reachable = new Set<string>();
  async get() { return this.lease; }
  async create(record: LeaseRecord) {
    if (this.lease) return false;
    this.lease = { record, resourceVersion: String(++this.#rv) };
    return true;
  }
  async update(record: LeaseRecord, rv: string) {
    if (!this.lease || this.lease.resourceVersion !== rv) return false;
    this.lease = { record, resourceVersion: String(++this.#rv) };
    return true;
  }
}

/** A view of the store for one candidate that can be cut off (API server unreachable). */
function through(store: MemoryLeaseStore, name: string): LeaseStore {
  const guard = () => { if (!store.reachable.has(name)) throw new Error(`${name}: connection refused`); };
  return {
    get: async () => { guard(); return store.get(); },
    create: async (r) => { guard(); return store.create(r); },
    update: async (r, rv) => { guard(); return store.update(r, rv); },
  };
}

const flush = async () => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

describe('electionStep', () => {
  const rec = (holder: string, renew: number, transitions = 0): StoredLease => ({
    record: { holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: 0, renewTime: renew, leaseTransitions: transitions },
    resourceVersion: '7',
  });

  it('creates a missing lease', () => {
    assert.equal(electionStep(undefined, undefined, 'me', 1000, DEFAULT_TIMING).step.kind, 'create');
  });

  it('waits while another holder is fresh, judged by when we saw it change', () => {
    const first = electionStep(rec('other', 0), undefined, 'me', 100_000, DEFAULT_TIMING);
    assert.equal(first.step.kind, 'wait', 'a renewTime far in the past does not count: we just saw it');
    const later = electionStep(rec('other', 0), first.observation, 'me', 100_000 + 15_000, DEFAULT_TIMING);
    assert.equal(later.step.kind, 'update');
    assert.equal(later.step.kind === 'update' && later.step.record.leaseTransitions, 1);
  });

  it('renewing keeps acquireTime and transitions', () => {
    const s = electionStep(rec('me', 0, 3), undefined, 'me', 5000, DEFAULT_TIMING).step;
    assert.equal(s.kind, 'update');
    if (s.kind === 'update') assert.deepEqual([s.record.acquireTime, s.record.renewTime, s.record.leaseTransitions], [0, 5000, 3]);
  });
});

describe('LeaderElector', () => {
  it('two candidates: one leads; when it is cut off it stops before the other starts', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    store.reachable.add('a').add('b');
    const log: string[] = [];
    const make = (name: string) =>
      new LeaderElector(through(store, name), name, clock, DEFAULT_TIMING, {
        onStartedLeading: () => log.push(`${clock.now()} ${name} leads`),
        onStoppedLeading: () => log.push(`${clock.now()} ${name} stops`),
      });
    const a = make('a');
    const b = make('b');
    a.start();
    await flush();
    b.start();
    await flush();
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    // Run 20 s: a renews every 2 s, b waits.
    for (let t = 0; t < 10; t++) { clock.advance(2000); await flush(); }
    assert.equal(b.isLeader, false);
    store.reachable.delete('a'); // a loses the API server
    let both = false;
    for (let t = 0; t < 40; t++) {
      clock.advance(500);
      await flush();
      if (a.isLeader && b.isLeader) both = true;
    }
    assert.equal(both, false, 'never two leaders');
    assert.equal(a.isLeader, false);
    assert.equal(b.isLeader, true);
    const stopAt = Number(log.find((l) => l.endsWith('a stops'))!.split(' ')[0]);
    const takeAt = Number(log.find((l) => l.endsWith('b leads'))!.split(' ')[0]);
    assert.ok(stopAt < takeAt, `a stopped at ${stopAt}, b took over at ${takeAt}`);
    assert.equal(store.lease!.record.leaseTransitions, 1);
    a.stop();
    b.stop();
  });
});
