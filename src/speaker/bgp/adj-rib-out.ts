// The Adj-RIB-Out of one session (RFC 4271 3.2): what the peer has from us, and the
// UPDATEs that bring it to what the plan wants. Pure: the session driver keeps the map
// and sends the messages; the next hop, which depends on the connection's local address
// and the node's interfaces, comes in as a lookup.
import type { RouteAttributes } from '../../planning/bgp-plan.ts';
import { updatesFor } from './encode.ts';
import type { AFI_SAFI, PathAttributes, UpdateMessage } from './messages.ts';

/** What the peer has from us: prefix -> attributeKey of what it was sent with. */
export type AdjRIBOut = ReadonlyMap<string, string>;

export interface RIBOutChange {
  /** In order: withdrawals (IPv4, then IPv6), then announcements grouped by attributes. */
  readonly updates: readonly UpdateMessage[];
  /** The Adj-RIB-Out once they are sent. */
  readonly ribOut: AdjRIBOut;
  /** Prefixes left out because this session has no next hop of their family. */
  readonly noNextHop: readonly { readonly family: AFI_SAFI; readonly prefixes: number }[];
}

export interface SessionEnds {
  /** The ASN we present (localASN, else myASN) and the peer's, from its OPEN. */
  readonly myAS: number;
  readonly peerAS: number;
  readonly nextHop: (family: AFI_SAFI) => string | undefined;
}

/** Announces what is new or changed and withdraws what is gone (RFC 4271 9.2). */
export function ribOutChange(ribOut: AdjRIBOut, wanted: ReadonlyMap<string, RouteAttributes>, ends: SessionEnds): RIBOutChange {
  const next = new Map(ribOut);
  const updates: UpdateMessage[] = [];
  const noNextHop: { family: AFI_SAFI; prefixes: number }[] = [];
  const withdraw: Record<AFI_SAFI, string[]> = { 'ipv4-unicast': [], 'ipv6-unicast': [] };
  for (const prefix of ribOut.keys()) if (!wanted.has(prefix)) withdraw[familyOf(prefix)].push(prefix);
  const announce = new Map<string, { family: AFI_SAFI; attributes: RouteAttributes; key: string; prefixes: string[] }>();
  for (const [prefix, attributes] of wanted) {
    const key = attributeKey(attributes);
    if (ribOut.get(prefix) === key) continue;
    const family = familyOf(prefix);
    const group = `${family} ${key}`;
    const entry = announce.get(group) ?? { family, attributes, key, prefixes: [] };
    entry.prefixes.push(prefix);
    announce.set(group, entry);
  }
  // RFC 4271 4.3: an UPDATE is at most 4096 bytes; updatesFor splits as needed.
  for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
    updates.push(...updatesFor(withdraw[family], 'withdraw', family));
    for (const p of withdraw[family]) next.delete(p);
  }
  for (const { family, attributes, key, prefixes } of announce.values()) {
    const nextHop = ends.nextHop(family);
    if (!nextHop) {
      noNextHop.push({ family, prefixes: prefixes.length });
      continue;
    }
    const attrs = pathAttributes(attributes, ends.myAS, ends.peerAS);
    const withNextHop: PathAttributes = family === 'ipv4-unicast' ? { ...attrs, nextHop } : { ...attrs, mpReach: { family, nextHops: [nextHop], prefixes: [] } };
    updates.push(...updatesFor(prefixes, withNextHop, family));
    for (const p of prefixes) next.set(p, key);
  }
  return { updates, ribOut: next, noNextHop };
}

/** docs/COMPATIBILITY.md "Speaker, BGP mode": ORIGIN IGP; AS_PATH empty for iBGP, [myASN] for eBGP; LOCAL_PREF for iBGP only (RFC 4271 5.1.5). */
function pathAttributes(r: RouteAttributes, myAS: number, peerAS: number): PathAttributes {
  const internal = peerAS === myAS;
  return {
    origin: 'igp',
    asPath: internal ? [] : [{ type: 'sequence', asns: [myAS] }],
    ...(internal ? { localPref: r.localPref ?? 100 } : {}),
    ...(r.communities.length > 0 ? { communities: r.communities } : {}),
    ...(r.largeCommunities.length > 0 ? { largeCommunities: r.largeCommunities } : {}),
  };
}

function familyOf(prefix: string): AFI_SAFI {
  return prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}

function attributeKey(r: RouteAttributes): string {
  return JSON.stringify([r.localPref ?? null, r.communities, r.largeCommunities.map((c) => [c.globalAdmin, c.localData1, c.localData2])]);
}
