import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAddressEntry, isAddressEntryError, isBuggyIP, type AddressRange } from '../net/range.ts';
import { AddressSpace } from './address-space.ts';

const entry = (s: string): AddressRange => {
  const r = parseAddressEntry(s);
  if (isAddressEntryError(r)) throw new Error(r.reason);
  return r;
};

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
