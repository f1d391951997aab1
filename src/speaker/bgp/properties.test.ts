// Property tests: random valid messages round-trip through encode/decode and through a
// MessageReader split anywhere; decode and MessageReader never throw, whatever the bytes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../net/ip.ts';
import { decode, MessageReader, type DecodeError } from './decode.ts';
import { encode } from './encode.ts';
import { FIXTURES } from './fixtures.test-support.ts';
import type { AFI_SAFI, BGPMessage, Capabilities, OpenMessage, PathAttributes, UpdateMessage } from './messages.ts';

// ---------------------------------------------------------------------------------------
// Arbitraries for valid messages, in the canonical form decode returns.

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.tuple(u16, u16).map(([hi, lo]) => hi * 0x10000 + lo);
const bytes = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));

const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIPv4(b));
/** IPv6 addresses with runs of zero groups, as real ones have. */
const ipv6Bytes = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.constantFrom(1, 0xdb8, 0x2001, 0xfe80), u16), { minLength: 8, maxLength: 8 }).map((words) => {
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, 2 * i));
  return b;
});
const ipv6 = ipv6Bytes.map((b) => formatIPv6(b));

function masked(address: Uint8Array, length: number): Uint8Array {
  const out = Uint8Array.from(address);
  for (let bit = length; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}
const prefix4 = fc
  .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 }))
  .map(([a, len]) => `${formatIPv4(masked(a, len))}/${len}`);
const prefix6 = fc.tuple(ipv6Bytes, fc.integer({ min: 0, max: 128 })).map(([a, len]) => `${formatIPv6(masked(a, len))}/${len}`);
const prefixes = (family: AFI_SAFI, minLength: number, maxLength: number): fc.Arbitrary<string[]> =>
  fc.array(family === 'ipv4-unicast' ? prefix4 : prefix6, { minLength, maxLength });

const family = fc.constantFrom<AFI_SAFI>('ipv4-unicast', 'ipv6-unicast');
const families = fc.shuffledSubarray<AFI_SAFI>(['ipv4-unicast', 'ipv6-unicast']);

const RESERVED_CAPABILITIES = new Set([1, 2, 64, 65]);
const capabilities: fc.Arbitrary<Capabilities> = fc.record(
  {
    multiprotocol: families,
    fourOctetAS: u32,
    routeRefresh: fc.boolean(),
    gracefulRestart: fc.record({ restartTime: fc.integer({ min: 0, max: 4095 }), restarting: fc.boolean(), families }),
    unknown: fc.array(fc.record({ code: u8.filter((c) => !RESERVED_CAPABILITIES.has(c)), value: bytes(20) }), { maxLength: 3 }),
  },
  { requiredKeys: ['multiprotocol', 'routeRefresh', 'unknown'] },
);

const open: fc.Arbitrary<OpenMessage> = fc.record({
  type: fc.constant('open' as const),
  version: fc.constant(4),
  myAS: u16,
  holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
  routerID: ipv4.filter((ip) => ip !== '0.0.0.0'),
  capabilities,
});

const RECOGNISED_ATTRIBUTES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 17, 18, 32]);
const asPath = fc.array(fc.record({ type: fc.constantFrom('sequence' as const, 'set' as const), asns: fc.array(u32, { minLength: 1, maxLength: 6 }) }), { maxLength: 3 });
/** Attributes other than the NLRI-carrying ones; may be absent, whatever the UPDATE. */
const optionalAttributes = {
  origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
  asPath,
  nextHop: ipv4,
  med: u32,
  localPref: u32,
  atomicAggregate: fc.constant(true),
  aggregator: fc.record({ asn: u32, address: ipv4 }),
  // Up to 80 communities (320 bytes) exercises the extended-length bit.
  communities: fc.array(u32, { minLength: 1, maxLength: 80 }),
  largeCommunities: fc.array(fc.record({ globalAdmin: u32, localData1: u32, localData2: u32 }), { minLength: 1, maxLength: 4 }),
  unknown: fc.uniqueArray(
    fc.record({ flags: fc.constantFrom(0xc0, 0xe0), code: u8.filter((c) => !RECOGNISED_ATTRIBUTES.has(c)), value: bytes(300) }),
    { minLength: 1, maxLength: 2, selector: (u) => u.code },
  ).map((list) => list.sort((x, y) => x.code - y.code)), // encode writes them in code order
};
const attributes = (required: readonly (keyof typeof optionalAttributes)[]): fc.Arbitrary<PathAttributes> =>
  fc.record(optionalAttributes, { requiredKeys: [...required] });

const nextHops = (f: AFI_SAFI): fc.Arbitrary<string[]> =>
  f === 'ipv6-unicast'
    ? fc.oneof(fc.tuple(ipv6), fc.tuple(ipv6, ipv6))
    : fc.oneof(fc.tuple(ipv4), fc.tuple(ipv6), fc.tuple(ipv6, ipv6));

const update: fc.Arbitrary<UpdateMessage> = fc.oneof(
  // IPv4 announcement.
  fc.record({ type: fc.constant('update' as const), withdrawn: fc.constant([]), attributes: attributes(['origin', 'asPath', 'nextHop']), nlri: prefixes('ipv4-unicast', 1, 30) }),
  // IPv4 withdrawal (attributes allowed, if pointless).
  fc.record({ type: fc.constant('update' as const), withdrawn: prefixes('ipv4-unicast', 1, 30), attributes: attributes([]), nlri: fc.constant([]) }),
  // Nothing: End-of-RIB, or attributes alone.
  fc.record({ type: fc.constant('update' as const), withdrawn: fc.constant([]), attributes: attributes([]), nlri: fc.constant([]) }),
  // MP_REACH_NLRI.
  family.chain((f) =>
    fc.record({
      type: fc.constant('update' as const),
      withdrawn: fc.constant([]),
      attributes: fc
        .tuple(attributes(['origin', 'asPath']), nextHops(f), prefixes(f, 0, 20))
        .map(([a, hops, p]): PathAttributes => ({ ...a, mpReach: { family: f, nextHops: hops, prefixes: p } })),
      nlri: fc.constant([]),
    }),
  ),
  // MP_UNREACH_NLRI.
  family.chain((f) =>
    fc.record({
      type: fc.constant('update' as const),
      withdrawn: fc.constant([]),
      attributes: fc.tuple(attributes([]), prefixes(f, 0, 20)).map(([a, p]): PathAttributes => ({ ...a, mpUnreach: { family: f, prefixes: p } })),
      nlri: fc.constant([]),
    }),
  ),
);

/** fc.record may build null-prototype objects; decode builds plain ones. */
function plain<T>(value: T): T {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plain) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])) as T;
}

const message: fc.Arbitrary<BGPMessage> = fc.oneof(
  open,
  update,
  fc.constant({ type: 'keepalive' as const }),
  fc.record({ type: fc.constant('notification' as const), code: u8, subcode: u8, data: bytes(64) }),
  fc.record({
    type: fc.constant('route-refresh' as const),
    family: fc.oneof(family, fc.record({ afi: u16, safi: u8 }).filter(({ afi, safi }) => !(safi === 1 && (afi === 1 || afi === 2)))),
  }),
).map(plain);

// ---------------------------------------------------------------------------------------
// What any decode result must look like.

const TYPES = new Set(['open', 'update', 'keepalive', 'notification', 'route-refresh', 'error']);

function assertWellFormed(result: BGPMessage | DecodeError): void {
  assert.ok(TYPES.has(result.type), result.type);
  if (result.type === 'error') {
    assert.ok(result.code >= 1 && result.code <= 7 && Number.isInteger(result.subcode), `${result.code}/${result.subcode}`);
    assert.ok(Buffer.isBuffer(result.data));
    assert.ok(result.reason.length > 0);
    assert.ok(!result.reason.startsWith('internal:'), result.reason);
    return;
  }
  if (result.type === 'update') {
    const canonical = (p: string, f: AFI_SAFI): void => {
      const [address, length] = p.split('/');
      const parsed = f === 'ipv4-unicast' ? parseIPv4(address!) : parseIPv6(address!);
      assert.ok(parsed, p);
      assert.equal(f === 'ipv4-unicast' ? formatIPv4(parsed) : formatIPv6(parsed), address, p);
      assert.equal(`${Number(length)}`, length, p);
    };
    for (const p of [...result.withdrawn, ...result.nlri]) canonical(p, 'ipv4-unicast');
    const { mpReach, mpUnreach } = result.attributes;
    for (const p of mpReach?.prefixes ?? []) canonical(p, mpReach!.family);
    for (const p of mpUnreach?.prefixes ?? []) canonical(p, mpUnreach!.family);
    for (const [key, value] of Object.entries(result.attributes)) assert.notEqual(value, undefined, key);
  }
}

/** decode, and then, if the result can be encoded, the re-encoding decodes to the same. */
function checkDecode(bytes: Buffer): void {
  const result = decode(bytes);
  assertWellFormed(result);
  if (result.type === 'error') return;
  let again: Buffer;
  try {
    again = encode(result);
  } catch (e) {
    // decode accepts a few things encode refuses to write (RFC 7606 §5.1 combinations,
    // non-canonical spellings of the same thing); anything else is a bug.
    assert.ok(e instanceof RangeError, String(e));
    return;
  }
  assert.deepEqual(decode(again), result);
}

describe('round trips', () => {
  it('decode(encode(m)) deep-equals m for random messages', () => {
    fc.assert(
      fc.property(message, (m) => {
        assert.deepEqual(decode(encode(m)), m);
      }),
      { numRuns: 3000 },
    );
  });

  it('encoded messages are within 19-4096 bytes with a correct header', () => {
    fc.assert(
      fc.property(message, (m) => {
        const b = encode(m);
        assert.ok(b.length >= 19 && b.length <= 4096);
        assert.equal(b.readUInt16BE(16), b.length);
        assert.ok(b.subarray(0, 16).every((x) => x === 0xff));
      }),
      { numRuns: 1000 },
    );
  });

  it('a MessageReader yields random messages back from a stream cut at random places', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map(encode));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const reader = new MessageReader();
        const got: (BGPMessage | DecodeError)[] = [];
        let from = 0;
        for (const to of [...points, stream.length]) {
          reader.push(stream.subarray(from, to));
          from = to;
          for (let m = reader.next(); m !== undefined; m = reader.next()) got.push(m);
        }
        assert.deepEqual(got, messages);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('decode never throws', () => {
  it('on random bytes', () => {
    fc.assert(fc.property(bytes(200), (b) => checkDecode(b)), { numRuns: 3000 });
  });

  it('on random bodies behind a valid header', () => {
    const framed = fc.tuple(fc.integer({ min: 0, max: 7 }), bytes(300)).map(([type, body]) => {
      const header = Buffer.alloc(19, 0xff);
      header.writeUInt16BE(19 + body.length, 16);
      header[18] = type;
      return Buffer.concat([header, body]);
    });
    fc.assert(fc.property(framed, (b) => checkDecode(b)), { numRuns: 5000 });
  });

  it('on random mutations of the fixtures (length field kept consistent or not)', () => {
    const mutation = fc.record({
      fixture: fc.constantFrom(...FIXTURES.map(([, b]) => b)),
      edits: fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 6 }),
      resize: fc.integer({ min: -20, max: 20 }),
      fixLength: fc.boolean(),
    });
    fc.assert(
      fc.property(mutation, ({ fixture, edits, resize, fixLength }) => {
        let b = Buffer.from(fixture);
        for (const [at, value] of edits) {
          const i = 16 + (at % (b.length - 16)); // keep the marker, mostly
          b[i] = value;
        }
        if (resize < 0) b = b.subarray(0, Math.max(0, b.length + resize));
        else b = Buffer.concat([b, Buffer.alloc(resize, 0x41)]);
        if (fixLength && b.length >= 19) b.writeUInt16BE(b.length, 16);
        checkDecode(b);
      }),
      { numRuns: 5000 },
    );
  });

  it('nor does a MessageReader fed random chunks', () => {
    const chunk = fc.oneof(bytes(40), fc.constantFrom(...FIXTURES.map(([, b]) => b)));
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 10 }), (chunks) => {
        const reader = new MessageReader();
        for (const c of chunks) {
          reader.push(c);
          for (let i = 0, m = reader.next(); m !== undefined && i < 50; i++, m = reader.next()) assertWellFormed(m);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
