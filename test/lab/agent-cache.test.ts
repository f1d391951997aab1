// The lab agent's cache (lab/src/agent/cache.ts): src/k8s/informer.ts's watched cache
// with the agent's own writes laid over it. No lab needed: a fake API server.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAPI, settle } from '../../src/k8s/fake-api.test-support.ts';
import { Cache } from '../../lab/src/agent/cache.ts';
import type { KubeObject } from '../../lab/src/kube.ts';

const path = '/api/v1/pods';
const pod = (name: string, rv: number, uid = `uid-${name}`, extra: Record<string, unknown> = {}) =>
  ({ metadata: { name, namespace: 'default', uid, resourceVersion: String(rv) }, ...extra }) as KubeObject & Record<string, unknown>;

async function started(): Promise<{ api: FakeAPI; cache: Cache<KubeObject>; changes: string[] }> {
  const api = new FakeAPI();
  api.resourceVersion = '10';
  const changes: string[] = [];
  const cache = new Cache<KubeObject>(api, path, (type, o) => changes.push(`${type} ${o.metadata.name}`));
  cache.start();
  await cache.synced;
  await settle();
  return { api, cache, changes };
}

const names = (c: Cache<KubeObject>) => c.list().map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();

it('a recorded write shows at once, and an older event does not undo it', async () => {
  const { api, cache, changes } = await started();
  cache.upsert(pod('a', 11)); // created; the watch has not said so yet
  assert.deepEqual(names(cache), ['a@11']);
  cache.upsert(pod('a', 12, 'uid-a', { status: { phase: 'Running' } })); // its status written
  const [w] = api.open(path);
  w!.send('ADDED', pod('a', 11));
  await settle();
  assert.deepEqual(names(cache), ['a@12'], 'the ADDED event is older than the status write');
  assert.equal((cache.list()[0] as { status?: unknown }).status !== undefined, true);
  w!.send('MODIFIED', pod('a', 12, 'uid-a', { status: { phase: 'Running' } }));
  await settle();
  assert.deepEqual(names(cache), ['a@12']);
  cache.upsert(pod('a', 11)); // an answer older than what the watch delivered
  assert.deepEqual(names(cache), ['a@12']);
  assert.deepEqual(changes, ['add a', 'update a']);
  cache.stop();
});

it('a deleted object is hidden until the watch says it is gone; another by that name shows', async () => {
  const { api, cache } = await started();
  const [w] = api.open(path);
  w!.send('ADDED', pod('b', 11));
  await settle();
  cache.forget(pod('b', 11));
  assert.deepEqual(names(cache), []);
  w!.send('MODIFIED', pod('b', 12, 'uid-b', { metadata: { name: 'b', namespace: 'default', uid: 'uid-b', resourceVersion: '12', deletionTimestamp: 'now' } }));
  await settle();
  assert.deepEqual(names(cache), [], 'still hidden: same uid');
  w!.send('DELETED', pod('b', 13));
  w!.send('ADDED', pod('b', 14, 'uid-b2'));
  await settle();
  assert.deepEqual(names(cache), ['b@14']);
  cache.stop();
});

it('a write the watch has passed is dropped, even when the object went meanwhile', async () => {
  const { api, cache } = await started();
  const [w] = api.open(path);
  cache.upsert(pod('c', 11)); // recorded, but deleted elsewhere before the next tick
  w!.send('ADDED', pod('c', 11));
  w!.send('DELETED', pod('c', 12));
  w!.send('ADDED', pod('d', 13));
  await settle();
  assert.deepEqual(names(cache), ['d@13']);
  cache.upsert(pod('c', 11)); // a late answer: the watch has already passed it
  assert.deepEqual(names(cache), ['d@13']);
  cache.stop();
});
