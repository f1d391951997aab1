import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  icmpv6Checksum, multicastMAC, neighborAdvertisement, neighborSolicitation, parseFrame, solicitedNodeMulticast, unsolicitedNeighborAdvertisement,
  type L2Message,
} from './frames.ts';
import { formatIPv6 } from '../../net/ip.ts';
import {
  CLIENT_IPV6, CLIENT_MAC, DAD_NS, DAD_NS_NONCE, ICMP_OFFSET, IPV6_HOP_LIMIT_OFFSET, NA, NA_FROM_ROUTER, NS, SPEAKER_MAC, UNSOLICITED_NA, VIP_IPV6,
  doctored, hex, pseudoHeaderAndMessage, rfc1071,
} from './fixtures.test-support.ts';

const NDP_FIXTURES = { NS, DAD_NS_NONCE, DAD_NS, NA, UNSOLICITED_NA, NA_FROM_ROUTER };

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
/** Unicast (not ff00::/8) addresses, often with zero runs; sometimes exactly "::". */
const unicastIPv6 = fc
  .tuple(fc.integer({ min: 0, max: 0xfeff }), fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 7, maxLength: 7 }))
  .map(([first, rest]) => formatIPv6(Buffer.from([first, ...rest].flatMap((w) => [w >> 8, w & 0xff]))));

const reasonOf = (frame: Buffer): string => {
  const message = parseFrame(frame);
  return message.type === 'invalid' || message.type === 'ignored' ? `${message.type}: ${message.reason}` : message.type;
};

describe('ICMPv6 checksum', () => {
  it('the hand-computed fixture checksums satisfy RFC 1071', () => {
    for (const [name, frame] of Object.entries(NDP_FIXTURES)) assert.equal(rfc1071(pseudoHeaderAndMessage(frame)), 0, name);
  });

  it('verifies to 0 over each fixture and reproduces its checksum from a zeroed field', () => {
    for (const [name, frame] of Object.entries(NDP_FIXTURES)) {
      const message = frame.subarray(ICMP_OFFSET);
      const src = frame.subarray(22, 38);
      const dst = frame.subarray(38, 54);
      assert.equal(icmpv6Checksum(src, dst, message), 0, name);
      const zeroed = Buffer.from(message);
      zeroed.writeUInt16BE(0, 2);
      assert.equal(icmpv6Checksum(src, dst, zeroed), message.readUInt16BE(2), name);
    }
  });

  it('agrees with RFC 1071 over a pseudo-header for random messages, odd lengths included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 300 }), (src, dst, icmp) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(icmp.length);
        const pseudo = Buffer.concat([src, dst, length, Buffer.from([0, 0, 0, 58]), icmp]);
        assert.equal(icmpv6Checksum(src, dst, icmp), rfc1071(pseudo));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('NDP decoding', () => {
  it('decodes a solicitation as Linux sends it', () => {
    assert.deepEqual(parseFrame(NS), {
      type: 'neighbor-solicitation', srcMAC: CLIENT_MAC, srcIP: CLIENT_IPV6, dstIP: 'ff02::1:ff00:c8', targetIP: VIP_IPV6, sourceLinkLayer: CLIENT_MAC, dad: false,
    });
  });

  it('decodes DAD probes with and without the RFC 7527 nonce', () => {
    const expected = { type: 'neighbor-solicitation', srcMAC: CLIENT_MAC, srcIP: '::', dstIP: 'ff02::1:ff00:c8', targetIP: VIP_IPV6, dad: true };
    assert.deepEqual(parseFrame(DAD_NS_NONCE), expected);
    assert.deepEqual(parseFrame(DAD_NS), expected);
  });

  it('decodes advertisements and their flags', () => {
    assert.deepEqual(parseFrame(NA), {
      type: 'neighbor-advertisement', srcMAC: SPEAKER_MAC, srcIP: VIP_IPV6, dstIP: CLIENT_IPV6, targetIP: VIP_IPV6, targetLinkLayer: SPEAKER_MAC,
      router: false, solicited: true, override: true,
    });
    assert.deepEqual(parseFrame(UNSOLICITED_NA), {
      type: 'neighbor-advertisement', srcMAC: SPEAKER_MAC, srcIP: VIP_IPV6, dstIP: 'ff02::1', targetIP: VIP_IPV6, targetLinkLayer: SPEAKER_MAC,
      router: false, solicited: false, override: true,
    });
    assert.deepEqual(parseFrame(NA_FROM_ROUTER), {
      type: 'neighbor-advertisement', srcMAC: CLIENT_MAC, srcIP: CLIENT_IPV6, dstIP: VIP_IPV6, targetIP: CLIENT_IPV6, targetLinkLayer: CLIENT_MAC,
      router: true, solicited: true, override: true,
    });
  });

  it('accepts an advertisement without the TLLA option and skips unknown options', () => {
    const bare = doctored(NA, (f) => f.writeUInt16BE(24, 18)); // payload length 24: the option is now trailing padding
    const message = parseFrame(bare);
    assert.equal(message.type, 'neighbor-advertisement');
    assert.equal('targetLinkLayer' in message, false);
    const unknownFirst = doctored(Buffer.concat([NA, hex('0e01 000000000000')]), (f) => {
      f.writeUInt16BE(40, 18); // payload length 40
      f.copy(f, ICMP_OFFSET + 32, ICMP_OFFSET + 24, ICMP_OFFSET + 32); // TLLA moves to the end
      hex('0e01 112233445566').copy(f, ICMP_OFFSET + 24); // a Nonce option comes first
    });
    assert.deepEqual(parseFrame(unknownFirst), parseFrame(NA));
  });

  it('keeps the first of two link-layer address options, as Linux does', () => {
    const twice = doctored(Buffer.concat([NS, hex('0101 020000000099')]), (f) => f.writeUInt16BE(40, 18)); // a second SLLA, 02:00:00:00:00:99
    const message = parseFrame(twice);
    assert.equal(message.type === 'neighbor-solicitation' && message.sourceLinkLayer, CLIENT_MAC);
  });

  it('ignores trailing bytes beyond the IPv6 payload length', () => {
    assert.deepEqual(parseFrame(Buffer.concat([NS, Buffer.alloc(10)])), parseFrame(NS));
  });

  it('rejects what RFC 4861 §7.1.1 tells a receiver to discard, naming the check', () => {
    const cases: Array<[string, Buffer, string]> = [
      ['bad checksum', Buffer.from(NS).fill(0x12, ICMP_OFFSET + 2, ICMP_OFFSET + 3), 'invalid: NS: bad ICMPv6 checksum'],
      ['hop limit 254', Buffer.from(NS).fill(254, IPV6_HOP_LIMIT_OFFSET, IPV6_HOP_LIMIT_OFFSET + 1), 'invalid: NS: hop limit 254, expected 255'],
      ['code 1', doctored(NS, (f) => (f[ICMP_OFFSET + 1] = 1)), 'invalid: NS: ICMPv6 code 1, expected 0'],
      ['multicast target', doctored(NS, (f) => f.fill(0xff, ICMP_OFFSET + 8, ICMP_OFFSET + 9)), 'invalid: NS: target ff01:db8:18::c8 is multicast'],
      ['option length 0', doctored(NS, (f) => (f[ICMP_OFFSET + 25] = 0)), 'invalid: NS: option type 1 has length 0'],
      ['option past the end', doctored(NS, (f) => (f[ICMP_OFFSET + 25] = 2)), 'invalid: NS: option type 1 of 16 bytes runs past the end of the message (8 left)'],
      ['a stray byte', doctored(Buffer.concat([NS, Buffer.alloc(1)]), (f) => f.writeUInt16BE(33, 18)), 'invalid: NS: 1 stray byte after the options'],
      ['ICMP length 20', doctored(NS, (f) => f.writeUInt16BE(20, 18)), 'invalid: NS: ICMPv6 length 20, shorter than 24'],
      ['16-byte SLLA', doctored(Buffer.concat([NS, Buffer.alloc(8)]), (f) => {
        f.writeUInt16BE(40, 18);
        f[ICMP_OFFSET + 25] = 2;
      }), 'invalid: NS: link-layer address option of 16 bytes, expected 8 on Ethernet'],
      ['DAD NS with SLLA', doctored(NS, (f) => f.fill(0, 22, 38)), 'invalid: NS: source link-layer address option in a DAD solicitation (source ::)'],
      ['DAD NS to all-nodes', doctored(DAD_NS, (f) => hex('ff020000000000000000000000000001').copy(f, 38)),
        'invalid: NS: source is :: but destination ff02::1 is not a solicited-node multicast address'],
    ];
    for (const [name, frame, reason] of cases) assert.equal(reasonOf(frame), reason, name);
  });

  it('rejects what RFC 4861 §7.1.2 tells a receiver to discard, naming the check', () => {
    const cases: Array<[string, Buffer, string]> = [
      ['bad checksum', Buffer.from(NA).fill(0, ICMP_OFFSET + 3, ICMP_OFFSET + 4), 'invalid: NA: bad ICMPv6 checksum'],
      ['hop limit 254', Buffer.from(NA).fill(254, IPV6_HOP_LIMIT_OFFSET, IPV6_HOP_LIMIT_OFFSET + 1), 'invalid: NA: hop limit 254, expected 255'],
      ['multicast target', doctored(NA, (f) => hex('ff020000000000000000000000000001').copy(f, ICMP_OFFSET + 8)), 'invalid: NA: target ff02::1 is multicast'],
      ['solicited to multicast', doctored(UNSOLICITED_NA, (f) => (f[ICMP_OFFSET + 4] = 0x60)), 'invalid: NA: solicited flag set but destination ff02::1 is multicast'],
      ['option length 0', doctored(NA, (f) => (f[ICMP_OFFSET + 25] = 0)), 'invalid: NA: option type 2 has length 0'],
    ];
    for (const [name, frame, reason] of cases) assert.equal(reasonOf(frame), reason, name);
  });

  it('rejects broken IPv6 headers', () => {
    assert.equal(reasonOf(doctored(NS, (f) => (f[14] = 0x40))), 'invalid: IPv6: version 4, expected 6');
    assert.equal(reasonOf(NS.subarray(0, 60)), 'invalid: IPv6: payload length 32, but 6 bytes follow the header');
    assert.equal(reasonOf(doctored(NS, (f) => f.writeUInt16BE(40, 18))), 'invalid: IPv6: payload length 40, but 32 bytes follow the header');
    assert.equal(reasonOf(doctored(NS, (f) => f.writeUInt16BE(0, 18))), 'invalid: ICMPv6: empty message');
  });
});

describe('NDP building', () => {
  it('answers a solicitation exactly as the NA fixture', () => {
    const frame = neighborAdvertisement({ srcMAC: SPEAKER_MAC, targetIP: VIP_IPV6, toMAC: CLIENT_MAC, toIP: CLIENT_IPV6, solicited: true, override: true });
    assert.equal(frame.toString('hex'), NA.toString('hex'));
  });

  it('sets the router flag when asked', () => {
    const frame = neighborAdvertisement({
      srcMAC: CLIENT_MAC, targetIP: CLIENT_IPV6, toMAC: SPEAKER_MAC, toIP: VIP_IPV6, solicited: true, override: true, router: true,
    });
    assert.equal(frame.toString('hex'), NA_FROM_ROUTER.toString('hex'));
  });

  it('announces to all-nodes exactly as the unsolicited NA fixture', () => {
    assert.equal(unsolicitedNeighborAdvertisement({ srcMAC: SPEAKER_MAC, targetIP: VIP_IPV6 }).toString('hex'), UNSOLICITED_NA.toString('hex'));
  });

  it('solicits exactly as Linux, and leaves out the SLLA option from :: as RFC 4861 §7.1.1 requires', () => {
    assert.equal(neighborSolicitation({ srcMAC: CLIENT_MAC, srcIP: CLIENT_IPV6, targetIP: VIP_IPV6 }).toString('hex'), NS.toString('hex'));
    assert.equal(neighborSolicitation({ srcMAC: CLIENT_MAC, srcIP: '::', targetIP: VIP_IPV6 }).toString('hex'), DAD_NS.toString('hex'));
  });

  it('refuses to build what receivers must discard', () => {
    const base = { srcMAC: SPEAKER_MAC, targetIP: VIP_IPV6, toMAC: CLIENT_MAC, toIP: CLIENT_IPV6, solicited: true, override: true };
    assert.throws(() => neighborAdvertisement({ ...base, targetIP: 'ff02::1' }), /multicast/);
    assert.throws(() => neighborAdvertisement({ ...base, toIP: 'ff02::1' }), /multicast/);
    assert.throws(() => neighborAdvertisement({ ...base, toIP: '192.0.2.1' }), /toIP/);
    assert.throws(() => neighborSolicitation({ srcMAC: SPEAKER_MAC, srcIP: '::', targetIP: 'ff02::2' }), /multicast/);
  });

  it('maps addresses to the solicited-node group and its MAC (RFC 4291 §2.7.1, RFC 2464 §7)', () => {
    assert.equal(solicitedNodeMulticast('2001:db8:18::c8'), 'ff02::1:ff00:c8');
    assert.equal(multicastMAC(solicitedNodeMulticast('2001:db8:18::c8')), '33:33:ff:00:00:c8');
    assert.equal(solicitedNodeMulticast('fe80::5054:ff:fe12:3456'), 'ff02::1:ff12:3456');
    assert.equal(multicastMAC('ff02::1'), '33:33:00:00:00:01');
    assert.equal(multicastMAC('ff02::1:ff12:3456'), '33:33:ff:12:34:56');
    assert.throws(() => solicitedNodeMulticast('192.0.2.1'), TypeError);
  });

  it('round-trips random addresses through parseFrame', () => {
    fc.assert(
      fc.property(mac, mac, unicastIPv6, unicastIPv6, fc.boolean(), fc.boolean(), fc.boolean(), (ours, theirs, target, to, solicited, override, router) => {
        assert.deepEqual(parseFrame(neighborAdvertisement({ srcMAC: ours, targetIP: target, toMAC: theirs, toIP: to, solicited, override, router })), {
          type: 'neighbor-advertisement', srcMAC: ours, srcIP: target, dstIP: to, targetIP: target, targetLinkLayer: ours, router, solicited, override,
        } satisfies L2Message);

        assert.deepEqual(parseFrame(unsolicitedNeighborAdvertisement({ srcMAC: ours, targetIP: target })), {
          type: 'neighbor-advertisement', srcMAC: ours, srcIP: target, dstIP: 'ff02::1', targetIP: target, targetLinkLayer: ours,
          router: false, solicited: false, override: true,
        } satisfies L2Message);

        const dad = to === '::';
        const ns = neighborSolicitation({ srcMAC: ours, srcIP: to, targetIP: target });
        assert.deepEqual(parseFrame(ns), {
          type: 'neighbor-solicitation', srcMAC: ours, srcIP: to, dstIP: solicitedNodeMulticast(target), targetIP: target,
          ...(dad ? {} : { sourceLinkLayer: ours }), dad,
        } satisfies L2Message);
        assert.equal(ns.subarray(0, 6).toString('hex'), multicastMAC(solicitedNodeMulticast(target)).replaceAll(':', ''));
      }),
      { numRuns: 500 },
    );
  });
});
