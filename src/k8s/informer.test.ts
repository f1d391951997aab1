// WatchedResource below the lab: a FakeAPI and a ManualClock, so the watchdog, the
// backoff and the relist after 410 are played with chosen times.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../time/clock.ts';
import { WatchedResource, type ChangeType } from './informer.ts';
import { ApiError, type KubeObject } from './client.ts';
import { FakeAPI, settle } from './fake-api.test-support.ts';

const PATH = '/api/v1/services';
const svc = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'default', resourceVersion: rv } }) as KubeObject;

async function started(opts: { quietTimeout?: number; watchSeconds?: number } = {}) {
  const api = new FakeAPI();
  const clock = new ManualClock(0);
  const restarts: string[] = [];
  const errors: number[] = [];
  const changes: string[] = [];
  const r = new WatchedResource<KubeObject>(api, PATH, {
    clock, minBackoff: 500, maxBackoff: 4000, ...opts,
    onRestart: (_p, why) => restarts.push(why),
    onError: (_p, _e, retryInMs) => errors.push(retryInMs),
  });
  r.onChange((type: ChangeType, o) => changes.push(`${type} ${o.metadata?.name}`));
  return { api, clock, restarts, errors, changes, r };
}

/** Started, with its first watch open. */
async function watching(opts: { quietTimeout?: number } = {}) {
  const t = await started(opts);
  t.r.start();
  await settle();
  return { ...t, watch: t.api.open(PATH)[0]! };
}

/** Advances the clock in steps, letting each round's promises run between them. */
async function advance(clock: ManualClock, ms: number, step = 250): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}

describe('WatchedResource with an injected client and clock', () => {
  it('lists, then watches from the list’s resourceVersion with bookmarks and a timeout', async () => {
    const t = await started({ watchSeconds: 300 });
    t.api.objects.set(PATH, [svc('a', '5')]);
    t.api.resourceVersion = '7';
    t.r.start();
    await t.r.synced;
    await settle();
    assert.deepEqual(t.changes, ['add a']);
    const [w] = t.api.open(PATH);
    assert.equal(w?.query.get('resourceVersion'), '7');
    assert.equal(w?.query.get('allowWatchBookmarks'), 'true');
    const timeout = Number(w?.query.get('timeoutSeconds'));
    assert.ok(timeout >= 300 && timeout <= 330, `timeoutSeconds ${timeout}: 300 plus up to 10% jitter`);
    t.r.stop();
  });

  it('replaces a watch that goes silent without closing (the watchdog), and keeps the cache', async () => {
    const t = await started({ quietTimeout: 10_000 });
    t.api.objects.set(PATH, [svc('a', '5')]);
    t.r.start();
    await settle();
    const first = t.api.open(PATH)[0]!;
    first.send('MODIFIED', svc('a', '8') as unknown as Record<string, unknown>);
    // Silence: the stream stays open, nothing arrives (a half-open TCP connection).
    await advance(t.clock, 9_000);
    assert.equal(first.aborted, false, 'not before the quiet timeout');
    await advance(t.clock, 2_500);
    assert.equal(first.aborted, true, 'aborted once silent for longer than quietTimeout');
    assert.deepEqual(t.restarts, ['quiet']);
    await advance(t.clock, 1_000);
    const second = t.api.open(PATH);
    assert.equal(second.length, 1, 'a fresh watch');
    assert.equal(second[0]!.query.get('resourceVersion'), '8', 'from the last resourceVersion seen: no relist');
    assert.equal(t.api.lists.length, 1);
    assert.deepEqual(t.changes, ['add a', 'update a']);
    t.r.stop();
  });

  it('leaves a quiet-but-alive watch alone: bookmarks count as activity', async () => {
    const t = await watching({ quietTimeout: 10_000 });
    const w = t.watch;
    for (let i = 0; i < 12; i++) {
      await advance(t.clock, 5_000);
      w.send('BOOKMARK', { metadata: { resourceVersion: String(10 + i) } });
    }
    assert.equal(w.aborted, false);
    assert.deepEqual(t.restarts, []);
    t.r.stop();
  });

  it('after 410 Gone lists again and reports what changed meanwhile as events', async () => {
    const t = await started();
    t.api.objects.set(PATH, [svc('a', '1'), svc('b', '1')]);
    t.r.start();
    await settle();
    t.api.objects.set(PATH, [svc('b', '2'), svc('c', '1')]);
    t.api.open(PATH)[0]!.send('ERROR', { code: 410 });
    await settle();
    await advance(t.clock, 1);
    assert.deepEqual(t.restarts, ['gone']);
    assert.equal(t.api.lists.length, 2);
    assert.deepEqual(t.changes, ['add a', 'add b', 'delete a', 'update b', 'add c'], 'deletions first, then the list in order');
    t.r.stop();
  });

  it('retries a failing list with the one backoff, doubling to the maximum, and resets it after a success', async () => {
    const t = await started();
    t.api.failNextList = new ApiError(503, 'ServiceUnavailable', 'unavailable');
    t.r.start();
    await settle();
    assert.deepEqual(t.errors, [500]);
    await advance(t.clock, 500);
    assert.equal(t.api.lists.length, 2, 'listed again after 500 ms');
    await t.r.synced;
    t.api.open(PATH)[0]!.end(new Error('socket hang up'));
    await settle();
    assert.deepEqual(t.errors, [500, 1000], 'a list that succeeded does not reset the count: only a watch that ended cleanly does');
    await advance(t.clock, 1000);
    t.api.open(PATH)[0]!.end();
    await settle();
    assert.deepEqual(t.restarts, ['closed']);
    await advance(t.clock, 1);
    t.api.open(PATH)[0]!.end(new Error('reset'));
    await settle();
    assert.deepEqual(t.errors, [500, 1000, 500], 'a watch that ended normally reset the backoff');
    t.r.stop();
  });

  it('stop aborts the watch and schedules nothing more', async () => {
    const t = await watching({ quietTimeout: 10_000 });
    const w = t.watch;
    t.r.stop();
    await settle();
    assert.equal(w.aborted, true);
    await advance(t.clock, 60_000, 5_000);
    assert.equal(t.api.watches.length, 1);
    assert.equal(t.clock.pending, 0, 'no timer left');
  });

  it('caches and hands the change handlers the projected object, from the list and the watch alike', async () => {
    const api = new FakeAPI();
    const clock = new ManualClock(0);
    type Obj = KubeObject & { spec?: { keep?: string; drop?: string } };
    const full = (name: string, rv: string): Obj => ({ metadata: { name, namespace: 'default', resourceVersion: rv }, spec: { keep: 'k', drop: 'd' } });
    api.objects.set(PATH, [full('a', '1')]);
    const r = new WatchedResource<Obj>(api, PATH, { clock }, { project: (o) => ({ metadata: o.metadata!, spec: { keep: o.spec?.keep! } }) });
    const seen: Obj[] = [];
    r.onChange((_t, o) => seen.push(o));
    r.start();
    await settle();
    api.open(PATH)[0]!.send('ADDED', full('b', '2') as unknown as Record<string, unknown>);
    assert.deepEqual(r.list().map((o) => o.spec), [{ keep: 'k' }, { keep: 'k' }]);
    assert.deepEqual(seen.map((o) => o.spec), [{ keep: 'k' }, { keep: 'k' }]);
    assert.equal(api.open(PATH)[0]!.query.get('resourceVersion'), '1');
    r.stop();
  });

  it('keeps a secondary index in step with adds, a changed index value, deletes and a relist', async () => {
    const api = new FakeAPI();
    const clock = new ManualClock(0);
    const slice = (name: string, service: string | undefined, rv: string) =>
      ({ metadata: { name, namespace: 'default', resourceVersion: rv, ...(service ? { labels: { owner: service } } : {}) } }) as KubeObject;
    api.objects.set(PATH, [slice('a-1', 'a', '1'), slice('a-2', 'a', '1'), slice('b-1', 'b', '1')]);
    const r = new WatchedResource<KubeObject>(api, PATH, { clock }, { indexBy: (o) => o.metadata?.labels?.['owner'] });
    const names = (value: string) => r.indexed(value).map((o) => o.metadata?.name).sort();
    r.start();
    await settle();
    assert.deepEqual(names('a'), ['a-1', 'a-2']);
    assert.deepEqual(names('b'), ['b-1']);
    const w = api.open(PATH)[0]!;
    w.send('MODIFIED', slice('a-2', 'b', '2') as unknown as Record<string, unknown>);
    assert.deepEqual(names('a'), ['a-1'], 'moved out of its old value');
    assert.deepEqual(names('b'), ['a-2', 'b-1']);
    w.send('MODIFIED', slice('a-1', undefined, '3') as unknown as Record<string, unknown>);
    assert.deepEqual(names('a'), [], 'no value: in no entry');
    w.send('DELETED', slice('b-1', 'b', '4') as unknown as Record<string, unknown>);
    assert.deepEqual(names('b'), ['a-2']);
    // What changed while not watching: the relist after 410 rebuilds the index.
    api.objects.set(PATH, [slice('c-1', 'c', '5')]);
    w.send('ERROR', { code: 410 });
    await settle();
    await advance(clock, 1);
    assert.deepEqual(names('b'), []);
    assert.deepEqual(names('c'), ['c-1']);
    assert.deepEqual(r.indexed('nothing'), []);
    r.stop();
  });

  it('a bookmark moves the resourceVersion to resume from and caches nothing', async () => {
    const t = await watching();
    t.watch.send('BOOKMARK', { kind: 'Service', metadata: { resourceVersion: '42' } });
    assert.deepEqual(t.r.list(), []);
    assert.deepEqual(t.changes, []);
    t.watch.end();
    await settle();
    await advance(t.clock, 1);
    assert.equal(t.api.open(PATH)[0]!.query.get('resourceVersion'), '42');
    t.r.stop();
  });
});
