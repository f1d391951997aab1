import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { arpReply, arpRequest, gratuitousARP, parseFrame, type L2Message } from './frames.ts';
import {
  ARP_ANNOUNCEMENT, ARP_PROBE, ARP_REPLY, ARP_REQUEST, CLIENT_IPV4, CLIENT_MAC, GARP_REPLY, GARP_REQUEST, SPEAKER_MAC, VIP_IPV4, hex,
} from './fixtures.test-support.ts';

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => b.join('.'));

/** A copy of a fixture with one byte replaced. */
function withByte(frame: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(frame);
  copy[offset] = value;
  return copy;
}

describe('ARP decoding', () => {
  it('decodes a request as Linux sends it', () => {
    assert.deepEqual(parseFrame(ARP_REQUEST), {
      type: 'arp-request', srcMAC: CLIENT_MAC, senderMAC: CLIENT_MAC, senderIP: CLIENT_IPV4, targetIP: VIP_IPV4, gratuitous: false,
    });
  });

  it('marks RFC 5227 probes and announcements as gratuitous', () => {
    assert.deepEqual(parseFrame(ARP_PROBE), {
      type: 'arp-request', srcMAC: CLIENT_MAC, senderMAC: CLIENT_MAC, senderIP: '0.0.0.0', targetIP: VIP_IPV4, gratuitous: true,
    });
    assert.deepEqual(parseFrame(ARP_ANNOUNCEMENT), {
      type: 'arp-request', srcMAC: CLIENT_MAC, senderMAC: CLIENT_MAC, senderIP: CLIENT_IPV4, targetIP: CLIENT_IPV4, gratuitous: true,
    });
  });

  it('decodes replies, including gratuitous ones', () => {
    assert.deepEqual(parseFrame(ARP_REPLY), {
      type: 'arp-reply', srcMAC: SPEAKER_MAC, senderMAC: SPEAKER_MAC, senderIP: VIP_IPV4, targetMAC: CLIENT_MAC, targetIP: CLIENT_IPV4,
    });
    assert.deepEqual(parseFrame(GARP_REPLY), {
      type: 'arp-reply', srcMAC: SPEAKER_MAC, senderMAC: SPEAKER_MAC, senderIP: VIP_IPV4, targetMAC: SPEAKER_MAC, targetIP: VIP_IPV4,
    });
  });

  it('reports the Ethernet source and the ARP sender separately', () => {
    const proxied = Buffer.from(ARP_REQUEST);
    proxied.set([0x02, 0, 0, 0, 0, 0x99], 6); // a bridge or proxy rewrote the Ethernet source
    const message = parseFrame(proxied);
    assert.equal(message.type, 'arp-request');
    assert.equal(message.srcMAC, '02:00:00:00:00:99');
    assert.equal(message.senderMAC, CLIENT_MAC);
  });

  it('accepts an unpadded 42-byte frame (locally generated frames are not padded)', () => {
    assert.deepEqual(parseFrame(ARP_REQUEST.subarray(0, 42)), parseFrame(ARP_REQUEST));
  });

  it('names what is wrong with a malformed Ethernet/IPv4 packet', () => {
    const cases: Array<[Buffer, string]> = [
      [withByte(ARP_REQUEST, 18, 5), 'ARP: hlen 5, expected 6'],
      [withByte(ARP_REQUEST, 19, 16), 'ARP: plen 16, expected 4'],
      [ARP_REQUEST.subarray(0, 41), 'ARP: 27 bytes, shorter than the 28 of an Ethernet/IPv4 packet'],
      [ARP_REQUEST.subarray(0, 20), 'ARP: 6 bytes, shorter than the 8-byte fixed header'],
    ];
    for (const [frame, reason] of cases) assert.deepEqual(parseFrame(frame), { type: 'invalid', reason });
  });

  it('ignores ARP for other hardware, other protocols and other operations', () => {
    const cases: Array<[Buffer, string]> = [
      [withByte(ARP_REQUEST, 15, 6), 'ARP: hardware type 6, not Ethernet (1)'], // IEEE 802
      [withByte(withByte(ARP_REQUEST, 16, 0x86), 17, 0xdd), 'ARP: protocol type 0x86dd, not IPv4'],
      [withByte(ARP_REQUEST, 21, 3), 'ARP: op 3, neither request (1) nor reply (2)'], // RARP request
    ];
    for (const [frame, reason] of cases) assert.deepEqual(parseFrame(frame), { type: 'ignored', reason });
  });
});

describe('ARP building', () => {
  it('answers a request exactly as the reply fixture', () => {
    const frame = arpReply({ srcMAC: SPEAKER_MAC, ip: VIP_IPV4, toMAC: CLIENT_MAC, toIP: CLIENT_IPV4 });
    assert.equal(frame.toString('hex'), ARP_REPLY.toString('hex'));
  });

  it('answers a probe to the prober, target protocol address 0.0.0.0', () => {
    const frame = arpReply({ srcMAC: SPEAKER_MAC, ip: VIP_IPV4, toMAC: CLIENT_MAC, toIP: '0.0.0.0' });
    assert.equal(
      frame.toString('hex'),
      hex('525400123456', '525400abcdef', '0806', '0001 0800 06 04 0002', '525400abcdef c000020a', '525400123456 00000000', '00'.repeat(18)).toString('hex'),
    );
  });

  it('builds both gratuitous forms', () => {
    assert.equal(gratuitousARP({ srcMAC: SPEAKER_MAC, ip: VIP_IPV4, op: 'request' }).toString('hex'), GARP_REQUEST.toString('hex'));
    assert.equal(gratuitousARP({ srcMAC: SPEAKER_MAC, ip: VIP_IPV4, op: 'reply' }).toString('hex'), GARP_REPLY.toString('hex'));
  });

  it('builds requests and probes', () => {
    assert.equal(arpRequest({ srcMAC: CLIENT_MAC, senderIP: CLIENT_IPV4, targetIP: VIP_IPV4 }).toString('hex'), ARP_REQUEST.toString('hex'));
    assert.equal(arpRequest({ srcMAC: CLIENT_MAC, senderIP: '0.0.0.0', targetIP: VIP_IPV4 }).toString('hex'), ARP_PROBE.toString('hex'));
  });

  it('refuses malformed addresses instead of sending garbage', () => {
    assert.throws(() => arpReply({ srcMAC: 'nope', ip: VIP_IPV4, toMAC: CLIENT_MAC, toIP: CLIENT_IPV4 }), /srcMAC/);
    assert.throws(() => gratuitousARP({ srcMAC: SPEAKER_MAC, ip: '2001:db8::1', op: 'request' }), /ip/);
    assert.throws(() => arpRequest({ srcMAC: SPEAKER_MAC, senderIP: VIP_IPV4, targetIP: '1.2.3' }), /targetIP/);
  });

  it('round-trips random addresses through parseFrame', () => {
    fc.assert(
      fc.property(mac, mac, ipv4, ipv4, (ours, theirs, ip, toIP) => {
        const reply = arpReply({ srcMAC: ours, ip, toMAC: theirs, toIP });
        assert.equal(reply.length, 60);
        assert.deepEqual(parseFrame(reply), { type: 'arp-reply', srcMAC: ours, senderMAC: ours, senderIP: ip, targetMAC: theirs, targetIP: toIP } satisfies L2Message);

        const request = arpRequest({ srcMAC: ours, senderIP: ip, targetIP: toIP });
        assert.deepEqual(parseFrame(request), {
          type: 'arp-request', srcMAC: ours, senderMAC: ours, senderIP: ip, targetIP: toIP, gratuitous: ip === toIP || ip === '0.0.0.0',
        } satisfies L2Message);

        assert.deepEqual(parseFrame(gratuitousARP({ srcMAC: ours, ip, op: 'request' })), {
          type: 'arp-request', srcMAC: ours, senderMAC: ours, senderIP: ip, targetIP: ip, gratuitous: true,
        } satisfies L2Message);
        assert.deepEqual(parseFrame(gratuitousARP({ srcMAC: ours, ip, op: 'reply' })), {
          type: 'arp-reply', srcMAC: ours, senderMAC: ours, senderIP: ip, targetMAC: ours, targetIP: ip,
        } satisfies L2Message);
      }),
      { numRuns: 500 },
    );
  });
});
