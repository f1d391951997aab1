// L2Advertisement and BGPAdvertisement objects (docs/COMPATIBILITY.md "L2Advertisement",
// "BGPAdvertisement"): the pools each one covers, its selectors, and for BGP the
// aggregation lengths, communities, peers and the localPref conflicts between them.
import type { FieldPath } from '../api/schema.ts';
import { selectorMatches, type LabelSelector } from '../api/selector.ts';
import type { Family } from '../net/ip.ts';
import { rangeToCidrs, type AddressRange } from '../net/range.ts';
import type { BGPAdvertisement, BGPCommunity, L2Advertisement, Pool, PreferredNodeSelector } from './model.ts';
import type { CommunityAliases } from './build-communities.ts';
import { nameList, selectorList, type Entry, type ErrorCollector } from './collector.ts';
import { formatCommunity, parseCommunity } from './community.ts';
import { checkInterfaceName, checkSelector, nodesDisjoint, type SelectorProblem } from './names.ts';
import { asInteger, asRecord } from './raw.ts';

export interface AdvertisementContext {
  readonly lbNamespace: string;
  readonly pools: readonly Pool[];
  readonly poolByName: ReadonlyMap<string, Pool>;
}

/** A BGPAdvertisement with what the cross-kind checks need: its object and its pools. */
export interface BGPAdvertisementFacts {
  readonly entry: Entry;
  readonly advertisement: BGPAdvertisement;
  readonly pools: readonly Pool[];
}

export function buildL2Advertisements(c: ErrorCollector, entries: readonly Entry[], ctx: AdvertisementContext): L2Advertisement[] {
  const l2Advertisements: L2Advertisement[] = [];
  for (const e of entries) {
    c.guard(e, () => {
      const s = e.spec;
      const selected = selectPools(c, e, ctx);
      l2Advertisements.push({
        name: e.name,
        ipAddressPools: selected.names,
        ipAddressPoolSelectors: selected.selectors,
        nodeSelectors: selectorList(c, e, ['spec', 'nodeSelectors'], s.nodeSelectors),
        interfaces: nameList(c, e, ['spec', 'interfaces'], s.interfaces).map((n) => {
          const problem = checkInterfaceName(n.name);
          if (problem) c.fail(e, ['spec', 'interfaces', n.index], 'EINTERFACE', problem);
          return n.name;
        }),
        serviceSelectors: selectorList(c, e, ['spec', 'serviceSelectors'], s.serviceSelectors),
        preferredNodeSelectors: preferredNodeSelectors(c, e, s.preferredNodeSelectors),
      });
    });
  }
  return l2Advertisements;
}

export function buildBGPAdvertisements(
  c: ErrorCollector,
  entries: readonly Entry[],
  ctx: AdvertisementContext & { readonly aliases: CommunityAliases; readonly peerNames: ReadonlySet<string> },
): BGPAdvertisementFacts[] {
  const bgpFacts: BGPAdvertisementFacts[] = [];
  // The shortest prefix of an entry's CIDR cover, computed once per entry (many
  // advertisements may select one pool).
  const shortestPrefixes = new Map<AddressRange, number>();
  const shortestPrefix = (range: AddressRange): number => {
    let prefix = shortestPrefixes.get(range);
    if (prefix === undefined) {
      prefix = Math.min(...rangeToCidrs(range).map((c) => c.prefix));
      shortestPrefixes.set(range, prefix);
    }
    return prefix;
  };
  for (const e of entries) {
    c.guard(e, () => {
      const s = e.spec;
      const aggregationLength = asInteger(s.aggregationLength) ?? 32;
      const aggregationLengthV6 = asInteger(s.aggregationLengthV6) ?? 128;
      const selected = selectPools(c, e, ctx);
      // MetalLB: the announced prefix (service IP masked to the aggregation length) may
      // not be shorter than the shortest prefix of an entry's CIDR cover, or it would
      // announce addresses outside the pool.
      for (const pool of selected.pools) {
        for (const range of pool.ranges) {
          const length = range.family === 'IPv4' ? aggregationLength : aggregationLengthV6;
          const field = range.family === 'IPv4' ? 'aggregationLength' : 'aggregationLengthV6';
          if (length < 1 || length > (range.family === 'IPv4' ? 32 : 128)) continue; // the schema reported it
          const shortest = shortestPrefix(range);
          if (length < shortest) {
            c.fail(
              e,
              ['spec', field],
              'EAGGREGATION',
              `${field} ${length} is shorter than the prefix /${shortest} of "${range.text}" in IPAddressPool ${pool.name}: ` +
                `a /${length} would announce addresses outside the pool`,
            );
          }
        }
      }
      const communities: BGPCommunity[] = [];
      const seenCommunities = new Map<string, number>();
      nameList(c, e, ['spec', 'communities'], s.communities).forEach(({ name: text, index }) => {
        const path = ['spec', 'communities', index];
        const alias = ctx.aliases.get(text);
        let community: BGPCommunity;
        if (alias) community = alias.community;
        else {
          const parsed = parseCommunity(text);
          if ('reason' in parsed) {
            // MetalLB's rule: a name without ':' can only be a Community alias, which
            // may be created later; with ':' it is a value, wrong in itself.
            if (!text.includes(':')) {
              c.warn(e, path, 'EREFERENCE', `no Community alias named "${text}" in ${ctx.lbNamespace}: this advertisement does not take part until it exists`);
              c.dormant.add(e);
            } else c.fail(e, path, 'ECOMMUNITY', parsed.reason);
            return;
          }
          community = parsed.community;
        }
        const key = formatCommunity(community);
        const earlier = seenCommunities.get(key);
        if (earlier !== undefined) {
          c.fail(e, path, 'EDUPLICATEENTRY', `community ${key} is listed twice (also spec.communities[${earlier}])`);
          return;
        }
        seenCommunities.set(key, index);
        communities.push(community);
      });
      const peerNames = nameList(c, e, ['spec', 'peers'], s.peers);
      for (const p of peerNames) {
        if (!ctx.peerNames.has(p.name)) {
          c.warn(e, ['spec', 'peers', p.index], 'EREFERENCE', `no BGPPeer named "${p.name}" in ${ctx.lbNamespace}: nothing is announced to it until it exists`);
        }
      }
      const localPref = asInteger(s.localPref);
      const advertisement: BGPAdvertisement = {
        name: e.name,
        aggregationLength,
        aggregationLengthV6,
        ...(localPref !== undefined ? { localPref } : {}),
        communities,
        ipAddressPools: selected.names,
        ipAddressPoolSelectors: selected.selectors,
        nodeSelectors: selectorList(c, e, ['spec', 'nodeSelectors'], s.nodeSelectors),
        peers: peerNames.map((p) => p.name),
        serviceSelectors: selectorList(c, e, ['spec', 'serviceSelectors'], s.serviceSelectors),
      };
      bgpFacts.push({ entry: e, advertisement, pools: selected.pools });
    });
  }
  return bgpFacts;
}

/**
 * localPref conflicts. Two advertisements of one pool with different localPref (unset = 0, as MetalLB sends
 * it) would announce one prefix with two LOCAL_PREFs, unless they cannot announce the
 * same prefix over the same session. ferrolb's rule, decided from configuration alone:
 *   - aggregation lengths disjoint: for every family present in the pool, the two
 *     advertisements use different lengths (so the prefixes differ);
 *   - peers disjoint: both list peers and no peer is in both lists;
 *   - nodes disjoint: both have nodeSelectors and no selector of one is identical
 *     (same requirements) to a selector of the other. Selectors that differ may still
 *     both match some node; that case is accepted, as the nodes are not known here.
 */
export function checkLocalPrefConflicts(c: ErrorCollector, pools: readonly Pool[], bgpFacts: readonly BGPAdvertisementFacts[]): void {
  const reported = new Set<string>();
  const advertisementsOf = new Map<Pool, BGPAdvertisementFacts[]>();
  for (const f of bgpFacts) for (const p of f.pools) advertisementsOf.set(p, [...(advertisementsOf.get(p) ?? []), f]);
  for (const pool of pools) {
    const using = advertisementsOf.get(pool) ?? [];
    const families = new Set<Family>(pool.ranges.map((r) => r.family));
    for (let j = 0; j < using.length; j++) {
      for (let i = 0; i < j; i++) {
        const a = using[i]!;
        const b = using[j]!;
        const prefA = a.advertisement.localPref ?? 0;
        const prefB = b.advertisement.localPref ?? 0;
        if (prefA === prefB) continue;
        const pairKey = `${a.entry.name}\u0000${b.entry.name}`;
        if (reported.has(pairKey)) continue;
        if (localPrefSeparated(a.advertisement, b.advertisement, families)) continue;
        reported.add(pairKey);
        c.fail(
          b.entry,
          ['spec', 'localPref'],
          'ELOCALPREF',
          `localPref ${prefB} conflicts with localPref ${prefA} of BGPAdvertisement ${a.entry.name} for IPAddressPool ${pool.name}: ` +
            `both would announce the same prefixes to the same peers from the same nodes ` +
            `(make their aggregation lengths, peers or nodeSelectors disjoint)`,
        );
      }
    }
  }
}

function localPrefSeparated(a: BGPAdvertisement, b: BGPAdvertisement, families: ReadonlySet<Family>): boolean {
  const lengthsDiffer = [...families].every((f) =>
    f === 'IPv4' ? a.aggregationLength !== b.aggregationLength : a.aggregationLengthV6 !== b.aggregationLengthV6,
  );
  if (families.size > 0 && lengthsDiffer) return true;
  if (a.peers.length > 0 && b.peers.length > 0 && !a.peers.some((p) => b.peers.includes(p))) return true;
  return nodesDisjoint(a.nodeSelectors, b.nodeSelectors);
}

/** Pools an advertisement names or selects; naming none and selecting none = every pool. */
function selectPools(c: ErrorCollector, e: Entry, { lbNamespace, pools, poolByName }: AdvertisementContext): { pools: Pool[]; names: string[]; selectors: LabelSelector[] } {
  const names = nameList(c, e, ['spec', 'ipAddressPools'], e.spec.ipAddressPools);
  for (const n of names) {
    if (!poolByName.has(n.name)) {
      c.warn(e, ['spec', 'ipAddressPools', n.index], 'EREFERENCE', `no IPAddressPool named "${n.name}" in ${lbNamespace}: its addresses are announced once it exists`);
    }
  }
  const selectors = selectorList(c, e, ['spec', 'ipAddressPoolSelectors'], e.spec.ipAddressPoolSelectors);
  const rawSelectors = Array.isArray(e.spec.ipAddressPoolSelectors) ? e.spec.ipAddressPoolSelectors : [];
  const everyPool = names.length === 0 && rawSelectors.length === 0;
  const chosen = pools.filter(
    (p) => everyPool || names.some((n) => n.name === p.name) || selectors.some((s) => selectorMatches(s, p.labels)),
  );
  return { pools: chosen, names: names.map((n) => n.name), selectors };
}

/**
 * MetalLB main's L2Advertisement.preferredNodeSelectors: weights 1..100 (the schema's
 * range), each preference a label selector over nodes.
 */
function preferredNodeSelectors(c: ErrorCollector, e: Entry, raw: unknown): PreferredNodeSelector[] {
  if (!Array.isArray(raw)) return [];
  const out: PreferredNodeSelector[] = [];
  raw.forEach((item, i) => {
    const term = asRecord(item);
    const weight = asInteger(term?.weight);
    if (!term || weight === undefined || weight < 1 || weight > 100) return; // the schema reported it
    const problems: SelectorProblem[] = [];
    const preference = checkSelector(term.preference ?? {}, ['spec', 'preferredNodeSelectors', i, 'preference'], problems);
    for (const p of problems) c.fail(e, p.path, 'ESELECTOR', p.message);
    if (preference) out.push({ weight, preference });
  });
  return out;
}
