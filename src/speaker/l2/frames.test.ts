import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseFrame, type L2Message } from './frames.ts';
import { formatIPv6, parseIPv4, parseIPv6 } from '../../net/ip.ts';
import { parseMAC } from '../../net/mac.ts';
import {
  ARP_ANNOUNCEMENT, ARP_PROBE, ARP_REPLY, ARP_REQUEST, DAD_NS, DAD_NS_NONCE, GARP_REPLY, GARP_REQUEST, ICMP_OFFSET, NA, NA_FROM_ROUTER, NS, UNSOLICITED_NA,
  doctored, hex,
} from './fixtures.test-support.ts';

/** Every valid fixture, with the length below which it stops being a whole message:
 * 42 for ARP (the rest is Ethernet padding), the whole frame for NDP (never padded). */
const VALID: ReadonlyArray<[string, Buffer, number]> = [
  ['ARP_REQUEST', ARP_REQUEST, 42],
  ['ARP_PROBE', ARP_PROBE, 42],
  ['ARP_ANNOUNCEMENT', ARP_ANNOUNCEMENT, 42],
  ['ARP_REPLY', ARP_REPLY, 42],
  ['GARP_REQUEST', GARP_REQUEST, 42],
  ['GARP_REPLY', GARP_REPLY, 42],
  ['NS', NS, NS.length],
  ['DAD_NS_NONCE', DAD_NS_NONCE, DAD_NS_NONCE.length],
  ['DAD_NS', DAD_NS, DAD_NS.length],
  ['NA', NA, NA.length],
  ['UNSOLICITED_NA', UNSOLICITED_NA, UNSOLICITED_NA.length],
  ['NA_FROM_ROUTER', NA_FROM_ROUTER, NA_FROM_ROUTER.length],
];

const MESSAGE_TYPES = new Set(['arp-request', 'arp-reply', 'neighbor-solicitation', 'neighbor-advertisement', 'ignored', 'invalid']);

/** What any parseFrame result must look like, whatever the input. */
function assertWellFormed(message: L2Message): void {
  assert.ok(MESSAGE_TYPES.has(message.type), message.type);
  for (const [key, value] of Object.entries(message)) assert.notEqual(value, undefined, key);
  const isMAC = (s: string): void => assert.equal(parseMAC(s)?.toString('hex').match(/../g)?.join(':'), s, s);
  const isIPv4 = (s: string): void => assert.ok(parseIPv4(s), s);
  const isCanonicalIPv6 = (s: string): void => assert.equal(formatIPv6(parseIPv6(s)!), s);
  switch (message.type) {
    case 'ignored':
    case 'invalid':
      assert.ok(message.reason.length > 0);
      assert.ok(!message.reason.startsWith('internal:'), message.reason);
      break;
    case 'arp-request':
      [message.srcMAC, message.senderMAC].forEach(isMAC);
      [message.senderIP, message.targetIP].forEach(isIPv4);
      break;
    case 'arp-reply':
      [message.srcMAC, message.senderMAC, message.targetMAC].forEach(isMAC);
      [message.senderIP, message.targetIP].forEach(isIPv4);
      break;
    case 'neighbor-solicitation':
      isMAC(message.srcMAC);
      [message.srcIP, message.dstIP, message.targetIP].forEach(isCanonicalIPv6);
      assert.equal(message.dad, message.srcIP === '::');
      if (message.dad) assert.equal(message.sourceLinkLayer, undefined);
      break;
    case 'neighbor-advertisement':
      isMAC(message.srcMAC);
      [message.srcIP, message.dstIP, message.targetIP].forEach(isCanonicalIPv6);
      break;
  }
}

describe('parseFrame: Ethernet', () => {
  it('rejects a frame shorter than the Ethernet header', () => {
    assert.deepEqual(parseFrame(Buffer.alloc(10)), { type: 'invalid', reason: 'frame: 10 bytes, shorter than an Ethernet header' });
    assert.deepEqual(parseFrame(new Uint8Array(0)), { type: 'invalid', reason: 'frame: 0 bytes, shorter than an Ethernet header' });
  });

  it('reports 802.1Q-tagged frames as vlan without looking inside', () => {
    const tagged = hex(
      'ffffffffffff', // broadcast
      '525400123456', // client
      '8100', // 802.1Q tag protocol identifier
      '0064', // priority 0, VLAN 100
      '0806', // inner ethertype ARP
      ARP_REQUEST.subarray(14, 42).toString('hex'), // the ARP request of the fixture
    );
    assert.deepEqual(parseFrame(tagged), { type: 'ignored', reason: 'vlan' });
    assert.deepEqual(parseFrame(tagged.subarray(0, 14)), { type: 'ignored', reason: 'vlan' });
  });

  it('ignores unrelated traffic cheaply, with one shared result per kind', () => {
    const ipv4 = hex(
      '525400abcdef 525400123456', // speaker <- client
      '0800', // ethertype IPv4
      '4500001c 00000000 4001f6eb c0000201 c000020a', // IPv4 header: ICMP, 192.0.2.1 -> 192.0.2.10
      '0800f7ff00000000', // ICMP echo request
    );
    const llc = hex(
      '0180c2000000 525400123456', // STP group address <- client
      '0026', // 38: an IEEE 802.3 length, not an ethertype
      '424203000000', // LLC header and the start of a BPDU
    );
    const ipv6Header = (dst: string, payloadLength: string, nextHeader: string, hopLimit: string, src = '20010db8001800000000000000000001'): string =>
      `60000000 ${payloadLength} ${nextHeader} ${hopLimit} ${src} ${dst}`;
    const tcp = hex(
      '525400abcdef 525400123456 86dd', // speaker <- client, IPv6
      ipv6Header('20010db80018000000000000000000c8', '0014', '06', '40'), // 20 bytes of TCP, hop limit 64
      '00'.repeat(20), // TCP header
    );
    const mld = hex(
      '333300000016 525400123456 86dd', // MLDv2 routers group <- client, IPv6
      ipv6Header('ff020000000000000000000000000016', '0024', '00', '01', '0'.repeat(32)), // next header 0: hop-by-hop options, from ::
      '3a00 0502 0000 0100', // hop-by-hop: next ICMPv6, router alert, PadN
      '8f00 0000 0000 0001', // ICMPv6 143 MLDv2 report, one record
      '04000000 ff0200000000000000000001ff0000c8', // record: join ff02::1:ff00:c8
    );
    const echo = hex(
      '525400abcdef 525400123456 86dd', // speaker <- client, IPv6
      ipv6Header('20010db80018000000000000000000c8', '0008', '3a', '40'), // ICMPv6, hop limit 64
      '8000 0000 0001 0001', // echo request (its checksum is never looked at)
    );
    const ra = hex(
      '333300000001 525400123456 86dd', // all-nodes <- client, IPv6
      ipv6Header('ff020000000000000000000000000001', '0010', '3a', 'ff', 'fe800000000000000000000000000001'), // from fe80::1
      '8600 0000 4000 0708 00000000 00000000', // router advertisement, no options
    );
    const expected: Array<[Buffer, string]> = [
      [ipv4, 'frame: ethertype is neither ARP nor IPv6'],
      [llc, 'frame: IEEE 802.3 length field, not an Ethernet II ethertype'],
      [tcp, 'IPv6: upper layer is not ICMPv6'],
      [mld, 'IPv6: extension header before the upper layer; NDP is parsed only without one'],
      [echo, 'ICMPv6: neither Neighbor Solicitation nor Advertisement'],
      [ra, 'ICMPv6: neither Neighbor Solicitation nor Advertisement'],
    ];
    for (const [frame, reason] of expected) {
      assert.deepEqual(parseFrame(frame), { type: 'ignored', reason });
      assert.equal(parseFrame(frame), parseFrame(Buffer.from(frame)), reason); // the same object, not a new one
    }
  });
});

describe('parseFrame: robustness', () => {
  it('every fixture parses to a message', () => {
    for (const [name, frame] of VALID) {
      const message = parseFrame(frame);
      assert.ok(message.type !== 'invalid' && message.type !== 'ignored', `${name}: ${JSON.stringify(message)}`);
    }
  });

  it('every truncation of every fixture is invalid, unless only padding was cut', () => {
    for (const [name, frame, messageLength] of VALID) {
      const whole = parseFrame(frame);
      for (let length = 0; length < frame.length; length++) {
        const message = parseFrame(frame.subarray(0, length));
        if (length >= messageLength) assert.deepEqual(message, whole, `${name} cut to ${length}`);
        else assert.equal(message.type, 'invalid', `${name} cut to ${length}: ${JSON.stringify(message)}`);
      }
    }
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (bytes) => assertWellFormed(parseFrame(bytes))),
      { numRuns: 3000 },
    );
  });

  it('never throws on random bytes behind an ARP or IPv6/ICMPv6 NS/NA header', () => {
    const header = fc.constantFrom(
      hex('ffffffffffff 525400123456 0806 0001 0800 0604'), // ARP, Ethernet/IPv4
      hex('3333ff0000c8 525400123456 86dd 6000000000203aff'), // IPv6, ICMPv6, hop limit 255, payload 32
    );
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 100 }), (prefix, tail) => assertWellFormed(parseFrame(Buffer.concat([prefix, tail])))),
      { numRuns: 3000 },
    );
  });

  it('never throws on fixtures with random bytes changed, cut or appended', () => {
    const mutation = fc.record({
      fixture: fc.constantFrom(...VALID.map(([, frame]) => frame)),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      length: fc.nat({ max: 120 }),
    });
    fc.assert(
      fc.property(mutation, ({ fixture, edits, length }) => {
        const frame = Buffer.alloc(length);
        fixture.copy(frame, 0, 0, Math.min(length, fixture.length));
        for (const [offset, value] of edits) if (length > 0) frame[offset % length] = value;
        assertWellFormed(parseFrame(frame));
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on NS and NA with random flags, addresses and options behind a correct checksum', () => {
    const address = fc.oneof(
      fc.constant(Buffer.alloc(16)), // ::
      fc.constant(hex('ff0200000000000000000001ff0000c8')), // a solicited-node group
      fc.constant(hex('ff020000000000000000000000000001')), // all-nodes
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b)),
    );
    const option = fc.tuple(fc.oneof(fc.constantFrom(1, 2, 14), fc.integer({ min: 0, max: 255 })), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 22 }));
    const message = fc.record({
      base: fc.constantFrom(NS, NA),
      src: address,
      dst: address,
      flags: fc.integer({ min: 0, max: 255 }),
      options: fc.array(option, { maxLength: 4 }),
      stray: fc.uint8Array({ maxLength: 3 }),
    });
    let decoded = 0;
    fc.assert(
      fc.property(message, ({ base, src, dst, flags, options, stray }) => {
        const tail = Buffer.concat([...options.map(([type, units, body]) => Buffer.concat([Buffer.from([type, units]), body])), stray]);
        const frame = doctored(Buffer.concat([base.subarray(0, ICMP_OFFSET + 24), tail]), (f) => {
          f.writeUInt16BE(24 + tail.length, 18);
          src.copy(f, 22);
          dst.copy(f, 38);
          f[ICMP_OFFSET + 4] = flags;
        });
        const result = parseFrame(frame);
        assertWellFormed(result);
        if (result.type !== 'invalid') decoded++;
      }),
      { numRuns: 3000 },
    );
    assert.ok(decoded > 100, `only ${decoded} of the random messages were valid: the generator does not reach the decoders`);
  });
});
