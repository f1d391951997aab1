// CPU cost of the L2 election (src/planning/README.md "Cost"): a plan from nothing (as
// `plan` and `doctor` make it), and as the speaker's L2Planner makes them: after an
// informer change, after a membership change (the failover path), and the standby (one
// plan per live peer), with N services of one IP each on
// a few nodes. One pool, one advertisement for every node, Cluster policy, one ready
// endpoint per service. Prints the median and the maximum wall time per plan and the
// share of it V8's garbage collector took.
//
//   npm run bench:l2-plan [-- --services 200,1000,10000 --nodes 3,10 --rounds 7]
//
// The npm script runs it with the daemons' V8 flags (bin/ferrolb.js: no optimising
// compilers, size over speed), as the speaker runs the plan.
// Then the BGP plan of one node (one peer, one advertisement, the same services), from
// nothing and with the speaker's BGPPlanner after one service changed.
//
// Fixed inputs (no randomness), so two builds compare on the same work. Wall time on
// a shared machine: run it twice, and on a quiet machine when comparing builds.
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Config } from '../src/config/model.ts';
import type { L2ServiceView, NodeView } from '../src/api/cluster-view.ts';
import { isAddressEntryError, parseAddressEntry } from '../src/net/range.ts';
import { L2Planner, planL2, type L2PlanInput } from '../src/planning/l2-plan.ts';
import { standbySteps } from '../src/planning/standby.ts';
import { BGPPlanner, planBGP } from '../src/planning/bgp-plan.ts';

const { values: args } = parseArgs({
  options: { services: { type: 'string', default: '200,1000,10000' }, nodes: { type: 'string', default: '3,10' }, rounds: { type: 'string', default: '7' } },
});
const list = (s: string) => s.split(',').map((x) => Number.parseInt(x, 10)).filter((n) => n > 0);

const POOL = (() => {
  const r = parseAddressEntry('198.18.0.0/15');
  if (isAddressEntryError(r)) throw new Error(r.reason);
  return r;
})();
const CONFIG: Config = {
  pools: [{ name: 'p', labels: {}, ranges: [POOL], autoAssign: true, avoidBuggyIPs: false }],
  l2Advertisements: [{ name: 'all', ipAddressPools: [], ipAddressPoolSelectors: [], nodeSelectors: [], interfaces: [], serviceSelectors: [], preferredNodeSelectors: [] }],
  bgpAdvertisements: [],
  bgpPeers: [],
  bfdProfiles: [],
};
// The BGP table: one peer, one advertisement for the pool (/32 routes, no communities).
const BGP_CONFIG: Config = {
  ...CONFIG,
  l2Advertisements: [],
  bgpAdvertisements: [{ name: 'all', aggregationLength: 32, aggregationLengthV6: 128, communities: [], ipAddressPools: [], ipAddressPoolSelectors: [], nodeSelectors: [], peers: [], serviceSelectors: [] }],
  bgpPeers: [{ name: 'tor', myASN: 64513, peerASN: 64512, peerAddress: '198.18.0.1', peerPort: 179, holdTime: 90, keepaliveTime: 30, ebgpMultiHop: false, enableGracefulRestart: false, nodeSelectors: [], dualStackAddressFamily: false }],
};

function world(services: number, nodeCount: number): L2PlanInput {
  const nodes: NodeView[] = Array.from({ length: nodeCount }, (_, i) => ({ name: `node-${i}`, labels: {}, networkUnavailable: false }));
  const views: L2ServiceView[] = Array.from({ length: services }, (_, i) => ({
    key: `default/svc-${i}`,
    namespace: 'default',
    labels: {},
    ips: [`198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`],
    externalTrafficPolicy: 'Cluster',
    endpoints: [{ ready: true, serving: true, terminating: false, nodeName: `node-${i % nodeCount}` }],
    // One second apart, as services created one by one.
    createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString().replace('.000', ''),
  }));
  return { config: CONFIG, services: views, nodes, liveNodes: new Set(nodes.map((n) => n.name)) };
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

interface Figure {
  readonly median: number;
  readonly max: number;
  readonly gcShare: number;
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 20));

/** Runs `f` `rounds` times (after one warm-up) and returns wall ms per run. */
async function measure(rounds: number, f: () => void): Promise<Figure> {
  f();
  const times: number[] = [];
  let total = 0;
  await turn();
  const gc0 = gcMs;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    f();
    const dt = performance.now() - t0;
    times.push(dt);
    total += dt;
    await turn(); // the GC entries arrive between turns of the event loop
  }
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1]!, max: times[times.length - 1]!, gcShare: total > 0 ? (gcMs - gc0) / total : 0 };
}

const fmt = (f: Figure) => `${f.median.toFixed(1)} ms (max ${f.max.toFixed(1)}, GC ${(100 * f.gcShare).toFixed(0)}%)`;
const rounds = Number.parseInt(args.rounds, 10);
console.log(`| services | nodes | fresh plan (planL2: plan, doctor) | informer change (one service) | membership change (one node down) | standby, all steps |`);
console.log(`|---:|---:|---:|---:|---:|---:|`);
for (const nodeCount of list(args.nodes)) {
  for (const services of list(args.services)) {
    const input = world(services, nodeCount);
    const me = 'node-0';
    const fresh = await measure(rounds, () => planL2(input));
    // The speaker's planner: an informer change gives one service a new view, the
    // others are the same objects; a membership change only a new live set.
    const planner = new L2Planner();
    planner.plan(input);
    let flip = 0;
    const informer = await measure(rounds, () => {
      const views = [...input.services];
      const k = flip++ % views.length;
      views[k] = { ...views[k]!, labels: { flip: String(flip) } };
      planner.plan({ ...input, services: views });
    });
    planner.plan(input);
    const down = new Set([...input.liveNodes].filter((n) => n !== 'node-1'));
    let odd = false;
    const failover = await measure(rounds, () => planner.plan({ ...input, liveNodes: (odd = !odd) ? down : input.liveNodes }));
    const current = planner.plan(input);
    const standby = await measure(Math.max(1, rounds >> 1), () => {
      for (const _ of standbySteps(input, me, current, planner));
    });
    console.log(`| ${services} | ${nodeCount} | ${fmt(fresh)} | ${fmt(informer)} | ${fmt(failover)} | ${fmt(standby)} |`);
  }
}

console.log(`\n| services | BGP plan from nothing (planBGP) | BGP plan after one service changed (BGPPlanner) |`);
console.log(`|---:|---:|---:|`);
for (const services of list(args.services)) {
  const input = world(services, 3);
  const node = input.nodes[0]!;
  const fresh = await measure(rounds, () => planBGP({ config: BGP_CONFIG, services: input.services, node }));
  const planner = new BGPPlanner();
  planner.plan({ config: BGP_CONFIG, services: input.services, node });
  let flip = 0;
  const informer = await measure(rounds, () => {
    const views = [...input.services];
    const k = flip++ % views.length;
    views[k] = { ...views[k]!, labels: { flip: String(flip) } };
    planner.plan({ config: BGP_CONFIG, services: views, node });
  });
  console.log(`| ${services} | ${fmt(fresh)} | ${fmt(informer)} |`);
}
