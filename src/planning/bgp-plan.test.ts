// Which prefixes a node announces to which peer: BGPAdvertisement selectors,
// aggregation, communities and LOCAL_PREF merging, Local policy and withdrawal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../config/build.ts';
import { parseDocuments } from '../config/load.ts';
import type { Config } from '../config/model.ts';
import type { L2ServiceView, NodeView } from '../api/cluster-view.ts';
import fc from 'fast-check';
import { advertisementSelectsPool, poolContains } from '../config/select.ts';
import { anySelectorMatches } from '../api/selector.ts';
import { formatIP, ipFromValue, parseIP } from '../net/ip.ts';
import { maskIP } from '../net/range.ts';
import { BGPPlanner, planBGP, peersOf, type PeerRoutes, type RouteAttributes } from './bgp-plan.ts';

function config(yaml: string): Config {
  const built = buildConfig(parseDocuments(yaml, 'test.yaml').documents);
  assert.ok(built.config, built.errors.map((e) => e.message).join('; '));
  return built.config;
}

const BASE = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool-a, namespace: metallb-system, labels: {tier: web}}
spec: {addresses: ["198.18.1.0/24", "2001:db8:18:1::/64"]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool-b, namespace: metallb-system}
spec: {addresses: ["198.18.2.0/24"]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor-1, namespace: metallb-system}
spec: {myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor-rack2, namespace: metallb-system}
spec: {myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.3, nodeSelectors: [{matchLabels: {rack: "2"}}]}
`;

const NODE1: NodeView = { name: 'node-1', labels: { rack: '1' }, networkUnavailable: false };
const NODE2: NodeView = { name: 'node-2', labels: { rack: '2' }, networkUnavailable: false };

function service(key: string, ips: string[], extra: Partial<L2ServiceView> = {}): L2ServiceView {
  return {
    key, namespace: key.split('/')[0]!, labels: {}, ips, externalTrafficPolicy: 'Cluster', createdAt: '',
    endpoints: [{ nodeName: 'node-2', ready: true, serving: true, terminating: false }], ...extra,
  };
}

const routesTo = (plan: ReturnType<typeof planBGP>, peer: string) => Object.fromEntries(plan.find((p) => p.peer.name === peer)?.routes ?? []);

test('peers are those whose nodeSelectors select the node', () => {
  const c = config(BASE);
  assert.deepEqual(peersOf(c, NODE1).map((p) => p.name), ['tor-1']);
  assert.deepEqual(peersOf(c, NODE2).map((p) => p.name), ['tor-1', 'tor-rack2']);
});

test('an advertisement for a pool announces its IPs as /32 and /128 to every peer by default', () => {
  const c = config(BASE + `---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [pool-a]}
`);
  const plan = planBGP({ config: c, node: NODE2, services: [service('ns/web', ['198.18.1.10', '2001:db8:18:1::10']), service('ns/other', ['198.18.2.5'])] });
  const empty = { communities: [], largeCommunities: [] };
  assert.deepEqual(routesTo(plan, 'tor-1'), { '198.18.1.10/32': empty, '2001:db8:18:1::10/128': empty });
  assert.deepEqual(routesTo(plan, 'tor-rack2'), { '198.18.1.10/32': empty, '2001:db8:18:1::10/128': empty });
  assert.deepEqual(plan.find((p) => p.peer.name === 'tor-1')?.services.get('198.18.1.10/32'), ['ns/web']);
});

test('aggregation lengths, peers lists, communities (aliases resolved) and LOCAL_PREF are merged per prefix and peer', () => {
  const c = config(BASE + `---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: aliases, namespace: metallb-system}
spec: {communities: [{name: no-export, value: "65535:65281"}]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: agg, namespace: metallb-system}
spec: {ipAddressPoolSelectors: [{matchLabels: {tier: web}}], aggregationLength: 24, aggregationLengthV6: 64, communities: [no-export, "large:64512:1:2"], localPref: 200, peers: [tor-1]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: host, namespace: metallb-system}
spec: {ipAddressPools: [pool-a], aggregationLength: 24, communities: ["64512:100"], localPref: 200}
`);
  const plan = planBGP({ config: c, node: NODE2, services: [service('ns/web', ['198.18.1.10']), service('ns/web2', ['198.18.1.99'])] });
  assert.deepEqual(routesTo(plan, 'tor-1'), {
    '198.18.1.0/24': { localPref: 200, communities: [64512 * 65536 + 100, 65535 * 65536 + 65281], largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }] },
  });
  assert.deepEqual(routesTo(plan, 'tor-rack2'), { '198.18.1.0/24': { localPref: 200, communities: [64512 * 65536 + 100], largeCommunities: [] } });
  assert.deepEqual(plan.find((p) => p.peer.name === 'tor-1')?.services.get('198.18.1.0/24'), ['ns/web', 'ns/web2']);
});

test('withdrawn: no ready endpoint; Local policy without a local endpoint; node or service not selected', () => {
  const c = config(BASE + `---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [pool-a], nodeSelectors: [{matchLabels: {rack: "2"}}], serviceSelectors: [{matchLabels: {expose: bgp}}]}
`);
  const labels = { expose: 'bgp' };
  const on = (node: NodeView, svc: L2ServiceView) => Object.keys(routesTo(planBGP({ config: c, node, services: [svc] }), 'tor-1'));
  assert.deepEqual(on(NODE2, service('ns/a', ['198.18.1.1'], { labels })), ['198.18.1.1/32']);
  assert.deepEqual(on(NODE1, service('ns/a', ['198.18.1.1'], { labels })), [], 'node not selected');
  assert.deepEqual(on(NODE2, service('ns/a', ['198.18.1.1'])), [], 'service not selected');
  assert.deepEqual(on(NODE2, service('ns/a', ['198.18.1.1'], { labels, endpoints: [] })), [], 'no endpoints');
  assert.deepEqual(on(NODE2, service('ns/a', ['198.18.1.1'], { labels, endpoints: [{ nodeName: 'node-2', ready: false, serving: false, terminating: true }] })), [], 'none ready');
  const local = { labels, externalTrafficPolicy: 'Local' as const, endpoints: [{ nodeName: 'node-1', ready: true, serving: true, terminating: false }] };
  assert.deepEqual(on(NODE2, service('ns/a', ['198.18.1.1'], local)), [], 'Local: the endpoint is elsewhere');
  assert.deepEqual(on({ ...NODE2, networkUnavailable: true }, service('ns/a', ['198.18.1.1'], { labels })), [], 'NetworkUnavailable');
  // MetalLB's rule: any value of the label excludes the node; its sessions stay (the peers are still planned).
  for (const value of ['', 'true', 'false']) {
    const excluded = { ...NODE2, labels: { ...NODE2.labels, 'node.kubernetes.io/exclude-from-external-load-balancers': value } };
    assert.deepEqual(on(excluded, service('ns/a', ['198.18.1.1'], { labels })), [], `excluded from load balancers (${JSON.stringify(value)})`);
    assert.deepEqual(planBGP({ config: c, node: excluded, services: [] }).map((p) => p.peer.name), ['tor-1', 'tor-rack2']);
  }
  assert.deepEqual(on(NODE2, service('ns/a', ['203.0.113.1'], { labels })), [], 'an IP in no pool');
});

/**
 * The rules of docs/COMPATIBILITY.md "Speaker, BGP mode" applied directly, service by
 * service and advertisement by advertisement, with no memory: the oracle for BGPPlanner.
 */
function model(config: Config, services: readonly L2ServiceView[], node: NodeView): Map<string, Map<string, { attrs: RouteAttributes; services: string[] }>> {
  const out = new Map<string, Map<string, { attrs: RouteAttributes; services: string[] }>>();
  const peers = peersOf(config, node);
  for (const p of peers) out.set(p.name, new Map());
  if (node.networkUnavailable || 'node.kubernetes.io/exclude-from-external-load-balancers' in node.labels) return out;
  for (const svc of services) {
    const usable = svc.endpoints.filter((e) => e.ready || e.serving);
    if (usable.length === 0 || (svc.externalTrafficPolicy === 'Local' && !usable.some((e) => e.nodeName === node.name))) continue;
    for (const text of svc.ips) {
      const ip = parseIP(text);
      const pool = ip && config.pools.find((p) => poolContains(p, ip));
      if (!ip || !pool) continue;
      for (const ad of config.bgpAdvertisements) {
        if (!advertisementSelectsPool(ad, pool) || (ad.serviceSelectors.length > 0 && !anySelectorMatches(ad.serviceSelectors, svc.labels)) || (ad.nodeSelectors.length > 0 && !anySelectorMatches(ad.nodeSelectors, node.labels))) continue;
        const length = ip.family === 'IPv4' ? ad.aggregationLength : ad.aggregationLengthV6;
        const prefix = `${formatIP(ipFromValue(ip.family, maskIP(ip, length).network))}/${length}`;
        for (const peer of peers) {
          if (ad.peers.length > 0 && !ad.peers.includes(peer.name)) continue;
          const routes = out.get(peer.name)!;
          const was = routes.get(prefix) ?? { attrs: { communities: [], largeCommunities: [] }, services: [] };
          const communities = new Set(was.attrs.communities);
          const large = new Map(was.attrs.largeCommunities.map((c) => [`${c.globalAdmin}:${c.localData1}:${c.localData2}`, c]));
          for (const c of ad.communities) {
            if (c.kind === 'standard') communities.add(c.value);
            else large.set(`${c.globalAdmin}:${c.localData1}:${c.localData2}`, { globalAdmin: c.globalAdmin, localData1: c.localData1, localData2: c.localData2 });
          }
          const prefs = [was.attrs.localPref, ad.localPref].filter((x): x is number => x !== undefined);
          const attrs: RouteAttributes = {
            ...(prefs.length > 0 ? { localPref: Math.max(...prefs) } : {}),
            communities: [...communities].sort((a, b) => a - b),
            largeCommunities: [...large.keys()].sort().map((k) => large.get(k)!),
          };
          routes.set(prefix, { attrs, services: [...new Set([...was.services, svc.key])].sort() });
        }
      }
    }
  }
  return out;
}

function asModel(plan: readonly PeerRoutes[]): ReturnType<typeof model> {
  return new Map(plan.map((p) => [p.peer.name, new Map([...p.routes].map(([prefix, attrs]) => [prefix, { attrs, services: [...(p.services.get(prefix) ?? [])] }]))]));
}

test('BGPPlanner: the model\'s plan after every change of any sequence of services, nodes and configurations', () => {
  const ADS = [
    `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [pool-a]}
`,
    `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: agg, namespace: metallb-system}
spec: {ipAddressPoolSelectors: [{matchLabels: {tier: web}}], aggregationLength: 24, aggregationLengthV6: 64, communities: ["65535:65281", "large:64512:1:2"], localPref: 200, peers: [tor-1]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: host, namespace: metallb-system}
spec: {communities: ["64512:100"], localPref: 100, nodeSelectors: [{matchLabels: {rack: "2"}}], serviceSelectors: [{matchLabels: {expose: bgp}}]}
`,
  ];
  const configs = ADS.map((ads) => config(`${BASE}---\n${ads}`));
  const NODES: NodeView[] = [NODE1, NODE2, { ...NODE2, networkUnavailable: true }, { ...NODE2, labels: { ...NODE2.labels, 'node.kubernetes.io/exclude-from-external-load-balancers': '' } }];
  const arbService = fc.record({
    ips: fc.array(fc.oneof(fc.nat(255).map((i) => `198.18.1.${i}`), fc.nat(255).map((i) => `198.18.2.${i}`), fc.nat(15).map((i) => `2001:db8:18:1::${i.toString(16)}`), fc.constant('203.0.113.9'), fc.constant('garbage')), { minLength: 1, maxLength: 3 }),
    bgp: fc.boolean(),
    local: fc.boolean(),
    endpoints: fc.array(fc.record({ node: fc.constantFrom('node-1', 'node-2'), ready: fc.boolean(), serving: fc.boolean() }), { maxLength: 3 }),
  });
  const view = (i: number, s: { ips: string[]; bgp: boolean; local: boolean; endpoints: { node: string; ready: boolean; serving: boolean }[] }): L2ServiceView =>
    service(`ns/s${i}`, s.ips, { labels: s.bgp ? { expose: 'bgp' } : {}, externalTrafficPolicy: s.local ? 'Local' : 'Cluster', endpoints: s.endpoints.map((e) => ({ nodeName: e.node, ready: e.ready, serving: e.serving, terminating: !e.ready })) });
  fc.assert(
    fc.property(
      fc.array(arbService, { maxLength: 30 }),
      fc.array(fc.record({ change: fc.nat(5), r: fc.nat(40), s: arbService }), { minLength: 1, maxLength: 10 }),
      (initial, steps) => {
        let services = initial.map((s, i) => view(i, s));
        let c = configs[0]!;
        let node = NODE2;
        const planner = new BGPPlanner();
        assert.deepEqual(asModel(planner.plan({ config: c, services, node })), model(c, services, node));
        for (const { change, r, s } of steps) {
          if (change === 0) services = services.map((v, i) => (i === r % Math.max(1, services.length) ? view(r, s) : v));
          else if (change === 1) services = [...services.filter((_, i) => i !== r % Math.max(1, services.length)), view(100 + r, s)];
          else if (change === 2) services = [...services].reverse();
          else if (change === 3) node = { ...NODES[r % NODES.length]!, labels: { ...NODES[r % NODES.length]!.labels } };
          else if (change === 4) c = { ...c };
          else c = configs[r % configs.length]!;
          assert.deepEqual(asModel(planner.plan({ config: c, services, node })), model(c, services, node), `after change ${change} (${r})`);
        }
      },
    ),
    { numRuns: 200 },
  );
});
