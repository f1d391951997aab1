import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIP, formatIPv4, formatIPv6, parseIP, parseIPv4, parseIPv6 } from './ip.ts';
import { formatMAC, parseMAC } from './mac.ts';

const v6 = (text: string): string => formatIPv6(parseIPv6(text)!);

/** Eight 16-bit groups, zeros made common so that runs of zero groups of every length occur. */
const ipv6Bytes = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }).map((words) => {
  const bytes = Buffer.alloc(16);
  words.forEach((w, i) => bytes.writeUInt16BE(w, 2 * i));
  return bytes;
});

describe('formatIPv6 (RFC 5952)', () => {
  it('writes the canonical forms', () => {
    const cases: Array<[string, string]> = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], // §4.1, §4.2.1
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2: one zero group is not compressed
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3: the longest run
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3: the first of equal runs
      ['FF02:0:0:0:0:1:FF00:00C8', 'ff02::1:ff00:c8'], // §4.3: lowercase
      ['1:0:0:0:0:0:0:0', '1::'],
      ['fe80::1:0:0', 'fe80::1:0:0'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'], // mixed notation accepted, written in hex
    ];
    for (const [input, expected] of cases) assert.equal(v6(input), expected, input);
  });

  it('agrees with the WHATWG URL host serializer, an independent RFC 5952 implementation', () => {
    fc.assert(
      fc.property(ipv6Bytes, (bytes) => {
        const host = new URL(`http://[${[...Array(8).keys()].map((i) => bytes.readUInt16BE(2 * i).toString(16)).join(':')}]/`).hostname;
        assert.equal(`[${formatIPv6(bytes)}]`, host);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads at an offset and refuses to read past the end', () => {
    const bytes = Buffer.concat([Buffer.from([9, 9]), parseIPv6('2001:db8::1')!]);
    assert.equal(formatIPv6(bytes, 2), '2001:db8::1');
    assert.throws(() => formatIPv6(bytes, 3), RangeError);
  });
});

describe('parseIPv6', () => {
  it('round-trips every address through its canonical text and its full text', () => {
    fc.assert(
      fc.property(ipv6Bytes, (bytes) => {
        assert.deepEqual(parseIPv6(formatIPv6(bytes)), bytes);
        const full = [...Array(8).keys()].map((i) => bytes.readUInt16BE(2 * i).toString(16).padStart(4, '0')).join(':');
        assert.deepEqual(parseIPv6(full), bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('places the groups on either side of "::"', () => {
    assert.equal(parseIPv6('1:2::7:8')!.toString('hex'), '00010002000000000000000000070008');
    assert.equal(parseIPv6('::1.2.3.4')!.toString('hex'), '00000000000000000000000001020304');
    assert.equal(parseIPv6('1:2:3:4:5:6:1.2.3.4')!.toString('hex'), '00010002000300040005000601020304');
  });

  it('refuses what RFC 4291 §2.2 does not allow', () => {
    for (const bad of [
      '', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::', 'g::1',
      ':1::2', '1::2:', '1:2:3:4:5:6:7:8::', 'fe80::1%eth0', '1.2.3.4::', '::1.2.3.4:5', '::256.1.1.1', ' ::1', '192.0.2.1',
    ]) {
      assert.equal(parseIPv6(bad), undefined, bad);
    }
  });
});

describe('IPv4', () => {
  it('parses and formats dotted quads', () => {
    assert.equal(parseIPv4('192.0.2.10')!.toString('hex'), 'c000020a');
    assert.equal(formatIPv4(Buffer.from([0, 192, 0, 2, 10]), 1), '192.0.2.10');
    assert.throws(() => formatIPv4(Buffer.from([1, 2, 3])), RangeError);
    fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => assert.deepEqual(parseIPv4(formatIPv4(b)), Buffer.from(b))));
  });

  it('refuses short, octal-looking, out-of-range and IPv6 forms', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.04', '0x1.2.3.4', '1.2.3.4 ', '::1', '1..2.3']) {
      assert.equal(parseIPv4(bad), undefined, bad);
    }
  });
});

describe('MAC', () => {
  it('parses either case and formats lowercase', () => {
    assert.equal(parseMAC('52:54:00:AB:cd:EF')!.toString('hex'), '525400abcdef');
    assert.equal(formatMAC(Buffer.from('00525400abcdef', 'hex'), 1), '52:54:00:ab:cd:ef');
    assert.throws(() => formatMAC(Buffer.alloc(5)), RangeError);
    fc.assert(fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => assert.deepEqual(parseMAC(formatMAC(b)), Buffer.from(b))));
  });

  it('refuses other spellings', () => {
    for (const bad of ['', '52:54:00:ab:cd', '52:54:00:ab:cd:ef:01', '52-54-00-ab-cd-ef', '5254.00ab.cdef', '52:54:0:ab:cd:ef', '52:54:00:ab:cd:eg']) {
      assert.equal(parseMAC(bad), undefined, bad);
    }
  });
});

describe('parseIP / formatIP', () => {
  it('accepts canonical forms and refuses ambiguous ones', () => {
    assert.equal(formatIP(parseIP('198.18.0.1')!), '198.18.0.1');
    assert.equal(formatIP(parseIP('2001:0db8:0:0:0:0:0:1')!), '2001:db8::1');
    assert.equal(parseIP('::ffff:198.18.0.1')!.family, 'IPv6');
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '0x1.2.3.4', '1.2.3.4 5', 'fe80::1%eth0', '2001:db8:::1', 'abc']) {
      assert.equal(parseIP(bad), undefined, bad);
    }
  });

  it('round-trips every IPv4 and IPv6 value', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }), (v) => assert.equal(parseIP(formatIP({ family: 'IPv4', value: v }))!.value, v)));
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), (v) => assert.equal(parseIP(formatIP({ family: 'IPv6', value: v }))!.value, v)));
  });
});

describe('one grammar for both forms', () => {
  it('parseIP and parseIPv4/parseIPv6 agree on every text: the same verdict, the same address', () => {
    const token = fc.constantFrom(':', '::', '.', '0', '01', '1', '255', '256', 'ffff', 'FFFF', '12345', '1.2.3.4', '%', 'g', ' ');
    fc.assert(
      fc.property(fc.array(fc.oneof(token, fc.integer({ min: 0, max: 0xffff }).map((w) => w.toString(16))), { maxLength: 10 }), (parts) => {
        const text = parts.join('');
        const ip = parseIP(text);
        const bytes = text.includes(':') ? parseIPv6(text) : parseIPv4(text);
        assert.equal(ip === undefined, bytes === undefined, text);
        if (ip && bytes) assert.equal(ip.value, BigInt(`0x${bytes.toString('hex')}`), text);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses whitespace anywhere: a field that tolerates spaces trims them itself', () => {
    for (const bad of [' 10.0.0.1', '10.0.0.1 ', '10.0.0.1\n', ' ::1', '2001:db8::1 ', '\t::1']) assert.equal(parseIP(bad), undefined, JSON.stringify(bad));
  });

  it('reads the IPv4-compatible form as written (RFC 4291 2.5.5.1), not as IPv4-mapped', () => {
    assert.equal(formatIP(parseIP('::1.2.3.4')!), '::102:304');
    assert.equal(formatIP(parseIP('::ffff:1.2.3.4')!), '::ffff:102:304');
    assert.equal(parseIP('1::01.2.3.4'), undefined, 'a leading zero is refused in an embedded dotted quad too');
  });
});
