// The Controller below the lab: the real KubeClient, informers, work queue, typed
// writes and leader election against an API server in memory (memory-api.test-support),
// so its wiring is tested in milliseconds; test/controller/ runs it against the lab's
// real API server.
import { after, before, beforeEach, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../observability/logging.ts';
import { eventually, MemoryAPI } from '../k8s/memory-api.test-support.ts';
import type { KubeClient } from '../k8s/client.ts';
import { realClock } from '../time/clock.ts';
import { ControllerMetrics } from '../observability/metrics.ts';
import { COLLECTION, metallbPath, servicePath } from '../k8s/paths.ts';
import { Controller, type ControllerOptions } from './controller.ts';

const NS = 'metallb-system';
const POOL_ANNOTATION = 'metallb.io/ip-allocated-from-pool';

interface Svc {
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  status?: { loadBalancer?: { ingress?: { ip: string }[] } };
}
interface Ev {
  reason: string;
  message: string;
  type: string;
  involvedObject: { kind: string; name: string };
}

function pool(name: string, addresses: unknown[]): Record<string, unknown> {
  return { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: NS }, spec: { addresses } };
}

function service(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'LoadBalancer', clusterIP: '198.18.128.10', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] },
  };
}


function ingress(api: MemoryAPI, name: string): string[] {
  return (api.get<Svc>(servicePath('default', name))?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
}

function events(api: MemoryAPI, reason: string): Ev[] {
  return api.list<Ev>(COLLECTION.events).filter((e) => e.reason === reason);
}

describe('Controller against an API server in memory', () => {
  let api: MemoryAPI;
  let client: KubeClient;
  const running: Controller[] = [];

  function startController(extra: Partial<ControllerOptions> = {}): Controller {
    const c = new Controller(client, { namespace: NS, clock: realClock, log: silentLogger, metrics: new ControllerMetrics(), election: false, ...extra });
    running.push(c);
    c.start();
    return c;
  }

  beforeEach(async () => {
    ({ api, client } = await MemoryAPI.start());
    api.put(COLLECTION.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    api.put(COLLECTION.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  });

  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
    client.close();
    await api.stop();
  });

  it('assigns an IP from the pool: status, pool annotation and an IPAllocated Event', async () => {
    api.put(metallbPath('IPAddressPool', NS), pool('first', ['198.18.10.0/30']));
    api.put('/api/v1/namespaces/default/services', service('web'));
    const c = startController();
    const [ip] = await eventually('web has an IP', () => ingress(api, 'web').length > 0 && ingress(api, 'web'));
    assert.match(ip!, /^198\.18\.10\.[0-3]$/);
    assert.equal(api.get<Svc>(servicePath('default', 'web'))?.metadata.annotations?.[POOL_ANNOTATION], 'first');
    const [allocated] = await eventually('an IPAllocated event', () => events(api, 'IPAllocated').length > 0 && events(api, 'IPAllocated'));
    assert.equal(allocated!.involvedObject.name, 'web');
    assert.ok(allocated!.message.includes(ip!), allocated!.message);
    assert.equal(c.assignment('default/web')?.pool, 'first');
  });

  it('leaves a service pending while the pool is full, and gives it the IP freed by a deletion', async () => {
    api.put(metallbPath('IPAddressPool', NS), pool('one', ['198.18.10.7/32']));
    api.put('/api/v1/namespaces/default/services', service('a'));
    startController();
    await eventually('a has the only IP', () => ingress(api, 'a')[0] === '198.18.10.7');
    api.put('/api/v1/namespaces/default/services', service('b'));
    const [failed] = await eventually('b is refused', () => events(api, 'AllocationFailed').length > 0 && events(api, 'AllocationFailed'));
    assert.equal(failed!.involvedObject.name, 'b');
    assert.deepEqual(ingress(api, 'b'), []);
    api.remove(servicePath('default', 'a'));
    await eventually('b has the freed IP', () => ingress(api, 'b')[0] === '198.18.10.7');
  });

  it('keeps the last valid configuration when an invalid one arrives, and says why in ConfigurationState', async () => {
    api.put(metallbPath('IPAddressPool', NS), pool('good', ['198.18.10.0/30']));
    startController();
    api.put('/api/v1/namespaces/default/services', service('first'));
    await eventually('first has an IP', () => ingress(api, 'first').length > 0);
    api.put(metallbPath('IPAddressPool', NS), pool('bad', ['not-an-address']));
    const state = await eventually('ConfigurationState says invalid', () => {
      const s = api.get<{ status?: { conditions?: { type: string; status: string; message: string }[] } }>(metallbPath('ConfigurationState', NS, 'controller'));
      const valid = s?.status?.conditions?.find((c) => c.type === 'Valid');
      return valid?.status === 'False' && valid;
    });
    assert.match(state.message, /bad/);
    assert.match(state.message, /not-an-address/);
    // The good pool still serves.
    api.put('/api/v1/namespaces/default/services', service('second'));
    const [ip] = await eventually('second has an IP from the good pool', () => ingress(api, 'second').length > 0 && ingress(api, 'second'));
    assert.match(ip!, /^198\.18\.10\.[0-3]$/);
  });

  it('restores every IP the services show before it hands out one, even to an older pending service', async () => {
    api.put(metallbPath('IPAddressPool', NS), pool('one', ['198.18.10.7/32']));
    // As a previous controller left them: the older service waits, the newer holds the only IP.
    api.put('/api/v1/namespaces/default/services', service('a-older'));
    api.put('/api/v1/namespaces/default/services', {
      ...service('b-newer'),
      metadata: { name: 'b-newer', namespace: 'default', annotations: { [POOL_ANNOTATION]: 'one' } },
      status: { loadBalancer: { ingress: [{ ip: '198.18.10.7' }] } },
    });
    startController();
    const [failed] = await eventually('a-older is refused', () => events(api, 'AllocationFailed').length > 0 && events(api, 'AllocationFailed'));
    assert.equal(failed!.involvedObject.name, 'a-older');
    assert.deepEqual(ingress(api, 'b-newer'), ['198.18.10.7']);
    assert.deepEqual(ingress(api, 'a-older'), []);
    assert.deepEqual(events(api, 'IPAllocated'), [], 'nothing was handed out again');
  });

  it('tells a refused write as a WriteFailed Event with its code, and retries it', async () => {
    api.put(metallbPath('IPAddressPool', NS), pool('first', ['198.18.10.0/30']));
    api.refusals.push({ method: 'PATCH', path: /\/services\/web\/status$/, status: 422, times: 2 });
    api.put('/api/v1/namespaces/default/services', service('web'));
    startController();
    await eventually('web has an IP after the refusals', () => ingress(api, 'web').length > 0);
    const [failed] = events(api, 'WriteFailed');
    assert.ok(failed, 'a WriteFailed event');
    assert.equal(failed.type, 'Warning');
    assert.equal(failed.involvedObject.name, 'web');
    assert.match(failed.message, /^EAPIREFUSED: /);
    assert.equal(api.refusals[0]!.times, 0, 'both refusals were met');
  });

  it('with election, only the leader writes, and a second replica takes over when it stops', async () => {
    api.put(metallbPath('IPAddressPool', NS), pool('first', ['198.18.10.0/29']));
    const election = { leaseDuration: 1, renewDeadline: 0.6, retryPeriod: 0.1 };
    const one = startController({ election, identity: 'one' });
    const two = startController({ election, identity: 'two' });
    const leader = await eventually('a leader', () => (one.isLeader ? one : two.isLeader ? two : undefined));
    const follower = leader === one ? two : one;
    assert.equal(follower.isLeader, false);
    api.put('/api/v1/namespaces/default/services', service('z'));
    const [z] = await eventually('z has an IP', () => ingress(api, 'z').length > 0 && ingress(api, 'z'));
    const lease = api.get<{ spec: { holderIdentity: string } }>(`/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/ferrolb-controller`);
    assert.equal(lease?.spec.holderIdentity, leader.identity);
    await leader.stop();
    running.splice(running.indexOf(leader), 1);
    // Created while nobody leads: the new leader serves it.
    api.put('/api/v1/namespaces/default/services', service('a'));
    await eventually('the other replica leads', () => follower.isLeader);
    const [a] = await eventually('a has an IP from the new leader', () => ingress(api, 'a').length > 0 && ingress(api, 'a'));
    assert.notEqual(a, z);
    assert.deepEqual(ingress(api, 'z'), [z], 'z keeps its IP');
  });
});

describe('MemoryAPI', () => {
  let api: MemoryAPI;
  let client: KubeClient;
  before(async () => ({ api, client } = await MemoryAPI.start()));
  after(async () => {
    client.close();
    await api.stop();
  });

  it('writes status only through the status subresource, and refuses a stale replace', async () => {
    const path = '/api/v1/namespaces/default/services';
    const created = await client.create<{ metadata: { resourceVersion: string }; status?: unknown }>(path, { ...service('s'), status: { loadBalancer: { ingress: [{ ip: '198.18.0.1' }] } } });
    assert.equal(created.status, undefined, 'create drops status');
    await client.mergePatch(`${path}/s`, { status: { loadBalancer: { ingress: [{ ip: '198.18.0.2' }] } }, metadata: { labels: { a: 'b' } } });
    assert.deepEqual(ingress(api, 's'), [], 'the object itself never writes status');
    await client.mergePatch(`${path}/s/status`, { status: { loadBalancer: { ingress: [{ ip: '198.18.0.3' }] } } });
    assert.deepEqual(ingress(api, 's'), ['198.18.0.3']);
    await assert.rejects(client.replace(`${path}/s`, { ...service('s'), metadata: { name: 's', namespace: 'default', resourceVersion: created.metadata.resourceVersion } }), /409/);
  });
});
