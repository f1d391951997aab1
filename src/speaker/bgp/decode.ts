// BGP-4 message parser: bytes in, typed messages out. Pure: no I/O, no clock.
//
// `MessageReader` frames a TCP byte stream into messages (taking exactly the bytes each
// message's header asks for); `decode` parses one whole message. Neither throws for any
// input: every problem becomes a `DecodeError`, which is the NOTIFICATION the session must
// send (code, subcode and the data field RFC 4271 §6 prescribes) plus a reason for logs.
//
// UPDATE error handling. RFC 7606 replaces many of RFC 4271's session resets with
// "treat-as-withdraw" or "attribute discard". Every DecodeError carries the action the
// RFCs prescribe for it (`action`, with the section in `rule`) and the RFC 4271 code and
// subcode for the NOTIFICATION a session reset sends. An UPDATE is parsed to its end
// after a treat-as-withdraw or attribute-discard error, so that a more severe error
// later in it (RFC 7606 §3: "unless some other, more severe error is encountered")
// decides: session reset > AFI/SAFI disable > treat-as-withdraw > attribute discard.
// Which of them the session applies is the session's business (machine.ts: received
// routes are not used, so the two mild ones keep the session up).
// Implemented from RFC 7606:
//   - §3(g): a repeated MP_REACH_NLRI/MP_UNREACH_NLRI is Malformed Attribute List; any
//     other repeated attribute is discarded after its first occurrence;
//   - §3(c): only the Optional and Transitive flag bits are checked (Attribute Flags Error);
//   - §5.3: a prefix longer than the family allows, or overrunning its field, is an error
//     (Invalid Network Field for the Withdrawn Routes and NLRI fields; Optional Attribute
//     Error, RFC 4760 §7, inside MP_REACH/MP_UNREACH);
//   - §7.2: an AS_PATH segment with zero ASNs, an unknown segment type (confederation
//     segments included), an overrun or a one-byte underrun is Malformed AS_PATH;
//   - §7.8 and RFC 8092 §6: COMMUNITIES / LARGE_COMMUNITY must be a non-zero multiple of
//     4 / 12 bytes.
//   - treat-as-withdraw (§2, §3(c), §3(d), §4, §7.1-7.5, 7.8, RFC 8092 §6) for a
//     malformed ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES or
//     LARGE_COMMUNITY, an attribute overrunning the Total Path Attribute Length (the
//     NLRI is then found from that length), a missing well-known mandatory attribute,
//     or flag errors;
//   - attribute discard (§2, §7.6, 7.7) for a malformed ATOMIC_AGGREGATE or AGGREGATOR;
//   - AFI/SAFI disable (§5.3, §7.11) for a malformed MP_REACH/MP_UNREACH whose AFI and
//     SAFI can be read (session reset when they cannot);
//   - session reset for the rest: header and OPEN errors (RFC 4271 §6.1, 6.2), lengths
//     that leave the NLRI unlocatable and malformed Withdrawn Routes / NLRI fields
//     (§5.3), a repeated MP_REACH/MP_UNREACH (§3(g)), an unrecognised well-known
//     attribute (RFC 4271 §6.3).
// Not implemented:
//   - §7.5: discarding LOCAL_PREF received from an external peer (the codec does not know
//     the peer is external: the session's job);
//   - §5.2's "SHOULD ignore NEXT_HOP when there is no IPv4 NLRI" (it is simply reported).
// MP_REACH_NLRI / MP_UNREACH_NLRI for a family other than ipv4/ipv6-unicast (which we
// never negotiate) is skipped, not an error.
//
// AS_PATH and AGGREGATOR are decoded with 4-byte ASNs only: the session peers only with
// speakers that advertise capability 65 (RFC 6793), so AS4_PATH (17) and AS4_AGGREGATOR
// (18) are never needed, and are discarded if present (RFC 6793 §3).
//
// What is left to the session: Bad Peer AS (2/2), comparing the BGP Identifier with ours,
// requiring capabilities (see unsupportedCapability in encode.ts), hold-time policy beyond
// 1 and 2, NEXT_HOP semantics (RFC 4271 §5.1.3), FSM errors.

import { formatIPv4, formatIPv6 } from '../../net/ip.ts';
import {
  ATTRIBUTE,
  ATTRIBUTE_FLAG,
  BGP_VERSION,
  CAPABILITY,
  ERROR,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MESSAGE_HEADER_SUBCODE,
  MESSAGE_TYPE,
  OPEN_SUBCODE,
  OPTIONAL_PARAMETER_CAPABILITIES,
  UPDATE_SUBCODE,
  familyOf,
  type AFI_SAFI,
  type BGPMessage,
  type Capabilities,
  type NotificationMessage,
  type OpenMessage,
  type Origin,
  type PathAttributes,
  type RouteRefreshMessage,
  type UpdateMessage,
} from './messages.ts';
import { readPrefixes } from './prefix.ts';

/**
 * What RFC 4271 §6 and RFC 7606 §2 prescribe for a malformed message, mildest last:
 * - session-reset: send the NOTIFICATION (code, subcode, data) and close;
 * - afi-safi-disable: stop using that address family on the session (RFC 4760), or reset;
 * - treat-as-withdraw: the UPDATE's routes count as withdrawn; the session stays;
 * - attribute-discard: the attribute is dropped and the UPDATE is used without it.
 */
export type ErrorAction = 'session-reset' | 'afi-safi-disable' | 'treat-as-withdraw' | 'attribute-discard';

/** Most severe first. */
export const ERROR_ACTIONS: readonly ErrorAction[] = ['session-reset', 'afi-safi-disable', 'treat-as-withdraw', 'attribute-discard'];

/** A message that must not be accepted as it is: what to do about it, and the NOTIFICATION a reset sends. */
export interface DecodeError {
  readonly type: 'error';
  readonly action: ErrorAction;
  /** The section that prescribes `action`, e.g. "RFC 7606 §7.1". */
  readonly rule: string;
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  /** For logs: which field is wrong and how, e.g. "UPDATE: attribute ORIGIN has length 2, expected 1". */
  readonly reason: string;
}

/** The NOTIFICATION message for a DecodeError. */
export function toNotification(error: DecodeError): NotificationMessage {
  return { type: 'notification', code: error.code, subcode: error.subcode, data: error.data };
}

const EMPTY = Buffer.alloc(0);

/**
 * Accumulates the bytes of a TCP stream and returns the complete messages one by one.
 * A framing error (marker not all ones, length outside 19-4096 or wrong for the type,
 * unknown type) leaves the stream unframeable: the reader returns that error from then on
 * and drops further input. Any other error (a malformed OPEN or UPDATE) is returned once
 * and the reader goes on with the next message; the session closes anyway.
 */
export class MessageReader {
  #buffer: Buffer = EMPTY;
  #offset = 0;
  #poisoned: DecodeError | undefined;

  push(chunk: Buffer): void {
    if (this.#poisoned !== undefined || chunk.length === 0) return;
    // A copy: messages are parsed later, and the caller may reuse its buffer.
    this.#buffer = Buffer.concat([this.#buffer.subarray(this.#offset), chunk]);
    this.#offset = 0;
  }

  /** The next message, a DecodeError, or undefined until more bytes arrive. */
  next(): BGPMessage | DecodeError | undefined {
    if (this.#poisoned !== undefined) return this.#poisoned;
    if (this.#buffer.length - this.#offset < HEADER_LENGTH) return undefined;
    const header = readHeader(this.#buffer, this.#offset);
    if (header.type === 'error') {
      this.#poisoned = header;
      this.#buffer = EMPTY;
      this.#offset = 0;
      return header;
    }
    if (this.#buffer.length - this.#offset < header.length) return undefined;
    const message = this.#buffer.subarray(this.#offset, this.#offset + header.length);
    this.#offset += header.length;
    if (this.#offset === this.#buffer.length) {
      this.#buffer = EMPTY;
      this.#offset = 0;
    }
    return decodeBody(header.messageType, message);
  }

  /** Bytes received and not yet returned as a message. */
  get pending(): number {
    return this.#buffer.length - this.#offset;
  }
}

/** Decodes one whole message (header included); the buffer must be exactly the message. */
export function decode(message: Buffer): BGPMessage | DecodeError {
  if (message.length < HEADER_LENGTH) {
    return error(ERROR.messageHeader, MESSAGE_HEADER_SUBCODE.badMessageLength, EMPTY, `message header: ${message.length} bytes, shorter than the ${HEADER_LENGTH}-byte header`);
  }
  const header = readHeader(message, 0);
  if (header.type === 'error') return header;
  if (header.length !== message.length) {
    return error(ERROR.messageHeader, MESSAGE_HEADER_SUBCODE.badMessageLength, copy(message, 16, 18), `message header: length field ${header.length}, but the message has ${message.length} bytes`);
  }
  return decodeBody(header.messageType, message);
}

// ---------------------------------------------------------------------------------------
// Header (RFC 4271 §4.1, §6.1).

interface Header {
  readonly type: 'header';
  readonly length: number;
  readonly messageType: number;
}

const TYPE_NAMES: Readonly<Record<number, string>> = { 1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH' };

/** Smallest and largest length of each message type. */
const LENGTHS: Readonly<Record<number, readonly [number, number]>> = {
  [MESSAGE_TYPE.open]: [29, MAX_MESSAGE_LENGTH],
  [MESSAGE_TYPE.update]: [23, MAX_MESSAGE_LENGTH],
  [MESSAGE_TYPE.notification]: [21, MAX_MESSAGE_LENGTH],
  [MESSAGE_TYPE.keepalive]: [19, 19],
  // RFC 2918 §3: AFI, reserved, SAFI. Longer ones carry RFC 5291 ORF entries, which we
  // never negotiate, so they are a Bad Message Length like a long KEEPALIVE.
  [MESSAGE_TYPE.routeRefresh]: [23, 23],
};

/** Checks the 19 header bytes at `offset` (which must be there). */
function readHeader(buf: Buffer, offset: number): Header | DecodeError {
  for (let i = 0; i < 16; i++) {
    if (buf[offset + i] !== 0xff) {
      return error(ERROR.messageHeader, MESSAGE_HEADER_SUBCODE.connectionNotSynchronized, EMPTY, `message header: marker byte ${i} is 0x${buf[offset + i]!.toString(16)}, not 0xff`);
    }
  }
  const length = buf.readUInt16BE(offset + 16);
  const lengthField = copy(buf, offset + 16, offset + 18);
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    return error(ERROR.messageHeader, MESSAGE_HEADER_SUBCODE.badMessageLength, lengthField, `message header: length ${length}, must be ${HEADER_LENGTH}-${MAX_MESSAGE_LENGTH}`);
  }
  const messageType = buf[offset + 18]!;
  const bounds = LENGTHS[messageType];
  if (bounds === undefined) {
    return error(ERROR.messageHeader, MESSAGE_HEADER_SUBCODE.badMessageType, copy(buf, offset + 18, offset + 19), `message header: unknown message type ${messageType}`);
  }
  const [min, max] = bounds;
  if (length < min || length > max) {
    const expected = min === max ? `must be ${min}` : `must be at least ${min}`;
    return error(ERROR.messageHeader, MESSAGE_HEADER_SUBCODE.badMessageLength, lengthField, `${TYPE_NAMES[messageType]}: length ${length}, ${expected}`);
  }
  return { type: 'header', length, messageType };
}

// ---------------------------------------------------------------------------------------
// Bodies. Parsers throw Malformed to give up; decodeBody turns it into the DecodeError.

class Malformed extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  readonly action: ErrorAction;
  readonly rule: string;

  constructor(code: number, subcode: number, data: Buffer, reason: string, action: ErrorAction, rule: string) {
    super(reason);
    this.code = code;
    this.subcode = subcode;
    this.data = data;
    this.action = action;
    this.rule = rule;
  }
}

/** Gives up on the message: a session reset unless `action` says otherwise. */
function fail(code: number, subcode: number, data: Buffer, reason: string, action: ErrorAction = 'session-reset', rule = defaultRule(code)): never {
  throw new Malformed(code, subcode, data, reason, action, rule);
}

/**
 * The errors of one UPDATE that do not stop its parsing (treat-as-withdraw, attribute
 * discard, AFI/SAFI disable): the most severe one is kept (the first among equals) and
 * thrown once the whole message has been read.
 */
class UpdateErrors {
  worst: Malformed | undefined;

  note(e: Malformed): void {
    if (this.worst === undefined || ERROR_ACTIONS.indexOf(e.action) < ERROR_ACTIONS.indexOf(this.worst.action)) this.worst = e;
  }

  /** Runs `parse`, noting a mild error instead of stopping; a session reset is thrown on. */
  attempt(parse: () => void): void {
    try {
      parse();
    } catch (e) {
      if (!(e instanceof Malformed) || e.action === 'session-reset') throw e;
      this.note(e);
    }
  }
}

/** `message` is a whole message whose header readHeader accepted. */
function decodeBody(messageType: number, message: Buffer): BGPMessage | DecodeError {
  try {
    switch (messageType) {
      case MESSAGE_TYPE.open:
        return decodeOpen(message);
      case MESSAGE_TYPE.update:
        return decodeUpdate(message);
      case MESSAGE_TYPE.notification:
        return { type: 'notification', code: message[19]!, subcode: message[20]!, data: copy(message, 21, message.length) };
      case MESSAGE_TYPE.keepalive:
        return { type: 'keepalive' };
      default:
        return decodeRouteRefresh(message);
    }
  } catch (e) {
    if (e instanceof Malformed) return error(e.code, e.subcode, e.data, e.message, e.action, e.rule);
    // Unreachable by design (the property tests check it); here so that a decoder bug
    // costs one session reset, not the speaker.
    const code = messageType === MESSAGE_TYPE.open ? ERROR.open : messageType === MESSAGE_TYPE.update ? ERROR.update : ERROR.messageHeader;
    return error(code, 0, EMPTY, `internal: ${TYPE_NAMES[messageType]} decoder threw ${String(e)}`);
  }
}

function decodeRouteRefresh(message: Buffer): RouteRefreshMessage {
  // The byte between AFI and SAFI is Reserved (RFC 2918), ignored: we do not negotiate
  // RFC 7313 enhanced route refresh, whose subtypes it carries.
  const afi = message.readUInt16BE(19);
  const safi = message[22]!;
  return { type: 'route-refresh', family: familyOf(afi, safi) ?? { afi, safi } };
}

// ---------------------------------------------------------------------------------------
// OPEN (RFC 4271 §4.2, §6.2; RFC 5492).

function decodeOpen(m: Buffer): OpenMessage {
  const openError = (subcode: number, reason: string, data = EMPTY): never => fail(ERROR.open, subcode, data, `OPEN: ${reason}`);
  const version = m[19]!;
  if (version !== BGP_VERSION) {
    // Data: the largest version we support that is below the peer's bid, or else our
    // smallest; with only version 4 that is 4 either way.
    const data = Buffer.alloc(2);
    data.writeUInt16BE(BGP_VERSION);
    openError(OPEN_SUBCODE.unsupportedVersionNumber, `version ${version}, only ${BGP_VERSION} is supported`, data);
  }
  const myAS = m.readUInt16BE(20);
  const holdTime = m.readUInt16BE(22);
  if (holdTime === 1 || holdTime === 2) openError(OPEN_SUBCODE.unacceptableHoldTime, `hold time ${holdTime}, must be 0 or at least 3`);
  // RFC 6286 §2.1: any non-zero 32-bit value is a valid BGP Identifier.
  if (m.readUInt32BE(24) === 0) openError(OPEN_SUBCODE.badBGPIdentifier, 'BGP Identifier 0.0.0.0');
  const routerID = formatIPv4(m, 24);
  const paramsLength = m[28]!;
  if (29 + paramsLength !== m.length) {
    openError(0, `optional parameters length ${paramsLength}, but ${m.length - 29} bytes follow (RFC 9072 extended parameters are not supported)`);
  }

  const multiprotocol: AFI_SAFI[] = [];
  const unknown: { code: number; value: Buffer }[] = [];
  let routeRefresh = false;
  let fourOctetAS: number | undefined;
  let gracefulRestart: Capabilities['gracefulRestart'];
  let pos = 29;
  while (pos < m.length) {
    if (pos + 2 > m.length) openError(0, `optional parameter at byte ${pos} is cut short`);
    const paramType = m[pos]!;
    const paramEnd = pos + 2 + m[pos + 1]!;
    if (paramEnd > m.length) openError(0, `optional parameter ${paramType} length ${m[pos + 1]} overruns the parameters`);
    // RFC 4271 §6.2: no data. Type 1 (authentication) is deprecated (RFC 5492).
    if (paramType !== OPTIONAL_PARAMETER_CAPABILITIES) openError(OPEN_SUBCODE.unsupportedOptionalParameter, `optional parameter type ${paramType} is not supported`);
    // RFC 5492 §4: one parameter may hold several capabilities.
    for (let cap = pos + 2; cap < paramEnd; ) {
      if (cap + 2 > paramEnd) openError(0, `capability at byte ${cap} is cut short`);
      const code = m[cap]!;
      const length = m[cap + 1]!;
      const start = cap + 2;
      const end = start + length;
      if (end > paramEnd) openError(0, `capability ${code} length ${length} overruns its optional parameter`);
      const capLength = (expected: string, ok: boolean): void => {
        if (!ok) openError(0, `capability ${code} has length ${length}, expected ${expected}`);
      };
      switch (code) {
        case CAPABILITY.multiprotocol: {
          capLength('4', length === 4);
          // AFI (2), reserved (1), SAFI (1).
          const family = familyOf(m.readUInt16BE(start), m[start + 3]!);
          if (family === undefined) unknown.push({ code, value: copy(m, start, end) });
          else if (!multiprotocol.includes(family)) multiprotocol.push(family);
          break;
        }
        case CAPABILITY.routeRefresh:
          // Length must be 0; a value is ignored rather than fatal.
          routeRefresh = true;
          break;
        case CAPABILITY.fourOctetAS:
          capLength('4', length === 4);
          fourOctetAS ??= m.readUInt32BE(start);
          break;
        case CAPABILITY.gracefulRestart: {
          capLength('2 + 4n', length >= 2 && (length - 2) % 4 === 0);
          if (gracefulRestart !== undefined) break; // the first one counts
          const flagsAndTime = m.readUInt16BE(start);
          const families: AFI_SAFI[] = [];
          for (let f = start + 2; f < end; f += 4) {
            // AFI (2), SAFI (1), flags (1; the F bit is not kept).
            const family = familyOf(m.readUInt16BE(f), m[f + 2]!);
            if (family !== undefined && !families.includes(family)) families.push(family);
          }
          gracefulRestart = { restartTime: flagsAndTime & 0x0fff, restarting: (flagsAndTime & 0x8000) !== 0, families };
          break;
        }
        default:
          unknown.push({ code, value: copy(m, start, end) });
      }
      cap = end;
    }
    pos = paramEnd;
  }
  const capabilities: Capabilities = {
    multiprotocol,
    ...(fourOctetAS !== undefined ? { fourOctetAS } : {}),
    routeRefresh,
    ...(gracefulRestart !== undefined ? { gracefulRestart } : {}),
    unknown,
  };
  return { type: 'open', version, myAS, holdTime, routerID, capabilities };
}

// ---------------------------------------------------------------------------------------
// UPDATE (RFC 4271 §4.3, §6.3; RFC 4760; RFC 7606 as described at the top).

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ATTRIBUTE_NAMES: Readonly<Record<number, string>> = {
  1: 'ORIGIN',
  2: 'AS_PATH',
  3: 'NEXT_HOP',
  4: 'MULTI_EXIT_DISC',
  5: 'LOCAL_PREF',
  6: 'ATOMIC_AGGREGATE',
  7: 'AGGREGATOR',
  8: 'COMMUNITIES',
  14: 'MP_REACH_NLRI',
  15: 'MP_UNREACH_NLRI',
  17: 'AS4_PATH',
  18: 'AS4_AGGREGATOR',
  32: 'LARGE_COMMUNITY',
};

const WELL_KNOWN = ATTRIBUTE_FLAG.transitive;
const OPTIONAL_TRANSITIVE = ATTRIBUTE_FLAG.optional | ATTRIBUTE_FLAG.transitive;
const OPTIONAL_NON_TRANSITIVE = ATTRIBUTE_FLAG.optional;

/** Optional and Transitive bits each recognised attribute must have (RFC 4271 §5, RFC 4760, RFC 1997, RFC 8092). */
const EXPECTED_FLAGS: Readonly<Record<number, number>> = {
  [ATTRIBUTE.origin]: WELL_KNOWN,
  [ATTRIBUTE.asPath]: WELL_KNOWN,
  [ATTRIBUTE.nextHop]: WELL_KNOWN,
  [ATTRIBUTE.med]: OPTIONAL_NON_TRANSITIVE,
  [ATTRIBUTE.localPref]: WELL_KNOWN,
  [ATTRIBUTE.atomicAggregate]: WELL_KNOWN,
  [ATTRIBUTE.aggregator]: OPTIONAL_TRANSITIVE,
  [ATTRIBUTE.communities]: OPTIONAL_TRANSITIVE,
  [ATTRIBUTE.mpReach]: OPTIONAL_NON_TRANSITIVE,
  [ATTRIBUTE.mpUnreach]: OPTIONAL_NON_TRANSITIVE,
  [ATTRIBUTE.largeCommunity]: OPTIONAL_TRANSITIVE,
};

const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];

function decodeUpdate(m: Buffer): UpdateMessage {
  const end = m.length;
  let pos = HEADER_LENGTH;
  const withdrawnLength = m.readUInt16BE(pos);
  pos += 2;
  // RFC 4271 §6.3: lengths too large for the message are Malformed Attribute List; the
  // NLRI cannot be located, so RFC 7606 leaves no milder choice than a reset.
  if (pos + withdrawnLength + 2 > end) {
    fail(ERROR.update, UPDATE_SUBCODE.malformedAttributeList, EMPTY, `UPDATE: withdrawn routes length ${withdrawnLength} leaves no room for the total path attribute length (${end - pos} bytes left)`);
  }
  const withdrawn = networkField(m, pos, pos + withdrawnLength, 'withdrawn routes');
  pos += withdrawnLength;
  const attributesLength = m.readUInt16BE(pos);
  pos += 2;
  if (pos + attributesLength > end) {
    fail(ERROR.update, UPDATE_SUBCODE.malformedAttributeList, EMPTY, `UPDATE: total path attribute length ${attributesLength} overruns the message (${end - pos} bytes left)`);
  }
  const errors = new UpdateErrors();
  const attributes = decodeAttributes(m, pos, pos + attributesLength, errors);
  const nlri = networkField(m, pos + attributesLength, end, 'NLRI');

  // Well-known mandatory attributes (RFC 4271 §5, §6.3; RFC 4760 §3): ORIGIN and AS_PATH
  // whenever routes are announced; NEXT_HOP for routes in the NLRI field. Data: the code.
  // RFC 7606 §3(d): treat-as-withdraw.
  const required: number[] = [];
  if (nlri.length > 0 || attributes.mpReach !== undefined) required.push(ATTRIBUTE.origin, ATTRIBUTE.asPath);
  if (nlri.length > 0) required.push(ATTRIBUTE.nextHop);
  const present: Readonly<Record<number, unknown>> = { 1: attributes.origin, 2: attributes.asPath, 3: attributes.nextHop };
  for (const code of required) {
    if (present[code] === undefined) {
      errors.attempt(() =>
        fail(ERROR.update, UPDATE_SUBCODE.missingWellKnownAttribute, Buffer.from([code]), `UPDATE: announces routes without the ${ATTRIBUTE_NAMES[code]} attribute`, 'treat-as-withdraw', 'RFC 7606 §3(d)'),
      );
    }
  }
  if (errors.worst !== undefined) throw errors.worst;
  return { type: 'update', withdrawn, attributes, nlri };
}

/** The Withdrawn Routes or NLRI field: IPv4 prefixes. RFC 7606 §5.3: a malformed one resets the session. */
function networkField(m: Buffer, start: number, end: number, what: string): string[] {
  const prefixes = readPrefixes(m, start, end, 'ipv4-unicast');
  if (typeof prefixes === 'string') fail(ERROR.update, UPDATE_SUBCODE.invalidNetworkField, EMPTY, `UPDATE: ${what}: ${prefixes}`, 'session-reset', 'RFC 7606 §5.3');
  return prefixes;
}

/** RFC 7606 section of each recognised attribute's error handling, and its action. */
const ATTRIBUTE_RULES: Readonly<Record<number, readonly [ErrorAction, string]>> = {
  [ATTRIBUTE.origin]: ['treat-as-withdraw', 'RFC 7606 §7.1'],
  [ATTRIBUTE.asPath]: ['treat-as-withdraw', 'RFC 7606 §7.2'],
  [ATTRIBUTE.nextHop]: ['treat-as-withdraw', 'RFC 7606 §7.3'],
  [ATTRIBUTE.med]: ['treat-as-withdraw', 'RFC 7606 §7.4'],
  [ATTRIBUTE.localPref]: ['treat-as-withdraw', 'RFC 7606 §7.5'],
  [ATTRIBUTE.atomicAggregate]: ['attribute-discard', 'RFC 7606 §7.6'],
  [ATTRIBUTE.aggregator]: ['attribute-discard', 'RFC 7606 §7.7'],
  [ATTRIBUTE.communities]: ['treat-as-withdraw', 'RFC 7606 §7.8'],
  [ATTRIBUTE.largeCommunity]: ['treat-as-withdraw', 'RFC 8092 §6'],
  [ATTRIBUTE.mpReach]: ['afi-safi-disable', 'RFC 7606 §7.11'],
  [ATTRIBUTE.mpUnreach]: ['afi-safi-disable', 'RFC 7606 §5.3'],
};

function decodeAttributes(m: Buffer, start: number, end: number, errors: UpdateErrors): PathAttributes {
  const a: Mutable<PathAttributes> = {};
  const unknown: { flags: number; code: number; value: Buffer }[] = [];
  const seen = new Set<number>();
  let pos = start;
  while (pos < end) {
    // Flags, type code, and a 1- or 2-byte length (RFC 4271 §4.3).
    const flags = m[pos]!;
    const headerLength = flags & ATTRIBUTE_FLAG.extendedLength ? 4 : 3;
    // RFC 7606 §4: an attribute cut short or overrunning the Total Path Attribute Length
    // is treat-as-withdraw; the attributes after it cannot be found, the NLRI can.
    if (pos + headerLength > end) {
      errors.attempt(() =>
        fail(ERROR.update, UPDATE_SUBCODE.malformedAttributeList, EMPTY, `UPDATE: attribute at byte ${pos - start} of the path attributes is cut short (${end - pos} bytes left)`, 'treat-as-withdraw', 'RFC 7606 §4'),
      );
      break;
    }
    const code = m[pos + 1]!;
    const length = headerLength === 4 ? m.readUInt16BE(pos + 2) : m[pos + 2]!;
    const name = ATTRIBUTE_NAMES[code] ?? `${code}`;
    const valueStart = pos + headerLength;
    const valueEnd = valueStart + length;
    if (valueEnd > end) {
      errors.attempt(() =>
        fail(ERROR.update, UPDATE_SUBCODE.malformedAttributeList, EMPTY, `UPDATE: attribute ${name} has length ${length}, overrunning the path attributes by ${valueEnd - end} bytes`, 'treat-as-withdraw', 'RFC 7606 §4'),
      );
      break;
    }
    pos = valueEnd;

    if (seen.has(code)) {
      // RFC 7606 §3(g).
      if (code === ATTRIBUTE.mpReach || code === ATTRIBUTE.mpUnreach) {
        fail(ERROR.update, UPDATE_SUBCODE.malformedAttributeList, EMPTY, `UPDATE: attribute ${name} appears twice`, 'session-reset', 'RFC 7606 §3(g)');
      }
      continue;
    }
    seen.add(code);
    errors.attempt(() => decodeAttribute(m, a, unknown, flags, code, name, headerLength, valueStart, valueEnd));
  }
  // In code order, as encode writes them (RFC 4271 §5: senders SHOULD order by code).
  if (unknown.length > 0) a.unknown = unknown.sort((x, y) => x.code - y.code);
  return a;
}

/** One attribute into `a` (or `unknown`); throws Malformed with the attribute's RFC 7606 action. */
function decodeAttribute(
  m: Buffer,
  a: Mutable<PathAttributes>,
  unknown: { flags: number; code: number; value: Buffer }[],
  flags: number,
  code: number,
  name: string,
  headerLength: number,
  valueStart: number,
  valueEnd: number,
): void {
  const length = valueEnd - valueStart;
  const [action, rule] = ATTRIBUTE_RULES[code] ?? (['session-reset', 'RFC 4271 §6.3'] as const);
  // The attribute as received, for the data field of most errors (RFC 4271 §6.3).
  const whole = (): Buffer => copy(m, valueStart - headerLength, valueEnd);
  const attributeError = (subcode: number, reason: string, how: ErrorAction = action, why: string = rule): never =>
    fail(ERROR.update, subcode, whole(), `UPDATE: attribute ${name} ${reason}`, how, why);
  const expectLength = (expected: number): void => {
    if (length !== expected) attributeError(UPDATE_SUBCODE.attributeLengthError, `has length ${length}, expected ${expected}`);
  };

  if (code === ATTRIBUTE.as4Path || code === ATTRIBUTE.as4Aggregator) return; // RFC 6793 §3, see top
  const expectedFlags = EXPECTED_FLAGS[code];
  if (expectedFlags === undefined) {
    if ((flags & ATTRIBUTE_FLAG.optional) === 0) attributeError(UPDATE_SUBCODE.unrecognizedWellKnownAttribute, 'is well-known but not recognised', 'session-reset', 'RFC 4271 §6.3');
    if (flags & ATTRIBUTE_FLAG.transitive) {
      unknown.push({ flags: flags & (OPTIONAL_TRANSITIVE | ATTRIBUTE_FLAG.partial), code, value: copy(m, valueStart, valueEnd) });
    }
    return; // unrecognised optional non-transitive: quietly ignored (RFC 4271 §5)
  }
  if ((flags & OPTIONAL_TRANSITIVE) !== expectedFlags) {
    attributeError(UPDATE_SUBCODE.attributeFlagsError, `has flags 0x${flags.toString(16)}, expected 0x${expectedFlags.toString(16)} (optional/transitive bits)`, 'treat-as-withdraw', 'RFC 7606 §3(c)');
  }

  switch (code) {
    case ATTRIBUTE.origin: {
      expectLength(1);
      const origin = ORIGINS[m[valueStart]!];
      if (origin === undefined) attributeError(UPDATE_SUBCODE.invalidOriginAttribute, `has value ${m[valueStart]}, not 0-2`);
      a.origin = origin;
      break;
    }
    case ATTRIBUTE.asPath:
      a.asPath = decodeASPath(m, valueStart, valueEnd);
      break;
    case ATTRIBUTE.nextHop:
      expectLength(4);
      a.nextHop = formatIPv4(m, valueStart);
      break;
    case ATTRIBUTE.med:
      expectLength(4);
      a.med = m.readUInt32BE(valueStart);
      break;
    case ATTRIBUTE.localPref:
      expectLength(4);
      a.localPref = m.readUInt32BE(valueStart);
      break;
    case ATTRIBUTE.atomicAggregate:
      expectLength(0);
      a.atomicAggregate = true;
      break;
    case ATTRIBUTE.aggregator:
      expectLength(8); // 4-byte ASN + IPv4 address (RFC 6793 §3)
      a.aggregator = { asn: m.readUInt32BE(valueStart), address: formatIPv4(m, valueStart + 4) };
      break;
    case ATTRIBUTE.communities: {
      if (length === 0 || length % 4 !== 0) attributeError(UPDATE_SUBCODE.attributeLengthError, `has length ${length}, expected a non-zero multiple of 4`);
      const communities: number[] = [];
      for (let i = valueStart; i < valueEnd; i += 4) communities.push(m.readUInt32BE(i));
      a.communities = communities;
      break;
    }
    case ATTRIBUTE.largeCommunity: {
      if (length === 0 || length % 12 !== 0) attributeError(UPDATE_SUBCODE.attributeLengthError, `has length ${length}, expected a non-zero multiple of 12`);
      const large: { globalAdmin: number; localData1: number; localData2: number }[] = [];
      for (let i = valueStart; i < valueEnd; i += 12) {
        large.push({ globalAdmin: m.readUInt32BE(i), localData1: m.readUInt32BE(i + 4), localData2: m.readUInt32BE(i + 8) });
      }
      a.largeCommunities = large;
      break;
    }
    case ATTRIBUTE.mpReach: {
      const reach = decodeMPReach(m, valueStart, valueEnd, attributeError);
      if (reach) a.mpReach = reach;
      break;
    }
    case ATTRIBUTE.mpUnreach: {
      const unreach = decodeMPUnreach(m, valueStart, valueEnd, attributeError);
      if (unreach) a.mpUnreach = unreach;
      break;
    }
  }
}

type AttributeError = (subcode: number, reason: string, how?: ErrorAction, why?: string) => never;

/**
 * MP_REACH_NLRI (RFC 4760 §3): AFI (2), SAFI (1), next hop length (1), next hop,
 * reserved (1), NLRI. RFC 4760 §7: errors are Optional Attribute Error. RFC 7606 §7.11:
 * AFI/SAFI disable when the AFI and SAFI can be read, else a reset. Undefined for a
 * family ferrolb never negotiates (skipped).
 */
function decodeMPReach(m: Buffer, valueStart: number, valueEnd: number, attributeError: AttributeError): PathAttributes['mpReach'] {
  const length = valueEnd - valueStart;
  const optionalError = (reason: string, how: ErrorAction = 'afi-safi-disable'): never => attributeError(UPDATE_SUBCODE.optionalAttributeError, reason, how);
  if (length < 5) optionalError(`has length ${length}, shorter than the 5 fixed bytes`, 'session-reset');
  const family = familyOf(m.readUInt16BE(valueStart), m[valueStart + 2]!);
  const hopLength = m[valueStart + 3]!;
  const nlriStart = valueStart + 4 + hopLength + 1;
  if (nlriStart > valueEnd) optionalError(`next hop length ${hopLength} overruns the attribute`);
  if (family === undefined) return undefined;
  const hops = valueStart + 4;
  let nextHops: string[];
  if (family === 'ipv4-unicast' && hopLength === 4) nextHops = [formatIPv4(m, hops)];
  else if (hopLength === 16) nextHops = [formatIPv6(m, hops)];
  else if (hopLength === 32) nextHops = [formatIPv6(m, hops), formatIPv6(m, hops + 16)];
  else nextHops = optionalError(`next hop length ${hopLength} is not valid for ${family}`);
  const prefixes = readPrefixes(m, nlriStart, valueEnd, family);
  if (typeof prefixes === 'string') optionalError(`NLRI: ${prefixes}`);
  return { family, nextHops, prefixes: prefixes as string[] };
}

/** MP_UNREACH_NLRI (RFC 4760 §4): AFI (2), SAFI (1), withdrawn routes. Undefined for a family never negotiated. */
function decodeMPUnreach(m: Buffer, valueStart: number, valueEnd: number, attributeError: AttributeError): PathAttributes['mpUnreach'] {
  const length = valueEnd - valueStart;
  if (length < 3) attributeError(UPDATE_SUBCODE.optionalAttributeError, `has length ${length}, shorter than the 3 fixed bytes`, 'session-reset');
  const family = familyOf(m.readUInt16BE(valueStart), m[valueStart + 2]!);
  if (family === undefined) return undefined;
  const prefixes = readPrefixes(m, valueStart + 3, valueEnd, family);
  if (typeof prefixes === 'string') attributeError(UPDATE_SUBCODE.optionalAttributeError, `withdrawn routes: ${prefixes}`);
  return { family, prefixes: prefixes as string[] };
}

/** AS_PATH with 4-byte ASNs: segments of type (1 set, 2 sequence), count, ASNs. */
function decodeASPath(m: Buffer, start: number, end: number): { type: 'sequence' | 'set'; asns: number[] }[] {
  const malformed = (reason: string): never => fail(ERROR.update, UPDATE_SUBCODE.malformedASPath, EMPTY, `UPDATE: AS_PATH ${reason}`, 'treat-as-withdraw', 'RFC 7606 §7.2');
  const segments: { type: 'sequence' | 'set'; asns: number[] }[] = [];
  let pos = start;
  while (pos < end) {
    if (pos + 2 > end) malformed(`has one stray byte after ${segments.length} segments`);
    const segmentType = m[pos]!;
    const count = m[pos + 1]!;
    if (segmentType !== 1 && segmentType !== 2) malformed(`segment ${segments.length} has type ${segmentType}, not 1 (set) or 2 (sequence)`);
    if (count === 0) malformed(`segment ${segments.length} is empty`);
    if (pos + 2 + 4 * count > end) malformed(`segment ${segments.length} of ${count} 4-byte ASNs overruns the attribute`);
    const asns: number[] = [];
    for (let i = 0; i < count; i++) asns.push(m.readUInt32BE(pos + 2 + 4 * i));
    segments.push({ type: segmentType === 1 ? 'set' : 'sequence', asns });
    pos += 2 + 4 * count;
  }
  return segments;
}

// ---------------------------------------------------------------------------------------

function error(code: number, subcode: number, data: Buffer, reason: string, action: ErrorAction = 'session-reset', rule = defaultRule(code)): DecodeError {
  return { type: 'error', action, rule, code, subcode, data, reason };
}

/** Where a session reset comes from, for the errors RFC 7606 leaves as RFC 4271 has them. */
function defaultRule(code: number): string {
  return code === ERROR.messageHeader ? 'RFC 4271 §6.1' : code === ERROR.open ? 'RFC 4271 §6.2' : 'RFC 4271 §6.3';
}

/** A copy, so that results never alias the reader's buffer. */
function copy(buf: Buffer, start: number, end: number): Buffer {
  return Buffer.from(buf.subarray(start, end));
}
