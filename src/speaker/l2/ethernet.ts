// Ethernet II framing shared by the ARP and NDP codecs, and the two outcomes every
// decoder may return besides its own messages: 'ignored' (not for us) and 'invalid'
// (meant for us but malformed, so it must be dropped, with a reason for the logs).

export const ETHERNET_HEADER_LENGTH = 14; // destination MAC, source MAC, ethertype
/** 64 bytes minus the 4-byte FCS, which an AF_PACKET socket neither shows nor wants. */
export const ETHERNET_MIN_FRAME_LENGTH = 60;

export const ETHERTYPE = {
  ipv4: 0x0800,
  arp: 0x0806,
  vlan: 0x8100, // IEEE 802.1Q tag
  qinq: 0x88a8, // IEEE 802.1ad service tag
  ipv6: 0x86dd,
} as const;

/** Below this the field is an IEEE 802.3 length, not an ethertype. */
export const MIN_ETHERTYPE = 0x0600;

export interface Ignored {
  readonly type: 'ignored';
  readonly reason: string;
}

export interface Invalid {
  readonly type: 'invalid';
  readonly reason: string;
}

export function ignored(reason: string): Ignored {
  return { type: 'ignored', reason };
}

export function invalid(reason: string): Invalid {
  return { type: 'invalid', reason };
}

/** Big-endian 16-bit read; the caller has checked that both bytes exist. */
export function u16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

/**
 * A zeroed frame with its Ethernet header written and room for `payloadLength` bytes at
 * ETHERNET_HEADER_LENGTH. Short frames are padded with zeros to the Ethernet minimum here
 * rather than left to the NIC, so that the bytes we test are the bytes on the wire.
 */
export function allocFrame(dst: Uint8Array, src: Uint8Array, ethertype: number, payloadLength: number): Buffer {
  const frame = Buffer.alloc(Math.max(ETHERNET_HEADER_LENGTH + payloadLength, ETHERNET_MIN_FRAME_LENGTH));
  frame.set(dst, 0);
  frame.set(src, 6);
  frame.writeUInt16BE(ethertype, 12);
  return frame;
}
