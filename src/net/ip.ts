// IP addresses: the one parser of address text, and the two forms the rest of ferrolb
// holds them in. Pools, services and plans hold an `IP` (family + unsigned bigint), so
// that a /8 or a /64 is two numbers, never a list of its members; the wire codecs (ARP,
// NDP, BGP, X.509) hold 4- or 16-byte buffers. Both come from the same grammar, so an
// address means the same thing in the configuration, on the wire and in a certificate.
//
// Text has exactly one spelling on output (dotted quad, RFC 5952 IPv6), so addresses
// compare with === as strings. On input the grammar is strict and has no whitespace: an
// address never contains a space (Go's net.ParseIP, which MetalLB uses, agrees). Where a
// field's surrounding spaces are tolerated, its reader trims them, next to the rule.

export type Family = 'IPv4' | 'IPv6';

export const FAMILY_BITS: Readonly<Record<Family, number>> = { IPv4: 32, IPv6: 128 };

export const IPV4_LENGTH = 4;
export const IPV6_LENGTH = 16;

/** One IP address. `value` is the address as an unsigned integer of its family's width. */
export interface IP {
  readonly family: Family;
  readonly value: bigint;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

/**
 * Parses one IP address: a strict dotted quad for IPv4, RFC 4291 2.2 text for IPv6
 * without a zone. An IPv4-mapped (or -compatible) IPv6 address stays IPv6.
 */
export function parseIP(text: string): IP | undefined {
  if (text.includes(':')) {
    const bytes = parseIPv6(text);
    return bytes && { family: 'IPv6', value: (bytes.readBigUInt64BE(0) << 64n) | bytes.readBigUInt64BE(8) };
  }
  const bytes = parseIPv4(text);
  return bytes && { family: 'IPv4', value: BigInt(bytes.readUInt32BE(0)) };
}

/**
 * Strict dotted quad. Leading zeros are refused ("010" is octal to some parsers and
 * decimal to others; Go refuses them since 1.17), as are the short and hex forms
 * inet_aton takes.
 */
export function parseIPv4(text: string): Buffer | undefined {
  const m = DOTTED_QUAD.exec(text);
  if (m === null) return undefined;
  const bytes = Buffer.alloc(IPV4_LENGTH);
  for (let i = 0; i < IPV4_LENGTH; i++) {
    const part = m[i + 1]!;
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

/**
 * IPv6 text as RFC 4291 2.2 defines it: eight groups of 1-4 hex digits, at most one "::"
 * standing for one or more zero groups, optionally ending in a dotted quad (2.2 form 3,
 * as strict as parseIPv4). No zone index ("%eth0"): a load-balancer address is never
 * link-local-with-zone.
 */
export function parseIPv6(text: string): Buffer | undefined {
  const halves = text.split('::');
  if (halves.length === 1) {
    const words = wordsOf(text, true);
    return words?.length === 8 ? toBytes(words, []) : undefined;
  }
  if (halves.length !== 2) return undefined;
  const head = wordsOf(halves[0]!, false);
  const tail = wordsOf(halves[1]!, true);
  // "::" stands for at least one zero group (RFC 4291 2.2 item 2).
  if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
  return toBytes(head, tail);
}

/** "a:b:c" to 16-bit words; a dotted quad may end it (as two words) if `dottedQuadLast`. */
function wordsOf(part: string, dottedQuadLast: boolean): number[] | undefined {
  if (part === '') return [];
  const groups = part.split(':');
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    if (HEX_GROUP.test(group)) {
      words.push(parseInt(group, 16));
      continue;
    }
    const v4 = dottedQuadLast && i === groups.length - 1 ? parseIPv4(group) : undefined;
    if (v4 === undefined) return undefined;
    words.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
  }
  return words;
}

/** `head` from the first group on, `tail` ending at the last, zeros between. */
function toBytes(head: readonly number[], tail: readonly number[]): Buffer {
  const bytes = Buffer.alloc(IPV6_LENGTH);
  head.forEach((word, i) => bytes.writeUInt16BE(word, 2 * i));
  tail.forEach((word, i) => bytes.writeUInt16BE(word, 2 * (8 - tail.length + i)));
  return bytes;
}

/** Formats an address: dotted quad, or RFC 5952 canonical IPv6. */
export function formatIP(ip: IP): string {
  if (ip.family === 'IPv4') {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  }
  const words: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) words.push(Number((ip.value >> s) & 0xffffn));
  return rfc5952(words);
}

/** The IPv4 address at `bytes[offset..offset+4)` as a dotted quad. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  checkRoom(bytes, offset, IPV4_LENGTH, 'formatIPv4');
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** The IPv6 address at `bytes[offset..offset+16)` in RFC 5952 canonical form. */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  checkRoom(bytes, offset, IPV6_LENGTH, 'formatIPv6');
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  return rfc5952(words);
}

/**
 * Eight 16-bit words in RFC 5952 canonical form: lowercase (4.3), no leading zeros in a
 * group (4.1), the longest run of two or more zero groups replaced by "::" (4.2.1-4.2.3;
 * the first run on a tie; a lone zero group stays "0"). IPv4-mapped addresses are
 * written in hex too: 5's mixed notation is only a recommendation, and NDP never
 * carries them.
 */
function rfc5952(words: readonly number[]): string {
  let runStart = -1;
  let runLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > runLength) {
      runStart = i;
      runLength = j - i;
    }
    i = j;
  }
  const hex = (ws: readonly number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (runLength < 2) return hex(words);
  return `${hex(words.slice(0, runStart))}::${hex(words.slice(runStart + runLength))}`;
}

/** parseIPv4 for values the caller vouches for (builder arguments): throws on a malformed one. */
export function requireIPv4(text: string, what: string): Buffer {
  const ip = parseIPv4(text);
  if (ip === undefined) throw new TypeError(`${what}: ${JSON.stringify(text)} is not an IPv4 address`);
  return ip;
}

/** parseIPv6 for values the caller vouches for (builder arguments): throws on a malformed one. */
export function requireIPv6(text: string, what: string): Buffer {
  const ip = parseIPv6(text);
  if (ip === undefined) throw new TypeError(`${what}: ${JSON.stringify(text)} is not an IPv6 address`);
  return ip;
}

function checkRoom(bytes: Uint8Array, offset: number, length: number, fn: string): void {
  if (offset < 0 || offset + length > bytes.length) {
    throw new RangeError(`${fn}: need ${length} bytes at offset ${offset}, buffer has ${bytes.length}`);
  }
}

export function ipFromValue(family: Family, value: bigint): IP {
  return { family, value };
}

export function sameIP(a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value;
}

/** A stable string key for maps: family tag + value. */
export function ipKey(ip: IP): string {
  return (ip.family === 'IPv4' ? '4:' : '6:') + ip.value.toString(16);
}
