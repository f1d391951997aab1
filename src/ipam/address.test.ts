import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIP, formatIP, parseAddressEntry, isAddressEntryError, rangeToCidrs, cidrBounds, isBuggyIP, rangeSize, type AddressRange } from './address.ts';
import { AddressSpace } from './address-space.ts';

const entry = (s: string): AddressRange => {
  const r = parseAddressEntry(s);
  if (isAddressEntryError(r)) throw new Error(r.reason);
  return r;
};
const reason = (s: string): string => {
  const r = parseAddressEntry(s);
  return isAddressEntryError(r) ? r.reason : 'ok';
};

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

describe('parseAddressEntry', () => {
  it('reads CIDRs (host bits masked) and ranges with optional spaces', () => {
    const c = entry('198.18.1.77/24');
    assert.equal(formatIP({ family: 'IPv4', value: c.first }), '198.18.1.0');
    assert.equal(rangeSize(c), 256n);
    const r = entry('10.0.0.3 - 10.0.0.254');
    assert.equal(rangeSize(r), 252n);
    assert.equal(rangeSize(entry('2001:db8::/64')), 2n ** 64n);
    assert.equal(rangeSize(entry('198.18.0.1/32')), 1n);
  });

  it('names what is wrong', () => {
    assert.match(reason('10.0.0.300/24'), /"10\.0\.0\.300" is not an IP address/);
    assert.match(reason('10.0.0.0/33'), /prefix length 33 exceeds 32/);
    assert.match(reason('10.0.0.0/x'), /bad prefix length/);
    assert.match(reason('10.0.0.9-10.0.0.1'), /reversed/);
    assert.match(reason('10.0.0.1-2001:db8::1'), /mixes IPv4 and IPv6/);
    assert.match(reason('10.0.0.1'), /neither a CIDR nor a range/);
    // Space-padded CIDRs are refused as MetalLB (Go's net.ParseCIDR) refuses them; ranges are trimmed.
    assert.match(reason(' 10.0.0.0/24'), /contains spaces, which MetalLB refuses in a CIDR \(write "10\.0\.0\.0\/24"\)/);
    assert.match(reason('10.0.0.0 /24'), /contains spaces/);
    assert.match(reason('2001:db8::/64 '), /contains spaces/);
    assert.equal(rangeSize(entry(' 10.0.0.1 - 10.0.0.2 ')), 2n);
    assert.match(reason('  '), /empty/);
  });
});

describe('CIDR cover of a range', () => {
  it('covers exactly, with blocks aligned to their size', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 4095n }), fc.bigInt({ min: 0n, max: 4095n }), (a, b) => {
        const [first, last] = a <= b ? [a, b] : [b, a];
        const cidrs = rangeToCidrs({ family: 'IPv4', first, last });
        let next = first;
        for (const c of cidrs) {
          const { first: f, last: l } = cidrBounds('IPv4', c.network, c.prefix);
          assert.equal(f, next, 'contiguous and aligned');
          next = l + 1n;
        }
        assert.equal(next, last + 1n);
        assert.ok(cidrs.length <= 2 * 32);
      }),
    );
    assert.deepEqual(rangeToCidrs(entry('10.0.0.3-10.0.0.254')).map((c) => c.prefix), [32, 30, 29, 28, 27, 26, 26, 27, 28, 29, 30, 31, 32]);
  });
});

describe('AddressSpace', () => {
  it('counts buggy addresses exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2000n }), fc.bigInt({ min: 0n, max: 2000n }), (a, b) => {
        const [first, last] = a <= b ? [a, b] : [b, a];
        const s = new AddressSpace('IPv4', [{ family: 'IPv4', first, last, text: '' }], true, () => false);
        let n = 0n;
        for (let v = first; v <= last; v++) if (!isBuggyIP({ family: 'IPv4', value: v })) n++;
        assert.equal(s.size, n);
      }),
      { numRuns: 200 },
    );
  });

  it('lowestFree agrees with a brute-force scan under random take/free', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(40)), { maxLength: 200 }), fc.boolean(), (ops, avoid) => {
        const used = new Set<bigint>();
        const ranges = [entry('198.18.0.250-198.18.1.5'), entry('198.18.2.0/29'), entry('198.18.2.20/31')];
        const s = new AddressSpace('IPv4', ranges, avoid, (v) => used.has(v));
        const all: bigint[] = [];
        for (const r of [...ranges].sort((x, y) => Number(x.first - y.first))) for (let v = r.first; v <= r.last; v++) if (!(avoid && isBuggyIP({ family: 'IPv4', value: v }))) all.push(v);
        for (const [take, i] of ops) {
          const expected = all.find((v) => !used.has(v));
          assert.equal(s.lowestFree(), expected);
          if (take) {
            const v = all[i % all.length]!; // an arbitrary address, as a requested IP would be
            if (!used.has(v)) { used.add(v); s.markUsed(v); }
          } else {
            const held = [...used];
            if (held.length > 0) { const v = held[i % held.length]!; used.delete(v); s.markFree(v); }
          }
          assert.equal(s.inUse, used.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
