// The host routes bench/bgp-scale.ts announces, and the same routes as an MRT file for
// GoBGP's `gobgp mrt inject global` (the reference sender).
import { formatIPv4 } from '../src/net/ip.ts';

/** 198.19.0.0/16 holds them: in the lab's test range (198.18.0.0/15), clear of its pools and service CIDR. */
const BASE = (198 << 24) | (19 << 16);

/** The first `count` host routes of 198.19.0.0/16, as "A.B.C.D/32". */
export function scaleRoutes(count: number): string[] {
  const out: string[] = [];
  const bytes = Buffer.alloc(4);
  for (let i = 0; i < count; i++) {
    bytes.writeUInt32BE((BASE + i) >>> 0);
    out.push(`${formatIPv4(bytes)}/32`);
  }
  return out;
}

/**
 * An MRT TABLE_DUMP_V2 file (RFC 6396 4.3) with the same `count` host routes: one
 * PEER_INDEX_TABLE naming one peer, then one RIB_IPV4_UNICAST record per prefix with
 * ORIGIN IGP, an empty AS_PATH and NEXT_HOP `nextHop` (RFC 4271 5.1).
 */
export function scaleRoutesMRT(count: number, peer: { id: string; address: string; asn: number }, nextHop: string): Buffer {
  const TABLE_DUMP_V2 = 13;
  const record = (subtype: number, body: Buffer) => {
    const header = Buffer.alloc(12);
    header.writeUInt32BE(Math.floor(Date.now() / 1000), 0);
    header.writeUInt16BE(TABLE_DUMP_V2, 4);
    header.writeUInt16BE(subtype, 6);
    header.writeUInt32BE(body.length, 8);
    return Buffer.concat([header, body]);
  };
  const v4 = (text: string) => Buffer.from(text.split('.').map(Number));
  // PEER_INDEX_TABLE: collector ID, empty view name, one peer (type 0x02: IPv4 address, 4-byte AS).
  const peerAS = Buffer.alloc(4);
  peerAS.writeUInt32BE(peer.asn);
  const index = record(1, Buffer.concat([v4(peer.id), Buffer.from([0, 0]), Buffer.from([0, 1]), Buffer.from([0x02]), v4(peer.id), v4(peer.address), peerAS]));
  // ORIGIN (well-known transitive, 1 byte: IGP), AS_PATH (empty), NEXT_HOP.
  const attributes = Buffer.concat([Buffer.from([0x40, 1, 1, 0]), Buffer.from([0x40, 2, 0]), Buffer.from([0x40, 3, 4]), v4(nextHop)]);
  const records = [index];
  for (let i = 0; i < count; i++) {
    const body = Buffer.alloc(4 + 1 + 4 + 2 + 2 + 4 + 2 + attributes.length);
    let o = body.writeUInt32BE(i, 0);
    o = body.writeUInt8(32, o);
    o = body.writeUInt32BE((BASE + i) >>> 0, o);
    o = body.writeUInt16BE(1, o); // one RIB entry
    o = body.writeUInt16BE(0, o); // peer index 0
    o = body.writeUInt32BE(Math.floor(Date.now() / 1000), o);
    o = body.writeUInt16BE(attributes.length, o);
    attributes.copy(body, o);
    records.push(record(2, body));
  }
  return Buffer.concat(records);
}
