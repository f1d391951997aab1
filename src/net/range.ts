// Address ranges: a pool's entries (CIDRs and start-end ranges) as two bigints each,
// their CIDR cover and masks, and which addresses can serve a LoadBalancer at all.
import { FAMILY_BITS, parseIP, type Family, type IP } from './ip.ts';

/** An inclusive run of addresses of one family, as written in a pool. */
export interface AddressRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
  /** The entry as the user wrote it (for messages and status). */
  readonly text: string;
}

export type AddressEntryError = { reason: string };

/**
 * Parses one `IPAddressPool.spec.addresses` entry: a CIDR (`198.18.1.0/24`, host bits
 * ignored as Go's net.ParseCIDR does; no spaces) or an inclusive range `start-end`
 * (spaces around either end allowed, as MetalLB trims them; same family, start <= end).
 */
export function parseAddressEntry(text: string): AddressRange | AddressEntryError {
  const s = text.trim();
  if (s === '') return { reason: 'is empty' };
  // MetalLB reads an entry without '-' as a CIDR with Go's net.ParseCIDR, which allows
  // no space anywhere ("10.0.0.0/24 " is refused); only a range's two ends are trimmed.
  if (!s.includes('-') && /\s/.test(text)) {
    return { reason: `"${text}" is not a CIDR: it contains spaces, which MetalLB refuses in a CIDR (write "${s.replace(/\s+/g, '')}")` };
  }
  if (s.includes('/')) {
    const [addr, len, extra] = s.split('/');
    if (extra !== undefined || addr === undefined || len === undefined) {
      return { reason: `"${text}" is not a CIDR` };
    }
    const ip = parseIP(addr);
    if (!ip) return { reason: `"${text}" is not a CIDR: "${addr}" is not an IP address` };
    if (!/^\d{1,3}$/.test(len)) return { reason: `"${text}" is not a CIDR: bad prefix length "${len}"` };
    const prefix = Number(len);
    if (prefix > FAMILY_BITS[ip.family]) {
      return { reason: `"${text}" is not a CIDR: prefix length ${prefix} exceeds ${FAMILY_BITS[ip.family]}` };
    }
    const { first, last } = cidrBounds(ip.family, ip.value, prefix);
    return { family: ip.family, first, last, text };
  }
  const dash = s.indexOf('-');
  if (dash < 0) {
    return { reason: `"${text}" is neither a CIDR nor a range (a single address is written as /32 or /128)` };
  }
  const startText = s.slice(0, dash).trim();
  const endText = s.slice(dash + 1).trim();
  const start = parseIP(startText);
  const end = parseIP(endText);
  if (!start) return { reason: `"${text}" is not a range: "${startText}" is not an IP address` };
  if (!end) return { reason: `"${text}" is not a range: "${endText}" is not an IP address` };
  if (start.family !== end.family) {
    return { reason: `"${text}" mixes IPv4 and IPv6 in one range` };
  }
  if (start.value > end.value) return { reason: `"${text}" is reversed: its start is after its end` };
  return { family: start.family, first: start.value, last: end.value, text };
}

export function isAddressEntryError(x: AddressRange | AddressEntryError): x is AddressEntryError {
  return 'reason' in x;
}

export function cidrBounds(family: Family, value: bigint, prefix: number): { first: bigint; last: bigint } {
  const hostBits = BigInt(FAMILY_BITS[family] - prefix);
  const size = 1n << hostBits;
  const first = (value >> hostBits) << hostBits;
  return { first, last: first + size - 1n };
}

/** Masks an address to a prefix length: the prefix announced for it (BGP aggregation). */
export function maskIP(ip: IP, prefix: number): { family: Family; network: bigint; prefix: number } {
  return { family: ip.family, network: cidrBounds(ip.family, ip.value, prefix).first, prefix };
}

/** `a` and `b` are on the same subnet of the given prefix length (same family only). */
export function sameSubnet(a: IP, b: IP, prefix: number): boolean {
  return a.family === b.family && maskIP(a, prefix).network === maskIP(b, prefix).network;
}

/**
 * The CIDRs that exactly cover a range, largest first where possible. MetalLB compares a
 * BGP aggregation length with these prefix lengths; a range counts as its CIDR cover.
 */
export function rangeToCidrs(range: Pick<AddressRange, 'family' | 'first' | 'last'>): { network: bigint; prefix: number }[] {
  const bits = FAMILY_BITS[range.family];
  const out: { network: bigint; prefix: number }[] = [];
  let cur = range.first;
  // Bounded: at most 2 * bits CIDRs cover any range.
  while (cur <= range.last) {
    let size = 0; // host bits of the block starting at cur
    while (size < bits) {
      const next = size + 1;
      const block = 1n << BigInt(next);
      if (cur % block !== 0n || cur + block - 1n > range.last) break;
      size = next;
    }
    out.push({ network: cur, prefix: bits - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

export function rangeSize(range: Pick<AddressRange, 'first' | 'last'>): bigint {
  return range.last - range.first + 1n;
}

/**
 * MetalLB's avoidBuggyIPs: IPv4 addresses ending in .0 or .255 break some old client
 * stacks that take them for network or broadcast addresses.
 */
export function isBuggyIP(ip: IP): boolean {
  if (ip.family !== 'IPv4') return false;
  const last = ip.value & 0xffn;
  return last === 0n || last === 255n;
}

/**
 * Address blocks that can never serve a LoadBalancer Service: traffic to them never
 * reaches a node's ARP/NDP answer or a BGP route (RFC 6890 special-purpose registries).
 */
const UNSERVABLE: readonly { readonly cidr: string; readonly what: string }[] = [
  { cidr: '0.0.0.0/8', what: '"this network" addresses (RFC 791; 0.0.0.0 means any)' },
  { cidr: '127.0.0.0/8', what: 'loopback addresses (RFC 1122)' },
  { cidr: '169.254.0.0/16', what: 'link-local addresses (RFC 3927)' },
  { cidr: '224.0.0.0/4', what: 'multicast addresses (RFC 5771)' },
  { cidr: '255.255.255.255/32', what: 'the limited broadcast address (RFC 919)' },
  { cidr: '::/128', what: 'the unspecified address (RFC 4291)' },
  { cidr: '::1/128', what: 'the loopback address (RFC 4291)' },
  { cidr: '::ffff:0:0/96', what: 'IPv4-mapped addresses (RFC 4291 2.5.5.2; write the IPv4 address itself)' },
  { cidr: 'fe80::/10', what: 'link-local addresses (RFC 4291)' },
  { cidr: 'ff00::/8', what: 'multicast addresses (RFC 4291)' },
];
let unservableRanges: readonly { readonly range: AddressRange; readonly what: string }[] | undefined;

/** The unservable blocks a range reaches into, each with what it is. */
export function unservableParts(range: AddressRange): { cidr: string; what: string }[] {
  unservableRanges ??= UNSERVABLE.map((b) => ({ range: parseAddressEntry(b.cidr) as AddressRange, what: b.what }));
  return unservableRanges
    .filter((b) => b.range.family === range.family && b.range.first <= range.last && range.first <= b.range.last)
    .map((b) => ({ cidr: b.range.text, what: b.what }));
}
