// Spread of the L2 election (src/planning/README.md, "What is guaranteed"):
// with N nodes and M service IPs, every node a candidate of every IP (one pool, one
// advertisement, Cluster policy, ready endpoints), how far each node's load is from the
// mean; when one node's speaker stops, how many IPs move (its own, and any other); when
// it comes back, how many IPs it takes back, against its share ceil(M / N).
//
//   npm run bench:l2-spread [-- trials nodes ips]     (defaults: 50 10 1000)
//
// Random node names and IPs, distinct creation times; the IP count is drawn from
// [ips, ips + nodes) so that every remainder of M / N is sampled. Fixed seed.
import type { Config } from '../src/config/model.ts';
import type { L2ServiceView } from '../src/api/cluster-view.ts';
import { isAddressEntryError, parseAddressEntry } from '../src/net/range.ts';
import { electionHash, planL2 } from '../src/planning/l2-plan.ts';

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

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function plan(nodes: readonly string[], live: readonly string[], services: readonly L2ServiceView[]): Map<string, string> {
  const p = planL2({ config: CONFIG, services, nodes: nodes.map((name) => ({ name, labels: {}, networkUnavailable: false })), liveNodes: new Set(live) });
  return new Map(p.announcements.map((a) => [a.ip, a.node]));
}

/** Largest |load - mean| over `nodes` (a node holding nothing counts as 0). */
function deviation(placement: ReadonlyMap<string, string>, nodes: readonly string[]): number {
  const loads = new Map(nodes.map((n) => [n, 0]));
  for (const n of placement.values()) loads.set(n, (loads.get(n) ?? 0) + 1);
  const mean = placement.size / nodes.length;
  return Math.max(...[...loads.values()].map((l) => Math.abs(l - mean)));
}

export interface SpreadFigures {
  readonly trials: number;
  readonly maxDeviationUp: number;
  /** The same clusters with MetalLB's rule: each IP on its first node in hash order. */
  readonly metallbDeviationUp: number;
  readonly maxDeviationOneDown: number;
  readonly leaveOwnMean: number;
  readonly leaveOthersMax: number;
  readonly returnTakenMax: number;
  readonly returnOthersMax: number;
  readonly share: number;
  readonly msPerPlan: number;
}

export function measureSpread(trials: number, nodeCount: number, ipCount: number, seed = 1): SpreadFigures {
  const rnd = lcg(seed + nodeCount * 7919 + ipCount);
  let maxDeviationUp = 0;
  let metallbDeviationUp = 0;
  let maxDeviationOneDown = 0;
  let leaveOwn = 0;
  let leaveOthersMax = 0;
  let returnTakenMax = 0;
  let returnOthersMax = 0;
  let share = 0;
  let plans = 0;
  let ms = 0;
  for (let t = 0; t < trials; t++) {
    const nodes = Array.from({ length: nodeCount }, (_, i) => `node-${i}-${Math.floor(rnd() * 1e9).toString(36)}`);
    const m = ipCount + Math.floor(rnd() * nodeCount);
    const ips = new Set<string>();
    while (ips.size < m) ips.add(`198.${18 + Math.floor(rnd() * 2)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`);
    const services: L2ServiceView[] = [...ips].map((ip, i) => ({
      key: `ns/s${i}`,
      namespace: 'ns',
      labels: {},
      ips: [ip],
      externalTrafficPolicy: 'Cluster',
      endpoints: [{ ready: true, serving: true, terminating: false }],
      createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString().replace('.000', ''),
    }));
    const started = performance.now();
    const up = plan(nodes, nodes, services);
    const victim = nodes[Math.floor(rnd() * nodes.length)]!;
    const survivors = nodes.filter((n) => n !== victim);
    const down = plan(nodes, survivors, services);
    const back = plan(nodes, nodes, services);
    ms += performance.now() - started;
    plans += 3;
    maxDeviationUp = Math.max(maxDeviationUp, deviation(up, nodes));
    const metallb = new Map([...up.keys()].map((ip) => [ip, nodes.reduce((best, n) => (electionHash(n, ip) < electionHash(best, ip) ? n : best))]));
    metallbDeviationUp = Math.max(metallbDeviationUp, deviation(metallb, nodes));
    maxDeviationOneDown = Math.max(maxDeviationOneDown, deviation(down, survivors));
    let own = 0;
    let others = 0;
    for (const [ip, n] of up) {
      if (down.get(ip) === n) continue;
      if (n === victim) own++;
      else others++;
    }
    leaveOwn += own;
    leaveOthersMax = Math.max(leaveOthersMax, others);
    let taken = 0;
    let othersBack = 0;
    for (const [ip, n] of down) {
      const now = back.get(ip);
      if (now === n) continue;
      if (now === victim) taken++;
      else othersBack++;
    }
    returnTakenMax = Math.max(returnTakenMax, taken);
    returnOthersMax = Math.max(returnOthersMax, othersBack);
    share = Math.max(share, Math.ceil(m / nodeCount));
  }
  return { trials, maxDeviationUp, metallbDeviationUp, maxDeviationOneDown, leaveOwnMean: leaveOwn / trials, leaveOthersMax, returnTakenMax, returnOthersMax, share, msPerPlan: ms / plans };
}

if (import.meta.main) {
  const [trials = 50, nodes = 10, ips = 1000] = process.argv.slice(2).map(Number);
  const f = measureSpread(trials, nodes, ips);
  console.log(`L2 spread: ${nodes} nodes, ${ips}–${ips + nodes - 1} IPs, ${f.trials} random clusters`);
  console.log(`  max |load - mean|, every node up:               ${f.maxDeviationUp.toFixed(2)} (MetalLB's hash order alone: ${f.metallbDeviationUp.toFixed(2)})`);
  console.log(`  max |load - mean| over the survivors, one down: ${f.maxDeviationOneDown.toFixed(2)}`);
  console.log(`  a node leaving: its own IPs moved (mean)        ${f.leaveOwnMean.toFixed(1)}; other IPs moved (max) ${f.leaveOthersMax}`);
  console.log(`  it returning: IPs it took back (max)            ${f.returnTakenMax} (its share ceil(IPs / nodes) at most ${f.share}); other IPs moved (max) ${f.returnOthersMax}`);
  console.log(`  ${f.msPerPlan.toFixed(0)} ms per plan`);
}
