// BGP-4 message serializer: typed message in, whole message (marker, length, type, body)
// out. Pure: no I/O, no clock.
//
// The encoder refuses (RangeError) anything decode.ts would reject, so that what the
// speaker sends is something it would itself accept: out-of-range numbers, malformed
// addresses or prefixes, host bits set beyond a prefix length, an UPDATE missing a
// mandatory attribute, a message over 4096 bytes, and so on. Every refusal is a
// RangeError naming the field.

import { parseIPv4, parseIPv6 } from '../../net/ip.ts';
import {
  ATTRIBUTE,
  ATTRIBUTE_FLAG,
  BGP_VERSION,
  CAPABILITY,
  ERROR,
  FAMILY,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MESSAGE_TYPE,
  OPEN_SUBCODE,
  OPTIONAL_PARAMETER_CAPABILITIES,
  familyOf,
  type AFI_SAFI,
  type BGPMessage,
  type Capabilities,
  type NotificationMessage,
  type OpenMessage,
  type PathAttributes,
  type RouteRefreshMessage,
  type UpdateMessage,
} from './messages.ts';
import { parsePrefix, prefixWireLength, writePrefix } from './prefix.ts';

const MARKER = Buffer.alloc(16, 0xff);

const WELL_KNOWN = ATTRIBUTE_FLAG.transitive; // 0x40
const OPTIONAL_TRANSITIVE = ATTRIBUTE_FLAG.optional | ATTRIBUTE_FLAG.transitive; // 0xc0
const OPTIONAL_NON_TRANSITIVE = ATTRIBUTE_FLAG.optional; // 0x80

const ORIGIN_CODE = { igp: 0, egp: 1, incomplete: 2 } as const;

/** Attribute codes decode.ts interprets (or discards): not allowed in `unknown`. */
const RECOGNISED_ATTRIBUTES: ReadonlySet<number> = new Set(Object.values(ATTRIBUTE));

/** Encodes one whole message. Throws RangeError if `msg` is not a valid message (see top of file). */
export function encode(msg: BGPMessage): Buffer {
  switch (msg.type) {
    case 'open':
      return frame(MESSAGE_TYPE.open, openBody(msg), 'OPEN');
    case 'update':
      return frame(MESSAGE_TYPE.update, updateBody(msg), 'UPDATE');
    case 'keepalive':
      return frame(MESSAGE_TYPE.keepalive, [], 'KEEPALIVE');
    case 'notification': {
      const w = new Bytes();
      w.u8(msg.code, 'NOTIFICATION code');
      w.u8(msg.subcode, 'NOTIFICATION subcode');
      w.bytes(msg.data, 'NOTIFICATION data');
      return frame(MESSAGE_TYPE.notification, w.out, 'NOTIFICATION');
    }
    case 'route-refresh':
      return frame(MESSAGE_TYPE.routeRefresh, routeRefreshBody(msg), 'ROUTE-REFRESH');
    default:
      throw new RangeError(`encode: unknown message type ${JSON.stringify((msg as { type?: unknown }).type)}`);
  }
}

function frame(type: number, body: readonly number[], what: string): Buffer {
  const length = HEADER_LENGTH + body.length;
  if (length > MAX_MESSAGE_LENGTH) {
    throw new RangeError(`${what}: message would be ${length} bytes, over the ${MAX_MESSAGE_LENGTH}-byte maximum (RFC 4271 §4.1)`);
  }
  const out = Buffer.alloc(length);
  MARKER.copy(out, 0);
  out.writeUInt16BE(length, 16);
  out[18] = type;
  out.set(body, HEADER_LENGTH);
  return out;
}

// ---------------------------------------------------------------------------------------
// OPEN (RFC 4271 §4.2) with capabilities (RFC 5492).

function openBody(m: OpenMessage): number[] {
  if (m.version !== BGP_VERSION) throw new RangeError(`OPEN: version ${m.version}, only ${BGP_VERSION} is spoken`);
  if (m.holdTime === 1 || m.holdTime === 2) throw new RangeError(`OPEN: hold time ${m.holdTime}, must be 0 or at least 3 (RFC 4271 §4.2)`);
  const routerID = requireIPv4(m.routerID, 'OPEN routerID');
  if (routerID.readUInt32BE(0) === 0) throw new RangeError('OPEN: routerID 0.0.0.0 is not a valid BGP Identifier (RFC 6286)');
  const w = new Bytes();
  w.u8(m.version, 'OPEN version');
  w.u16(m.myAS, 'OPEN myAS (the 2-byte field; use twoOctetAS)');
  w.u16(m.holdTime, 'OPEN holdTime');
  w.bytes(routerID, 'OPEN routerID');
  // One capability per Optional Parameter (RFC 5492 §4 allows either; one each is what
  // most implementations send and what every implementation accepts).
  const params = new Bytes();
  for (const capability of capabilityTLVs(m.capabilities, 'OPEN')) {
    params.u8(OPTIONAL_PARAMETER_CAPABILITIES, 'parameter type');
    params.u8(capability.length, 'OPEN: capability length');
    params.bytes(capability, 'capability');
  }
  if (params.length > 255) {
    throw new RangeError(`OPEN: optional parameters take ${params.length} bytes, over 255 (RFC 9072 extended parameters are not implemented)`);
  }
  w.u8(params.length, 'OPEN optional parameters length');
  w.bytes(params.out, 'optional parameters');
  return w.out;
}

/** Each capability as code, length, value; in code order, unknown ones last in their given order. */
function capabilityTLVs(caps: Partial<Capabilities>, what: string): number[][] {
  const tlvs: number[][] = [];
  const tlv = (code: number, value: readonly number[]): void => {
    if (value.length > 255) throw new RangeError(`${what}: capability ${code} value is ${value.length} bytes, over 255`);
    tlvs.push([code, value.length, ...value]);
  };
  const seen = new Set<AFI_SAFI>();
  for (const family of caps.multiprotocol ?? []) {
    if (seen.has(family)) throw new RangeError(`${what}: multiprotocol lists ${family} twice`);
    seen.add(family);
    const { afi, safi } = familyNumbers(family, `${what}: multiprotocol`);
    tlv(CAPABILITY.multiprotocol, [afi >> 8, afi & 0xff, 0, safi]);
  }
  if (caps.routeRefresh === true) tlv(CAPABILITY.routeRefresh, []);
  if (caps.gracefulRestart !== undefined) {
    const gr = caps.gracefulRestart;
    if (!Number.isInteger(gr.restartTime) || gr.restartTime < 0 || gr.restartTime > 0xfff) {
      throw new RangeError(`${what}: graceful restart time ${gr.restartTime} is not an integer 0-4095 (12 bits)`);
    }
    const w = new Bytes();
    w.u16((gr.restarting ? 0x8000 : 0) | gr.restartTime, 'restart time');
    const grSeen = new Set<AFI_SAFI>();
    for (const family of gr.families) {
      if (grSeen.has(family)) throw new RangeError(`${what}: graceful restart lists ${family} twice`);
      grSeen.add(family);
      const { afi, safi } = familyNumbers(family, `${what}: graceful restart`);
      w.u16(afi, 'AFI');
      w.u8(safi, 'SAFI');
      w.u8(gr.forwardingPreserved ? 0x80 : 0, 'flags'); // RFC 4724 3: the F bit
    }
    tlv(CAPABILITY.gracefulRestart, w.out);
  }
  if (caps.fourOctetAS !== undefined) {
    const w = new Bytes();
    w.u32(caps.fourOctetAS, `${what}: fourOctetAS`);
    tlv(CAPABILITY.fourOctetAS, w.out);
  }
  for (const { code, value } of caps.unknown ?? []) {
    uint(code, 0xff, `${what}: unknown capability code`);
    const w = new Bytes().bytes(value, `${what}: unknown capability ${code}`);
    if (code === CAPABILITY.routeRefresh || code === CAPABILITY.gracefulRestart || code === CAPABILITY.fourOctetAS) {
      throw new RangeError(`${what}: capability ${code} has its own field; it cannot be in unknown`);
    }
    if (code === CAPABILITY.multiprotocol && (value.length !== 4 || familyOf((value[0]! << 8) | value[1]!, value[3]!) !== undefined)) {
      throw new RangeError(`${what}: an unknown capability 1 must be 4 bytes for a family other than ipv4/ipv6-unicast`);
    }
    tlv(code, w.out);
  }
  return tlvs;
}

/**
 * The NOTIFICATION to send when the peer's OPEN lacks capabilities this speaker requires
 * (OPEN Message Error / Unsupported Capability, RFC 5492 §5): the data field lists the
 * required capabilities as this speaker would advertise them, e.g.
 * `unsupportedCapability({ fourOctetAS: 4200000001 })`.
 */
export function unsupportedCapability(required: Partial<Capabilities>): NotificationMessage {
  const data = Buffer.from(capabilityTLVs(required, 'unsupportedCapability').flat());
  return { type: 'notification', code: ERROR.open, subcode: OPEN_SUBCODE.unsupportedCapability, data };
}

// ---------------------------------------------------------------------------------------
// UPDATE (RFC 4271 §4.3, RFC 4760).

function updateBody(m: UpdateMessage): number[] {
  const a = m.attributes;
  // RFC 7606 §5.1: at most one of non-empty withdrawn routes, non-empty NLRI,
  // MP_REACH_NLRI and MP_UNREACH_NLRI per UPDATE.
  const kinds = [m.withdrawn.length > 0, m.nlri.length > 0, a.mpReach !== undefined, a.mpUnreach !== undefined].filter(Boolean).length;
  if (kinds > 1) {
    throw new RangeError('UPDATE: at most one of withdrawn, nlri, mpReach and mpUnreach may be non-empty (RFC 7606 §5.1)');
  }
  // Mandatory attributes (RFC 4271 §5, RFC 4760 §3), as decode.ts checks them.
  if (m.nlri.length > 0 || a.mpReach !== undefined) {
    if (a.origin === undefined) throw new RangeError('UPDATE: announcing routes needs attributes.origin');
    if (a.asPath === undefined) throw new RangeError('UPDATE: announcing routes needs attributes.asPath ([] for an iBGP-originated route)');
  }
  if (m.nlri.length > 0 && a.nextHop === undefined) throw new RangeError('UPDATE: IPv4 NLRI needs attributes.nextHop');

  const w = new Bytes();
  const withdrawn = prefixBytes(m.withdrawn, 'ipv4-unicast', 'UPDATE withdrawn');
  w.u16(withdrawn.length, 'UPDATE withdrawn routes length');
  w.bytes(withdrawn, 'withdrawn');
  const attributes = attributeBytes(a);
  w.u16(attributes.length, 'UPDATE total path attribute length');
  w.bytes(attributes, 'attributes');
  w.bytes(prefixBytes(m.nlri, 'ipv4-unicast', 'UPDATE nlri'), 'nlri');
  return w.out;
}

function prefixBytes(prefixes: readonly string[], family: AFI_SAFI, what: string): Buffer {
  const parsed = prefixes.map((p) => parsePrefix(p, family, what));
  const out = Buffer.alloc(parsed.reduce((sum, p) => sum + prefixWireLength(p.length), 0));
  let offset = 0;
  for (const p of parsed) offset = writePrefix(p, out, offset);
  return out;
}

interface Attribute {
  readonly flags: number;
  readonly code: number;
  readonly value: readonly number[] | Uint8Array;
}

/**
 * The path attributes. MP_REACH_NLRI and MP_UNREACH_NLRI come first, as RFC 7606 §5.1
 * requires ("SHALL be encoded as the very first path attribute"), so that a receiver can
 * find the NLRI even if a later attribute is malformed; the others follow in type-code
 * order.
 */
function attributeBytes(a: PathAttributes): number[] {
  const first: Attribute[] = [];
  const rest: Attribute[] = [];
  if (a.mpReach !== undefined) {
    const { family, nextHops, prefixes } = a.mpReach;
    const w = new Bytes();
    const { afi, safi } = familyNumbers(family, 'UPDATE mpReach');
    const hops = nextHopBytes(family, nextHops);
    w.u16(afi, 'AFI');
    w.u8(safi, 'SAFI');
    w.u8(hops.length, 'next hop length');
    w.bytes(hops, 'next hops');
    w.u8(0, 'reserved');
    w.bytes(prefixBytes(prefixes, family, 'UPDATE mpReach.prefixes'), 'prefixes');
    first.push({ flags: OPTIONAL_NON_TRANSITIVE, code: ATTRIBUTE.mpReach, value: w.out });
  }
  if (a.mpUnreach !== undefined) {
    const { family, prefixes } = a.mpUnreach;
    const w = new Bytes();
    const { afi, safi } = familyNumbers(family, 'UPDATE mpUnreach');
    w.u16(afi, 'AFI');
    w.u8(safi, 'SAFI');
    w.bytes(prefixBytes(prefixes, family, 'UPDATE mpUnreach.prefixes'), 'prefixes');
    first.push({ flags: OPTIONAL_NON_TRANSITIVE, code: ATTRIBUTE.mpUnreach, value: w.out });
  }
  if (a.origin !== undefined) {
    const value = ORIGIN_CODE[a.origin];
    if (value === undefined) throw new RangeError(`UPDATE: origin ${JSON.stringify(a.origin)} is not igp, egp or incomplete`);
    rest.push({ flags: WELL_KNOWN, code: ATTRIBUTE.origin, value: [value] });
  }
  if (a.asPath !== undefined) {
    const w = new Bytes();
    for (const segment of a.asPath) {
      if (segment.type !== 'set' && segment.type !== 'sequence') throw new RangeError(`UPDATE: AS_PATH segment type ${JSON.stringify(segment.type)}`);
      if (segment.asns.length === 0 || segment.asns.length > 255) {
        throw new RangeError(`UPDATE: AS_PATH segment has ${segment.asns.length} ASNs, must be 1-255 (RFC 7606 §7.2 forbids empty segments)`);
      }
      w.u8(segment.type === 'set' ? 1 : 2, 'segment type');
      w.u8(segment.asns.length, 'segment length');
      for (const asn of segment.asns) w.u32(asn, 'UPDATE asPath ASN');
    }
    rest.push({ flags: WELL_KNOWN, code: ATTRIBUTE.asPath, value: w.out });
  }
  if (a.nextHop !== undefined) rest.push({ flags: WELL_KNOWN, code: ATTRIBUTE.nextHop, value: requireIPv4(a.nextHop, 'UPDATE nextHop') });
  if (a.med !== undefined) rest.push({ flags: OPTIONAL_NON_TRANSITIVE, code: ATTRIBUTE.med, value: new Bytes().u32(a.med, 'UPDATE med').out });
  if (a.localPref !== undefined) rest.push({ flags: WELL_KNOWN, code: ATTRIBUTE.localPref, value: new Bytes().u32(a.localPref, 'UPDATE localPref').out });
  if (a.atomicAggregate === true) rest.push({ flags: WELL_KNOWN, code: ATTRIBUTE.atomicAggregate, value: [] });
  if (a.aggregator !== undefined) {
    const w = new Bytes().u32(a.aggregator.asn, 'UPDATE aggregator.asn');
    w.bytes(requireIPv4(a.aggregator.address, 'UPDATE aggregator.address'), 'address');
    rest.push({ flags: OPTIONAL_TRANSITIVE, code: ATTRIBUTE.aggregator, value: w.out });
  }
  // An empty list is sent as no attribute: RFC 7606 §7.8 / RFC 8092 §5 make a zero-length
  // COMMUNITIES / LARGE_COMMUNITY malformed.
  if (a.communities !== undefined && a.communities.length > 0) {
    const w = new Bytes();
    for (const community of a.communities) w.u32(community, 'UPDATE community');
    rest.push({ flags: OPTIONAL_TRANSITIVE, code: ATTRIBUTE.communities, value: w.out });
  }
  if (a.largeCommunities !== undefined && a.largeCommunities.length > 0) {
    const w = new Bytes();
    for (const c of a.largeCommunities) {
      w.u32(c.globalAdmin, 'UPDATE largeCommunity globalAdmin');
      w.u32(c.localData1, 'UPDATE largeCommunity localData1');
      w.u32(c.localData2, 'UPDATE largeCommunity localData2');
    }
    rest.push({ flags: OPTIONAL_TRANSITIVE, code: ATTRIBUTE.largeCommunity, value: w.out });
  }
  const unknownCodes = new Set<number>();
  for (const u of a.unknown ?? []) {
    uint(u.code, 0xff, 'UPDATE unknown attribute code');
    if (RECOGNISED_ATTRIBUTES.has(u.code)) throw new RangeError(`UPDATE: attribute ${u.code} is recognised; it cannot be in unknown`);
    if (unknownCodes.has(u.code)) throw new RangeError(`UPDATE: unknown attribute ${u.code} appears twice`);
    unknownCodes.add(u.code);
    if ((u.flags & ~ATTRIBUTE_FLAG.partial) !== OPTIONAL_TRANSITIVE) {
      throw new RangeError(`UPDATE: unknown attribute ${u.code} flags 0x${Number(u.flags).toString(16)}, must be 0xc0 or 0xe0 (optional transitive, maybe partial)`);
    }
    rest.push({ flags: u.flags, code: u.code, value: u.value });
  }
  rest.sort((x, y) => x.code - y.code);

  const w = new Bytes();
  for (const { flags, code, value } of [...first, ...rest]) {
    if (value.length > 0xffff) throw new RangeError(`UPDATE: attribute ${code} value is ${value.length} bytes, over 65535`);
    const extended = value.length > 255;
    w.u8(extended ? flags | ATTRIBUTE_FLAG.extendedLength : flags, 'flags');
    w.u8(code, 'code');
    if (extended) w.u16(value.length, 'length');
    else w.u8(value.length, 'length');
    w.bytes(value, `attribute ${code}`);
  }
  return w.out;
}

/**
 * MP_REACH_NLRI next hops: for IPv6, a global address optionally followed by a
 * link-local one (RFC 2545 §3); for IPv4, one IPv4 address, or IPv6 ones (RFC 8950).
 */
function nextHopBytes(family: AFI_SAFI, nextHops: readonly string[]): Buffer {
  const what = `UPDATE mpReach.nextHops for ${family}`;
  if (family === 'ipv4-unicast' && nextHops.length === 1) {
    const v4 = typeof nextHops[0] === 'string' ? parseIPv4(nextHops[0]) : undefined;
    if (v4 !== undefined) return v4;
  }
  if (nextHops.length < 1 || nextHops.length > 2) throw new RangeError(`${what}: ${nextHops.length} addresses, must be 1 or 2`);
  return Buffer.concat(nextHops.map((hop) => requireIPv6(hop, what)));
}

// ---------------------------------------------------------------------------------------
// ROUTE-REFRESH (RFC 2918 §3).

function routeRefreshBody(m: RouteRefreshMessage): number[] {
  const { afi, safi } = typeof m.family === 'string' ? familyNumbers(m.family, 'ROUTE-REFRESH family') : m.family;
  const w = new Bytes();
  w.u16(afi, 'ROUTE-REFRESH afi');
  w.u8(0, 'reserved');
  w.u8(safi, 'ROUTE-REFRESH safi');
  return w.out;
}

// ---------------------------------------------------------------------------------------
// Splitting announcements and withdrawals into UPDATEs of at most 4096 bytes.

/**
 * The UPDATEs that announce (`attributes`) or withdraw (`'withdraw'`) `prefixes` of
 * `family`, as few as fit in 4096 bytes each, prefixes in the given order (duplicates are
 * not removed). No prefixes gives no messages.
 *
 * - ipv4-unicast announcement: `attributes` as given (it needs origin, asPath, nextHop;
 *   no mpReach/mpUnreach), prefixes in the NLRI field.
 * - ipv6-unicast announcement: `attributes.mpReach` gives the family and next hops (its
 *   prefixes are ignored); the IPv4 `nextHop`, if any, is left out (RFC 4760 §3).
 * - ipv4-unicast withdrawal: the Withdrawn Routes field, no attributes.
 * - ipv6-unicast withdrawal: MP_UNREACH_NLRI alone.
 *
 * Throws RangeError for a bad prefix (host bits set, wrong family) or if the attributes
 * leave no room for even one prefix.
 */
export function updatesFor(prefixes: readonly string[], attributes: PathAttributes | 'withdraw', family: AFI_SAFI): UpdateMessage[] {
  familyNumbers(family, 'updatesFor family');
  const sizes = prefixes.map((p) => prefixWireLength(parsePrefix(p, family, 'updatesFor').length));
  if (prefixes.length === 0) return [];

  let build: (chunk: readonly string[]) => UpdateMessage;
  if (attributes === 'withdraw') {
    build =
      family === 'ipv4-unicast'
        ? (chunk) => ({ type: 'update', withdrawn: chunk, attributes: {}, nlri: [] })
        : (chunk) => ({ type: 'update', withdrawn: [], attributes: { mpUnreach: { family, prefixes: chunk } }, nlri: [] });
  } else if (family === 'ipv4-unicast') {
    if (attributes.mpReach !== undefined || attributes.mpUnreach !== undefined) {
      throw new RangeError('updatesFor: ipv4-unicast announcements use nextHop and the NLRI field; drop mpReach/mpUnreach from attributes');
    }
    if (attributes.origin === undefined || attributes.asPath === undefined || attributes.nextHop === undefined) {
      throw new RangeError('updatesFor: ipv4-unicast announcements need origin, asPath and nextHop');
    }
    build = (chunk) => ({ type: 'update', withdrawn: [], attributes, nlri: chunk });
  } else {
    const { mpReach, mpUnreach, nextHop: _ipv4NextHop, ...common } = attributes;
    if (mpReach?.family !== family) throw new RangeError('updatesFor: ipv6-unicast announcements need attributes.mpReach with family ipv6-unicast and its nextHops');
    if (mpUnreach !== undefined) throw new RangeError('updatesFor: attributes.mpUnreach cannot go with an announcement (RFC 7606 §5.1)');
    const nextHops = mpReach.nextHops;
    build = (chunk) => ({ type: 'update', withdrawn: [], attributes: { ...common, mpReach: { family, nextHops, prefixes: chunk } }, nlri: [] });
  }

  // Size of the message with no prefixes; with an MP attribute, also that attribute's
  // value length, because past 255 bytes its length field takes one more byte.
  const empty = build([]);
  const base = encode(empty).length;
  const mpBase = mpValueLength(empty);
  const sizeWith = (prefixBytes: number): number =>
    base + prefixBytes + (mpBase !== undefined && mpBase <= 255 && mpBase + prefixBytes > 255 ? 1 : 0);

  const messages: UpdateMessage[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < prefixes.length; i++) {
    const add = sizes[i]!;
    if (sizeWith(bytes + add) > MAX_MESSAGE_LENGTH) {
      if (i === start) throw new RangeError(`updatesFor: the attributes leave no room for ${prefixes[i]} in a ${MAX_MESSAGE_LENGTH}-byte UPDATE`);
      messages.push(build(prefixes.slice(start, i)));
      start = i;
      bytes = 0;
    }
    bytes += add;
  }
  messages.push(build(prefixes.slice(start)));
  return messages;
}

/** Value length of the MP attribute of an UPDATE with no prefixes, if it has one. */
function mpValueLength(empty: UpdateMessage): number | undefined {
  const { mpReach, mpUnreach } = empty.attributes;
  if (mpReach !== undefined) return 5 + nextHopBytes(mpReach.family, mpReach.nextHops).length; // AFI, SAFI, length, hops, reserved
  if (mpUnreach !== undefined) return 3; // AFI, SAFI
  return undefined;
}

/** The End-of-RIB marker for `family` (RFC 4724 §2): an empty UPDATE, or an empty MP_UNREACH_NLRI. */
export function endOfRIB(family: AFI_SAFI): UpdateMessage {
  familyNumbers(family, 'endOfRIB family');
  if (family === 'ipv4-unicast') return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  return { type: 'update', withdrawn: [], attributes: { mpUnreach: { family, prefixes: [] } }, nlri: [] };
}

// ---------------------------------------------------------------------------------------
// Helpers.

function familyNumbers(family: AFI_SAFI, what: string): { afi: number; safi: number } {
  const numbers = Object.hasOwn(FAMILY, family) ? FAMILY[family] : undefined;
  if (numbers === undefined) throw new RangeError(`${what}: ${JSON.stringify(family)} is not ipv4-unicast or ipv6-unicast`);
  return numbers;
}

function requireIPv4(text: string, what: string): Buffer {
  const ip = typeof text === 'string' ? parseIPv4(text) : undefined;
  if (ip === undefined) throw new RangeError(`${what}: ${JSON.stringify(text)} is not an IPv4 address`);
  return ip;
}

function requireIPv6(text: string, what: string): Buffer {
  const ip = typeof text === 'string' ? parseIPv6(text) : undefined;
  if (ip === undefined) throw new RangeError(`${what}: ${JSON.stringify(text)} is not an IPv6 address`);
  return ip;
}

/** Big-endian byte list with range-checked integer writes. */
class Bytes {
  readonly out: number[] = [];

  get length(): number {
    return this.out.length;
  }

  u8(value: number, what: string): this {
    this.out.push(uint(value, 0xff, what));
    return this;
  }

  u16(value: number, what: string): this {
    uint(value, 0xffff, what);
    this.out.push(value >>> 8, value & 0xff);
    return this;
  }

  u32(value: number, what: string): this {
    uint(value, 0xffffffff, what);
    this.out.push(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
    return this;
  }

  bytes(value: readonly number[] | Uint8Array, what: string): this {
    if (!(value instanceof Uint8Array) && !Array.isArray(value)) throw new RangeError(`${what}: not bytes`);
    for (const byte of value) this.out.push(byte);
    return this;
  }
}

function uint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${what}: ${value} is not an integer 0-${max}`);
  return value;
}

