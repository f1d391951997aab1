// The membership heartbeat: the one datagram speakers exchange to know who is alive
// without the API server (L2 failover must not wait for a Lease or a Pod status).
//
//   0  "FLB" magic, version 1
//   4  type: 1 alive, 2 leaving (a speaker shutting down, so peers fail over at once)
//   5  incarnation: u64, the sender's start time in ms; a restart is a new incarnation
//  13  sequence: u32, per incarnation
//  17  node name length (1..253), then the name in UTF-8 (RFC 1123 names are ASCII)
//   .  HMAC-SHA256 over everything before it, 32 bytes, only when a key is configured
//
// Pure: bytes in, typed message out; parse never throws.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const HEARTBEAT_VERSION = 1;
const MAGIC = Buffer.from('FLB');
const HEADER = 17;
const MAC_LENGTH = 32;
const MAX_NAME = 253;

export type HeartbeatType = 'alive' | 'leaving';

export interface Heartbeat {
  readonly type: HeartbeatType;
  readonly node: string;
  readonly incarnation: bigint;
  readonly sequence: number;
}

export type ParsedHeartbeat = { readonly ok: true; readonly heartbeat: Heartbeat } | { readonly ok: false; readonly reason: string };

export function encodeHeartbeat(h: Heartbeat, key?: Buffer): Buffer {
  const name = Buffer.from(h.node, 'utf8');
  if (name.length === 0 || name.length > MAX_NAME) throw new RangeError(`node name "${h.node}" must be 1..${MAX_NAME} bytes`);
  const body = Buffer.alloc(HEADER + 1 + name.length);
  MAGIC.copy(body, 0);
  body[3] = HEARTBEAT_VERSION;
  body[4] = h.type === 'alive' ? 1 : 2;
  body.writeBigUInt64BE(h.incarnation, 5);
  body.writeUInt32BE(h.sequence >>> 0, 13);
  body[HEADER] = name.length;
  name.copy(body, HEADER + 1);
  return key ? Buffer.concat([body, mac(key, body)]) : body;
}

export function parseHeartbeat(datagram: Uint8Array, key?: Buffer): ParsedHeartbeat {
  const b = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (b.length < HEADER + 2) return fail(`${b.length} bytes, shorter than a heartbeat`);
  if (!b.subarray(0, 3).equals(MAGIC)) return fail('not a ferrolb heartbeat (bad magic)');
  if (b[3] !== HEARTBEAT_VERSION) return fail(`version ${b[3]}, expected ${HEARTBEAT_VERSION}`);
  const type = b[4] === 1 ? 'alive' : b[4] === 2 ? 'leaving' : undefined;
  if (!type) return fail(`unknown type ${b[4]}`);
  const nameLength = b[HEADER]!;
  if (nameLength === 0) return fail('empty node name');
  const bodyLength = HEADER + 1 + nameLength;
  const expected = bodyLength + (key ? MAC_LENGTH : 0);
  if (b.length !== expected) {
    if (!key && b.length === bodyLength + MAC_LENGTH) return fail('authenticated heartbeat, but no key is configured here');
    if (key && b.length === bodyLength) return fail('heartbeat without authentication, but a key is configured');
    return fail(`${b.length} bytes, expected ${expected} for a ${nameLength}-byte name`);
  }
  if (key) {
    const want = mac(key, b.subarray(0, bodyLength));
    if (!timingSafeEqual(want, b.subarray(bodyLength))) return fail('bad authentication (HMAC mismatch: a different key, or a forged datagram)');
  }
  const node = b.toString('utf8', HEADER + 1, bodyLength);
  return { ok: true, heartbeat: { type, node, incarnation: b.readBigUInt64BE(5), sequence: b.readUInt32BE(13) } };
}

function mac(key: Buffer, body: Uint8Array): Buffer {
  return createHmac('sha256', key).update(body).digest();
}

function fail(reason: string): ParsedHeartbeat {
  return { ok: false, reason };
}
