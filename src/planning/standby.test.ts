import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Config } from '../config/model.ts';
import type { L2ServiceView } from '../api/cluster-view.ts';
import { isAddressEntryError, parseAddressEntry } from '../net/range.ts';
import { planL2, type L2PlanInput } from './l2-plan.ts';
import { singleDeparture, standbySteps } from './standby.ts';

const range = (() => {
  const r = parseAddressEntry('198.18.0.0/24');
  if (isAddressEntryError(r)) throw new Error(r.reason);
  return r;
})();
const CONFIG: Config = {
  pools: [{ name: 'p', labels: {}, ranges: [range], autoAssign: true, avoidBuggyIPs: false }],
  l2Advertisements: [{ name: 'a', ipAddressPools: [], ipAddressPoolSelectors: [], nodeSelectors: [], interfaces: [], serviceSelectors: [], preferredNodeSelectors: [] }],
  bgpAdvertisements: [],
  bgpPeers: [],
  bfdProfiles: [],
};

function world(nodes: number, live: readonly number[], services: readonly { ip: number; local: number | undefined }[]): L2PlanInput {
  const names = Array.from({ length: nodes }, (_, i) => `node-${i}`);
  const views: L2ServiceView[] = services.map((s, i) => ({
    key: `default/s${i}`, namespace: 'default', labels: {}, ips: [`198.18.0.${s.ip}`], createdAt: '',
    externalTrafficPolicy: s.local === undefined ? 'Cluster' : 'Local',
    endpoints: [{ nodeName: names[(s.local ?? 0) % nodes]!, ready: true, serving: true, terminating: false }],
  }));
  return { config: CONFIG, services: views, nodes: names.map((name) => ({ name, labels: {}, networkUnavailable: false })), liveNodes: new Set(live.map((i) => names[i % nodes]!)) };
}

test('the standby of each peer is exactly what the plan without that peer adds to this node', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 6 }),
      fc.uniqueArray(fc.nat(5), { minLength: 2, maxLength: 6 }),
      fc.array(fc.record({ ip: fc.integer({ min: 1, max: 254 }), local: fc.option(fc.nat(5), { nil: undefined }) }), { maxLength: 60 }),
      (nodes, live, services) => {
        const input = world(nodes, live, services);
        const me = [...input.liveNodes].sort()[0]!;
        const standby = new Map(standbySteps(input, me));
        const mineIn = (liveNodes: ReadonlySet<string>) => new Set(planL2({ ...input, liveNodes }).announcements.filter((a) => a.node === me).map((a) => a.ip));
        const now = mineIn(input.liveNodes);
        for (const peer of input.liveNodes) {
          if (peer === me) continue;
          const after = mineIn(new Set([...input.liveNodes].filter((n) => n !== peer)));
          const expected = [...after].filter((ip) => !now.has(ip)).sort();
          assert.deepEqual((standby.get(peer) ?? []).map((a) => a.ip).sort(), expected, `standby for ${peer}'s death`);
        }
        assert.ok(!standby.has(me));
      },
    ),
    { numRuns: 200 },
  );
});

test('a dead peer with IPs hands some of them to the standby of the other live node', () => {
  const input = world(3, [0, 1, 2], Array.from({ length: 30 }, (_, i) => ({ ip: i + 1, local: undefined })));
  const held = planL2(input).announcements.filter((a) => a.node === 'node-2').map((a) => a.ip);
  assert.ok(held.length > 0, 'node-2 holds IPs');
  const taken = [...(new Map(standbySteps(input, 'node-0')).get('node-2') ?? []), ...(new Map(standbySteps(input, 'node-1')).get('node-2') ?? [])].map((a) => a.ip).sort();
  assert.deepEqual(taken, [...held].sort(), "node-2's IPs are all in the other two nodes' standbys, once each");
});

test('singleDeparture: one peer gone and none joined, else nothing', () => {
  const s = (...n: string[]) => new Set(n);
  assert.equal(singleDeparture(s('a', 'b', 'c'), s('a', 'c')), 'b');
  assert.equal(singleDeparture(s('a', 'b', 'c'), s('a')), undefined);
  assert.equal(singleDeparture(s('a', 'b'), s('a', 'c')), undefined);
  assert.equal(singleDeparture(s('a', 'b'), s('a', 'b')), undefined);
});
