// Frames for the L2 codec tests, written out byte by byte from RFC 826, RFC 8200 and
// RFC 4861 rather than produced by the builders, plus an Internet checksum (RFC 1071)
// written here independently of ndp.ts, so that the codec is checked against the RFCs
// and not only against itself.
//
// Cast: the client 52:54:00:12:34:56 (192.0.2.1, 2001:db8:18::1) asks for the
// load-balancer address 192.0.2.10 / 2001:db8:18::c8, which the speaker
// 52:54:00:ab:cd:ef announces.

import { hex } from '../../net/hex.test-support.ts';

export { hex };

export const CLIENT_MAC = '52:54:00:12:34:56';
export const SPEAKER_MAC = '52:54:00:ab:cd:ef';
export const CLIENT_IPV4 = '192.0.2.1';
export const VIP_IPV4 = '192.0.2.10';
export const CLIENT_IPV6 = '2001:db8:18::1';
export const VIP_IPV6 = '2001:db8:18::c8';

const PADDING_18 = '00'.repeat(18); // 42-byte ARP frame padded to the 60-byte Ethernet minimum

/** Linux asking "who has 192.0.2.10? tell 192.0.2.1", as received off the wire (padded). */
export const ARP_REQUEST = hex(
  'ffffffffffff', // Ethernet destination: broadcast
  '525400123456', // Ethernet source: client
  '0806', // ethertype ARP
  '0001', // hardware type: Ethernet
  '0800', // protocol type: IPv4
  '06', // hardware address length
  '04', // protocol address length
  '0001', // op: request
  '525400123456', // sender hardware address: client
  'c0000201', // sender protocol address: 192.0.2.1
  '000000000000', // target hardware address: unknown
  'c000020a', // target protocol address: 192.0.2.10
  PADDING_18,
);

/** RFC 5227 §2.1.1 probe for 192.0.2.10: sender IP all zeros. */
export const ARP_PROBE = hex(
  'ffffffffffff', // broadcast
  '525400123456', // client
  '0806', // ARP
  '0001 0800 06 04', // Ethernet, IPv4, 6, 4
  '0001', // request
  '525400123456', // sender hardware address: client
  '00000000', // sender protocol address: 0.0.0.0 (probe)
  '000000000000', // target hardware address: zero
  'c000020a', // target protocol address: 192.0.2.10
  PADDING_18,
);

/** RFC 5227 §3 announcement of 192.0.2.1 by the client: sender IP = target IP. */
export const ARP_ANNOUNCEMENT = hex(
  'ffffffffffff', // broadcast
  '525400123456', // client
  '0806', // ARP
  '0001 0800 06 04', // Ethernet, IPv4, 6, 4
  '0001', // request
  '525400123456', // sender hardware address: client
  'c0000201', // sender protocol address: 192.0.2.1
  '000000000000', // target hardware address: zero
  'c0000201', // target protocol address: 192.0.2.1 again
  PADDING_18,
);

/** The speaker's answer to ARP_REQUEST: "192.0.2.10 is at 52:54:00:ab:cd:ef", unicast. */
export const ARP_REPLY = hex(
  '525400123456', // Ethernet destination: the requester's sender hardware address
  '525400abcdef', // Ethernet source: speaker
  '0806', // ARP
  '0001 0800 06 04', // Ethernet, IPv4, 6, 4
  '0002', // op: reply
  '525400abcdef', // sender hardware address: speaker
  'c000020a', // sender protocol address: 192.0.2.10
  '525400123456', // target hardware address: client
  'c0000201', // target protocol address: 192.0.2.1
  PADDING_18,
);

/** Gratuitous ARP request for 192.0.2.10 from the speaker (RFC 5227 §3 announcement). */
export const GARP_REQUEST = hex(
  'ffffffffffff', // broadcast
  '525400abcdef', // speaker
  '0806', // ARP
  '0001 0800 06 04', // Ethernet, IPv4, 6, 4
  '0001', // request
  '525400abcdef', // sender hardware address: speaker
  'c000020a', // sender protocol address: 192.0.2.10
  '000000000000', // target hardware address: zero
  'c000020a', // target protocol address: 192.0.2.10
  PADDING_18,
);

/** Gratuitous ARP reply for 192.0.2.10 from the speaker. */
export const GARP_REPLY = hex(
  'ffffffffffff', // broadcast
  '525400abcdef', // speaker
  '0806', // ARP
  '0001 0800 06 04', // Ethernet, IPv4, 6, 4
  '0002', // reply
  '525400abcdef', // sender hardware address: speaker
  'c000020a', // sender protocol address: 192.0.2.10
  '525400abcdef', // target hardware address: the sender's own (RFC 2002 4.6)
  'c000020a', // target protocol address: 192.0.2.10
  PADDING_18,
);

/** Linux resolving 2001:db8:18::c8: NS to the solicited-node group, with SLLA option. */
export const NS = hex(
  '3333ff0000c8', // Ethernet destination: 33:33 + last 32 bits of ff02::1:ff00:c8
  '525400123456', // Ethernet source: client
  '86dd', // ethertype IPv6
  '60000000', // version 6, traffic class 0, flow label 0
  '0020', // payload length 32
  '3a', // next header: ICMPv6 (58)
  'ff', // hop limit 255
  '20010db8001800000000000000000001', // source 2001:db8:18::1
  'ff0200000000000000000001ff0000c8', // destination ff02::1:ff00:c8
  '87', // ICMPv6 type 135: Neighbor Solicitation
  '00', // code 0
  '95af', // checksum (computed by hand; checked against rfc1071 below)
  '00000000', // reserved
  '20010db80018000000000000000000c8', // target 2001:db8:18::c8
  '01', // option: Source Link-Layer Address
  '01', // length: 1 unit of 8 bytes
  '525400123456', // client MAC
);

/** Linux's DAD probe for 2001:db8:18::c8 with enhanced DAD (RFC 7527): a Nonce option. */
export const DAD_NS_NONCE = hex(
  '3333ff0000c8', // solicited-node group MAC
  '525400123456', // client
  '86dd', // IPv6
  '60000000', // version 6
  '0020', // payload length 32
  '3a', // ICMPv6
  'ff', // hop limit 255
  '00000000000000000000000000000000', // source :: (unspecified)
  'ff0200000000000000000001ff0000c8', // destination ff02::1:ff00:c8
  '87', // Neighbor Solicitation
  '00', // code
  '19d1', // checksum
  '00000000', // reserved
  '20010db80018000000000000000000c8', // target 2001:db8:18::c8
  '0e', // option: Nonce (RFC 7527), unknown to RFC 4861, so skipped
  '01', // length 1
  '8a3c91d2075e', // nonce
);

/** The nonce-less DAD probe (older kernels, enhanced_dad=0, other stacks). */
export const DAD_NS = hex(
  '3333ff0000c8', // solicited-node group MAC
  '525400123456', // client
  '86dd', // IPv6
  '60000000', // version 6
  '0018', // payload length 24: no options
  '3a', // ICMPv6
  'ff', // hop limit 255
  '00000000000000000000000000000000', // source ::
  'ff0200000000000000000001ff0000c8', // destination ff02::1:ff00:c8
  '87', // Neighbor Solicitation
  '00', // code
  '4b47', // checksum
  '00000000', // reserved
  '20010db80018000000000000000000c8', // target 2001:db8:18::c8
);

/** The speaker's solicited answer to NS: unicast, S and O set, TLLA option. */
export const NA = hex(
  '525400123456', // Ethernet destination: client
  '525400abcdef', // Ethernet source: speaker
  '86dd', // IPv6
  '60000000', // version 6
  '0020', // payload length 32
  '3a', // ICMPv6
  'ff', // hop limit 255
  '20010db80018000000000000000000c8', // source 2001:db8:18::c8 (the target itself)
  '20010db8001800000000000000000001', // destination 2001:db8:18::1
  '88', // ICMPv6 type 136: Neighbor Advertisement
  '00', // code
  '69b0', // checksum
  '60000000', // flags: R=0 S=1 O=1, reserved
  '20010db80018000000000000000000c8', // target 2001:db8:18::c8
  '02', // option: Target Link-Layer Address
  '01', // length 1
  '525400abcdef', // speaker MAC
);

/** RFC 4861 §7.2.6 unsolicited NA from the speaker to all-nodes. */
export const UNSOLICITED_NA = hex(
  '333300000001', // Ethernet destination: 33:33 + last 32 bits of ff02::1
  '525400abcdef', // speaker
  '86dd', // IPv6
  '60000000', // version 6
  '0020', // payload length 32
  '3a', // ICMPv6
  'ff', // hop limit 255
  '20010db80018000000000000000000c8', // source 2001:db8:18::c8
  'ff020000000000000000000000000001', // destination ff02::1
  '88', // Neighbor Advertisement
  '00', // code
  'd87e', // checksum
  '20000000', // flags: R=0 S=0 O=1
  '20010db80018000000000000000000c8', // target 2001:db8:18::c8
  '02 01 525400abcdef', // TLLA option: speaker MAC
);

/** A router (the client here) answering the speaker: R, S and O set. */
export const NA_FROM_ROUTER = hex(
  '525400abcdef', // Ethernet destination: speaker
  '525400123456', // Ethernet source: client
  '86dd', // IPv6
  '60000000', // version 6
  '0020', // payload length 32
  '3a', // ICMPv6
  'ff', // hop limit 255
  '20010db8001800000000000000000001', // source 2001:db8:18::1
  '20010db80018000000000000000000c8', // destination 2001:db8:18::c8
  '88', // Neighbor Advertisement
  '00', // code
  '84a9', // checksum
  'e0000000', // flags: R=1 S=1 O=1
  '20010db8001800000000000000000001', // target 2001:db8:18::1
  '02 01 525400123456', // TLLA option: client MAC
);

// Offsets used to doctor the IPv6 fixtures in tests.
export const IPV6_HOP_LIMIT_OFFSET = 14 + 7;
export const ICMP_OFFSET = 14 + 40;

/**
 * RFC 1071 §4.1's algorithm, restated: add 16-bit big-endian words into a 32-bit
 * accumulator, a lone last byte counting as its high half, fold the carries into the low
 * 16 bits, take the one's complement.
 */
export function rfc1071(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum = (sum + bytes[i]! * 256 + (bytes[i + 1] ?? 0)) >>> 0;
    if (sum > 0xffff) sum = (sum >>> 16) + (sum & 0xffff);
  }
  return ~sum & 0xffff;
}

/** The RFC 8200 §8.1 pseudo-header of an untagged IPv6/ICMPv6 frame, followed by its ICMPv6 message. */
export function pseudoHeaderAndMessage(frame: Buffer): Buffer {
  const payloadLength = frame.readUInt16BE(14 + 4);
  const message = frame.subarray(ICMP_OFFSET, ICMP_OFFSET + payloadLength);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(payloadLength);
  return Buffer.concat([
    frame.subarray(14 + 8, 14 + 24), // source address
    frame.subarray(14 + 24, 14 + 40), // destination address
    length, // upper-layer packet length
    Buffer.from([0, 0, 0, 58]), // three zero bytes, next header ICMPv6
    message,
  ]);
}

/** A copy of an IPv6/ICMPv6 frame with `edit` applied and the checksum recomputed by rfc1071. */
export function doctored(frame: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(frame);
  edit(copy);
  copy.writeUInt16BE(0, ICMP_OFFSET + 2);
  copy.writeUInt16BE(rfc1071(pseudoHeaderAndMessage(copy)), ICMP_OFFSET + 2);
  return copy;
}
