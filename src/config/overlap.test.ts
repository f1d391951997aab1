import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findOverlaps, type Span } from './overlap.ts';
import type { Family } from '../net/ip.ts';

const span = (family: Family, first: number, last: number, owner: number): Span<number> => ({ family, first: BigInt(first), last: BigInt(last), owner });
const overlaps = (a: Span<number>, b: Span<number>) => a.family === b.family && a.first <= b.last && b.first <= a.last;

describe('findOverlaps', () => {
  it('finds nothing in disjoint or adjacent ranges, and never mixes families', () => {
    assert.deepEqual(findOverlaps([span('IPv4', 0, 9, 0), span('IPv4', 10, 19, 1), span('IPv6', 0, 100, 2)], (a, b) => a - b), []);
  });
  it('pairs each later range with one it truly overlaps', () => {
    const found = findOverlaps([span('IPv4', 0, 100, 0), span('IPv4', 50, 60, 1), span('IPv4', 55, 200, 2), span('IPv4', 150, 150, 3)], (a, b) => a - b);
    assert.deepEqual(found.map((o) => [o.later.owner, o.earlier.owner]), [[1, 0], [2, 0], [3, 2]]);
  });
  it('handles an IPv6 /64 and an IPv4 /8 as two numbers each', () => {
    const v6: Span<number> = { family: 'IPv6', first: 0x20010db8n << 96n, last: (0x20010db8n << 96n) + (1n << 64n) - 1n, owner: 0 };
    const inner: Span<number> = { family: 'IPv6', first: v6.first + (1n << 63n), last: v6.first + (1n << 63n), owner: 1 };
    assert.equal(findOverlaps([v6, inner], (a, b) => a - b).length, 1);
  });

  it('agrees with a brute-force check on small random ranges', () => {
    const arbSpan = fc.record({ family: fc.constantFrom<Family>('IPv4', 'IPv6'), a: fc.integer({ min: 0, max: 40 }), b: fc.integer({ min: 0, max: 40 }) });
    fc.assert(
      fc.property(fc.array(arbSpan, { maxLength: 12 }), (raw) => {
        const spans = raw.map((r, i) => span(r.family, Math.min(r.a, r.b), Math.max(r.a, r.b), i));
        const found = findOverlaps(spans, (a, b) => a - b);
        const anyPair = spans.some((a, i) => spans.some((b, j) => i < j && overlaps(a, b)));
        // At least one report iff some two ranges overlap.
        assert.equal(found.length > 0, anyPair);
        // Every report is a true overlap.
        for (const o of found) assert.ok(overlaps(o.later, o.earlier) && o.later !== o.earlier);
        // Every range that overlaps a range sorting before it is reported (once).
        const sorted = [...spans].sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1) || Number(a.first - b.first) || Number(a.last - b.last) || a.owner - b.owner);
        const expected = sorted.filter((s, k) => sorted.slice(0, k).some((r) => overlaps(r, s))).map((s) => s.owner);
        assert.deepEqual(found.map((o) => o.later.owner), expected);
      }),
      { numRuns: 500 },
    );
  });
});
