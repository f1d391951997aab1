// Coverage-free fuzzing of every decoder that reads bytes from the network (issue 12
// item 6): BGP messages and path attributes, BFD control packets, ARP and NDP frames,
// and membership heartbeats. Inputs are the RFC-built fixtures (*.test-support.ts, and
// hand-written BFD packets here) mutated at random, structure-aware random messages,
// and plain random bytes, from a seeded generator so that every run is reproducible.
//
// A decoder passes when no input makes it throw, take "internal" paths (the catch-alls
// in decodeBody and parseFrame that turn a decoder bug into an error), or return an
// outcome that breaks its contract: for BGP, every DecodeError carries the action that
// RFC 4271 §6 / RFC 7606 prescribe for its code and subcode. Used by the fixed-seed unit
// test (decoders.test.ts) and the long run (bench/fuzz.ts, `npm run fuzz`).
import { createHmac } from 'node:crypto';
import { decode, ERROR_ACTIONS, MessageReader, type DecodeError, type ErrorAction } from '../../src/speaker/bgp/decode.ts';
import { FIXTURES as BGP_FIXTURES, OPEN_GRACEFUL_RESTART, UPDATE_MISC } from '../../src/speaker/bgp/fixtures.test-support.ts';
import { parseControl } from '../../src/speaker/bfd/packet.ts';
import { parseARP } from '../../src/speaker/l2/arp.ts';
import { parseNDP } from '../../src/speaker/l2/ndp.ts';
import { parseFrame } from '../../src/speaker/l2/frames.ts';
import * as L2 from '../../src/speaker/l2/fixtures.test-support.ts';
import { encodeHeartbeat, nameHash, parseHeartbeat } from '../../src/speaker/membership/heartbeat.ts';

// ---------------------------------------------------------------------------------
// Random source: xorshift128+, seeded; fast and reproducible.

export class Random {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  constructor(seed: number) {
    // splitmix32 to spread the seed over the state.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next() || 1;
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /** xoshiro128** step: a uniform 32-bit integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.#s1 << 9) >>> 0;
    this.#s2 = (this.#s2 ^ this.#s0) >>> 0;
    this.#s3 = (this.#s3 ^ this.#s1) >>> 0;
    this.#s1 = (this.#s1 ^ this.#s2) >>> 0;
    this.#s0 = (this.#s0 ^ this.#s3) >>> 0;
    this.#s2 = (this.#s2 ^ t) >>> 0;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** 0 <= n < max. */
  below(max: number): number {
    return max <= 1 ? 0 : this.u32() % max;
  }

  chance(p: number): boolean {
    return this.u32() < p * 0x100000000;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(Math.max(0, n));
    for (let i = 0; i < b.length; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

// ---------------------------------------------------------------------------------
// Mutations of a seed (byte-level, format-agnostic).

const INTERESTING_8 = [0x00, 0x01, 0x02, 0x03, 0x04, 0x7f, 0x80, 0xfe, 0xff, 0x10, 0x20, 0x40, 0x0e, 0x0f];
const INTERESTING_16 = [0x0000, 0x0001, 0x0002, 0x0003, 0x0013, 0x0017, 0x001d, 0x00ff, 0x0100, 0x0fff, 0x1000, 0x7fff, 0x8000, 0xfffe, 0xffff];

export function mutate(r: Random, seed: Buffer, others: readonly Buffer[]): Buffer {
  let b = Buffer.from(seed);
  const rounds = 1 + r.below(r.chance(0.2) ? 16 : 4);
  for (let i = 0; i < rounds; i++) {
    const at = r.below(b.length + 1);
    switch (r.below(11)) {
      case 0: // flip a bit
        if (b.length > 0) b[at % b.length]! ^= 1 << r.below(8);
        break;
      case 1: // a random byte
        if (b.length > 0) b[at % b.length] = r.u32() & 0xff;
        break;
      case 2: // an interesting byte
        if (b.length > 0) b[at % b.length] = r.pick(INTERESTING_8);
        break;
      case 3: // an interesting 16-bit value (lengths, counts)
        if (b.length > 1) b.writeUInt16BE(r.pick(INTERESTING_16), at % (b.length - 1));
        break;
      case 4: // a length field off by a little
        if (b.length > 1) {
          const p = at % (b.length - 1);
          b.writeUInt16BE((b.readUInt16BE(p) + r.pick([-2, -1, 1, 2, 4, 16])) & 0xffff, p);
        }
        break;
      case 5: // insert random bytes
        b = Buffer.concat([b.subarray(0, at), r.bytes(1 + r.below(r.chance(0.1) ? 300 : 8)), b.subarray(at)]);
        break;
      case 6: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + r.below(8)))]);
        break;
      case 7: // duplicate a range
        if (b.length > 0) {
          const from = r.below(b.length);
          const piece = b.subarray(from, from + 1 + r.below(24));
          b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
        }
        break;
      case 8: // truncate
        b = b.subarray(0, at);
        break;
      case 9: // splice with another seed
        if (others.length > 0) {
          const o = r.pick(others);
          const cut = r.below(o.length + 1);
          b = Buffer.concat([b.subarray(0, at), o.subarray(cut)]);
        }
        break;
      default: // extend with random bytes
        b = Buffer.concat([b, r.bytes(r.below(r.chance(0.05) ? 5000 : 32))]);
    }
  }
  return b;
}

// ---------------------------------------------------------------------------------
// Targets

export interface FuzzTarget {
  readonly name: string;
  /** One input: mutated fixture, structure-aware random, or random bytes. */
  generate(r: Random): Buffer;
  /** Decodes `input`; the outcome's kind for the tally; throws when the decoder broke its contract. */
  run(input: Buffer, r: Random): string;
}

/** How a decoder broke its contract (not a DecodeError: that is the decoder doing its job). */
export class ContractViolation extends Error {}

function violation(message: string): never {
  throw new ContractViolation(message);
}

function generic(r: Random, seeds: readonly Buffer[], maxRandom: number, structured: (r: Random) => Buffer, fix?: (b: Buffer, r: Random) => Buffer): Buffer {
  const roll = r.below(100);
  if (roll < 60) {
    const m = mutate(r, r.pick(seeds), seeds);
    return fix !== undefined && r.chance(0.7) ? fix(m, r) : m;
  }
  if (roll < 85) return structured(r);
  return r.bytes(r.below(maxRandom + 1));
}

// --- BGP ----------------------------------------------------------------------------

const MARKER = Buffer.alloc(16, 0xff);

/** Header length field set to the buffer's length (clamped to 16 bits), marker restored: the mutation reaches the body decoders. */
function fixBGPHeader(b: Buffer, r: Random): Buffer {
  if (b.length < 19) return b;
  const out = Buffer.from(b);
  if (r.chance(0.9)) MARKER.copy(out, 0);
  out.writeUInt16BE(Math.min(out.length, 0xffff), 16);
  // UPDATE: often fix the two inner lengths too, so attributes are reached.
  if (out[18] === 2 && out.length >= 23 && r.chance(0.6)) {
    const withdrawn = Math.min(out.readUInt16BE(19), out.length - 23);
    out.writeUInt16BE(withdrawn, 19);
    const attrs = out.length - 23 - withdrawn;
    if (r.chance(0.7)) out.writeUInt16BE(r.chance(0.8) ? attrs : r.below(attrs + 1), 21 + withdrawn);
  }
  return out;
}

const ATTRIBUTE_CODES = [1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17, 18, 32, 0, 99, 255];
const FLAG_CHOICES = [0x40, 0x80, 0xc0, 0x50, 0x90, 0xd0, 0xe0, 0x00, 0x10];

/** A random but well-framed path attribute: flags, a code worth trying, a value of a length the code cares about. */
function randomAttribute(r: Random): Buffer {
  const code = r.pick(ATTRIBUTE_CODES);
  let flags = r.chance(0.5) ? r.pick(FLAG_CHOICES) : r.u32() & 0xff;
  const length = r.chance(0.5) ? r.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 16, 24, 30]) : r.below(r.chance(0.05) ? 600 : 64);
  let value: Buffer;
  if (code === 14 && r.chance(0.7)) {
    // MP_REACH_NLRI: AFI/SAFI worth trying, a next hop length, reserved, NLRI.
    const hop = r.pick([0, 4, 16, 32, 5, 255]);
    value = Buffer.concat([Buffer.from([0, r.pick([1, 2, 25]), r.pick([1, 2, 4, 70, 128]), hop]), r.bytes(Math.min(hop, 40)), Buffer.from([0]), randomPrefixes(r, r.chance(0.5) ? 128 : 32)]);
  } else if (code === 15 && r.chance(0.7)) {
    value = Buffer.concat([Buffer.from([0, r.pick([1, 2]), r.pick([1, 2, 128])]), randomPrefixes(r, r.chance(0.5) ? 128 : 32)]);
  } else if (code === 2 && r.chance(0.7)) {
    const segments: Buffer[] = [];
    for (let i = r.below(4); i >= 0; i--) {
      const count = r.pick([0, 1, 2, 3, 255]);
      segments.push(Buffer.concat([Buffer.from([r.pick([0, 1, 2, 3, 4]), count]), r.bytes(Math.min(count, 4) * 4 + r.pick([0, 0, 0, 1, 2]))]));
    }
    value = Buffer.concat(segments);
  } else {
    value = r.bytes(length);
  }
  if (value.length > 255) flags |= 0x10;
  const extended = (flags & 0x10) !== 0;
  const header = extended ? Buffer.from([flags, code, value.length >> 8, value.length & 0xff]) : Buffer.from([flags, code, value.length & 0xff]);
  return Buffer.concat([header, value.subarray(0, extended ? 0xffff : 255)]);
}

function randomPrefixes(r: Random, max: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = r.below(4); i > 0; i--) {
    const length = r.chance(0.9) ? r.below(max + 1) : r.u32() & 0xff;
    parts.push(Buffer.concat([Buffer.from([length]), r.bytes(Math.ceil(Math.min(length, 255) / 8) - (r.chance(0.1) ? 1 : 0))]));
  }
  return Buffer.concat(parts);
}

function bgpMessage(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(19);
  MARKER.copy(header, 0);
  header.writeUInt16BE(Math.min(19 + body.length, 0xffff), 16);
  header[18] = type;
  return Buffer.concat([header, body]);
}

/** A well-framed UPDATE of random withdrawn routes, attributes and NLRI, or an OPEN of random capabilities. */
function structuredBGP(r: Random): Buffer {
  if (r.chance(0.75)) {
    const withdrawn = r.chance(0.3) ? randomPrefixes(r, 32) : Buffer.alloc(0);
    const attributes = Buffer.concat(Array.from({ length: r.below(7) }, () => randomAttribute(r)));
    const nlri = r.chance(0.6) ? randomPrefixes(r, 32) : Buffer.alloc(0);
    const lengths = (b: Buffer): Buffer => Buffer.from([(b.length >> 8) & 0xff, b.length & 0xff]);
    return bgpMessage(2, Buffer.concat([lengths(withdrawn), withdrawn, lengths(attributes), attributes, nlri]));
  }
  const caps: Buffer[] = [];
  for (let i = r.below(8); i > 0; i--) {
    const code = r.pick([1, 2, 64, 65, 69, 70, 71, 73, 0, 128, 255]);
    const value = r.bytes(r.pick([0, 1, 2, 4, 6, 8, 10, r.below(40)]));
    caps.push(Buffer.concat([Buffer.from([code, value.length]), value]));
  }
  const params: Buffer[] = [];
  while (caps.length > 0) {
    const some = caps.splice(0, 1 + r.below(3));
    const body = Buffer.concat(some);
    params.push(Buffer.concat([Buffer.from([r.chance(0.95) ? 2 : r.u32() & 0xff, body.length & 0xff]), body]));
  }
  const p = Buffer.concat(params);
  const fixed = Buffer.from([r.chance(0.95) ? 4 : r.u32() & 0xff, 0xfc, 0x00, 0, r.pick([0, 1, 2, 3, 90, 180]), 198, 18, 0, r.chance(0.95) ? 1 : 0, p.length & 0xff]);
  return bgpMessage(1, Buffer.concat([fixed, p]));
}

/**
 * The action RFC 4271 §6 / RFC 7606 allow for each UPDATE error subcode (code 3); every
 * header (1) and OPEN (2) error resets the session.
 */
const UPDATE_ACTIONS: Readonly<Record<number, readonly ErrorAction[]>> = {
  1: ['session-reset', 'treat-as-withdraw'], // Malformed Attribute List: lengths (reset), §3(g) (reset), §4 (treat-as-withdraw)
  2: ['session-reset'], // Unrecognized Well-known Attribute (RFC 4271 §6.3)
  3: ['treat-as-withdraw'], // Missing Well-known Attribute (RFC 7606 §3(d))
  4: ['treat-as-withdraw'], // Attribute Flags Error (§3(c))
  5: ['treat-as-withdraw', 'attribute-discard'], // Attribute Length Error (§7.x)
  6: ['treat-as-withdraw'], // Invalid ORIGIN (§7.1)
  9: ['afi-safi-disable', 'session-reset'], // Optional Attribute Error: MP_REACH/MP_UNREACH (§7.11, §5.3)
  10: ['session-reset'], // Invalid Network Field (§5.3)
  11: ['treat-as-withdraw'], // Malformed AS_PATH (§7.2)
};

/** Checks a DecodeError against the RFCs' table; the outcome kind. */
export function checkBGPError(e: DecodeError): string {
  if (!ERROR_ACTIONS.includes(e.action)) violation(`unknown action ${e.action}`);
  if (!/^RFC (4271|7606|8092) §/.test(e.rule)) violation(`rule "${e.rule}" names no RFC section`);
  if (e.reason.length === 0 || e.reason.startsWith('internal:')) violation(`decoder failure: ${e.reason}`);
  if (!(e.data instanceof Buffer)) violation('data is not a Buffer');
  const allowed = e.code === 1 || e.code === 2 ? (['session-reset'] as const) : e.code === 3 ? UPDATE_ACTIONS[e.subcode] : undefined;
  if (allowed === undefined) violation(`error ${e.code}/${e.subcode} is not a header, OPEN or UPDATE error RFC 4271 §6 defines`);
  if (!allowed.includes(e.action)) violation(`error ${e.code}/${e.subcode} (${e.reason}) has action ${e.action}; the RFCs allow ${allowed.join(' or ')}`);
  return `error ${e.action}`;
}

const BGP_SEEDS: readonly Buffer[] = [...BGP_FIXTURES.map(([, bytes]) => bytes), OPEN_GRACEFUL_RESTART, UPDATE_MISC];

export const bgp: FuzzTarget = {
  name: 'BGP messages and path attributes (decode, MessageReader)',
  generate: (r) => generic(r, BGP_SEEDS, 4200, structuredBGP, fixBGPHeader),
  run(input, r) {
    const result = decode(input);
    const kind = result.type === 'error' ? checkBGPError(result) : result.type;
    // The same bytes as a stream, cut anywhere: the reader never throws, and gives the
    // same first answer as decode when the input is exactly one message.
    const reader = new MessageReader();
    let first: ReturnType<MessageReader['next']>;
    let offset = 0;
    for (let guard = 0; guard < 64 && offset < input.length; guard++) {
      const cut = Math.min(input.length, offset + 1 + r.below(input.length));
      reader.push(input.subarray(offset, cut));
      offset = cut;
      for (let n = 0; n < 64; n++) {
        const next = reader.next();
        if (next === undefined) break;
        first ??= next;
        if (next.type === 'error') checkBGPError(next);
        if (next.type === 'error' && next.action === 'session-reset' && next.code === 1) break; // poisoned: the same error from now on
      }
    }
    const single = input.length >= 19 && input.readUInt16BE(16) === input.length;
    if (single && first !== undefined && (first.type !== result.type || (first.type === 'error' && result.type === 'error' && first.reason !== result.reason))) {
      violation(`MessageReader gave ${first.type} where decode gave ${result.type}`);
    }
    return kind;
  },
};

// --- BFD ----------------------------------------------------------------------------

/** RFC 5880 §4.1 control packets, written out: version 1, 24 bytes, no authentication. */
const BFD_SEEDS: readonly Buffer[] = [
  // Up, detect multiplier 3, my 0x11111111, your 0x22222222, 300 ms / 300 ms / no echo.
  Buffer.from('20c0031811111111222222220004 93e0 000493e0 00000000'.replace(/ /g, ''), 'hex'),
  // Down, diag 1 (detection time expired), your discriminator 0, 1 s slow start.
  Buffer.from('21400318 0000abcd 00000000 000f4240 000f4240 00000000'.replace(/ /g, ''), 'hex'),
  // Up with Poll (0x20) and Final (0x10) in turn.
  Buffer.from('20e0031811111111222222220004 93e0 000493e0 00000000'.replace(/ /g, ''), 'hex'),
  Buffer.from('20d0031811111111222222220004 93e0 000493e0 00000000'.replace(/ /g, ''), 'hex'),
];

export const bfd: FuzzTarget = {
  name: 'BFD control packets (parseControl)',
  generate: (r) =>
    generic(r, BFD_SEEDS, 64, (g) => {
      const b = g.bytes(24 + (g.chance(0.2) ? g.below(40) : 0));
      b[0] = (b[0]! & 0x1f) | (g.chance(0.9) ? 0x20 : b[0]! & 0xe0);
      if (g.chance(0.8)) b[3] = g.chance(0.8) ? b.length : g.below(256);
      if (g.chance(0.7)) b[1] = b[1]! & ~0x05;
      return b;
    }),
  run(input) {
    const result = parseControl(input);
    if (!result.ok) {
      if (result.reason.length === 0) violation('a rejection without a reason');
      return 'rejected';
    }
    const p = result.packet;
    if (p.detectMult === 0 || p.myDiscriminator === 0) violation('accepted a packet RFC 5880 §6.8.6 discards');
    return `accepted ${p.state}`;
  },
};

// --- ARP, NDP, frames ------------------------------------------------------------------

const ARP_SEEDS: readonly Buffer[] = [L2.ARP_REQUEST, L2.ARP_PROBE, L2.ARP_ANNOUNCEMENT, L2.ARP_REPLY, L2.GARP_REQUEST, L2.GARP_REPLY];
const NDP_SEEDS: readonly Buffer[] = [L2.NS, L2.DAD_NS_NONCE, L2.DAD_NS, L2.NA, L2.UNSOLICITED_NA, L2.NA_FROM_ROUTER];

function l2Outcome(m: { readonly type: string; readonly reason?: string }): string {
  if (m.type === 'ignored' || m.type === 'invalid') {
    if (!m.reason || m.reason.startsWith('internal:')) violation(`${m.type} without a proper reason: ${m.reason}`);
  }
  return m.type;
}

/** After mutating an NDP frame, make its IPv6 payload length and ICMPv6 checksum right half the time, so the options are reached. */
function fixNDP(b: Buffer, r: Random): Buffer {
  if (b.length < L2.ICMP_OFFSET + 4) return b;
  const out = Buffer.from(b);
  if (r.chance(0.5)) out.writeUInt16BE(out.length - L2.ICMP_OFFSET, 14 + 4);
  const payload = out.readUInt16BE(14 + 4);
  if (L2.ICMP_OFFSET + payload > out.length) return out;
  out.writeUInt16BE(0, L2.ICMP_OFFSET + 2);
  out.writeUInt16BE(L2.rfc1071(L2.pseudoHeaderAndMessage(out)), L2.ICMP_OFFSET + 2);
  return out;
}

function structuredNDP(r: Random): Buffer {
  const base = Buffer.from(r.pick(NDP_SEEDS).subarray(0, L2.ICMP_OFFSET + 24));
  const options: Buffer[] = [];
  for (let i = r.below(5); i > 0; i--) {
    const units = r.pick([0, 1, 1, 1, 2, 255]);
    options.push(Buffer.concat([Buffer.from([r.pick([1, 2, 3, 5, 14, 0, 255]), units]), r.bytes(Math.max(0, Math.min(units, 4) * 8 - 2 + r.pick([0, 0, -1, 1])))]));
  }
  const frame = Buffer.concat([base, ...options]);
  frame[L2.ICMP_OFFSET] = r.chance(0.9) ? r.pick([135, 136]) : r.u32() & 0xff;
  if (r.chance(0.3)) frame[L2.ICMP_OFFSET + 1] = r.u32() & 0xff; // code
  if (r.chance(0.2)) frame[L2.IPV6_HOP_LIMIT_OFFSET] = r.u32() & 0xff;
  if (r.chance(0.2)) r.bytes(16).copy(frame, 14 + 8); // source
  if (r.chance(0.2)) r.bytes(16).copy(frame, 14 + 24); // destination
  frame.writeUInt16BE(frame.length - L2.ICMP_OFFSET, 14 + 4);
  return r.chance(0.8) ? fixNDP(frame, r) : frame;
}

function structuredARP(r: Random): Buffer {
  const b = Buffer.from(r.pick(ARP_SEEDS));
  r.bytes(28).copy(b, 14);
  if (r.chance(0.7)) b.writeUInt16BE(1, 14); // hardware type Ethernet
  if (r.chance(0.7)) b.writeUInt16BE(0x0800, 16);
  if (r.chance(0.7)) b[18] = 6;
  if (r.chance(0.7)) b[19] = 4;
  if (r.chance(0.7)) b.writeUInt16BE(r.pick([1, 2]), 20);
  return b.subarray(0, r.chance(0.8) ? b.length : r.below(b.length + 1));
}

export const arp: FuzzTarget = {
  name: 'ARP frames (parseARP)',
  generate: (r) => generic(r, ARP_SEEDS, 80, structuredARP),
  run: (input) => l2Outcome(parseARP(input)),
};

export const ndp: FuzzTarget = {
  name: 'NDP frames (parseNDP)',
  generate: (r) => generic(r, NDP_SEEDS, 200, structuredNDP, fixNDP),
  run: (input) => l2Outcome(parseNDP(input)),
};

export const frames: FuzzTarget = {
  name: 'Ethernet frames (parseFrame: ARP, NDP, VLAN, others)',
  generate: (r) =>
    generic(r, [...ARP_SEEDS, ...NDP_SEEDS], 200, (g) => {
      const b = g.chance(0.5) ? structuredARP(g) : structuredNDP(g);
      if (b.length >= 14 && g.chance(0.2)) b.writeUInt16BE(g.pick([0x8100, 0x88a8, 0x9100, 0x0800, 0x0100, 0x05ff, 0x0600]), 12);
      return b;
    }, (b, g) => (b.length > 14 && b.readUInt16BE(12) === 0x86dd ? fixNDP(b, g) : b)),
  run: (input) => l2Outcome(parseFrame(input)),
};

// --- Membership heartbeats ---------------------------------------------------------------

const HEARTBEAT_KEY = Buffer.from('fuzzing-key-0123456789abcdef');
const HEARTBEATS: readonly Buffer[] = [
  encodeHeartbeat({ type: 'alive', node: 'node-1', incarnation: 1n, sequence: 7 }),
  encodeHeartbeat({ type: 'leaving', node: 'kind-worker2', incarnation: 0x0123456789abcdefn, sequence: 0xffffffff }),
  encodeHeartbeat({
    type: 'alive',
    node: 'node-2',
    incarnation: 5n,
    sequence: 1,
    reports: [
      { hash: nameHash('node-1'), incarnation: 1n, age: 40 },
      { hash: nameHash('node-3'), incarnation: 9n, age: 65535 },
    ],
  }),
];
const SIGNED_HEARTBEATS: readonly Buffer[] = HEARTBEATS.map((_, i) =>
  encodeHeartbeat(
    i === 0
      ? { type: 'alive', node: 'node-1', incarnation: 1n, sequence: 7 }
      : { type: 'alive', node: 'node-2', incarnation: 5n, sequence: 1, reports: [{ hash: nameHash('node-1'), incarnation: 1n, age: 40 }] },
    HEARTBEAT_KEY,
  ),
);

export const heartbeat: FuzzTarget = {
  name: 'membership heartbeats (parseHeartbeat, with and without a key)',
  generate: (r) =>
    generic(r, [...HEARTBEATS, ...SIGNED_HEARTBEATS], 300, (g) => {
      // A plausible header with a random tail: magic, a version, a type, random rest.
      const b = g.bytes(18 + g.below(g.chance(0.1) ? 1200 : 80));
      Buffer.from('FLB').copy(b, 0);
      b[3] = g.pick([1, 2, 3, 0]);
      b[4] = g.pick([1, 2, 0, 3]);
      b[17] = g.below(Math.max(1, b.length - 18));
      return b;
    }),
  run(input, r) {
    const key = r.chance(0.3) ? HEARTBEAT_KEY : undefined;
    // Half of the keyed inputs get a correct MAC over their first bytes, so that a
    // mutated body also reaches the parser behind the authentication check.
    const datagram = key !== undefined && input.length > 32 && r.chance(0.5) ? Buffer.concat([input.subarray(0, input.length - 32), createHmac('sha256', key).update(input.subarray(0, input.length - 32)).digest()]) : input;
    const result = parseHeartbeat(datagram, key);
    if (!result.ok) {
      if (result.reason.length === 0) violation('a rejection without a reason');
      return key ? 'rejected (keyed)' : 'rejected';
    }
    if (result.heartbeat.node.length === 0) violation('accepted an empty node name');
    return key ? `accepted ${result.heartbeat.type} (keyed)` : `accepted ${result.heartbeat.type}`;
  },
};

export const TARGETS: readonly FuzzTarget[] = [bgp, bfd, arp, ndp, frames, heartbeat];

// ---------------------------------------------------------------------------------
// The run

export interface FuzzReport {
  readonly name: string;
  readonly inputs: number;
  readonly seconds: number;
  /** Outcome kind -> count. */
  readonly outcomes: ReadonlyMap<string, number>;
  /** Inputs that made the decoder throw or break its contract (first few, hex). */
  readonly failures: readonly { readonly input: string; readonly error: string }[];
  readonly failureCount: number;
  /** The slowest single input, microseconds (a decoder that is quadratic somewhere shows here). */
  readonly slowestMicros: number;
  readonly largestInput: number;
}

/** Inputs before the slowest-input figure counts (the JIT compiles the decoders meanwhile). */
const WARM_UP = 2000;

export function fuzz(target: FuzzTarget, inputs: number, seed: number): FuzzReport {
  const r = new Random(seed);
  const outcomes = new Map<string, number>();
  const failures: { input: string; error: string }[] = [];
  let failureCount = 0;
  let slowest = 0;
  let largest = 0;
  const started = performance.now();
  for (let i = 0; i < inputs; i++) {
    const input = target.generate(r);
    if (input.length > largest) largest = input.length;
    const t0 = performance.now();
    let kind: string;
    try {
      kind = target.run(input, r);
    } catch (e) {
      failureCount++;
      kind = e instanceof ContractViolation ? 'CONTRACT VIOLATION' : 'UNCAUGHT EXCEPTION';
      if (failures.length < 5) failures.push({ input: input.toString('hex'), error: `${kind}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` });
    }
    const micros = (performance.now() - t0) * 1000;
    if (micros > slowest && i >= WARM_UP) slowest = micros;
    outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
  }
  return { name: target.name, inputs, seconds: (performance.now() - started) / 1000, outcomes, failures, failureCount, slowestMicros: slowest, largestInput: largest };
}

export function formatReport(rep: FuzzReport): string {
  const kinds = [...rep.outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
  const lines = [
    `${rep.name}: ${rep.inputs} inputs in ${rep.seconds.toFixed(1)} s, ${rep.failureCount} failures (uncaught exceptions or contract violations); slowest input ${rep.slowestMicros.toFixed(0)} µs after the first ${WARM_UP}; largest ${rep.largestInput} bytes`,
    `  outcomes: ${kinds.join(', ')}`,
  ];
  for (const f of rep.failures) lines.push(`  FAILED on ${f.input.slice(0, 400)}\n    ${f.error.split('\n').slice(0, 4).join('\n    ')}`);
  return lines.join('\n');
}
