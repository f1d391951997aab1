// MAC addresses for the L2 speaker: lowercase "aa:bb:cc:dd:ee:ff" strings in messages
// and configuration (so they compare with ===), 6-byte buffers on the wire.

/** A 48-bit IEEE 802 MAC address in lowercase colon form, e.g. "52:54:00:12:34:56". */
export type MAC = string;

export const MAC_LENGTH = 6;
export const BROADCAST_MAC: MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC: MAC = '00:00:00:00:00:00';

const MAC_TEXT = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

// One lookup per byte instead of toString(16) + padStart: formatMAC runs for every ARP frame.
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Six colon-separated two-digit hex bytes, either case; anything else is undefined. */
export function parseMAC(text: string): Buffer | undefined {
  if (!MAC_TEXT.test(text)) return undefined;
  return Buffer.from(text.replaceAll(':', ''), 'hex');
}

/** The MAC at `buf[offset..offset+6)`; throws RangeError if fewer than 6 bytes are there. */
export function formatMAC(buf: Uint8Array, offset = 0): MAC {
  if (offset < 0 || offset + MAC_LENGTH > buf.length) {
    throw new RangeError(`formatMAC: need ${MAC_LENGTH} bytes at offset ${offset}, buffer has ${buf.length}`);
  }
  let text = HEX_BYTE[buf[offset]!]!;
  for (let i = 1; i < MAC_LENGTH; i++) text += ':' + HEX_BYTE[buf[offset + i]!]!;
  return text;
}

/** parseMAC for values the caller vouches for (builder arguments): throws on a malformed one. */
export function requireMAC(text: string, what: string): Buffer {
  const mac = parseMAC(text);
  if (mac === undefined) throw new TypeError(`${what}: ${JSON.stringify(text)} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  return mac;
}
