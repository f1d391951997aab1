// The membership heartbeat: the one datagram speakers exchange to know who is alive
// without the API server (L2 failover must not wait for a Lease or a Pod status).
//
//   0  "FLB" magic, version (2; version 1 is version 2 without the reports)
//   4  type: 1 alive, 2 leaving (a speaker shutting down, so peers fail over at once)
//   5  incarnation: u64, the sender's start time in ms; a restart is a new incarnation
//  13  sequence: u32, per incarnation
//  17  node name length (1..253), then the name in UTF-8 (RFC 1123 names are ASCII)
//   .  version 2: report count u16, then per report 14 bytes: the peer's name hash
//      (FNV-1a 32, nameHash), the incarnation the sender heard from it (u64), and how
//      long ago, ms (u16, 0..65535)
//   .  HMAC-SHA256 over everything before it, 32 bytes, only when a key is configured
//
// The reports are the sender's direct evidence about its peers, so a receiver that
// cannot hear a peer itself still knows whether others do (docs/L2.md "Membership":
// an asymmetric or partial partition of the membership traffic is not a death).
// Names travel as hashes to keep a heartbeat small (14 bytes per peer); the receiver
// maps them back through its own peer list and ignores a hash two of its peers share.
//
// Pure: bytes in, typed message out; parse never throws.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export const HEARTBEAT_VERSION = 2;
const MAGIC = Buffer.from('FLB');
const HEADER = 17;
const MAC_LENGTH = 32;
const MAX_NAME = 253;
const REPORT_LENGTH = 14;
/** 1,000 peers is 14 kB, well inside a UDP datagram; L2 clusters are far smaller. */
export const MAX_REPORTS = 1000;
export const MAX_REPORT_AGE = 0xffff;

export type HeartbeatType = 'alive' | 'leaving';

/** "I heard the node with this name hash, in this incarnation, `age` ms ago." */
export interface PeerReport {
  readonly hash: number;
  readonly incarnation: bigint;
  readonly age: number;
}

export interface Heartbeat {
  readonly type: HeartbeatType;
  readonly node: string;
  readonly incarnation: bigint;
  readonly sequence: number;
  readonly reports?: readonly PeerReport[];
}

export type ParsedHeartbeat = { readonly ok: true; readonly heartbeat: Heartbeat } | { readonly ok: false; readonly reason: string };

/** FNV-1a, 32 bits, over the name's UTF-8 bytes: how a report names a peer. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

export function encodeHeartbeat(h: Heartbeat, key?: Buffer): Buffer {
  const name = Buffer.from(h.node, 'utf8');
  if (name.length === 0 || name.length > MAX_NAME) throw new RangeError(`node name "${h.node}" must be 1..${MAX_NAME} bytes`);
  const reports = h.reports ?? [];
  if (reports.length > MAX_REPORTS) throw new RangeError(`${reports.length} reports, at most ${MAX_REPORTS}`);
  const namesEnd = HEADER + 1 + name.length;
  const body = Buffer.alloc(namesEnd + 2 + reports.length * REPORT_LENGTH);
  MAGIC.copy(body, 0);
  body[3] = HEARTBEAT_VERSION;
  body[4] = h.type === 'alive' ? 1 : 2;
  body.writeBigUInt64BE(h.incarnation, 5);
  body.writeUInt32BE(h.sequence >>> 0, 13);
  body[HEADER] = name.length;
  name.copy(body, HEADER + 1);
  body.writeUInt16BE(reports.length, namesEnd);
  reports.forEach((r, i) => {
    const at = namesEnd + 2 + i * REPORT_LENGTH;
    body.writeUInt32BE(r.hash >>> 0, at);
    body.writeBigUInt64BE(r.incarnation, at + 4);
    body.writeUInt16BE(Math.min(MAX_REPORT_AGE, Math.max(0, Math.round(r.age))), at + 12);
  });
  return key ? Buffer.concat([body, mac(key, body)]) : body;
}

export function parseHeartbeat(datagram: Uint8Array, key?: Buffer): ParsedHeartbeat {
  const b = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (b.length < HEADER + 2) return fail(`${b.length} bytes, shorter than a heartbeat`);
  if (!b.subarray(0, 3).equals(MAGIC)) return fail('not a ferrolb heartbeat (bad magic)');
  const version = b[3]!;
  if (version !== 1 && version !== 2) return fail(`version ${version}, expected 1 or 2`);
  const type = b[4] === 1 ? 'alive' : b[4] === 2 ? 'leaving' : undefined;
  if (!type) return fail(`unknown type ${b[4]}`);
  const nameLength = b[HEADER]!;
  if (nameLength === 0) return fail('empty node name');
  const namesEnd = HEADER + 1 + nameLength;
  let bodyLength = namesEnd;
  let count = 0;
  if (version === 2) {
    if (b.length < namesEnd + 2) return fail(`${b.length} bytes, too short for a ${nameLength}-byte name and the report count`);
    count = b.readUInt16BE(namesEnd);
    if (count > MAX_REPORTS) return fail(`${count} reports, at most ${MAX_REPORTS}`);
    bodyLength = namesEnd + 2 + count * REPORT_LENGTH;
  }
  const expected = bodyLength + (key ? MAC_LENGTH : 0);
  if (b.length !== expected) {
    if (!key && b.length === bodyLength + MAC_LENGTH) return fail('authenticated heartbeat, but no key is configured here');
    if (key && b.length === bodyLength) return fail('heartbeat without authentication, but a key is configured');
    return fail(`${b.length} bytes, expected ${expected} for a ${nameLength}-byte name${version === 2 ? ` and ${count} reports` : ''}`);
  }
  if (key) {
    const want = mac(key, b.subarray(0, bodyLength));
    if (!timingSafeEqual(want, b.subarray(bodyLength))) return fail('bad authentication (HMAC mismatch: a different key, or a forged datagram)');
  }
  const node = b.toString('utf8', HEADER + 1, namesEnd);
  const heartbeat = { type, node, incarnation: b.readBigUInt64BE(5), sequence: b.readUInt32BE(13) } as const;
  if (version === 1) return { ok: true, heartbeat };
  const reports: PeerReport[] = [];
  for (let i = 0; i < count; i++) {
    const at = namesEnd + 2 + i * REPORT_LENGTH;
    reports.push({ hash: b.readUInt32BE(at), incarnation: b.readBigUInt64BE(at + 4), age: b.readUInt16BE(at + 12) });
  }
  return { ok: true, heartbeat: { ...heartbeat, reports } };
}

/**
 * The key as a KeyObject, made once per key: given a Buffer, createHmac prepares a new
 * KeyObject on every call, about 8 of the 11 us an HMAC takes here under the speakers'
 * V8 flags (a speaker signs about 100 heartbeats a second and checks 25 per peer).
 */
const keyObjects = new WeakMap<Buffer, KeyObject>();

function mac(key: Buffer, body: Uint8Array): Buffer {
  let k = keyObjects.get(key);
  if (!k) keyObjects.set(key, (k = createSecretKey(key)));
  return createHmac('sha256', k).update(body).digest();
}

function fail(reason: string): ParsedHeartbeat {
  return { ok: false, reason };
}
