// BGP-4 messages as typed values (RFC 4271 §4), and the numbers that go with them.
// The codec (encode.ts, decode.ts) turns these into bytes and back; nothing here does I/O.
//
// Addresses and prefixes are strings so the session can compare them with ===: dotted
// quad for IPv4, RFC 5952 canonical text for IPv6 (what ../../net/ip.ts produces), and
// prefixes as "address/length" with the host bits zero ("198.18.1.0/24", "2001:db8::/64").

/** The address families this speaker negotiates (RFC 4760 AFI 1/2, SAFI 1). */
export type AFI_SAFI = 'ipv4-unicast' | 'ipv6-unicast';

export interface Capabilities {
  /** RFC 4760 capability 1, in the order received. */
  readonly multiprotocol: readonly AFI_SAFI[];
  /** RFC 6793 capability 65: the speaker's 4-byte ASN. */
  readonly fourOctetAS?: number;
  /** RFC 2918 capability 2. */
  readonly routeRefresh: boolean;
  /**
   * RFC 4724 capability 64. `restarting` is the R bit. Families are encoded with the
   * forwarding-state (F) bit set when `forwardingPreserved` (encode only); on decode the
   * F bit (and the RFC 8538 N bit) are not kept.
   */
  readonly gracefulRestart?: { readonly restartTime: number; readonly restarting: boolean; readonly families: readonly AFI_SAFI[]; readonly forwardingPreserved?: boolean };
  /**
   * Every other capability, kept as received and otherwise ignored (RFC 5492 §3). A
   * capability 1 for a family other than the two above lands here too (code 1, 4-byte value).
   */
  readonly unknown: readonly { readonly code: number; readonly value: Buffer }[];
}

export interface OpenMessage {
  readonly type: 'open';
  readonly version: number;
  /** The 2-byte My Autonomous System field: AS_TRANS (23456) when the real ASN is > 65535 (see twoOctetAS). */
  readonly myAS: number;
  readonly holdTime: number;
  /** BGP Identifier as a dotted quad. */
  readonly routerID: string;
  readonly capabilities: Capabilities;
}

export type Origin = 'igp' | 'egp' | 'incomplete';

export interface PathAttributes {
  readonly origin?: Origin;
  /**
   * Always 4-byte ASNs on the wire: the session only peers with speakers that advertise
   * capability 65, so AS4_PATH (code 17) is never needed and is discarded on receipt
   * (RFC 6793 §3: a NEW speaker discards AS4_PATH from a NEW speaker). Confederation
   * segments (RFC 5065 types 3 and 4) are not supported (Malformed AS_PATH).
   */
  readonly asPath?: readonly { readonly type: 'sequence' | 'set'; readonly asns: readonly number[] }[];
  /** IPv4 NEXT_HOP attribute (code 3). */
  readonly nextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  /** ATOMIC_AGGREGATE (code 6, well-known discretionary): true if present; false is the same as absent. */
  readonly atomicAggregate?: boolean;
  /** AGGREGATOR (code 7) with a 4-byte ASN (capability 65 is always negotiated). */
  readonly aggregator?: { readonly asn: number; readonly address: string };
  /** RFC 1997 communities as 32-bit values (64512:100 is 64512 * 65536 + 100). */
  readonly communities?: readonly number[];
  /** RFC 8092. */
  readonly largeCommunities?: readonly { readonly globalAdmin: number; readonly localData1: number; readonly localData2: number }[];
  /** RFC 4760 MP_REACH_NLRI: 1 next hop, or for IPv6 a global one plus a link-local one. */
  readonly mpReach?: { readonly family: AFI_SAFI; readonly nextHops: readonly string[]; readonly prefixes: readonly string[] };
  /** RFC 4760 MP_UNREACH_NLRI; no prefixes is the End-of-RIB marker for that family (RFC 4724 §2). */
  readonly mpUnreach?: { readonly family: AFI_SAFI; readonly prefixes: readonly string[] };
  /**
   * Unrecognised optional transitive attributes, in type-code order; `flags` has the
   * Optional and Transitive bits set, maybe Partial, never Extended Length (the encoder
   * decides that). Unrecognised optional non-transitive attributes are dropped (RFC 4271 §5).
   * A speaker passing these on must set the Partial bit itself (RFC 4271 §5).
   */
  readonly unknown?: readonly { readonly flags: number; readonly code: number; readonly value: Buffer }[];
}

export interface UpdateMessage {
  readonly type: 'update';
  /** IPv4 prefixes, "198.18.1.0/32". */
  readonly withdrawn: readonly string[];
  readonly attributes: PathAttributes;
  /** IPv4 prefixes. */
  readonly nlri: readonly string[];
}

export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

export interface NotificationMessage {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

export interface RouteRefreshMessage {
  readonly type: 'route-refresh';
  /** A family this speaker knows, or the raw numbers (a peer may ask for anything). */
  readonly family: AFI_SAFI | { readonly afi: number; readonly safi: number };
}

export type BGPMessage = OpenMessage | UpdateMessage | KeepaliveMessage | NotificationMessage | RouteRefreshMessage;

// ---------------------------------------------------------------------------------------
// Wire constants.

export const BGP_VERSION = 4;
/** Marker (16) + Length (2) + Type (1), RFC 4271 §4.1. */
export const HEADER_LENGTH = 19;
/** RFC 4271 §4.1 (we do not negotiate RFC 8654 extended messages). */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 6793 §9: the 2-byte stand-in for a 4-byte ASN. */
export const AS_TRANS = 23456;

export const MESSAGE_TYPE = { open: 1, update: 2, notification: 3, keepalive: 4, routeRefresh: 5 } as const;

/** Path attribute type codes. */
export const ATTRIBUTE = {
  origin: 1,
  asPath: 2,
  nextHop: 3,
  med: 4,
  localPref: 5,
  atomicAggregate: 6,
  aggregator: 7,
  communities: 8,
  mpReach: 14,
  mpUnreach: 15,
  as4Path: 17,
  as4Aggregator: 18,
  largeCommunity: 32,
} as const;

/** Attribute flag bits (RFC 4271 §4.3). */
export const ATTRIBUTE_FLAG = { optional: 0x80, transitive: 0x40, partial: 0x20, extendedLength: 0x10 } as const;

export const CAPABILITY = { multiprotocol: 1, routeRefresh: 2, gracefulRestart: 64, fourOctetAS: 65 } as const;

/** OPEN Optional Parameter type for capabilities (RFC 5492 §4). */
export const OPTIONAL_PARAMETER_CAPABILITIES = 2;

/** AFI (RFC 4760, IANA address family numbers) and SAFI of each family. */
export const FAMILY = {
  'ipv4-unicast': { afi: 1, safi: 1 },
  'ipv6-unicast': { afi: 2, safi: 1 },
} as const satisfies Record<AFI_SAFI, { afi: number; safi: number }>;

/** The family with these numbers, if it is one of ours. */
export function familyOf(afi: number, safi: number): AFI_SAFI | undefined {
  if (safi !== 1) return undefined;
  return afi === 1 ? 'ipv4-unicast' : afi === 2 ? 'ipv6-unicast' : undefined;
}

/** The value for OpenMessage.myAS: the ASN itself if it fits in 2 bytes, else AS_TRANS (RFC 6793 §4.1). */
export function twoOctetAS(asn: number): number {
  return asn <= 0xffff ? asn : AS_TRANS;
}

// ---------------------------------------------------------------------------------------
// NOTIFICATION error codes and subcodes (RFC 4271 §4.5, §6; RFC 4486; RFC 5492; RFC 6608;
// RFC 7313). Subcode 0 is "Unspecific" for every code.

export const ERROR = { messageHeader: 1, open: 2, update: 3, holdTimerExpired: 4, fsm: 5, cease: 6, routeRefresh: 7 } as const;

export const MESSAGE_HEADER_SUBCODE = { connectionNotSynchronized: 1, badMessageLength: 2, badMessageType: 3 } as const;

export const OPEN_SUBCODE = {
  unsupportedVersionNumber: 1,
  badPeerAS: 2,
  badBGPIdentifier: 3,
  unsupportedOptionalParameter: 4,
  // 5 (Authentication Failure) is deprecated.
  unacceptableHoldTime: 6,
  unsupportedCapability: 7, // RFC 5492
  roleMismatch: 11, // RFC 9234
} as const;

export const UPDATE_SUBCODE = {
  malformedAttributeList: 1,
  unrecognizedWellKnownAttribute: 2,
  missingWellKnownAttribute: 3,
  attributeFlagsError: 4,
  attributeLengthError: 5,
  invalidOriginAttribute: 6,
  // 7 (AS Routing Loop) is deprecated.
  invalidNextHopAttribute: 8,
  optionalAttributeError: 9,
  invalidNetworkField: 10,
  malformedASPath: 11,
} as const;

/** RFC 6608. */
export const FSM_SUBCODE = { unexpectedMessageInOpenSent: 1, unexpectedMessageInOpenConfirm: 2, unexpectedMessageInEstablished: 3 } as const;

/** RFC 4486 (1-8), RFC 8538 (9), RFC 9384 (10). */
export const CEASE_SUBCODE = {
  maximumPrefixesReached: 1,
  administrativeShutdown: 2,
  peerDeconfigured: 3,
  administrativeReset: 4,
  connectionRejected: 5,
  otherConfigurationChange: 6,
  connectionCollisionResolution: 7,
  outOfResources: 8,
  hardReset: 9,
  bfdDown: 10,
} as const;

/** RFC 7313. */
export const ROUTE_REFRESH_SUBCODE = { invalidMessageLength: 1 } as const;

const ERROR_NAMES: Readonly<Record<number, readonly [string, Readonly<Record<number, string>>]>> = {
  1: ['Message Header Error', { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' }],
  2: [
    'OPEN Message Error',
    {
      1: 'Unsupported Version Number',
      2: 'Bad Peer AS',
      3: 'Bad BGP Identifier',
      4: 'Unsupported Optional Parameter',
      5: 'Authentication Failure (deprecated)',
      6: 'Unacceptable Hold Time',
      7: 'Unsupported Capability',
      11: 'Role Mismatch',
    },
  ],
  3: [
    'UPDATE Message Error',
    {
      1: 'Malformed Attribute List',
      2: 'Unrecognized Well-known Attribute',
      3: 'Missing Well-known Attribute',
      4: 'Attribute Flags Error',
      5: 'Attribute Length Error',
      6: 'Invalid ORIGIN Attribute',
      7: 'AS Routing Loop (deprecated)',
      8: 'Invalid NEXT_HOP Attribute',
      9: 'Optional Attribute Error',
      10: 'Invalid Network Field',
      11: 'Malformed AS_PATH',
    },
  ],
  4: ['Hold Timer Expired', {}],
  5: [
    'Finite State Machine Error',
    {
      1: 'Receive Unexpected Message in OpenSent State',
      2: 'Receive Unexpected Message in OpenConfirm State',
      3: 'Receive Unexpected Message in Established State',
    },
  ],
  6: [
    'Cease',
    {
      1: 'Maximum Number of Prefixes Reached',
      2: 'Administrative Shutdown',
      3: 'Peer De-configured',
      4: 'Administrative Reset',
      5: 'Connection Rejected',
      6: 'Other Configuration Change',
      7: 'Connection Collision Resolution',
      8: 'Out of Resources',
      9: 'Hard Reset',
      10: 'BFD Down',
    },
  ],
  7: ['ROUTE-REFRESH Message Error', { 1: 'Invalid Message Length' }],
};

/**
 * "OPEN Message Error / Bad Peer AS". Subcode 0 (Unspecific) gives the code's name
 * alone ("Hold Timer Expired"); numbers nobody assigned are spelled out.
 */
export function describeNotification(code: number, subcode: number): string {
  const entry = ERROR_NAMES[code];
  if (entry === undefined) return `Unknown error code ${code} / subcode ${subcode}`;
  const [name, subcodes] = entry;
  if (subcode === 0) return name;
  return `${name} / ${subcodes[subcode] ?? `unknown subcode ${subcode}`}`;
}
