// ConfigSource below the lab: a FakeAPI serves the metallb.io kinds, a ManualClock runs
// the debounce, and the Config is built by the code `ferrolb validate` runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../time/clock.ts';
import { ConfigSource } from './config-source.ts';
import { FakeAPI, settle } from './fake-api.test-support.ts';
import type { KubeObject } from './client.ts';

const NS = 'metallb-system';
const POOLS = `/apis/metallb.io/v1beta1/namespaces/${NS}/ipaddresspools`;
const PEERS = `/apis/metallb.io/v1beta2/namespaces/${NS}/bgppeers`;
// List items come without apiVersion and kind, as the API server sends them.
const pool = (name: string, addresses: string[], rv = '1') => ({ metadata: { name, namespace: NS, resourceVersion: rv }, spec: { addresses } }) as unknown as KubeObject;

async function source() {
  const api = new FakeAPI();
  const clock = new ManualClock(0);
  const s = new ConfigSource(api, NS, { clock });
  let rebuilds = 0;
  s.onChange(() => rebuilds++);
  return { api, clock, s, rebuilds: () => rebuilds };
}

describe('ConfigSource with an injected client and clock', () => {
  it('watches every configuration kind in the namespace, BGPPeer at v1beta2', async () => {
    const t = await source();
    t.s.start();
    await t.s.synced;
    assert.ok(t.api.lists.includes(POOLS));
    assert.ok(t.api.lists.includes(PEERS));
    assert.equal(t.api.lists.length, 6, 'pools, L2 and BGP advertisements, peers, BFD profiles, communities');
    t.s.stop();
  });

  it('builds the Config from what it watches, with apiVersion and kind filled in', async () => {
    const t = await source();
    t.api.objects.set(POOLS, [pool('first', ['198.18.1.0/24'])]);
    t.s.start();
    await t.s.synced;
    assert.deepEqual(t.s.objects().map((o) => `${o.apiVersion} ${o.kind} ${o.metadata?.name}`), ['metallb.io/v1beta1 IPAddressPool first']);
    const built = t.s.build();
    assert.deepEqual(built.errors, []);
    assert.deepEqual(built.config?.pools.map((p) => p.name), ['first']);
    t.s.stop();
  });

  it('gathers changes within 50 ms into one rebuild', async () => {
    const t = await source();
    t.s.start();
    await t.s.synced;
    await settle();
    t.clock.advance(100);
    const before = t.rebuilds();
    const [watch] = t.api.open(POOLS);
    watch!.send('ADDED', pool('a', ['198.18.1.0/24'], '2') as unknown as Record<string, unknown>);
    t.clock.advance(30);
    watch!.send('ADDED', pool('b', ['198.18.2.0/24'], '3') as unknown as Record<string, unknown>);
    t.clock.advance(49);
    assert.equal(t.rebuilds(), before, 'still gathering: 50 ms after the last change');
    t.clock.advance(1);
    assert.equal(t.rebuilds(), before + 1);
    assert.deepEqual(t.s.build().config?.pools.map((p) => p.name), ['a', 'b']);
    t.s.stop();
  });

  it('reports an invalid configuration as errors with codes, not a Config', async () => {
    const t = await source();
    t.api.objects.set(POOLS, [pool('one', ['198.18.1.0/24']), pool('two', ['198.18.1.128/25'])]);
    t.s.start();
    await t.s.synced;
    const built = t.s.build();
    assert.equal(built.config, undefined);
    assert.ok(built.errors.some((e) => e.code === 'EOVERLAP'), JSON.stringify(built.errors));
    t.s.stop();
  });
});
