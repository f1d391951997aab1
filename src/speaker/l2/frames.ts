// The L2 speaker's codec entry point: one Ethernet II frame, as read from an AF_PACKET
// SOCK_RAW socket, in; one typed message out. The socket sees much unrelated traffic, so
// the common "not for us" answers are shared constant objects decided from a few bytes.
// Builders and helpers from arp.ts and ndp.ts are re-exported here so that the speaker
// imports one module; address text and bytes are src/net's.

import { parseARP, type ARPReply, type ARPRequest } from './arp.ts';
import { ETHERNET_HEADER_LENGTH, ETHERTYPE, MIN_ETHERTYPE, ignored, invalid, u16, type Ignored, type Invalid } from './ethernet.ts';
import { parseNDP, type NeighborAdvertisement, type NeighborSolicitation } from './ndp.ts';

export type L2Message = ARPRequest | ARPReply | NeighborSolicitation | NeighborAdvertisement | Ignored | Invalid;

export { arpReply, arpRequest, gratuitousARP, parseARP } from './arp.ts';
export type { ARPMessage, ARPReply, ARPReplyParams, ARPRequest, ARPRequestParams, GratuitousARPParams } from './arp.ts';
export {
  ALL_NODES,
  icmpv6Checksum,
  multicastMAC,
  neighborAdvertisement,
  neighborSolicitation,
  parseNDP,
  solicitedNodeMulticast,
  unsolicitedNeighborAdvertisement,
} from './ndp.ts';
export type {
  NDPMessage,
  NeighborAdvertisement,
  NeighborAdvertisementParams,
  NeighborSolicitation,
  NeighborSolicitationParams,
  UnsolicitedNeighborAdvertisementParams,
} from './ndp.ts';
export type { Ignored, Invalid } from './ethernet.ts';

// A tagged frame is not decoded: the speaker serves a VLAN through that VLAN's own
// interface (e.g. eth0.100), where the kernel has already removed the tag. 802.1ad and
// the pre-standard 0x9100 outer tags are treated the same way.
const IGNORED_VLAN: Ignored = Object.freeze(ignored('vlan'));
const IGNORED_8023: Ignored = Object.freeze(ignored('frame: IEEE 802.3 length field, not an Ethernet II ethertype'));
const IGNORED_ETHERTYPE: Ignored = Object.freeze(ignored('frame: ethertype is neither ARP nor IPv6'));
const VLAN_ETHERTYPES: ReadonlySet<number> = new Set([ETHERTYPE.vlan, ETHERTYPE.qinq, 0x9100]);

/**
 * Decodes one Ethernet II frame (destination, source, ethertype, payload; no FCS; maybe
 * padded to 60 bytes). Never throws: the input comes from the network.
 */
export function parseFrame(frame: Uint8Array): L2Message {
  try {
    return decode(frame);
  } catch (error) {
    // Unreachable by design (the property tests check it); here so that a bug in a
    // decoder costs one dropped frame, not the speaker.
    return invalid(`internal: decoder threw ${String(error)}`);
  }
}

function decode(frame: Uint8Array): L2Message {
  if (frame.length < ETHERNET_HEADER_LENGTH) {
    return invalid(`frame: ${frame.length} bytes, shorter than an Ethernet header`);
  }
  const ethertype = u16(frame, 12);
  switch (ethertype) {
    case ETHERTYPE.arp:
      return parseARP(frame);
    case ETHERTYPE.ipv6:
      return parseNDP(frame);
    default:
      if (VLAN_ETHERTYPES.has(ethertype)) return IGNORED_VLAN;
      return ethertype < MIN_ETHERTYPE ? IGNORED_8023 : IGNORED_ETHERTYPE;
  }
}
