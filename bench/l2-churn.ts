// Churn of the L2 election: how many *other* IPs move (each move breaks the connections
// through that IP) when a service is added or deleted, a node goes down or comes back,
// or a Node is added to or removed from the cluster. Compares ferrolb's planL2 with
// MetalLB's pure hash and with the alternatives considered
// (src/planning/README.md, "Churn"), and checks planL2 against an independent
// model of its rule on every world and event.
//
//   node_modules/.bin/node bench/l2-churn.ts [trials-scale, default 1]
//
// Worlds: every node a candidate of every IP (one pool, one advertisement, Cluster
// policy, ready endpoints), random node names and IPs, distinct creation times. The IP
// count is drawn uniformly from [IPs, IPs + nodes) so that every position in the cycle
// of the cap (ceil(IPs / nodes)) is sampled. Deterministic (fixed seed).
import { hash } from 'node:crypto';
import type { Config } from '../src/config/model.ts';
import { isAddressEntryError, parseAddressEntry } from '../src/net/range.ts';
import { parseIP } from '../src/net/ip.ts';
import { ipOrderKey, planL2 } from '../src/planning/l2-plan.ts';
import type { L2ServiceView } from '../src/api/cluster-view.ts';

// ---------------------------------------------------------------------------------
// The rules compared, on the worlds above (all known nodes are candidates when live).

interface World {
  /** Node objects. */
  readonly known: readonly string[];
  /** Nodes with a live speaker (a subset of known). */
  readonly live: readonly string[];
  /** IPs (canonical text) with the creation time of their service. */
  readonly ips: readonly { readonly ip: string; readonly createdAt: string }[];
}
type Placement = ReadonlyMap<string, string>;
type Rule = (w: World) => Placement;

const H = new Map<string, string>();
function h(node: string, ip: string): string {
  const k = `${node}#${ip}`;
  let v = H.get(k);
  if (v === undefined) {
    v = hash('sha256', k, 'hex');
    H.set(k, v);
  }
  return v;
}

/** First of `nodes` in hash order with load < cap, else least loaded (hash order among equals). */
function pick(nodes: readonly string[], ip: string, loads: Map<string, number>, cap: number): string {
  return pickRoom(nodes, ip, loads, (l) => l < cap);
}

/** First of `nodes` in hash order whose load `room` accepts, else least loaded (hash order among equals). */
function pickRoom(nodes: readonly string[], ip: string, loads: Map<string, number>, room: (load: number) => boolean): string {
  let best: string | undefined;
  let least: string | undefined;
  for (const n of nodes) {
    const l = loads.get(n) ?? 0;
    if (room(l) && (best === undefined || h(n, ip) < h(best, ip))) best = n;
    if (least === undefined || l < (loads.get(least) ?? 0) || (l === (loads.get(least) ?? 0) && h(n, ip) < h(least, ip))) least = n;
  }
  const node = (best ?? least)!;
  loads.set(node, (loads.get(node) ?? 0) + 1);
  return node;
}

/** The two-level cap for m IPs on `nodes`: below floor(m / n), or at it while fewer than m mod n nodes hold more. */
function twoLevel(nodes: readonly string[], loads: ReadonlyMap<string, number>, m: number): (load: number) => boolean {
  const floor = Math.floor(m / nodes.length);
  const above = nodes.filter((n) => (loads.get(n) ?? 0) > floor).length;
  return (l) => l < floor || (l === floor && above < m - floor * nodes.length);
}

const byIP = (a: { ip: string }, b: { ip: string }) => (ipOrderKey(parseIP(a.ip)!) < ipOrderKey(parseIP(b.ip)!) ? -1 : 1);
const byAge = (a: { ip: string; createdAt: string }, b: { ip: string; createdAt: string }) =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : byIP(a, b);

/** MetalLB: first live node in hash order. */
const metallb: Rule = (w) => new Map(w.ips.map(({ ip }) => [ip, [...w.live].sort((a, b) => (h(a, ip) < h(b, ip) ? -1 : 1))[0]!]));

/** ferrolb's first rule: one cap ceil(IPs / live nodes), IPs in IP order, no homes. */
const previous: Rule = (w) => {
  const loads = new Map<string, number>();
  const cap = Math.ceil(w.ips.length / w.live.length);
  return new Map([...w.ips].sort(byIP).map(({ ip }) => [ip, pick(w.live, ip, loads, cap)]));
};

/** Homes on the known nodes in age order (cap per IP), then displaced IPs on live nodes below ceil(IPs / live). */
function withHomes(homeCap: (i: number, m: number, n: number) => number): Rule {
  return (w) => {
    const order = [...w.ips].sort(byAge);
    const homeLoads = new Map<string, number>();
    const homes = order.map(({ ip }, i) => [ip, pick(w.known, ip, homeLoads, homeCap(i + 1, order.length, w.known.length))] as const);
    const live = new Set(w.live);
    const loads = new Map<string, number>();
    const out = new Map<string, string>();
    for (const [ip, home] of homes) {
      if (live.has(home)) {
        out.set(ip, home);
        loads.set(home, (loads.get(home) ?? 0) + 1);
      }
    }
    const cap = Math.ceil(order.length / w.live.length);
    for (const [ip, home] of homes) if (!live.has(home)) out.set(ip, pick(w.live, ip, loads, cap));
    return out;
  };
}
/** ferrolb now, modelled: homes by age under the two-level cap, displaced IPs likewise on the live nodes. Checked against planL2. */
const model: Rule = (w) => {
  const order = [...w.ips].sort(byAge);
  const homeLoads = new Map<string, number>();
  const homes = order.map(({ ip }) => [ip, pickRoom(w.known, ip, homeLoads, twoLevel(w.known, homeLoads, order.length))] as const);
  const live = new Set(w.live);
  const loads = new Map<string, number>();
  const out = new Map<string, string>();
  for (const [ip, home] of homes) {
    if (live.has(home)) {
      out.set(ip, home);
      loads.set(home, (loads.get(home) ?? 0) + 1);
    }
  }
  for (const [ip, home] of homes) if (!live.has(home)) out.set(ip, pickRoom(w.live, ip, loads, twoLevel(w.live, loads, order.length)));
  return out;
};
/** Alternative (ferrolb's rule before the two-level cap): homes by age, one home cap ceil(IPs / n) for all. */
const oneCap = withHomes((_i, m, n) => Math.ceil(m / n));
/** Alternative (ferrolb's previous rule): homes by age, cap ceil(i / n) for the i-th IP. */
const perPosition = withHomes((i, _m, n) => Math.ceil(i / n));
/** Alternative: cap ceil(i / n) by age, on the live nodes only (no homes). */
const prefixNoHomes: Rule = (w) => {
  const loads = new Map<string, number>();
  return new Map([...w.ips].sort(byAge).map(({ ip }, i) => [ip, pick(w.live, ip, loads, Math.ceil((i + 1) / w.live.length))]));
};

const POOL = (() => {
  const r = parseAddressEntry('10.0.0.0/8');
  if (isAddressEntryError(r)) throw new Error(r.reason);
  return r;
})();
const CONFIG: Config = {
  pools: [{ name: 'p', labels: {}, ranges: [POOL], autoAssign: true, avoidBuggyIPs: false }],
  l2Advertisements: [{ name: 'all', ipAddressPools: [], ipAddressPoolSelectors: [], nodeSelectors: [], interfaces: [], serviceSelectors: [] }],
  bgpAdvertisements: [],
  bgpPeers: [],
  bfdProfiles: [],
};
/** planL2 itself, on the world (checked against the model on every call). */
const ferrolb: Rule = (w) => {
  const placed = planL2World(w);
  assertSame(placed, model(w));
  return placed;
};
function planL2World(w: World): Placement {
  const services: L2ServiceView[] = w.ips.map(({ ip, createdAt }) => ({
    key: `ns/${ip}`,
    namespace: 'ns',
    labels: {},
    ips: [ip],
    externalTrafficPolicy: 'Cluster',
    endpoints: [{ ready: true, serving: true, terminating: false }],
    createdAt,
  }));
  const p = planL2({ config: CONFIG, services, nodes: w.known.map((name) => ({ name, labels: {}, networkUnavailable: false })), liveNodes: new Set(w.live) });
  return new Map(p.announcements.map((a) => [a.ip, a.node]));
}

// ---------------------------------------------------------------------------------
// Events

interface Moves {
  /** IPs that moved, other than those that had to (the event's own). */
  readonly others: number;
  /** IPs that moved because they had to (down node) or could (to a new node). */
  readonly own?: number;
  /** IPs not on MetalLB's node before the event (the bound on moves when the cap rises). */
  readonly offMetallb?: number;
  /** IPs before the event, when not the world's (the events that trim the world). */
  readonly ips?: number;
}
type Event = (rule: Rule, w: World, rnd: () => number) => Moves;

const countMoved = (before: Placement, after: Placement, skip: (ip: string, from: string, to: string) => boolean = () => false): number => {
  let n = 0;
  for (const [ip, from] of before) {
    const to = after.get(ip);
    if (to !== undefined && to !== from && !skip(ip, from, to)) n++;
  }
  return n;
};
const later = (w: World) => new Date(Date.parse('2025-01-01T00:00:00Z') + 1000 * (w.ips.length + 1)).toISOString().replace('.000Z', 'Z');

const EVENTS: Record<string, Event> = {
  'service added (newest)': (rule, w, rnd) => {
    let ip: string;
    do ip = randomIP(rnd);
    while (w.ips.some((x) => x.ip === ip));
    return { others: countMoved(rule(w), rule({ ...w, ips: [...w.ips, { ip, createdAt: later(w) }] })) };
  },
  'service added when IPs = k × nodes': (rule, w, rnd) => {
    // The IP count is a multiple of the node count: the next IP raises ceil(IPs / nodes).
    const kept = { ...w, ips: w.ips.slice(0, Math.max(1, Math.floor(w.ips.length / w.known.length)) * w.known.length) };
    const before = rule(kept);
    const first = metallb(kept);
    const offMetallb = [...before].filter(([ip, n]) => first.get(ip) !== n).length;
    return { ...EVENTS['service added (newest)']!(rule, kept, rnd), offMetallb, ips: kept.ips.length };
  },
  'service deleted (any)': (rule, w, rnd) => {
    const gone = Math.floor(rnd() * w.ips.length);
    return { others: countMoved(rule(w), rule({ ...w, ips: w.ips.filter((_, i) => i !== gone) })) };
  },
  'service deleted (newest)': (rule, w, rnd) => deleteByAge(rule, w, rnd, 1, 1),
  'service deleted when IPs = k × nodes + 1': (rule, w, rnd) => {
    // One IP past a multiple of the node count: deleting one lowers ceil(IPs / nodes).
    // (Worlds with exactly as many IPs as nodes get one newer IP.)
    const target = Math.max(1, Math.floor((w.ips.length - 1) / w.known.length)) * w.known.length + 1;
    const ips = w.ips.slice(0, target);
    while (ips.length < target) {
      const ip = randomIP(rnd);
      if (!ips.some((x) => x.ip === ip)) ips.push({ ip, createdAt: later({ ...w, ips }) });
    }
    const kept = { ...w, ips };
    return { ...EVENTS['service deleted (any)']!(rule, kept, rnd), ips: kept.ips.length };
  },
  'service deleted (newest tenth)': (rule, w, rnd) => deleteByAge(rule, w, rnd, 0.9, 1),
  'service deleted (oldest tenth)': (rule, w, rnd) => deleteByAge(rule, w, rnd, 0, 0.1),
  'node down (speaker stopped)': (rule, w, rnd) => {
    const down = w.live[Math.floor(rnd() * w.live.length)]!;
    const before = rule(w);
    const after = rule({ ...w, live: w.live.filter((n) => n !== down) });
    for (const [ip, from] of before) if (from === down && (after.get(ip) === down || after.get(ip) === undefined)) throw new Error(`${ip} stayed on ${down}`);
    return { others: countMoved(before, after, (_ip, from) => from === down), own: [...before.values()].filter((n) => n === down).length };
  },
  'node back (speaker restarted)': (rule, w, rnd) => {
    const back = w.live[Math.floor(rnd() * w.live.length)]!;
    const before = rule({ ...w, live: w.live.filter((n) => n !== back) });
    const after = rule(w);
    return { others: countMoved(before, after, (_ip, _from, to) => to === back), own: countMoved(before, after, (_ip, _from, to) => to !== back) };
  },
  'Node added to the cluster': (rule, w, rnd) => {
    const node = `node-new-${Math.floor(rnd() * 1e6)}`;
    const before = rule(w);
    const after = rule({ ...w, known: [...w.known, node], live: [...w.live, node] });
    return { others: countMoved(before, after, (_ip, _from, to) => to === node), own: countMoved(before, after, (_ip, _from, to) => to !== node) };
  },
  'Node removed from the cluster': (rule, w, rnd) => {
    const gone = w.known[Math.floor(rnd() * w.known.length)]!;
    const before = rule(w);
    const after = rule({ ...w, known: w.known.filter((n) => n !== gone), live: w.live.filter((n) => n !== gone) });
    return { others: countMoved(before, after, (_ip, from) => from === gone), own: [...before.values()].filter((n) => n === gone).length };
  },
};

/** Deletes a service whose age rank (0 = oldest) is in [from, to) of all (from = to = 1: the newest). */
function deleteByAge(rule: Rule, w: World, rnd: () => number, from: number, to: number): Moves {
  const byAgeRank = [...w.ips].sort(byAge);
  const lo = Math.min(byAgeRank.length - 1, Math.floor(from * byAgeRank.length));
  const hi = Math.max(lo + 1, Math.floor(to * byAgeRank.length));
  const gone = byAgeRank[Math.min(byAgeRank.length - 1, lo + Math.floor(rnd() * (hi - lo)))]!;
  return { others: countMoved(rule(w), rule({ ...w, ips: w.ips.filter((x) => x !== gone) })) };
}

// ---------------------------------------------------------------------------------
// Runs

function randomIP(rnd: () => number): string {
  return `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`;
}

function world(nodes: number, ips: number, rnd: () => number): World {
  H.clear();
  const names = Array.from({ length: nodes }, (_, i) => `node-${i}-${Math.floor(rnd() * 1e9).toString(36)}`);
  const set = new Set<string>();
  while (set.size < ips) set.add(randomIP(rnd));
  // Creation times: one per service, in a random order relative to the IPs.
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  const list = [...set].map((ip, i) => ({ ip, createdAt: new Date(t0 + 1000 * i).toISOString().replace('.000Z', 'Z') }));
  return { known: names, live: names, ips: list };
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface ChurnRow {
  readonly nodes: number;
  readonly ips: number;
  readonly event: string;
  readonly rule: string;
  readonly trials: number;
  readonly meanOthers: number;
  readonly maxOthers: number;
  readonly meanOwn?: number;
  /** Mean IPs not on MetalLB's node before the event (cap-rise event only). */
  readonly meanOffMetallb?: number;
  readonly meanIPs: number;
}

export function measure(nodes: number, ips: number, trials: number, rules: Record<string, Rule>, events = Object.keys(EVENTS), seed = 1): ChurnRow[] {
  const rows: ChurnRow[] = [];
  for (const event of events) {
    const rnd = lcg(seed + nodes * 7919 + ips);
    const acc = new Map<string, { others: number; max: number; own: number; off: number; ips: number }>();
    for (let t = 0; t < trials; t++) {
      const w = world(nodes, ips + Math.floor(rnd() * nodes), rnd);
      const eventSeed = Math.floor(rnd() * 2 ** 31);
      for (const [name, rule] of Object.entries(rules)) {
        const m = EVENTS[event]!(rule, w, lcg(eventSeed));
        const a = acc.get(name) ?? { others: 0, max: 0, own: 0, off: 0, ips: 0 };
        a.others += m.others;
        a.max = Math.max(a.max, m.others);
        a.own += m.own ?? 0;
        a.off += m.offMetallb ?? 0;
        a.ips += m.ips ?? w.ips.length;
        acc.set(name, a);
      }
    }
    for (const [rule, a] of acc) {
      rows.push({
        nodes,
        ips,
        event,
        rule,
        trials,
        meanOthers: a.others / trials,
        maxOthers: a.max,
        ...(event.startsWith('service') ? {} : { meanOwn: a.own / trials }),
        ...(event === 'service added when IPs = k × nodes' ? { meanOffMetallb: a.off / trials } : {}),
        meanIPs: a.ips / trials,
      });
    }
  }
  return rows;
}

function assertSame(a: Placement, b: Placement): void {
  for (const [ip, n] of a) if (b.get(ip) !== n) throw new Error(`planL2 and the model disagree on ${ip}: ${n} vs ${b.get(ip)}`);
  if (a.size !== b.size) throw new Error('planL2 and the model disagree on the IPs');
}

export const RULES = { ferrolb, oneCap, perPosition, metallb, previous, prefixNoHomes } as const;

if (import.meta.main) {
  const scale = Number(process.argv[2] ?? '1');
  const sizes: [nodes: number, ips: number, trials: number][] = [
    [3, 10, 400],
    [5, 20, 300],
    [20, 20, 200],
    [20, 200, 60],
    [50, 500, 20],
    [20, 1000, 20],
  ];
  const all: ChurnRow[] = [];
  for (const [n, m, trials] of sizes) {
    const started = performance.now();
    all.push(...measure(n, m, Math.max(2, Math.round(trials * scale)), RULES));
    console.error(`${n} nodes, ${m} IPs: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const row = (n: number, m: number, event: string, rule: string) => all.find((r) => r.nodes === n && r.ips === m && r.event === event && r.rule === rule)!;
  const share = (r: ChurnRow) => `${r.meanOthers.toFixed(1)} (${((100 * r.meanOthers) / r.meanIPs).toFixed(1)}%)`;
  console.log(`Other IPs moved per event: mean (share of all IPs); max in one trial after "/".\n`);
  console.log(`| event | rule | ${sizes.map(([n, m]) => `${n} nodes, ${m}–${m + n - 1} IPs`).join(' | ')} |`);
  console.log(`|---|---|${sizes.map(() => '---:').join('|')}|`);
  for (const event of Object.keys(EVENTS)) {
    const first = row(sizes[0]![0], sizes[0]![1], event, 'ferrolb');
    if (first.meanOwn !== undefined) {
      const own = sizes.map(([n, m]) => row(n, m, event, 'ferrolb').meanOwn!.toFixed(1));
      console.log(`| ${event} | (IPs of that node) | ${own.join(' | ')} |`);
    }
    for (const [rule, label] of [
      ['ferrolb', 'ferrolb'],
      ['oneCap', 'one cap'],
      ['perPosition', 'per-position'],
      ['metallb', 'MetalLB'],
    ] as const) {
      console.log(`| ${event} | ${label} | ${sizes.map(([n, m]) => `${share(row(n, m, event, rule))} / ${row(n, m, event, rule).maxOthers}`).join(' | ')} |`);
    }
    if (first.meanOffMetallb !== undefined) {
      const off = sizes.map(([n, m]) => {
        const r = row(n, m, event, 'ferrolb');
        return `${r.meanOffMetallb!.toFixed(1)} (${((100 * r.meanOffMetallb!) / r.meanIPs).toFixed(1)}%)`;
      });
      console.log(`| ${event} | (bound: IPs not on MetalLB's node) | ${off.join(' | ')} |`);
    }
  }
  const names = Object.keys(RULES);
  for (const [n, m] of [sizes[0]!, sizes[3]!]) {
    console.log(`\nAll rules, ${n} nodes, ${m}–${m + n - 1} IPs: other IPs moved, mean (share)\n`);
    console.log(`| event | ${names.join(' | ')} |`);
    console.log(`|---|${names.map(() => '---:').join('|')}|`);
    for (const event of Object.keys(EVENTS)) console.log(`| ${event} | ${names.map((rule) => share(row(n, m, event, rule))).join(' | ')} |`);
  }
}
