// IPv6 Neighbor Discovery (RFC 4861) as far as an address owner needs it: decoding and
// validating Neighbor Solicitations and Advertisements, and building the advertisements
// that answer them or announce a takeover, plus the solicitations that probe for a
// conflict. Everything else that arrives in IPv6 is 'ignored'.

import { ETHERNET_HEADER_LENGTH, ETHERTYPE, allocFrame, ignored, invalid, u16, type Ignored, type Invalid } from './ethernet.ts';
import { IPV6_LENGTH, formatIPv6, requireIPv6 } from '../../net/ip.ts';
import { formatMAC, requireMAC, type MAC } from '../../net/mac.ts';

export interface NeighborSolicitation {
  readonly type: 'neighbor-solicitation';
  /** Ethernet source of the frame. */
  readonly srcMAC: MAC;
  readonly srcIP: string;
  readonly dstIP: string;
  /** The address being resolved (or, for DAD, claimed). */
  readonly targetIP: string;
  /** From the Source Link-Layer Address option, when present. */
  readonly sourceLinkLayer?: MAC;
  /**
   * Source is the unspecified address: Duplicate Address Detection (RFC 4862 §5.4.2).
   * RFC 4861 §7.2.4: answer it, if at all, with Solicited = 0 to all-nodes ff02::1.
   */
  readonly dad: boolean;
}

export interface NeighborAdvertisement {
  readonly type: 'neighbor-advertisement';
  readonly srcMAC: MAC;
  readonly srcIP: string;
  readonly dstIP: string;
  readonly targetIP: string;
  /** From the Target Link-Layer Address option, when present. */
  readonly targetLinkLayer?: MAC;
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
}

export type NDPMessage = NeighborSolicitation | NeighborAdvertisement;

export const ICMPV6_NEXT_HEADER = 58;
export const ICMPV6_TYPE = { neighborSolicitation: 135, neighborAdvertisement: 136 } as const;
/** RFC 4861 §4.6.1 option types. */
export const ND_OPTION = { sourceLinkLayer: 1, targetLinkLayer: 2 } as const;
/** RFC 4861 §4.4 flag bits in the first byte after the checksum. */
const NA_FLAG = { router: 0x80, solicited: 0x40, override: 0x20 } as const;

export const ALL_NODES = 'ff02::1';
/** Every NDP message is sent with hop limit 255 and dropped otherwise (RFC 4861 §7.1.1,
 * §7.1.2): a router would have decremented it, so 255 proves the sender is on-link. */
export const NDP_HOP_LIMIT = 255;

// Offsets from the start of the Ethernet frame (RFC 8200 §3 header, RFC 4861 §4.3/§4.4).
const IPV6 = ETHERNET_HEADER_LENGTH;
const PAYLOAD_LENGTH = IPV6 + 4;
const NEXT_HEADER = IPV6 + 6;
const HOP_LIMIT = IPV6 + 7;
const SRC = IPV6 + 8;
const DST = SRC + IPV6_LENGTH;
const ICMP = DST + IPV6_LENGTH; // 54
const IPV6_HEADER_LENGTH = ICMP - IPV6; // 40
// Within the ICMPv6 message:
const CHECKSUM = 2;
const FLAGS = 4;
const TARGET = 8;
const OPTIONS = TARGET + IPV6_LENGTH; // 24: the minimum length of an NS or NA
const LINK_LAYER_OPTION_LENGTH = 8; // type, length (1 unit of 8 bytes), 6-byte MAC (RFC 2464 §6)

// RFC 8200 §4 extension headers (and IANA's later ones). NDP is never sent with them in
// practice, and parsing the chain is not worth it for traffic we would not answer.
const EXTENSION_HEADERS: ReadonlySet<number> = new Set([0, 43, 44, 50, 51, 60, 135, 139, 140]);

// Shared results for the frequent uninteresting cases: no allocation per frame.
const IGNORED_EXTENSION_HEADER: Ignored = Object.freeze(ignored('IPv6: extension header before the upper layer; NDP is parsed only without one'));
const IGNORED_NOT_ICMPV6: Ignored = Object.freeze(ignored('IPv6: upper layer is not ICMPv6'));
const IGNORED_OTHER_ICMPV6: Ignored = Object.freeze(ignored('ICMPv6: neither Neighbor Solicitation nor Advertisement'));

/**
 * Decodes an Ethernet frame whose ethertype is IPv6. Only NS and NA carried directly in
 * ICMPv6 are decoded; they are validated as RFC 4861 §7.1.1 and §7.1.2 require, and a
 * message that fails is 'invalid' (a receiver must silently discard it). Bytes past the
 * IPv6 payload length are Ethernet padding.
 */
export function parseNDP(frame: Uint8Array): NDPMessage | Ignored | Invalid {
  if (frame.length < ICMP) return invalid(`IPv6: ${frame.length - IPV6} bytes, shorter than the ${IPV6_HEADER_LENGTH}-byte header`);
  const version = frame[IPV6]! >> 4;
  if (version !== 6) return invalid(`IPv6: version ${version}, expected 6`);
  const nextHeader = frame[NEXT_HEADER]!;
  if (nextHeader !== ICMPV6_NEXT_HEADER) return EXTENSION_HEADERS.has(nextHeader) ? IGNORED_EXTENSION_HEADER : IGNORED_NOT_ICMPV6;
  const icmpLength = u16(frame, PAYLOAD_LENGTH);
  if (ICMP + icmpLength > frame.length) {
    return invalid(`IPv6: payload length ${icmpLength}, but ${frame.length - ICMP} bytes follow the header`);
  }
  if (icmpLength === 0) return invalid('ICMPv6: empty message');
  const icmp = frame.subarray(ICMP, ICMP + icmpLength);
  switch (icmp[0]) {
    case ICMPV6_TYPE.neighborSolicitation:
      return parseSolicitation(frame, icmp);
    case ICMPV6_TYPE.neighborAdvertisement:
      return parseAdvertisement(frame, icmp);
    default:
      return IGNORED_OTHER_ICMPV6;
  }
}

/** RFC 4861 §7.1.1. */
function parseSolicitation(frame: Uint8Array, icmp: Uint8Array): NeighborSolicitation | Invalid {
  const problem = checkCommon(frame, icmp, 'NS');
  if (problem !== undefined) return problem;
  const sourceLinkLayer = findLinkLayerOption(icmp, ND_OPTION.sourceLinkLayer, 'NS');
  if (typeof sourceLinkLayer === 'object') return sourceLinkLayer;

  const dad = isUnspecified(frame, SRC);
  if (dad) {
    // A node doing DAD has no address yet, so it can only be reached by multicast, and
    // it must not put its MAC into other nodes' caches for an address it may not get.
    if (!isSolicitedNode(frame, DST)) {
      return invalid(`NS: source is :: but destination ${formatIPv6(frame, DST)} is not a solicited-node multicast address`);
    }
    if (sourceLinkLayer !== undefined) return invalid('NS: source link-layer address option in a DAD solicitation (source ::)');
  }
  return {
    type: 'neighbor-solicitation',
    srcMAC: formatMAC(frame, 6),
    srcIP: formatIPv6(frame, SRC),
    dstIP: formatIPv6(frame, DST),
    targetIP: formatIPv6(icmp, TARGET),
    ...(sourceLinkLayer === undefined ? {} : { sourceLinkLayer }),
    dad,
  };
}

/** RFC 4861 §7.1.2. */
function parseAdvertisement(frame: Uint8Array, icmp: Uint8Array): NeighborAdvertisement | Invalid {
  const problem = checkCommon(frame, icmp, 'NA');
  if (problem !== undefined) return problem;
  const flags = icmp[FLAGS]!;
  const solicited = (flags & NA_FLAG.solicited) !== 0;
  // A solicited answer goes back to the one who asked; a multicast one with S set is bogus.
  if (solicited && isMulticast(frame, DST)) {
    return invalid(`NA: solicited flag set but destination ${formatIPv6(frame, DST)} is multicast`);
  }
  const targetLinkLayer = findLinkLayerOption(icmp, ND_OPTION.targetLinkLayer, 'NA');
  if (typeof targetLinkLayer === 'object') return targetLinkLayer;
  return {
    type: 'neighbor-advertisement',
    srcMAC: formatMAC(frame, 6),
    srcIP: formatIPv6(frame, SRC),
    dstIP: formatIPv6(frame, DST),
    targetIP: formatIPv6(icmp, TARGET),
    ...(targetLinkLayer === undefined ? {} : { targetLinkLayer }),
    router: (flags & NA_FLAG.router) !== 0,
    solicited,
    override: (flags & NA_FLAG.override) !== 0,
  };
}

/** The checks §7.1.1 and §7.1.2 share, in the order they are listed there. */
function checkCommon(frame: Uint8Array, icmp: Uint8Array, kind: 'NS' | 'NA'): Invalid | undefined {
  const hopLimit = frame[HOP_LIMIT]!;
  if (hopLimit !== NDP_HOP_LIMIT) return invalid(`${kind}: hop limit ${hopLimit}, expected ${NDP_HOP_LIMIT}`);
  if (icmpv6Checksum(frame.subarray(SRC, DST), frame.subarray(DST, ICMP), icmp) !== 0) return invalid(`${kind}: bad ICMPv6 checksum`);
  const code = icmp[1];
  if (code !== 0) return invalid(`${kind}: ICMPv6 code ${code ?? 'missing'}, expected 0`);
  if (icmp.length < OPTIONS) return invalid(`${kind}: ICMPv6 length ${icmp.length}, shorter than ${OPTIONS}`);
  if (isMulticast(icmp, TARGET)) return invalid(`${kind}: target ${formatIPv6(icmp, TARGET)} is multicast`);
  return undefined;
}

/**
 * Walks the options after the fixed part (RFC 4861 §4.6) and returns the first
 * link-layer address option of `wanted` type, undefined if there is none, or the reason
 * the options are malformed. A length of 0 would loop forever and must be discarded
 * (§4.6); other option types are skipped, as receivers must ignore unknown options.
 */
function findLinkLayerOption(icmp: Uint8Array, wanted: number, kind: 'NS' | 'NA'): MAC | undefined | Invalid {
  let found: MAC | undefined;
  for (let offset = OPTIONS; offset < icmp.length; ) {
    const left = icmp.length - offset;
    if (left < 2) return invalid(`${kind}: ${left} stray byte after the options`);
    const type = icmp[offset]!;
    const size = icmp[offset + 1]! * 8;
    if (size === 0) return invalid(`${kind}: option type ${type} has length 0`);
    if (size > left) return invalid(`${kind}: option type ${type} of ${size} bytes runs past the end of the message (${left} left)`);
    if (type === wanted && found === undefined) {
      // On Ethernet this option is exactly one unit (RFC 2464 §6); a longer one holds no
      // Ethernet address, so the message is dropped rather than guessed at.
      if (size !== LINK_LAYER_OPTION_LENGTH) {
        return invalid(`${kind}: link-layer address option of ${size} bytes, expected ${LINK_LAYER_OPTION_LENGTH} on Ethernet`);
      }
      found = formatMAC(icmp, offset + 2);
    }
    offset += size;
  }
  return found;
}

/**
 * The ICMPv6 checksum (RFC 4443 §2.3): the 16-bit one's complement of the one's
 * complement sum (RFC 1071) of the IPv6 pseudo-header of RFC 8200 §8.1 (source,
 * destination, 32-bit upper-layer length, three zero bytes, next header 58) followed by
 * the ICMPv6 message, padded with a zero byte if its length is odd.
 * To build: pass the message with its checksum field zero and store the result.
 * To verify: pass the message as received; the result is 0 when the checksum is right.
 */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, icmp: Uint8Array): number {
  if (src.length !== IPV6_LENGTH || dst.length !== IPV6_LENGTH) {
    throw new RangeError(`icmpv6Checksum: addresses must be ${IPV6_LENGTH} bytes, got ${src.length} and ${dst.length}`);
  }
  const length = icmp.length;
  let sum = sumWords(src) + sumWords(dst) + Math.floor(length / 0x10000) + (length & 0xffff) + ICMPV6_NEXT_HEADER + sumWords(icmp);
  // End-around carry: fold the carries back in until the sum fits in 16 bits.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Plain sum of big-endian 16-bit words; the carries are folded by the caller. */
function sumWords(bytes: Uint8Array): number {
  let sum = 0;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (even < bytes.length) sum += bytes[even]! << 8;
  return sum;
}

/**
 * The solicited-node multicast address of `ip` (RFC 4291 §2.7.1): ff02::1:ff00:0/104
 * plus the low 24 bits of the address. NS for an address are sent there, so a host joins
 * one such group per address instead of receiving every solicitation on the link.
 */
export function solicitedNodeMulticast(ip: string): string {
  return formatIPv6(solicitedNodeBytes(requireIPv6(ip, 'solicitedNodeMulticast')));
}

/**
 * The Ethernet address for an IPv6 multicast address (RFC 2464 §7): 33:33 followed by the
 * address's last 32 bits. Meant for multicast addresses; for others it is just that mapping.
 */
export function multicastMAC(ipv6: string): MAC {
  return formatMAC(multicastMACBytes(requireIPv6(ipv6, 'multicastMAC')));
}

const SOLICITED_NODE_PREFIX = Buffer.from('ff02' + '0000'.repeat(4) + '0001' + 'ff', 'hex'); // 104 bits: ff02:0:0:0:0:1:ff

function solicitedNodeBytes(ip: Uint8Array): Buffer {
  const group = Buffer.alloc(IPV6_LENGTH);
  SOLICITED_NODE_PREFIX.copy(group, 0);
  group.set(ip.subarray(13, 16), 13);
  return group;
}

function multicastMACBytes(ip: Uint8Array): Buffer {
  const mac = Buffer.alloc(6);
  mac[0] = 0x33;
  mac[1] = 0x33;
  mac.set(ip.subarray(12, 16), 2);
  return mac;
}

function isMulticast(bytes: Uint8Array, offset: number): boolean {
  return bytes[offset] === 0xff; // ff00::/8, RFC 4291 §2.7
}

function isUnspecified(bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < IPV6_LENGTH; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}

function isSolicitedNode(bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < SOLICITED_NODE_PREFIX.length; i++) if (bytes[offset + i] !== SOLICITED_NODE_PREFIX[i]) return false;
  return true;
}

export interface NeighborAdvertisementParams {
  /** Our MAC: it goes in the Ethernet source and the Target Link-Layer Address option. */
  readonly srcMAC: MAC;
  /** The address we answer for; also the IPv6 source (RFC 4861 §4.4: an address of the
   * sending interface, and we own this one). */
  readonly targetIP: string;
  readonly toMAC: MAC;
  readonly toIP: string;
  /** 1 when answering an NS from a unicast source (§7.2.4); 0 for DAD answers and announcements. */
  readonly solicited: boolean;
  /** 1 makes neighbours replace a cached MAC (§7.2.5): needed when an address moves here. */
  readonly override: boolean;
  readonly router?: boolean;
}

/**
 * A Neighbor Advertisement (RFC 4861 §4.4, §7.2.4) for `targetIP`, with hop limit 255 and
 * a Target Link-Layer Address option, always included: §7.2.4 requires it when the
 * solicitation was multicast, and it costs nothing otherwise.
 * Throws on a multicast target or a solicited advertisement to a multicast address,
 * which receivers must discard (§7.1.2).
 */
export function neighborAdvertisement(params: NeighborAdvertisementParams): Buffer {
  const { srcMAC, targetIP, toMAC, toIP, solicited, override, router = false } = params;
  const ours = requireMAC(srcMAC, 'neighborAdvertisement srcMAC');
  const target = requireIPv6(targetIP, 'neighborAdvertisement targetIP');
  const destination = requireIPv6(toIP, 'neighborAdvertisement toIP');
  if (isMulticast(target, 0)) throw new TypeError(`neighborAdvertisement: target ${targetIP} is multicast`);
  if (solicited && isMulticast(destination, 0)) throw new TypeError(`neighborAdvertisement: solicited advertisement to multicast ${toIP}`);

  const icmp = Buffer.alloc(OPTIONS + LINK_LAYER_OPTION_LENGTH);
  icmp[0] = ICMPV6_TYPE.neighborAdvertisement;
  icmp[FLAGS] = (router ? NA_FLAG.router : 0) | (solicited ? NA_FLAG.solicited : 0) | (override ? NA_FLAG.override : 0);
  icmp.set(target, TARGET);
  writeLinkLayerOption(icmp, OPTIONS, ND_OPTION.targetLinkLayer, ours);
  return ndpFrame(requireMAC(toMAC, 'neighborAdvertisement toMAC'), ours, target, destination, icmp);
}

export interface UnsolicitedNeighborAdvertisementParams {
  readonly srcMAC: MAC;
  readonly targetIP: string;
}

/**
 * RFC 4861 §7.2.6: an advertisement nobody asked for, to all-nodes ff02::1 (Ethernet
 * 33:33:00:00:00:01), Solicited = 0, Override = 1 so that neighbours replace the MAC they
 * have cached for `targetIP`: the IPv6 counterpart of a gratuitous ARP after a failover.
 */
export function unsolicitedNeighborAdvertisement({ srcMAC, targetIP }: UnsolicitedNeighborAdvertisementParams): Buffer {
  return neighborAdvertisement({ srcMAC, targetIP, toMAC: multicastMAC(ALL_NODES), toIP: ALL_NODES, solicited: false, override: true });
}

export interface NeighborSolicitationParams {
  readonly srcMAC: MAC;
  /** Our address, or "::" for a DAD-style probe. */
  readonly srcIP: string;
  readonly targetIP: string;
}

/**
 * A Neighbor Solicitation (RFC 4861 §4.3, §7.2.2) for `targetIP`, sent to its
 * solicited-node multicast address, with a Source Link-Layer Address option - except
 * when `srcIP` is "::", where §7.1.1 forbids the option (receivers would drop the
 * message) and the result is a DAD probe (RFC 4862 §5.4.2) without a nonce.
 */
export function neighborSolicitation({ srcMAC, srcIP, targetIP }: NeighborSolicitationParams): Buffer {
  const ours = requireMAC(srcMAC, 'neighborSolicitation srcMAC');
  const source = requireIPv6(srcIP, 'neighborSolicitation srcIP');
  const target = requireIPv6(targetIP, 'neighborSolicitation targetIP');
  if (isMulticast(target, 0)) throw new TypeError(`neighborSolicitation: target ${targetIP} is multicast`);
  const withOption = !isUnspecified(source, 0);

  const icmp = Buffer.alloc(OPTIONS + (withOption ? LINK_LAYER_OPTION_LENGTH : 0));
  icmp[0] = ICMPV6_TYPE.neighborSolicitation;
  icmp.set(target, TARGET);
  if (withOption) writeLinkLayerOption(icmp, OPTIONS, ND_OPTION.sourceLinkLayer, ours);
  const group = solicitedNodeBytes(target);
  return ndpFrame(multicastMACBytes(group), ours, source, group, icmp);
}

function writeLinkLayerOption(icmp: Buffer, offset: number, type: number, mac: Uint8Array): void {
  icmp[offset] = type;
  icmp[offset + 1] = LINK_LAYER_OPTION_LENGTH / 8; // in units of 8 bytes
  icmp.set(mac, offset + 2);
}

/** Wraps an ICMPv6 message whose checksum field is zero in IPv6 and Ethernet headers. */
function ndpFrame(ethDst: Uint8Array, ethSrc: Uint8Array, src: Uint8Array, dst: Uint8Array, icmp: Buffer): Buffer {
  const frame = allocFrame(ethDst, ethSrc, ETHERTYPE.ipv6, IPV6_HEADER_LENGTH + icmp.length);
  frame[IPV6] = 0x60; // version 6, traffic class 0, flow label 0
  frame.writeUInt16BE(icmp.length, PAYLOAD_LENGTH);
  frame[NEXT_HEADER] = ICMPV6_NEXT_HEADER;
  frame[HOP_LIMIT] = NDP_HOP_LIMIT;
  frame.set(src, SRC);
  frame.set(dst, DST);
  icmp.writeUInt16BE(icmpv6Checksum(src, dst, icmp), CHECKSUM);
  frame.set(icmp, ICMP);
  return frame;
}
