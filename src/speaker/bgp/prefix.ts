// Prefix text <-> the RFC 4271 §4.3 NLRI encoding (length in bits, then just enough
// bytes to hold it), shared by the encoder and the decoder.

import { formatIPv4, formatIPv6, IPV4_LENGTH, IPV6_LENGTH, parseIPv4, parseIPv6 } from '../../net/ip.ts';
import type { AFI_SAFI } from './messages.ts';

export interface ParsedPrefix {
  /** The whole address (4 or 16 bytes), host bits zero. */
  readonly address: Buffer;
  readonly length: number;
}

const LENGTH_TEXT = /^(0|[1-9][0-9]{0,2})$/;

export function addressBytes(family: AFI_SAFI): number {
  return family === 'ipv4-unicast' ? IPV4_LENGTH : IPV6_LENGTH;
}

/** Bytes a prefix of this length takes in NLRI: the length byte plus ceil(length / 8). */
export function prefixWireLength(length: number): number {
  return 1 + Math.ceil(length / 8);
}

/**
 * "198.18.1.0/24" or "2001:db8::/64" (any RFC 4291 spelling) for `family`; throws
 * RangeError if malformed, of the other family, or with host bits set beyond the length.
 */
export function parsePrefix(text: string, family: AFI_SAFI, what: string): ParsedPrefix {
  const fail = (why: string): never => {
    throw new RangeError(`${what}: ${JSON.stringify(text)} ${why}`);
  };
  if (typeof text !== 'string') fail('is not a string');
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) fail('is not "address/length"');
  const lengthText = text.slice(slash + 1);
  const address = family === 'ipv4-unicast' ? parseIPv4(text.slice(0, slash)) : parseIPv6(text.slice(0, slash));
  if (address === undefined) fail(`is not an ${family === 'ipv4-unicast' ? 'IPv4' : 'IPv6'} prefix`);
  const max = addressBytes(family) * 8;
  const length = LENGTH_TEXT.test(lengthText) ? Number(lengthText) : NaN;
  if (!(length <= max)) fail(`has a prefix length that is not 0-${max}`);
  for (let bit = length; bit < max; bit++) {
    if ((address![bit >> 3]! & (0x80 >> (bit & 7))) !== 0) fail(`has host bits set beyond /${length}`);
  }
  return { address: address!, length };
}

/** The NLRI encoding of a parsed prefix. */
export function writePrefix(prefix: ParsedPrefix, out: Buffer, offset: number): number {
  out[offset] = prefix.length;
  const bytes = Math.ceil(prefix.length / 8);
  prefix.address.copy(out, offset + 1, 0, bytes);
  return offset + 1 + bytes;
}

/**
 * Reads prefixes from `buf[start, end)`. Returns the prefixes as canonical text with the
 * trailing bits beyond each length masked off (RFC 4271 §4.3: they are irrelevant), or a
 * reason string if a length exceeds the family's maximum or a prefix overruns the field.
 */
export function readPrefixes(buf: Buffer, start: number, end: number, family: AFI_SAFI): string[] | string {
  const size = addressBytes(family);
  const max = size * 8;
  const prefixes: string[] = [];
  let pos = start;
  while (pos < end) {
    const length = buf[pos]!;
    if (length > max) return `prefix length ${length} at byte ${pos - start} exceeds ${max}`;
    const bytes = Math.ceil(length / 8);
    if (pos + 1 + bytes > end) return `prefix /${length} at byte ${pos - start} needs ${bytes} bytes, ${end - pos - 1} left`;
    const address = new Uint8Array(size);
    address.set(buf.subarray(pos + 1, pos + 1 + bytes));
    if (length % 8 !== 0) address[bytes - 1] = address[bytes - 1]! & (0xff << (8 - (length % 8)));
    prefixes.push(`${size === IPV4_LENGTH ? formatIPv4(address) : formatIPv6(address)}/${length}`);
    pos += 1 + bytes;
  }
  return prefixes;
}
