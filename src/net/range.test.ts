import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIP } from './ip.ts';
import { parseAddressEntry, isAddressEntryError, rangeToCidrs, cidrBounds, rangeSize, type AddressRange } from './range.ts';

const entry = (s: string): AddressRange => {
  const r = parseAddressEntry(s);
  if (isAddressEntryError(r)) throw new Error(r.reason);
  return r;
};
const reason = (s: string): string => {
  const r = parseAddressEntry(s);
  return isAddressEntryError(r) ? r.reason : 'ok';
};

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
