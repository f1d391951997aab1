// The addresses of one family in one pool, and which of them are free, without ever
// listing them. MetalLB walks a pool from its first address on every allocation; here
// the lowest free address is found in O(log n) of the addresses in use:
//
//   - a cursor: every address below it has been handed out at least once;
//   - holes: addresses below the cursor that were released since (a min-heap);
//   - addresses at or above the cursor are free unless taken out of order (a requested
//     or restored IP); the cursor steps over those once, so the cost is amortised.
//
// The lowest free address is the lowest hole if there is one, else the cursor: the rule
// that gives the tutorial's services .3 then .4, and a released IP to the next service.
import { isBuggyIP, rangeSize, type AddressRange } from '../net/range.ts';
import { type Family } from '../net/ip.ts';
import { MinHeap } from './min-heap.ts';

export class AddressSpace {
  readonly family: Family;
  readonly ranges: readonly AddressRange[];
  readonly avoidBuggyIPs: boolean;
  /** How many addresses may be handed out (buggy ones excluded when avoided). */
  readonly size: bigint;
  #inUse = 0;
  #rangeIndex = 0;
  /** Next address never handed out; meaningful while #rangeIndex < ranges.length. */
  #cursor: bigint;
  readonly #holes = new MinHeap();
  readonly #holeSet = new Set<bigint>();
  readonly #isUsed: (value: bigint) => boolean;

  /**
   * @param ranges this family's entries of the pool, disjoint (validated config).
   * @param isUsed whether an address is held by any service (the allocator's record).
   */
  constructor(family: Family, ranges: readonly AddressRange[], avoidBuggyIPs: boolean, isUsed: (value: bigint) => boolean) {
    this.family = family;
    this.ranges = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    this.avoidBuggyIPs = avoidBuggyIPs;
    this.#isUsed = isUsed;
    this.#cursor = this.ranges[0]?.first ?? 0n;
    let size = 0n;
    for (const r of this.ranges) size += avoidBuggyIPs && family === 'IPv4' ? countNotBuggy(r) : rangeSize(r);
    this.size = size;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get available(): bigint {
    return this.size - BigInt(this.#inUse);
  }

  /** Whether the address belongs to this space and may be handed out. */
  admits(value: bigint): boolean {
    if (this.avoidBuggyIPs && isBuggyIP({ family: this.family, value })) return false;
    return this.#rangeOf(value) !== undefined;
  }

  #rangeOf(value: bigint): AddressRange | undefined {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid] as AddressRange;
      if (value < r.first) hi = mid - 1;
      else if (value > r.last) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  #belowCursor(value: bigint): boolean {
    return this.#rangeIndex >= this.ranges.length || value < this.#cursor;
  }

  /** Records that an admitted address became used (call once per address, not per holder). */
  markUsed(value: bigint): void {
    this.#inUse++;
    if (this.#belowCursor(value) && this.#holeSet.delete(value)) return;
    // At or above the cursor: the cursor will step over it while it stays used.
  }

  /** Records that an admitted address has no holder any more. */
  markFree(value: bigint): void {
    this.#inUse--;
    if (this.#belowCursor(value)) {
      this.#holeSet.add(value);
      this.#holes.push(value);
    }
  }

  /** The lowest free address, or undefined when the space is full. Does not take it. */
  lowestFree(): bigint | undefined {
    // Holes are all below the cursor, so the lowest hole is the lowest free address.
    // The heap may hold stale entries (taken again since) or duplicates: drop them here.
    for (let top = this.#holes.peek(); top !== undefined; top = this.#holes.peek()) {
      if (this.#holeSet.has(top)) return top;
      this.#holes.pop();
    }
    return this.#advanceCursor();
  }

  #advanceCursor(): bigint | undefined {
    while (this.#rangeIndex < this.ranges.length) {
      const range = this.ranges[this.#rangeIndex] as AddressRange;
      while (this.#cursor <= range.last) {
        const v = this.#cursor;
        if (!this.#isUsed(v) && !(this.avoidBuggyIPs && isBuggyIP({ family: this.family, value: v }))) return v;
        this.#cursor++;
      }
      this.#rangeIndex++;
      const next = this.ranges[this.#rangeIndex];
      if (next) this.#cursor = next.first;
    }
    return undefined;
  }
}

/** Addresses of an IPv4 range whose last octet is neither 0 nor 255. */
function countNotBuggy(r: Pick<AddressRange, 'first' | 'last'>): bigint {
  // Count buggy addresses in [0, x]: for each full /24 block two, plus the partial block.
  const buggyUpTo = (x: bigint): bigint => {
    if (x < 0n) return 0n;
    const blocks = x / 256n;
    const rem = x % 256n;
    return blocks * 2n + 1n + (rem === 255n ? 1n : 0n);
  };
  return rangeSize(r) - (buggyUpTo(r.last) - buggyUpTo(r.first - 1n));
}
