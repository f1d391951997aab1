// ARP (RFC 826) for Ethernet and IPv4 only: decoding the requests the speaker answers and
// the replies that reveal a conflict, and building replies, announcements (RFC 5227 §3)
// and probes (RFC 5227 §2.1.1).

import { ETHERNET_HEADER_LENGTH, ETHERTYPE, allocFrame, ignored, invalid, u16, type Ignored, type Invalid } from './ethernet.ts';
import { formatIPv4, requireIPv4 } from '../../net/ip.ts';
import { formatMAC, requireMAC, type MAC } from '../../net/mac.ts';

export interface ARPRequest {
  readonly type: 'arp-request';
  /** Ethernet source of the frame. */
  readonly srcMAC: MAC;
  readonly senderMAC: MAC;
  readonly senderIP: string;
  readonly targetIP: string;
  /**
   * An announcement (senderIP === targetIP, RFC 5227 §3) or a probe (senderIP 0.0.0.0,
   * RFC 5227 §2.1.1). Neither asks the usual question "who has targetIP, tell senderIP",
   * but a probe still needs an answer from the owner of targetIP: probing is how a host
   * detects that an address is taken before it uses it, and silence means "free".
   * An announcement for an address we own, from another MAC, is a conflict.
   */
  readonly gratuitous: boolean;
}

export interface ARPReply {
  readonly type: 'arp-reply';
  readonly srcMAC: MAC;
  readonly senderMAC: MAC;
  readonly senderIP: string;
  readonly targetMAC: MAC;
  readonly targetIP: string;
}

export type ARPMessage = ARPRequest | ARPReply;

/** RFC 826 ar$hrd for Ethernet, ar$op values. */
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_OP = { request: 1, reply: 2 } as const;

// Field offsets from the start of the Ethernet frame (RFC 826 "Packet format", with
// hln 6 and pln 4: the only sizes this codec accepts).
const HTYPE = ETHERNET_HEADER_LENGTH;
const PTYPE = HTYPE + 2;
const HLEN = PTYPE + 2;
const PLEN = HLEN + 1;
const OP = PLEN + 1;
const SHA = OP + 2;
const SPA = SHA + 6;
const THA = SPA + 4;
const TPA = THA + 6;
const FIXED_HEADER_LENGTH = SHA - HTYPE; // 8: the part whose length does not depend on hln/pln
export const ARP_PACKET_LENGTH = TPA + 4 - HTYPE; // 28

/**
 * Decodes the ARP packet in an Ethernet frame whose ethertype is ARP. Trailing bytes
 * past the 28 of the packet are Ethernet padding and are not looked at.
 */
export function parseARP(frame: Uint8Array): ARPMessage | Ignored | Invalid {
  const length = frame.length - ETHERNET_HEADER_LENGTH;
  if (length < FIXED_HEADER_LENGTH) return invalid(`ARP: ${length} bytes, shorter than the ${FIXED_HEADER_LENGTH}-byte fixed header`);
  // Other hardware or protocol types are legal ARP that is not ours to answer.
  const htype = u16(frame, HTYPE);
  if (htype !== ARP_HTYPE_ETHERNET) return ignored(`ARP: hardware type ${htype}, not Ethernet (1)`);
  const ptype = u16(frame, PTYPE);
  if (ptype !== ETHERTYPE.ipv4) return ignored(`ARP: protocol type 0x${ptype.toString(16).padStart(4, '0')}, not IPv4`);
  // Ethernet/IPv4 with other address sizes is simply broken.
  const hlen = frame[HLEN]!;
  if (hlen !== 6) return invalid(`ARP: hlen ${hlen}, expected 6`);
  const plen = frame[PLEN]!;
  if (plen !== 4) return invalid(`ARP: plen ${plen}, expected 4`);
  if (length < ARP_PACKET_LENGTH) return invalid(`ARP: ${length} bytes, shorter than the ${ARP_PACKET_LENGTH} of an Ethernet/IPv4 packet`);

  const op = u16(frame, OP);
  if (op === ARP_OP.request) {
    const senderIP = formatIPv4(frame, SPA);
    const targetIP = formatIPv4(frame, TPA);
    return {
      type: 'arp-request',
      srcMAC: formatMAC(frame, 6),
      senderMAC: formatMAC(frame, SHA),
      senderIP,
      targetIP,
      gratuitous: senderIP === targetIP || senderIP === '0.0.0.0',
    };
  }
  if (op === ARP_OP.reply) {
    return {
      type: 'arp-reply',
      srcMAC: formatMAC(frame, 6),
      senderMAC: formatMAC(frame, SHA),
      senderIP: formatIPv4(frame, SPA),
      targetMAC: formatMAC(frame, THA),
      targetIP: formatIPv4(frame, TPA),
    };
  }
  // RARP (3/4) and InARP (8/9) share the format but are not address resolution.
  return ignored(`ARP: op ${op}, neither request (1) nor reply (2)`);
}

export interface ARPReplyParams {
  /** Our MAC: the answer. */
  readonly srcMAC: MAC;
  /** The address asked about, which we announce. */
  readonly ip: string;
  /** The requester's sender hardware address (not necessarily its Ethernet source). */
  readonly toMAC: MAC;
  /** The requester's sender protocol address; 0.0.0.0 when answering a probe. */
  readonly toIP: string;
}

/**
 * The answer to a request (RFC 826 "Packet Reception": swap sender and target, fill in
 * our hardware address, op reply), sent unicast to the requester's sender hardware
 * address. Answering a probe this way is what RFC 5227 §2.1.1 expects from the owner.
 */
export function arpReply({ srcMAC, ip, toMAC, toIP }: ARPReplyParams): Buffer {
  const ours = requireMAC(srcMAC, 'arpReply srcMAC');
  const theirs = requireMAC(toMAC, 'arpReply toMAC');
  return arpFrame(theirs, ours, ARP_OP.reply, ours, requireIPv4(ip, 'arpReply ip'), theirs, requireIPv4(toIP, 'arpReply toIP'));
}

export interface GratuitousARPParams {
  readonly srcMAC: MAC;
  readonly ip: string;
  readonly op: 'request' | 'reply';
}

/**
 * An unsolicited broadcast that makes every host on the link update its cache entry for
 * `ip` to `srcMAC`: sent when we take an address over, e.g. after a failover. Sender and
 * target protocol address are both `ip`. A request follows RFC 5227 §3 (an "ARP
 * Announcement", target hardware address zero); a reply is the older form, with the
 * target hardware address = `srcMAC` (RFC 2002 §4.6). That detail matters to Linux: its
 * arp_is_garp() counts a reply as gratuitous only when target and sender hardware
 * addresses match, and only a gratuitous packet overrides a cache entry younger than
 * locktime (1 s), which is exactly the case right after a failover.
 */
export function gratuitousARP({ srcMAC, ip, op }: GratuitousARPParams): Buffer {
  const ours = requireMAC(srcMAC, 'gratuitousARP srcMAC');
  const address = requireIPv4(ip, 'gratuitousARP ip');
  const targetMAC = op === 'request' ? Buffer.alloc(6) : ours;
  return arpFrame(broadcast(), ours, ARP_OP[op], ours, address, targetMAC, address);
}

export interface ARPRequestParams {
  readonly srcMAC: MAC;
  /** Our address, or 0.0.0.0 for an RFC 5227 probe that must not disturb caches. */
  readonly senderIP: string;
  readonly targetIP: string;
}

/**
 * A broadcast "who has targetIP", target hardware address zero (RFC 5227 §2.1.1 says it
 * is ignored and SHOULD be zero). Used to probe whether someone else answers for an
 * address before or while we announce it.
 */
export function arpRequest({ srcMAC, senderIP, targetIP }: ARPRequestParams): Buffer {
  const ours = requireMAC(srcMAC, 'arpRequest srcMAC');
  return arpFrame(
    broadcast(),
    ours,
    ARP_OP.request,
    ours,
    requireIPv4(senderIP, 'arpRequest senderIP'),
    Buffer.alloc(6),
    requireIPv4(targetIP, 'arpRequest targetIP'),
  );
}

function broadcast(): Buffer {
  return Buffer.alloc(6, 0xff);
}

function arpFrame(ethDst: Uint8Array, ethSrc: Uint8Array, op: number, sha: Uint8Array, spa: Uint8Array, tha: Uint8Array, tpa: Uint8Array): Buffer {
  const frame = allocFrame(ethDst, ethSrc, ETHERTYPE.arp, ARP_PACKET_LENGTH);
  frame.writeUInt16BE(ARP_HTYPE_ETHERNET, HTYPE);
  frame.writeUInt16BE(ETHERTYPE.ipv4, PTYPE);
  frame[HLEN] = 6;
  frame[PLEN] = 4;
  frame.writeUInt16BE(op, OP);
  frame.set(sha, SHA);
  frame.set(spa, SPA);
  frame.set(tha, THA);
  frame.set(tpa, TPA);
  return frame; // padded to 60 bytes by allocFrame
}
