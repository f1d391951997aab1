// The encoder's refusals, the extended-length bit, and updatesFor's splitting.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIPv4, formatIPv6 } from '../../net/ip.ts';
import { decode } from './decode.ts';
import { encode, endOfRIB, updatesFor } from './encode.ts';
import { END_OF_RIB_IPV4, END_OF_RIB_IPV6, OPEN_MESSAGE, UPDATE_IPV4_MESSAGE } from './fixtures.test-support.ts';
import type { AFI_SAFI, OpenMessage, PathAttributes, UpdateMessage } from './messages.ts';

const ATTRS: PathAttributes = { origin: 'igp', asPath: [{ type: 'sequence', asns: [64512] }], nextHop: '198.18.0.11', communities: [0xfc000064] };
const ATTRS6: PathAttributes = { origin: 'igp', asPath: [{ type: 'sequence', asns: [64512] }], mpReach: { family: 'ipv6-unicast', nextHops: ['2001:db8:18::11'], prefixes: [] } };

function announce(nlri: string[], attributes: PathAttributes = ATTRS): UpdateMessage {
  return { type: 'update', withdrawn: [], attributes, nlri };
}

/** 198.18.x.y/32 for i = 0.. */
const hosts4 = (n: number): string[] => Array.from({ length: n }, (_, i) => `198.18.${i >> 8}.${i & 0xff}/32`);
/** 2001:db8:18::i+1/128 for i = 0.. */
const hosts6 = (n: number): string[] => Array.from({ length: n }, (_, i) => `2001:db8:18::${(i + 1).toString(16)}/128`);

describe('encode refuses what decode would reject (RangeError)', () => {
  const refuses = (what: string, f: () => unknown, message?: RegExp): void => {
    it(what, () => assert.throws(f, (e: unknown) => e instanceof RangeError && (message === undefined || message.test(e.message))));
  };
  const openWith = (o: Partial<OpenMessage>): OpenMessage => ({ ...(OPEN_MESSAGE as OpenMessage), ...o });

  refuses('host bits beyond the prefix length', () => encode(announce(['198.18.1.1/24'])), /host bits/);
  refuses('host bits in an IPv6 prefix', () => encode({ type: 'update', withdrawn: [], attributes: { mpUnreach: { family: 'ipv6-unicast', prefixes: ['2001:db8::1/64'] } }, nlri: [] }), /host bits/);
  refuses('an IPv6 prefix in the IPv4 NLRI field', () => encode(announce(['2001:db8::/32'])));
  refuses('a prefix length over 32', () => encode(announce(['198.18.1.0/33'])));
  refuses('a prefix length with a leading zero', () => encode(announce(['198.18.1.0/024'])));
  refuses('a prefix without a length', () => encode(announce(['198.18.1.0'])));
  refuses('a message over 4096 bytes', () => encode(announce(hosts4(1000))), /4096/);
  refuses('IPv4 NLRI without NEXT_HOP', () => encode(announce(['198.18.1.10/32'], { origin: 'igp', asPath: [] })), /nextHop/);
  refuses('MP_REACH_NLRI without ORIGIN', () => encode(announce([], { asPath: [], mpReach: { family: 'ipv6-unicast', nextHops: ['2001:db8::1'], prefixes: [] } })), /origin/);
  refuses('withdrawn and NLRI in one UPDATE (RFC 7606 §5.1)', () => encode({ ...announce(['198.18.1.10/32']), withdrawn: ['198.18.1.11/32'] }), /7606/);
  refuses('an empty AS_PATH segment', () => encode(announce(['198.18.1.10/32'], { ...ATTRS, asPath: [{ type: 'sequence', asns: [] }] })));
  refuses('an ASN over 32 bits', () => encode(announce(['198.18.1.10/32'], { ...ATTRS, asPath: [{ type: 'sequence', asns: [2 ** 32] }] })));
  refuses('a fractional MED', () => encode(announce(['198.18.1.10/32'], { ...ATTRS, med: 1.5 })));
  refuses('a recognised code in unknown', () => encode(announce(['198.18.1.10/32'], { ...ATTRS, unknown: [{ flags: 0xc0, code: 8, value: Buffer.alloc(4) }] })));
  refuses('a well-known flag in unknown', () => encode(announce(['198.18.1.10/32'], { ...ATTRS, unknown: [{ flags: 0x40, code: 99, value: Buffer.alloc(0) }] })));
  refuses('a bad NEXT_HOP', () => encode(announce(['198.18.1.10/32'], { ...ATTRS, nextHop: '198.18.0.256' })));
  refuses('an IPv4 next hop for IPv6', () => encode(announce([], { ...ATTRS6, mpReach: { family: 'ipv6-unicast', nextHops: ['198.18.0.11'], prefixes: [] } })));
  refuses('three next hops', () => encode(announce([], { ...ATTRS6, mpReach: { family: 'ipv6-unicast', nextHops: ['::1', '::2', '::3'], prefixes: [] } })));
  refuses('OPEN version 3', () => encode(openWith({ version: 3 })));
  refuses('OPEN hold time 2', () => encode(openWith({ holdTime: 2 })));
  refuses('OPEN routerID 0.0.0.0', () => encode(openWith({ routerID: '0.0.0.0' })));
  refuses('OPEN myAS over 65535', () => encode(openWith({ myAS: 4200000001 })), /twoOctetAS/);
  refuses('OPEN with a family twice', () => encode(openWith({ capabilities: { multiprotocol: ['ipv4-unicast', 'ipv4-unicast'], routeRefresh: false, unknown: [] } })));
  refuses('OPEN with capability 65 in unknown', () => encode(openWith({ capabilities: { multiprotocol: [], routeRefresh: false, unknown: [{ code: 65, value: Buffer.alloc(4) }] } })));
  refuses('OPEN with a restart time over 4095', () =>
    encode(openWith({ capabilities: { multiprotocol: [], routeRefresh: false, gracefulRestart: { restartTime: 4096, restarting: false, families: [] }, unknown: [] } })),
  );
  refuses('OPEN with parameters over 255 bytes', () =>
    encode(openWith({ capabilities: { multiprotocol: [], routeRefresh: false, unknown: [{ code: 200, value: Buffer.alloc(254) }] } })),
  );
  refuses('NOTIFICATION with code 256', () => encode({ type: 'notification', code: 256, subcode: 0, data: Buffer.alloc(0) }));
  refuses('NOTIFICATION data too long', () => encode({ type: 'notification', code: 6, subcode: 2, data: Buffer.alloc(4096 - 20) }));

  it('writes a message of exactly 4096 bytes', () => {
    const data = Buffer.alloc(4096 - 21);
    assert.equal(encode({ type: 'notification', code: 6, subcode: 0, data }).length, 4096);
  });
});

describe('encode details', () => {
  it('sets the extended-length bit for values over 255 bytes, and only then', () => {
    const communities = (n: number): PathAttributes => ({ ...ATTRS, communities: Array.from({ length: n }, (_, i) => i) });
    const at = (b: Buffer, code: number): number => b.indexOf(Buffer.from([code]), 23) - 1; // flags byte before the code
    const short = encode(announce(['198.18.1.10/32'], communities(63))); // 252 bytes
    assert.equal(short[at(short, 8)], 0xc0);
    const long = encode(announce(['198.18.1.10/32'], communities(64))); // 256 bytes
    const i = long.indexOf(Buffer.from('d0080100', 'hex'), 23); // flags 0xd0, code 8, length 0x0100
    assert.ok(i > 0, long.toString('hex'));
    assert.deepEqual((decode(long) as UpdateMessage).attributes.communities, communities(64).communities);
  });

  it('treats empty community lists as absent', () => {
    const b = encode(announce(['198.18.1.10/32'], { ...ATTRS, communities: [], largeCommunities: [] }));
    assert.deepEqual((decode(b) as UpdateMessage).attributes, { origin: 'igp', asPath: ATTRS.asPath, nextHop: '198.18.0.11' });
  });

  it('accepts any IPv6 spelling and decodes to the canonical one', () => {
    const b = encode(announce([], { ...ATTRS6, mpReach: { family: 'ipv6-unicast', nextHops: ['2001:DB8:18:0:0::11'], prefixes: ['2001:0db8:0018::/48'] } }));
    assert.deepEqual((decode(b) as UpdateMessage).attributes.mpReach, { family: 'ipv6-unicast', nextHops: ['2001:db8:18::11'], prefixes: ['2001:db8:18::/48'] });
  });

  it('writes MP attributes first, the others in type-code order', () => {
    const b = encode(announce([], { ...ATTRS6, med: 1, localPref: 2, largeCommunities: [{ globalAdmin: 1, localData1: 2, localData2: 3 }], unknown: [{ flags: 0xc0, code: 99, value: Buffer.alloc(0) }, { flags: 0xc0, code: 31, value: Buffer.alloc(0) }] }));
    const codes: number[] = [];
    for (let pos = 23; pos < b.length; ) {
      const extended = (b[pos]! & 0x10) !== 0;
      codes.push(b[pos + 1]!);
      pos += (extended ? 4 : 3) + (extended ? b.readUInt16BE(pos + 2) : b[pos + 2]!);
    }
    assert.deepEqual(codes, [14, 1, 2, 4, 5, 31, 32, 99]);
  });

  it('endOfRIB gives the RFC 4724 markers', () => {
    assert.deepEqual(encode(endOfRIB('ipv4-unicast')), END_OF_RIB_IPV4);
    assert.deepEqual(encode(endOfRIB('ipv6-unicast')), END_OF_RIB_IPV6);
  });

  it('keeps UPDATE_IPV4 as it is (sanity)', () => {
    assert.deepEqual(decode(encode(UPDATE_IPV4_MESSAGE)), UPDATE_IPV4_MESSAGE);
  });
});

/** Each message ≤ 4096 bytes and decodes back; prefixes in order; each message but the last is full. */
function checkSplit(messages: UpdateMessage[], input: readonly string[], prefixesOf: (m: UpdateMessage) => readonly string[], grow: (m: UpdateMessage, p: string) => UpdateMessage, next: readonly string[]): void {
  const out: string[] = [];
  messages.forEach((m, i) => {
    const b = encode(m);
    assert.ok(b.length <= 4096, `message ${i} is ${b.length} bytes`);
    assert.deepEqual(decode(b), m);
    out.push(...prefixesOf(m));
    // As few messages as possible: the next prefix would not have fitted.
    if (i < messages.length - 1) {
      assert.throws(() => encode(grow(m, next[out.length]!)), RangeError, `message ${i} had room for one more`);
    }
  });
  assert.deepEqual(out, input);
}

describe('updatesFor', () => {
  it('splits 2000 IPv4 /32 announcements into full UPDATEs of at most 4096 bytes whose NLRI union is the input', () => {
    const input = hosts4(2000);
    const messages = updatesFor(input, ATTRS, 'ipv4-unicast');
    assert.equal(messages.length, 3); // (4096 - 23 - 34 attribute bytes) / 5 = 807 per message
    for (const m of messages) assert.deepEqual(m.attributes, ATTRS);
    checkSplit(messages, input, (m) => m.nlri, (m, p) => ({ ...m, nlri: [...m.nlri, p] }), input);
    assert.deepEqual(new Set(messages.flatMap((m) => m.nlri)), new Set(input));
  });

  it('splits 2000 IPv6 /128 announcements (extended-length MP_REACH_NLRI) the same way', () => {
    const input = hosts6(2000);
    const messages = updatesFor(input, { ...ATTRS6, nextHop: '198.18.0.11', communities: [1] }, 'ipv6-unicast');
    assert.ok(messages.length >= 9);
    for (const m of messages) {
      assert.equal(m.attributes.nextHop, undefined); // left out for IPv6 (RFC 4760 §3)
      assert.deepEqual(m.attributes.communities, [1]);
      assert.equal(m.attributes.mpReach?.nextHops[0], '2001:db8:18::11');
    }
    const grow = (m: UpdateMessage, p: string): UpdateMessage => ({ ...m, attributes: { ...m.attributes, mpReach: { ...m.attributes.mpReach!, prefixes: [...m.attributes.mpReach!.prefixes, p] } } });
    checkSplit(messages, input, (m) => m.attributes.mpReach!.prefixes, grow, input);
  });

  it('splits withdrawals: the Withdrawn Routes field for IPv4, MP_UNREACH_NLRI for IPv6', () => {
    const v4 = hosts4(2000);
    const w4 = updatesFor(v4, 'withdraw', 'ipv4-unicast');
    for (const m of w4) assert.deepEqual({ ...m, withdrawn: [] }, { type: 'update', withdrawn: [], attributes: {}, nlri: [] });
    checkSplit(w4, v4, (m) => m.withdrawn, (m, p) => ({ ...m, withdrawn: [...m.withdrawn, p] }), v4);
    assert.equal(w4.length, 3); // (4096 - 23) / 5 = 814 per message

    const v6 = hosts6(2000);
    const w6 = updatesFor(v6, 'withdraw', 'ipv6-unicast');
    const grow = (m: UpdateMessage, p: string): UpdateMessage => ({ ...m, attributes: { mpUnreach: { family: 'ipv6-unicast', prefixes: [...m.attributes.mpUnreach!.prefixes, p] } } });
    checkSplit(w6, v6, (m) => m.attributes.mpUnreach!.prefixes, grow, v6);
  });

  it('fills UPDATEs exactly for random prefix lists of either family', () => {
    const prefix = (f: AFI_SAFI): fc.Arbitrary<string> =>
      f === 'ipv4-unicast'
        ? fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 })).map(([a, len]) => {
            for (let bit = len; bit < 32; bit++) a[bit >> 3]! &= ~(0x80 >> (bit & 7));
            return `${formatIPv4(a)}/${len}`;
          })
        : fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 })).map(([a, len]) => {
            for (let bit = len; bit < 128; bit++) a[bit >> 3]! &= ~(0x80 >> (bit & 7));
            return `${formatIPv6(a)}/${len}`;
          });
    const input = fc.constantFrom<AFI_SAFI>('ipv4-unicast', 'ipv6-unicast').chain((f) => fc.tuple(fc.constant(f), fc.array(prefix(f), { maxLength: 800 }), fc.boolean()));
    fc.assert(
      fc.property(input, ([family, prefixes, withdraw]) => {
        const attrs = family === 'ipv4-unicast' ? ATTRS : ATTRS6;
        const messages = updatesFor(prefixes, withdraw ? 'withdraw' : attrs, family);
        if (prefixes.length === 0) return assert.deepEqual(messages, []);
        const of = (m: UpdateMessage): readonly string[] => m.attributes.mpReach?.prefixes ?? m.attributes.mpUnreach?.prefixes ?? (withdraw ? m.withdrawn : m.nlri);
        const grow = (m: UpdateMessage, p: string): UpdateMessage => {
          const { mpReach, mpUnreach } = m.attributes;
          if (mpReach) return { ...m, attributes: { ...m.attributes, mpReach: { ...mpReach, prefixes: [...mpReach.prefixes, p] } } };
          if (mpUnreach) return { ...m, attributes: { mpUnreach: { ...mpUnreach, prefixes: [...mpUnreach.prefixes, p] } } };
          return withdraw ? { ...m, withdrawn: [...m.withdrawn, p] } : { ...m, nlri: [...m.nlri, p] };
        };
        checkSplit(messages, prefixes, of, grow, prefixes);
      }),
      { numRuns: 150 },
    );
  });

  it('gives nothing for no prefixes, and refuses bad input', () => {
    assert.deepEqual(updatesFor([], ATTRS, 'ipv4-unicast'), []);
    assert.throws(() => updatesFor(['198.18.1.1/24'], ATTRS, 'ipv4-unicast'), RangeError);
    assert.throws(() => updatesFor(['2001:db8::/64'], ATTRS, 'ipv6-unicast'), /mpReach/);
    assert.throws(() => updatesFor(['198.18.1.0/24'], ATTRS6, 'ipv4-unicast'), /mpReach/);
    assert.throws(() => updatesFor(['198.18.1.0/24'], { origin: 'igp', asPath: [] }, 'ipv4-unicast'), /nextHop/);
    const huge: PathAttributes = { ...ATTRS, unknown: [{ flags: 0xc0, code: 99, value: Buffer.alloc(4040) }] };
    assert.throws(() => updatesFor(['198.18.1.0/24'], huge, 'ipv4-unicast'), /no room/);
  });
});

describe('graceful restart capability (RFC 4724 3)', () => {
  it('sets the R bit, the restart time and, per family, the F bit when forwarding is preserved', () => {
    const withF = encode({ ...(OPEN_MESSAGE as OpenMessage), capabilities: { multiprotocol: [], routeRefresh: false, gracefulRestart: { restartTime: 120, restarting: true, families: ['ipv4-unicast', 'ipv6-unicast'], forwardingPreserved: true }, unknown: [] } });
    // code 64, length 2 + 2 x 4: R bit and 120 (0x8078), then AFI 1 SAFI 1 F, AFI 2 SAFI 1 F.
    const gr = Buffer.from([64, 10, 0x80, 120, 0, 1, 1, 0x80, 0, 2, 1, 0x80]);
    assert.ok(withF.includes(gr), withF.toString('hex'));
    const withoutF = encode({ ...(OPEN_MESSAGE as OpenMessage), capabilities: { multiprotocol: [], routeRefresh: false, gracefulRestart: { restartTime: 120, restarting: false, families: ['ipv4-unicast'] }, unknown: [] } });
    assert.ok(withoutF.includes(Buffer.from([64, 6, 0, 120, 0, 1, 1, 0])), withoutF.toString('hex'));
  });
});
