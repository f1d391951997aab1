// Each malformed message gives the NOTIFICATION RFC 4271 §6 (and RFC 4760, 5492, 7606)
// prescribes: code, subcode and data field. Messages are written by hand; `message` and
// `update` only fill in the header and length fields.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode, type DecodeError } from './decode.ts';
import { hex, KEEPALIVE, MARKER, message, OPEN, update } from './fixtures.test-support.ts';
import type { BGPMessage, UpdateMessage } from './messages.ts';


function expectError(result: BGPMessage | DecodeError, code: number, subcode: number, data = '', reason?: RegExp): DecodeError {
  assert.equal(result.type, 'error', `expected ${code}/${subcode}, got ${JSON.stringify(result)}`);
  const e = result as DecodeError;
  assert.deepEqual([e.code, e.subcode, e.data.toString('hex')], [code, subcode, data], e.reason);
  assert.ok(e.reason.length > 0 && !e.reason.startsWith('internal:'), e.reason);
  if (reason) assert.match(e.reason, reason);
  return e;
}

function expectUpdate(result: BGPMessage | DecodeError): UpdateMessage {
  assert.equal(result.type, 'update', JSON.stringify(result));
  return result as UpdateMessage;
}

// Attributes for a valid IPv4 announcement, to build on.
const ORIGIN_IGP = '40 01 01 00';
const AS_PATH_64512 = '40 02 06 02 01 0000fc00';
const NEXT_HOP = '40 03 04 c612000b';
const MANDATORY = ORIGIN_IGP + AS_PATH_64512 + NEXT_HOP;
const NLRI = '20 c612010a'; // 198.18.1.10/32

describe('message header errors (code 1)', () => {
  it('bad marker: Connection Not Synchronized, no data', () => {
    const bad = Buffer.from(KEEPALIVE);
    bad[15] = 0;
    expectError(decode(bad), 1, 1, '', /marker/);
  });

  it('length 18: Bad Message Length with the length field as data', () => {
    expectError(decode(hex(MARKER, '0012', '04')), 1, 2, '0012');
  });

  it('length 4097: Bad Message Length', () => {
    const big = Buffer.concat([hex(MARKER, '1001', '02'), Buffer.alloc(4097 - 19)]);
    expectError(decode(big), 1, 2, '1001');
  });

  it('KEEPALIVE of length 20: Bad Message Length', () => {
    expectError(decode(hex(MARKER, '0014', '04', '00')), 1, 2, '0014', /KEEPALIVE: length 20, must be 19/);
  });

  it('other lengths wrong for the type: Bad Message Length', () => {
    expectError(decode(message(1, '04 fc00 005a c612000b')), 1, 2, '001c'); // OPEN of 28 bytes, minimum 29
    expectError(decode(message(2, '0000')), 1, 2, '0015'); // UPDATE of 21, minimum 23
    expectError(decode(message(3, '06')), 1, 2, '0014'); // NOTIFICATION of 20, minimum 21
    expectError(decode(message(5, '0001 00 01 00')), 1, 2, '0018'); // ROUTE-REFRESH of 24, must be 23
    expectError(decode(message(5, '0001 00')), 1, 2, '0016'); // ROUTE-REFRESH of 22
  });

  it('unknown type 9: Bad Message Type with the type as data', () => {
    expectError(decode(message(9)), 1, 3, '09');
    expectError(decode(message(0)), 1, 3, '00');
  });

  it('decode() of a buffer that is not exactly one message: Bad Message Length', () => {
    expectError(decode(Buffer.concat([KEEPALIVE, KEEPALIVE])), 1, 2, '0013');
    expectError(decode(OPEN.subarray(0, 40)), 1, 2, '0039');
    expectError(decode(hex(MARKER)), 1, 2, '');
    expectError(decode(Buffer.alloc(0)), 1, 2, '');
  });
});

describe('OPEN errors (code 2)', () => {
  const open = (version: string, hold: string, id: string, params: string): Buffer => {
    const p = hex(params);
    return message(1, version, 'fc00', hold, id, p.length.toString(16).padStart(2, '0'), p.toString('hex'));
  };
  const CAP_4AS = '02 06 41 04 0000fc00';

  it('version 3: Unsupported Version Number, data = 2-byte version 4', () => {
    expectError(decode(open('03', '005a', 'c612000b', CAP_4AS)), 2, 1, '0004');
    expectError(decode(open('05', '005a', 'c612000b', CAP_4AS)), 2, 1, '0004');
  });

  it('hold time 1 or 2: Unacceptable Hold Time; 0 and 3 are fine', () => {
    expectError(decode(open('04', '0001', 'c612000b', CAP_4AS)), 2, 6);
    expectError(decode(open('04', '0002', 'c612000b', CAP_4AS)), 2, 6);
    assert.equal(decode(open('04', '0000', 'c612000b', CAP_4AS)).type, 'open');
    assert.equal(decode(open('04', '0003', 'c612000b', CAP_4AS)).type, 'open');
  });

  it('BGP Identifier 0.0.0.0: Bad BGP Identifier', () => {
    expectError(decode(open('04', '005a', '00000000', CAP_4AS)), 2, 3);
  });

  it('optional parameter other than capabilities: Unsupported Optional Parameter', () => {
    expectError(decode(open('04', '005a', 'c612000b', '01 02 abcd')), 2, 4);
  });

  it('parameters that do not add up: OPEN Message Error, Unspecific', () => {
    // Optional parameters length says 8, 6 bytes follow.
    expectError(decode(message(1, '04 fc00 005a c612000b', '08', '02 04 02 00 02 00')), 2, 0);
    // A parameter overrunning the parameters.
    expectError(decode(open('04', '005a', 'c612000b', '02 09 41 04 0000fc00')), 2, 0);
    // A capability overrunning its parameter.
    expectError(decode(open('04', '005a', 'c612000b', '02 04 41 04 0000')), 2, 0);
    // Capability 65 of length 2.
    expectError(decode(open('04', '005a', 'c612000b', '02 04 41 02 fc00')), 2, 0, '', /capability 65 has length 2, expected 4/);
    // Multiprotocol of length 3.
    expectError(decode(open('04', '005a', 'c612000b', '02 05 01 03 000101')), 2, 0);
    // Graceful restart of length 3.
    expectError(decode(open('04', '005a', 'c612000b', '02 05 40 03 007800')), 2, 0);
  });

  it('keeps unknown capabilities and families, drops duplicates', () => {
    const result = decode(
      open(
        '04',
        '005a',
        'c612000b',
        '02 06 01 04 0001 00 01' + // IPv4 unicast
          '02 06 01 04 0001 00 01' + // again
          '02 06 01 04 0019 00 46' + // L2VPN EVPN (25/70): unknown
          '02 04 49 02 6869' + // FQDN-ish capability 73: unknown
          '02 03 02 01 ff', // route refresh with a stray value: still route refresh
      ),
    );
    assert.deepEqual(result, {
      type: 'open',
      version: 4,
      myAS: 64512,
      holdTime: 90,
      routerID: '198.18.0.11',
      capabilities: {
        multiprotocol: ['ipv4-unicast'],
        routeRefresh: true,
        unknown: [
          { code: 1, value: hex('0019 00 46') },
          { code: 73, value: hex('6869') },
        ],
      },
    });
  });

  it('an OPEN without optional parameters is fine (capability policy is the session\'s)', () => {
    assert.deepEqual(decode(open('04', '005a', 'c612000b', '')), {
      type: 'open',
      version: 4,
      myAS: 64512,
      holdTime: 90,
      routerID: '198.18.0.11',
      capabilities: { multiprotocol: [], routeRefresh: false, unknown: [] },
    });
  });
});

describe('UPDATE errors (code 3)', () => {
  it('ORIGIN value 3: Invalid ORIGIN Attribute with the attribute as data', () => {
    expectError(decode(update('', '40 01 01 03' + AS_PATH_64512 + NEXT_HOP, NLRI)), 3, 6, '40010103');
  });

  it('ORIGIN of length 2: Attribute Length Error naming the field', () => {
    expectError(decode(update('', '40 01 02 0000' + AS_PATH_64512 + NEXT_HOP, NLRI)), 3, 5, '4001020000', /UPDATE: attribute ORIGIN has length 2, expected 1/);
  });

  it('other lengths: Attribute Length Error', () => {
    expectError(decode(update('', MANDATORY.replace('40 03 04 c612000b', '40 03 05 c612000b00'), NLRI)), 3, 5, '400305c612000b00');
    expectError(decode(update('', MANDATORY + '80 04 02 0000', NLRI)), 3, 5, '80040200' + '00');
    expectError(decode(update('', MANDATORY + '40 05 03 000064', NLRI)), 3, 5, '400503000064');
    expectError(decode(update('', MANDATORY + '40 06 01 00', NLRI)), 3, 5, '40060100');
    expectError(decode(update('', MANDATORY + 'c0 07 06 fc00 c6120001', NLRI)), 3, 5, 'c00706fc00c6120001');
    expectError(decode(update('', MANDATORY + 'c0 08 06 fc000064 0000', NLRI)), 3, 5, 'c00806fc0000640000');
    expectError(decode(update('', MANDATORY + 'c0 08 00', NLRI)), 3, 5, 'c00800');
    expectError(decode(update('', MANDATORY + 'c0 20 08 0000fc00 00000001', NLRI)), 3, 5, 'c020080000fc0000000001');
  });

  it('missing NEXT_HOP with IPv4 NLRI: Missing Well-known Attribute, data = type code 3', () => {
    expectError(decode(update('', ORIGIN_IGP + AS_PATH_64512, NLRI)), 3, 3, '03', /NEXT_HOP/);
  });

  it('missing ORIGIN or AS_PATH when announcing: Missing Well-known Attribute', () => {
    expectError(decode(update('', AS_PATH_64512 + NEXT_HOP, NLRI)), 3, 3, '01');
    expectError(decode(update('', ORIGIN_IGP + NEXT_HOP, NLRI)), 3, 3, '02');
    // MP_REACH_NLRI needs ORIGIN and AS_PATH, not NEXT_HOP (RFC 4760 §3).
    const mpReach = '80 0e 1e 0002 01 10 20010db8001800000000000000000011 00 40 20010db800000000';
    expectError(decode(update('', mpReach + AS_PATH_64512)), 3, 3, '01');
    assert.deepEqual(expectUpdate(decode(update('', mpReach + ORIGIN_IGP + AS_PATH_64512))).attributes.mpReach, {
      family: 'ipv6-unicast',
      nextHops: ['2001:db8:18::11'],
      prefixes: ['2001:db8::/64'],
    });
  });

  it('withdrawals and End-of-RIB need no attributes', () => {
    assert.deepEqual(expectUpdate(decode(update('20 c612010a', ''))).withdrawn, ['198.18.1.10/32']);
  });

  it('attribute length overrunning the attribute list: Malformed Attribute List, no data', () => {
    // ORIGIN says length 5; 4 bytes of attributes are left.
    expectError(decode(update('', '40 01 05 00' + AS_PATH_64512.slice(0, 2), NLRI)), 3, 1, '', /ORIGIN has length 5, overrunning/);
    // An attribute header cut short: one byte left.
    expectError(decode(update('', MANDATORY + '40', NLRI)), 3, 1);
    // Extended length header cut short: three bytes left.
    expectError(decode(update('', MANDATORY + '50 08 00', NLRI)), 3, 1);
  });

  it('field lengths overrunning the message: Malformed Attribute List', () => {
    expectError(decode(message(2, '0005 20c612010a 0001')), 3, 1); // attributes length 1, none left
    expectError(decode(message(2, '0010 20c612010a 0000')), 3, 1); // withdrawn length 16
    expectError(decode(message(2, '0004 20c612010a')), 3, 1); // withdrawn length leaves no room for attribute length
  });

  it('unrecognised well-known attribute: with the attribute as data', () => {
    expectError(decode(update('', MANDATORY + '40 63 02 abcd', NLRI)), 3, 2, '406302abcd');
  });

  it('unrecognised optional attributes: transitive kept, non-transitive dropped', () => {
    const u = expectUpdate(decode(update('', MANDATORY + '80 09 04 c6120001' + 'd0 63 0002 abcd' + 'c1 64 00', NLRI)));
    assert.deepEqual(u.attributes.unknown, [
      { flags: 0xc0, code: 99, value: hex('abcd') }, // extended-length bit dropped
      { flags: 0xc0, code: 100, value: Buffer.alloc(0) }, // low bits dropped
    ]);
  });

  it('recognised attribute with wrong Optional/Transitive bits: Attribute Flags Error', () => {
    expectError(decode(update('', 'c0 01 01 00' + AS_PATH_64512 + NEXT_HOP, NLRI)), 3, 4, 'c0010100');
    expectError(decode(update('', MANDATORY + '40 08 04 fc000064', NLRI)), 3, 4, '400804fc000064');
    expectError(decode(update('', MANDATORY + 'c0 04 04 00000000', NLRI)), 3, 4, 'c00404' + '00000000');
    expectError(decode(update('', '00 01 01 00' + AS_PATH_64512 + NEXT_HOP, NLRI)), 3, 4, '00010100');
  });

  it('accepts extended length and the Partial bit where they do no harm', () => {
    const u = expectUpdate(decode(update('', '50 01 0001 00' + AS_PATH_64512 + NEXT_HOP + 'e0 08 04 fc000064', NLRI)));
    assert.equal(u.attributes.origin, 'igp');
    assert.deepEqual(u.attributes.communities, [0xfc000064]);
  });

  it('repeated attributes: MP ones are Malformed Attribute List, others keep the first', () => {
    const unreach = '80 0f 03 0002 01';
    expectError(decode(update('', unreach + unreach)), 3, 1);
    const u = expectUpdate(decode(update('', ORIGIN_IGP + '40 01 01 07' + AS_PATH_64512 + NEXT_HOP, NLRI)));
    assert.equal(u.attributes.origin, 'igp');
  });

  it('malformed AS_PATH: Malformed AS_PATH, no data', () => {
    const withPath = (path: string): Buffer => {
      const p = hex(path);
      return update('', ORIGIN_IGP + '40 02 ' + p.length.toString(16).padStart(2, '0') + p.toString('hex') + NEXT_HOP, NLRI);
    };
    expectError(decode(withPath('02 00')), 3, 11, '', /empty/); // zero ASNs
    expectError(decode(withPath('03 01 0000fc00')), 3, 11); // AS_CONFED_SEQUENCE
    expectError(decode(withPath('02 02 0000fc00')), 3, 11); // overrun
    expectError(decode(withPath('02 01 0000fc00 02')), 3, 11); // one stray byte
    expectError(decode(withPath('02 01 fc00')), 3, 11); // 2-byte ASNs
    assert.deepEqual(expectUpdate(decode(withPath(''))).attributes.asPath, []); // empty path (iBGP)
  });

  it('AS4_PATH and AS4_AGGREGATOR are discarded', () => {
    const u = expectUpdate(decode(update('', MANDATORY + 'c0 11 06 02 01 0000fc00' + 'c0 12 08 0000fc00 c6120001', NLRI)));
    assert.deepEqual(u.attributes, { origin: 'igp', asPath: [{ type: 'sequence', asns: [64512] }], nextHop: '198.18.0.11' });
  });

  it('bad prefixes in NLRI or withdrawn routes: Invalid Network Field', () => {
    expectError(decode(update('', MANDATORY, '21 c612010a00')), 3, 10, '', /prefix length 33/);
    expectError(decode(update('', MANDATORY, '20 c61201')), 3, 10);
    expectError(decode(update('21 c612010a00', '')), 3, 10);
  });

  it('bad MP_REACH_NLRI / MP_UNREACH_NLRI: Optional Attribute Error with the attribute', () => {
    // IPv6 family with a 4-byte next hop.
    const badHop = '80 0e 0a 0002 01 04 c612000b 00 00';
    expectError(decode(update('', badHop + ORIGIN_IGP + AS_PATH_64512)), 3, 9, badHop.replaceAll(' ', ''));
    // Next hop length overruns the attribute.
    expectError(decode(update('', '80 0e 06 0002 01 10 2001' + ORIGIN_IGP + AS_PATH_64512)), 3, 9, '800e06000201102001');
    // Prefix /129.
    const long = '80 0f 05 0002 01 81 20';
    expectError(decode(update('', long)), 3, 9, long.replaceAll(' ', ''));
    // Too short for AFI and SAFI.
    expectError(decode(update('', '80 0f 02 0002')), 3, 9, '800f020002');
  });

  it('MP attributes for families we never negotiate are skipped', () => {
    const evpn = '80 0f 05 0019 46 0102'; // L2VPN EVPN withdrawal
    assert.deepEqual(expectUpdate(decode(update('', evpn))).attributes, {});
  });

  it('MP_REACH_NLRI next hops: global + link-local, and IPv4 with an IPv6 next hop (RFC 8950)', () => {
    const twoHops = '80 0e 26 0002 01 20 20010db8001800000000000000000011 fe800000000000000000000000000011 00 00';
    assert.deepEqual(expectUpdate(decode(update('', twoHops + ORIGIN_IGP + AS_PATH_64512))).attributes.mpReach, {
      family: 'ipv6-unicast',
      nextHops: ['2001:db8:18::11', 'fe80::11'],
      prefixes: ['::/0'],
    });
    const v4OverV6 = '80 0e 1a 0001 01 10 20010db8001800000000000000000011 00 20 c612010a';
    assert.deepEqual(expectUpdate(decode(update('', v4OverV6 + ORIGIN_IGP + AS_PATH_64512))).attributes.mpReach, {
      family: 'ipv4-unicast',
      nextHops: ['2001:db8:18::11'],
      prefixes: ['198.18.1.10/32'],
    });
  });

  it('masks off bits beyond the prefix length (RFC 4271 §4.3)', () => {
    assert.deepEqual(expectUpdate(decode(update('', MANDATORY, '17 c61201' + '1c c6120fff'))).nlri, ['198.18.0.0/23', '198.18.15.240/28']);
    const mp = '80 0f 0c 0002 01 3d 20010db800180007';
    assert.deepEqual(expectUpdate(decode(update('', mp))).attributes.mpUnreach?.prefixes, ['2001:db8:18::/61']);
  });
});

describe('NOTIFICATION and ROUTE-REFRESH from the peer', () => {
  it('decodes any code, subcode and data', () => {
    assert.deepEqual(decode(message(3, 'ff 07 0102')), { type: 'notification', code: 255, subcode: 7, data: hex('0102') });
  });

  it('route refresh for a family we do not know keeps the numbers; the reserved byte is ignored', () => {
    assert.deepEqual(decode(message(5, '0019 00 46')), { type: 'route-refresh', family: { afi: 25, safi: 70 } });
    assert.deepEqual(decode(message(5, '0001 01 01')), { type: 'route-refresh', family: 'ipv4-unicast' });
  });
});
