// Which prefixes this node announces to which BGP peer (docs/COMPATIBILITY.md "Speaker, BGP
// mode", "BGPAdvertisement"). Pure: the same function for every node; each node
// computes only its own routes. Unlike L2 there is no election: every eligible node
// announces, and the routers spread traffic over them by ECMP.
import { advertisementSelectsPool, poolContains } from '../config/select.ts';
import { anySelectorMatches } from '../api/selector.ts';
import type { BGPAdvertisement, BGPPeer, Config, Pool } from '../config/model.ts';
import { formatIP, ipFromValue, parseIP, type IP } from '../net/ip.ts';
import { maskIP } from '../net/range.ts';
import { nodeExcluded, type L2ServiceView, type NodeView } from '../api/cluster-view.ts';

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
  const { config, node } = input;
  const peers = peersOf(config, node);
  const out = new Map(peers.map((p) => [p.name, { peer: p, routes: new Map<string, RouteAttributes>(), services: new Map<string, string[]>() }]));
  // NetworkUnavailable: the node cannot forward, so there is nothing to drain either.
  if (peers.length === 0 || node.networkUnavailable || nodeExcluded(node)) return [...out.values()];
  for (const svc of [...input.services].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const usable = svc.endpoints.filter((e) => e.ready || e.serving);
    // No ready endpoint anywhere: withdraw (docs/COMPATIBILITY.md "Speaker, BGP mode").
    if (usable.length === 0) continue;
    // Local policy: only nodes holding a ready endpoint announce, so routers never send
    // traffic to a node that would have to forward it (and lose the client's address).
    if (svc.externalTrafficPolicy === 'Local' && !usable.some((e) => e.nodeName === node.name)) continue;
    for (const text of svc.ips) {
      const ip = parseIP(text);
      if (!ip) continue;
      const pool = config.pools.find((p) => poolContains(p, ip));
      if (!pool) continue;
      for (const ad of config.bgpAdvertisements) {
        if (!advertisementSelectsPool(ad, pool)) continue;
        if (ad.serviceSelectors.length > 0 && !anySelectorMatches(ad.serviceSelectors, svc.labels)) continue;
        if (ad.nodeSelectors.length > 0 && !anySelectorMatches(ad.nodeSelectors, node.labels)) continue;
        const prefix = aggregate(ip, ip.family === 'IPv4' ? ad.aggregationLength : ad.aggregationLengthV6);
        for (const peer of peers) {
          if (ad.peers.length > 0 && !ad.peers.includes(peer.name)) continue;
          const entry = out.get(peer.name)!;
          entry.routes.set(prefix, merge(entry.routes.get(prefix), ad));
          const list = entry.services.get(prefix) ?? [];
          if (!list.includes(svc.key)) list.push(svc.key);
          entry.services.set(prefix, list);
        }
      }
    }
  }
  return [...out.values()];
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


