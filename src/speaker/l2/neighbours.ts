// When a link regains its carrier, the kernel's neighbour entries for the peers on it
// are left incomplete or failed from the time it had none: the heartbeats queued for
// them wait for the next ARP retry, up to a second away (retrans_time), and the peers,
// whose entries for this node failed the same way, wait for theirs. Measured in the lab
// (bench:l2-partitions, link-flapping): the peers heard this node again 0.7-0.9 s after
// it heard them. One ARP request to each peer, from this node's own address on the link,
// settles both sides at once: the peer's reply, unicast to this node, makes the entry
// here REACHABLE, and the request itself gives the peer an entry for this node (Linux
// updates and creates entries from the sender fields of requests to it; RFC 826's
// "merge" step). IPv4 only: an IPv6 peer resolves through neighbour discovery, whose
// solicitations the kernel sends itself.
import { arpRequest } from './arp.ts';
import { parseIP } from '../../net/ip.ts';
import { sameSubnet } from '../../net/range.ts';

export interface InterfaceAddress {
  readonly address: string;
  /** Prefix length. */
  readonly prefix: number;
}

/**
 * The ARP requests to send on a link whose carrier came back: one per peer address on
 * the subnet of one of the link's IPv4 addresses, asked from that address. None when the
 * link has no IPv4 address or no peer is on it. Pure.
 */
export function neighbourRequests(linkMAC: string, linkAddresses: readonly InterfaceAddress[], peerAddresses: readonly string[]): Buffer[] {
  const ours = linkAddresses.flatMap((a) => {
    const ip = parseIP(a.address);
    return ip?.family === 'IPv4' ? [{ text: a.address, ip, prefix: a.prefix }] : [];
  });
  const frames: Buffer[] = [];
  const asked = new Set<string>();
  for (const peer of peerAddresses) {
    const p = parseIP(peer);
    if (p?.family !== 'IPv4' || asked.has(peer)) continue;
    const from = ours.find((o) => o.ip.value !== p.value && sameSubnet(o.ip, p, o.prefix));
    if (!from) continue;
    asked.add(peer);
    frames.push(arpRequest({ srcMAC: linkMAC, senderIP: from.text, targetIP: peer }));
  }
  return frames;
}
