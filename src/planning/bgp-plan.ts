// Which prefixes this node announces to which BGP peer (docs/COMPATIBILITY.md "Speaker, BGP
// mode", "BGPAdvertisement"). Pure: the same function for every node; each node
// computes only its own routes. Unlike L2 there is no election: every eligible node
// announces, and the routers spread traffic over them by ECMP.
import { advertisementSelectsPool, poolContains } from '../config/select.ts';
import { anySelectorMatches } from '../api/selector.ts';
import type { BGPAdvertisement, BGPPeer, Config, Pool } from '../config/model.ts';
import { formatIP, ipFromValue, parseIP, type IP } from '../net/ip.ts';
import { maskIP } from '../net/range.ts';
import { nodeExcluded, sameNodeView, type L2ServiceView, type NodeView } from '../api/cluster-view.ts';

export interface RouteAttributes {
  readonly localPref?: number;
  /** RFC 1997 values, sorted, unique. */
  readonly communities: readonly number[];
  readonly largeCommunities: readonly { readonly globalAdmin: number; readonly localData1: number; readonly localData2: number }[];
}

export interface PeerRoutes {
  readonly peer: BGPPeer;
  /** Prefix ("198.18.1.10/32") -> attributes. */
  readonly routes: ReadonlyMap<string, RouteAttributes>;
  /** Services behind each prefix, for status and events. */
  readonly services: ReadonlyMap<string, readonly string[]>;
}

export interface BGPPlanInput {
  readonly config: Config;
  readonly services: readonly L2ServiceView[];
  readonly node: NodeView;
}

/** The peers this node has sessions with: those whose nodeSelectors select it. */
export function peersOf(config: Config, node: NodeView): BGPPeer[] {
  return config.bgpPeers.filter((p) => p.nodeSelectors.length === 0 || anySelectorMatches(p.nodeSelectors, node.labels));
}


export function planBGP(input: BGPPlanInput): PeerRoutes[] {
  return new BGPPlanner().plan(input);
}

/** One (prefix, advertisement) a service's IP gives this node: the advertisement by its index in config.bgpAdvertisements. */
interface Contribution {
  readonly prefix: string;
  readonly ad: number;
}

/**
 * planBGP with memory: while the configuration (the same object) and the node (an
 * equal view) are the same, it keeps what each service view contributes (its IPs
 * parsed, their pools and advertisements, the aggregated prefixes), and the attributes
 * of each set of advertisements merged on one prefix. A plan is then one pass over the
 * services' contributions. Its plans are planBGP's (bgp-plan.test.ts, "BGPPlanner",
 * against a direct model of the rules). The speaker keeps one.
 */
export class BGPPlanner {
  #config: Config | undefined;
  #node: NodeView | undefined;
  #views = new Map<L2ServiceView, readonly Contribution[]>();
  #attributes = new Map<string, RouteAttributes>();

  plan(input: BGPPlanInput): PeerRoutes[] {
    const { config, node } = input;
    if (config !== this.#config || this.#node === undefined || !sameNodeView(node, this.#node)) {
      this.#config = config;
      this.#node = node;
      this.#views = new Map();
      this.#attributes = new Map();
    }
    const peers = peersOf(config, node);
    const out = new Map(peers.map((p) => [p.name, { peer: p, routes: new Map<string, RouteAttributes>(), services: new Map<string, string[]>() }]));
    // NetworkUnavailable: the node cannot forward, so there is nothing to drain either.
    if (peers.length === 0 || node.networkUnavailable || nodeExcluded(node)) return [...out.values()];
    // Per peer, the advertisements behind each prefix (indices, in the order first seen).
    const adsOf = new Map(peers.map((p) => [p.name, new Map<string, number[]>()]));
    const before = this.#views;
    const views = new Map<L2ServiceView, readonly Contribution[]>();
    for (const svc of [...input.services].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
      let contributions = views.get(svc);
      if (contributions === undefined) views.set(svc, (contributions = before.get(svc) ?? contribute(svc, config, node)));
      for (const { prefix, ad } of contributions) {
        const only = config.bgpAdvertisements[ad]!.peers;
        for (const peer of peers) {
          if (only.length > 0 && !only.includes(peer.name)) continue;
          const ads = adsOf.get(peer.name)!;
          const list = ads.get(prefix);
          if (list === undefined) ads.set(prefix, [ad]);
          else if (!list.includes(ad)) list.push(ad);
          const entry = out.get(peer.name)!;
          const keys = entry.services.get(prefix);
          if (keys === undefined) entry.services.set(prefix, [svc.key]);
          else if (!keys.includes(svc.key)) keys.push(svc.key);
        }
      }
    }
    this.#views = views;
    for (const [name, ads] of adsOf) {
      const routes = out.get(name)!.routes;
      for (const [prefix, list] of ads) routes.set(prefix, this.#attributesOf(config, list));
    }
    return [...out.values()];
  }

  /** The attributes of a set of advertisements on one prefix, once per set. */
  #attributesOf(config: Config, ads: readonly number[]): RouteAttributes {
    const key = ads.length === 1 ? String(ads[0]) : [...ads].sort((a, b) => a - b).join(',');
    let attrs = this.#attributes.get(key);
    if (attrs === undefined) this.#attributes.set(key, (attrs = ads.reduce<RouteAttributes | undefined>((prev, i) => merge(prev, config.bgpAdvertisements[i]!), undefined)!));
    return attrs;
  }
}

/**
 * What one service gives this node (docs/COMPATIBILITY.md "Speaker, BGP mode"): for each
 * IP in a pool, each advertisement of that pool whose service and node selectors match,
 * with the IP's prefix at its aggregation length; nothing without a usable endpoint, or
 * under Local policy without one on this node.
 */
function contribute(svc: L2ServiceView, config: Config, node: NodeView): Contribution[] {
  const usable = svc.endpoints.filter((e) => e.ready || e.serving);
  // No ready endpoint anywhere: withdraw (docs/COMPATIBILITY.md "Speaker, BGP mode").
  if (usable.length === 0) return [];
  // Local policy: only nodes holding a ready endpoint announce, so routers never send
  // traffic to a node that would have to forward it (and lose the client's address).
  if (svc.externalTrafficPolicy === 'Local' && !usable.some((e) => e.nodeName === node.name)) return [];
  const out: Contribution[] = [];
  for (const text of svc.ips) {
    const ip = parseIP(text);
    if (!ip) continue;
    const pool = config.pools.find((p) => poolContains(p, ip));
    if (!pool) continue;
    config.bgpAdvertisements.forEach((ad, i) => {
      if (!advertisementSelectsPool(ad, pool)) return;
      if (ad.serviceSelectors.length > 0 && !anySelectorMatches(ad.serviceSelectors, svc.labels)) return;
      if (ad.nodeSelectors.length > 0 && !anySelectorMatches(ad.nodeSelectors, node.labels)) return;
      out.push({ prefix: aggregate(ip, ip.family === 'IPv4' ? ad.aggregationLength : ad.aggregationLengthV6), ad: i });
    });
  }
  return out;
}


/** The IP's prefix at the advertisement's aggregation length (MetalLB's aggregationLength). */
function aggregate(ip: IP, length: number): string {
  const masked = maskIP(ip, length);
  return `${formatIP(ipFromValue(ip.family, masked.network))}/${length}`;
}

/**
 * Several advertisements announcing one prefix to one peer: communities are the union
 * (each advertisement asked for its own). LOCAL_PREF: validation refuses two that would
 * give one prefix different values (src/config/RULES.md), so they agree; taking the
 * highest keeps the result independent of order in any case.
 */
function merge(prev: RouteAttributes | undefined, ad: BGPAdvertisement): RouteAttributes {
  const communities = new Set(prev?.communities ?? []);
  const large = new Map((prev?.largeCommunities ?? []).map((c) => [`${c.globalAdmin}:${c.localData1}:${c.localData2}`, c]));
  for (const c of ad.communities) {
    if (c.kind === 'standard') communities.add(c.value);
    else large.set(`${c.globalAdmin}:${c.localData1}:${c.localData2}`, { globalAdmin: c.globalAdmin, localData1: c.localData1, localData2: c.localData2 });
  }
  const localPref = ad.localPref === undefined ? prev?.localPref : Math.max(ad.localPref, prev?.localPref ?? 0);
  return {
    ...(localPref !== undefined ? { localPref } : {}),
    communities: [...communities].sort((a, b) => a - b),
    largeCommunities: [...large.keys()].sort().map((k) => large.get(k)!),
  };
}


