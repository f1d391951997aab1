// BGP messages for the codec tests, written out field by field from RFC 4271, 4760,
// 5492, 6793, 2918, 1997, 8092 and 4724 rather than produced by the encoder, so that the
// codec is checked against the RFCs and not only against itself. Each fixture comes with
// the object decode must return.
//
// Cast: the router (AS 64512, 198.18.0.1) peers with the speaker (198.18.0.11), which
// announces the load-balancer addresses 198.18.1.10 and 2001:db8:18::200.

import { hex } from '../../net/hex.test-support.ts';
import type { BGPMessage } from './messages.ts';

export { hex };

/** A message by hand: header (marker, length computed, type) + body. */
export function message(type: number, ...body: string[]): Buffer {
  const b = hex(...body);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(19 + b.length);
  return Buffer.concat([hex(MARKER), length, Buffer.from([type]), b]);
}

/** An UPDATE by hand, with the withdrawn-routes and total-path-attribute lengths computed. */
export function update(withdrawn: string, attributes: string, nlri = ''): Buffer {
  const w = hex(withdrawn);
  const a = hex(attributes);
  const length = (b: Buffer): string => b.length.toString(16).padStart(4, '0');
  return message(2, length(w), w.toString('hex'), length(a), a.toString('hex'), nlri);
}

/** The 16-octet all-ones marker of every BGP message header (RFC 4271 4.1). */
export const MARKER = 'ffffffffffffffffffffffffffffffff';

/** An OPEN as GoBGP sends it: one capability per optional parameter. */
export const OPEN = hex(
  MARKER,
  '0039', // length 57
  '01', // type OPEN
  '04', // version 4
  'fc00', // My AS 64512
  '005a', // hold time 90
  'c612000b', // BGP Identifier 198.18.0.11
  '1c', // optional parameters length 28
  '02 06', // parameter: capabilities, 6 bytes
  '01 04 0001 00 01', //   multiprotocol (1), 4 bytes: AFI 1 (IPv4), reserved, SAFI 1 (unicast)
  '02 06', // parameter: capabilities, 6 bytes
  '01 04 0002 00 01', //   multiprotocol: AFI 2 (IPv6), reserved, SAFI 1
  '02 02', // parameter: capabilities, 2 bytes
  '02 00', //   route refresh (2), no value
  '02 06', // parameter: capabilities, 6 bytes
  '41 04 0000fc00', //   4-octet AS (65), 4 bytes: 64512
);
export const OPEN_MESSAGE: BGPMessage = {
  type: 'open',
  version: 4,
  myAS: 64512,
  holdTime: 90,
  routerID: '198.18.0.11',
  capabilities: { multiprotocol: ['ipv4-unicast', 'ipv6-unicast'], fourOctetAS: 64512, routeRefresh: true, unknown: [] },
};

/** An OPEN with a 4-byte ASN and graceful restart, all capabilities in one optional parameter. */
export const OPEN_ONE_PARAMETER = hex(
  MARKER,
  '0037', // length 55
  '01', // OPEN
  '04', // version 4
  '5ba0', // My AS: AS_TRANS 23456 (the real ASN is in capability 65)
  '00f0', // hold time 240
  '0a000001', // BGP Identifier 10.0.0.1
  '1a', // optional parameters length 26
  '02 18', // one parameter: capabilities, 24 bytes
  '01 04 0001 00 01', //   multiprotocol IPv4 unicast
  '02 00', //   route refresh
  '46 00', //   enhanced route refresh (70, RFC 7313): unknown to us
  '40 06 8078 0001 01 80', //   graceful restart (64): R bit + 120 s; IPv4 unicast, F bit set
  '41 04 fa56ea01', //   4-octet AS: 4200000001
);
export const OPEN_ONE_PARAMETER_MESSAGE: BGPMessage = {
  type: 'open',
  version: 4,
  myAS: 23456,
  holdTime: 240,
  routerID: '10.0.0.1',
  capabilities: {
    multiprotocol: ['ipv4-unicast'],
    fourOctetAS: 4200000001,
    routeRefresh: true,
    gracefulRestart: { restartTime: 120, restarting: true, families: ['ipv4-unicast'] },
    unknown: [{ code: 70, value: Buffer.alloc(0) }],
  },
};

/** The same capabilities as the encoder writes them: one per parameter, in code order, F bit 0. */
export const OPEN_GRACEFUL_RESTART = hex(
  MARKER,
  '003f', // length 63
  '01', // OPEN
  '04', // version 4
  '5ba0', // AS_TRANS
  '00f0', // hold time 240
  '0a000001', // 10.0.0.1
  '22', // optional parameters length 34
  '02 06 01 04 0001 00 01', // capabilities: multiprotocol IPv4 unicast
  '02 02 02 00', // capabilities: route refresh
  '02 08 40 06 8078 0001 01 00', // capabilities: graceful restart, R + 120 s, IPv4 unicast, F bit 0
  '02 06 41 04 fa56ea01', // capabilities: 4-octet AS 4200000001
  '02 02 46 00', // capabilities: 70, unknown, last
);

export const KEEPALIVE = hex(
  MARKER,
  '0013', // length 19
  '04', // type KEEPALIVE
);
export const KEEPALIVE_MESSAGE: BGPMessage = { type: 'keepalive' };

/** Cease / Administrative Shutdown with an RFC 9003 shutdown communication. */
export const NOTIFICATION = hex(
  MARKER,
  '0021', // length 33
  '03', // type NOTIFICATION
  '06', // error code: Cease
  '02', // subcode: Administrative Shutdown
  '0b 6d61696e74656e616e6365', // data: length 11, "maintenance"
);
export const NOTIFICATION_MESSAGE: BGPMessage = {
  type: 'notification',
  code: 6,
  subcode: 2,
  data: Buffer.from('\x0bmaintenance', 'latin1'),
};

/** An IPv4 announcement. */
export const UPDATE_IPV4 = hex(
  MARKER,
  '0046', // length 70
  '02', // type UPDATE
  '0000', // withdrawn routes length 0
  '002a', // total path attribute length 42
  '40 01 01 00', // ORIGIN: well-known transitive, length 1, IGP
  '40 02 06 02 01 0000fc00', // AS_PATH: length 6, one AS_SEQUENCE of 1 ASN: 64512
  '40 03 04 c612000b', // NEXT_HOP: length 4, 198.18.0.11
  'c0 08 04 fc00 0064', // COMMUNITIES: optional transitive, length 4, 64512:100
  'c0 20 0c 0000fc00 00000001 00000002', // LARGE_COMMUNITY: length 12, 64512:1:2
  '20 c6 12 01 0a', // NLRI: 198.18.1.10/32
);
export const UPDATE_IPV4_MESSAGE: BGPMessage = {
  type: 'update',
  withdrawn: [],
  attributes: {
    origin: 'igp',
    asPath: [{ type: 'sequence', asns: [64512] }],
    nextHop: '198.18.0.11',
    communities: [64512 * 65536 + 100],
    largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }],
  },
  nlri: ['198.18.1.10/32'],
};

/** An IPv6 announcement: MP_REACH_NLRI first (RFC 7606 §5.1), then the rest in code order. */
export const UPDATE_IPV6 = hex(
  MARKER,
  '0054', // length 84
  '02', // UPDATE
  '0000', // withdrawn routes length 0
  '003d', // total path attribute length 61
  '80 0e 26', // MP_REACH_NLRI: optional non-transitive, length 38
  '  0002 01', //   AFI 2 (IPv6), SAFI 1
  '  10 20010db8001800000000000000000011', //   next hop length 16: 2001:db8:18::11
  '  00', //   reserved
  '  80 20010db8001800000000000000000200', //   NLRI: 2001:db8:18::200/128
  '40 01 01 00', // ORIGIN IGP
  '40 02 06 02 01 0000fc00', // AS_PATH: AS_SEQUENCE [64512]
  '80 04 04 0000000a', // MULTI_EXIT_DISC: optional non-transitive, 10
  // no IPv4 NLRI
);
export const UPDATE_IPV6_MESSAGE: BGPMessage = {
  type: 'update',
  withdrawn: [],
  attributes: {
    origin: 'igp',
    asPath: [{ type: 'sequence', asns: [64512] }],
    med: 10,
    mpReach: { family: 'ipv6-unicast', nextHops: ['2001:db8:18::11'], prefixes: ['2001:db8:18::200/128'] },
  },
  nlri: [],
};

/** Everything else the decoder recognises, and prefixes that do not end on a byte. */
export const UPDATE_MISC = hex(
  MARKER,
  '0054', // length 84
  '02', // UPDATE
  '0000', // withdrawn routes length 0
  '0038', // total path attribute length 56
  '40 01 01 02', // ORIGIN: INCOMPLETE
  '40 02 10', // AS_PATH, length 16:
  '  01 02 0000fc00 0000fc01', //   AS_SET {64512, 64513}
  '  02 01 0000fde8', //   AS_SEQUENCE [65000]
  '40 03 04 c6120001', // NEXT_HOP 198.18.0.1
  '40 05 04 00000064', // LOCAL_PREF 100
  '40 06 00', // ATOMIC_AGGREGATE: well-known, length 0
  'c0 07 08 fa56ea01 c6120001', // AGGREGATOR: 4-byte AS 4200000001, 198.18.0.1
  'e0 63 02 abcd', // attribute 99: optional transitive partial, unknown to us, length 2
  '17 c6 12 00', // NLRI: 198.18.0.0/23
  '00', // NLRI: 0.0.0.0/0
);
export const UPDATE_MISC_MESSAGE: BGPMessage = {
  type: 'update',
  withdrawn: [],
  attributes: {
    origin: 'incomplete',
    asPath: [
      { type: 'set', asns: [64512, 64513] },
      { type: 'sequence', asns: [65000] },
    ],
    nextHop: '198.18.0.1',
    localPref: 100,
    atomicAggregate: true,
    aggregator: { asn: 4200000001, address: '198.18.0.1' },
    unknown: [{ flags: 0xe0, code: 99, value: Buffer.from('abcd', 'hex') }],
  },
  nlri: ['198.18.0.0/23', '0.0.0.0/0'],
};

/** An IPv4 withdrawal. */
export const WITHDRAW_IPV4 = hex(
  MARKER,
  '001c', // length 28
  '02', // UPDATE
  '0005', // withdrawn routes length 5
  '20 c6 12 01 0a', // 198.18.1.10/32
  '0000', // total path attribute length 0
);
export const WITHDRAW_IPV4_MESSAGE: BGPMessage = { type: 'update', withdrawn: ['198.18.1.10/32'], attributes: {}, nlri: [] };

/** An IPv6 withdrawal. */
export const WITHDRAW_IPV6 = hex(
  MARKER,
  '002e', // length 46
  '02', // UPDATE
  '0000', // withdrawn routes length 0
  '0017', // total path attribute length 23
  '80 0f 14', // MP_UNREACH_NLRI: optional non-transitive, length 20
  '  0002 01', //   AFI 2, SAFI 1
  '  80 20010db8001800000000000000000200', //   2001:db8:18::200/128
);
export const WITHDRAW_IPV6_MESSAGE: BGPMessage = {
  type: 'update',
  withdrawn: [],
  attributes: { mpUnreach: { family: 'ipv6-unicast', prefixes: ['2001:db8:18::200/128'] } },
  nlri: [],
};

/** End-of-RIB for IPv4 unicast (RFC 4724 §2): an UPDATE with nothing in it. */
export const END_OF_RIB_IPV4 = hex(
  MARKER,
  '0017', // length 23
  '02', // UPDATE
  '0000', // withdrawn routes length 0
  '0000', // total path attribute length 0
);
export const END_OF_RIB_IPV4_MESSAGE: BGPMessage = { type: 'update', withdrawn: [], attributes: {}, nlri: [] };

/** End-of-RIB for IPv6 unicast: an empty MP_UNREACH_NLRI. */
export const END_OF_RIB_IPV6 = hex(
  MARKER,
  '001d', // length 29
  '02', // UPDATE
  '0000', // withdrawn routes length 0
  '0006', // total path attribute length 6
  '80 0f 03 0002 01', // MP_UNREACH_NLRI, length 3: AFI 2, SAFI 1, nothing withdrawn
);
export const END_OF_RIB_IPV6_MESSAGE: BGPMessage = {
  type: 'update',
  withdrawn: [],
  attributes: { mpUnreach: { family: 'ipv6-unicast', prefixes: [] } },
  nlri: [],
};

/** RFC 2918 route refresh for IPv6 unicast. */
export const ROUTE_REFRESH = hex(
  MARKER,
  '0017', // length 23
  '05', // type ROUTE-REFRESH
  '0002', // AFI 2
  '00', // reserved
  '01', // SAFI 1
);
export const ROUTE_REFRESH_MESSAGE: BGPMessage = { type: 'route-refresh', family: 'ipv6-unicast' };

/** name, bytes, decoded message, and whether encode(message) gives exactly these bytes. */
export const FIXTURES: ReadonlyArray<readonly [string, Buffer, BGPMessage, boolean]> = [
  ['OPEN', OPEN, OPEN_MESSAGE, true],
  ['OPEN_ONE_PARAMETER', OPEN_ONE_PARAMETER, OPEN_ONE_PARAMETER_MESSAGE, false],
  ['OPEN_GRACEFUL_RESTART', OPEN_GRACEFUL_RESTART, OPEN_ONE_PARAMETER_MESSAGE, true],
  ['KEEPALIVE', KEEPALIVE, KEEPALIVE_MESSAGE, true],
  ['NOTIFICATION', NOTIFICATION, NOTIFICATION_MESSAGE, true],
  ['UPDATE_IPV4', UPDATE_IPV4, UPDATE_IPV4_MESSAGE, true],
  ['UPDATE_IPV6', UPDATE_IPV6, UPDATE_IPV6_MESSAGE, true],
  ['UPDATE_MISC', UPDATE_MISC, UPDATE_MISC_MESSAGE, true],
  ['WITHDRAW_IPV4', WITHDRAW_IPV4, WITHDRAW_IPV4_MESSAGE, true],
  ['WITHDRAW_IPV6', WITHDRAW_IPV6, WITHDRAW_IPV6_MESSAGE, true],
  ['END_OF_RIB_IPV4', END_OF_RIB_IPV4, END_OF_RIB_IPV4_MESSAGE, true],
  ['END_OF_RIB_IPV6', END_OF_RIB_IPV6, END_OF_RIB_IPV6_MESSAGE, true],
  ['ROUTE_REFRESH', ROUTE_REFRESH, ROUTE_REFRESH_MESSAGE, true],
];
