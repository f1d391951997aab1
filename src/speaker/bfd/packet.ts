// BFD control packets (RFC 5880 4.1), pure: bytes in, typed packet out, and back.
// Authentication sections (4.2-4.4) are not supported: a packet with the A bit set is
// rejected, as RFC 5880 6.8.6 requires of a session without authentication.
export const STATE = { adminDown: 0, down: 1, init: 2, up: 3 } as const;
export type BFDState = keyof typeof STATE;
const STATE_NAMES: readonly BFDState[] = ['adminDown', 'down', 'init', 'up'];

/** RFC 5880 4.1 Diagnostic codes (the reason for the last change to Down). */
export const DIAG = { none: 0, detectionTimeExpired: 1, echoFailed: 2, neighborSignaledDown: 3, forwardingReset: 4, pathDown: 5, concatenatedPathDown: 6, adminDown: 7, reverseConcatenatedPathDown: 8 } as const;

export interface ControlPacket {
  readonly diag: number;
  readonly state: BFDState;
  readonly poll: boolean;
  readonly final: boolean;
  readonly controlPlaneIndependent: boolean;
  readonly demand: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  /** Microseconds (RFC 5880 4.1). */
  readonly desiredMinTxInterval: number;
  readonly requiredMinRxInterval: number;
  readonly requiredMinEchoRxInterval: number;
}

const LENGTH = 24;
const VERSION = 1;

export function encodeControl(p: ControlPacket): Buffer {
  const b = Buffer.alloc(LENGTH);
  b[0] = (VERSION << 5) | (p.diag & 0x1f);
  b[1] = (STATE[p.state] << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.controlPlaneIndependent ? 0x08 : 0) | (p.demand ? 0x02 : 0);
  b[2] = p.detectMult;
  b[3] = LENGTH;
  b.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  b.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  b.writeUInt32BE(p.desiredMinTxInterval >>> 0, 12);
  b.writeUInt32BE(p.requiredMinRxInterval >>> 0, 16);
  b.writeUInt32BE(p.requiredMinEchoRxInterval >>> 0, 20);
  return b;
}

/** RFC 5880 6.8.6: the reception checks that do not need session state. Never throws. */
export function parseControl(datagram: Uint8Array): { ok: true; packet: ControlPacket } | { ok: false; reason: string } {
  const b = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (b.length < LENGTH) return { ok: false, reason: `${b.length} bytes, shorter than a BFD control packet (24)` };
  const version = b[0]! >> 5;
  if (version !== VERSION) return { ok: false, reason: `version ${version}, expected 1` };
  const length = b[3]!;
  if (length < LENGTH || length > b.length) return { ok: false, reason: `length field ${length} does not fit the ${b.length}-byte datagram` };
  if (b[1]! & 0x04) return { ok: false, reason: 'authentication present, but this session has none' };
  const detectMult = b[2]!;
  if (detectMult === 0) return { ok: false, reason: 'detect multiplier 0' };
  if (b[1]! & 0x01) return { ok: false, reason: 'multipoint bit set' };
  const myDiscriminator = b.readUInt32BE(4);
  if (myDiscriminator === 0) return { ok: false, reason: 'my discriminator 0' };
  const state = STATE_NAMES[b[1]! >> 6]!;
  const yourDiscriminator = b.readUInt32BE(8);
  if (yourDiscriminator === 0 && state !== 'down' && state !== 'adminDown') return { ok: false, reason: `your discriminator 0 in state ${state}` };
  return {
    ok: true,
    packet: {
      diag: b[0]! & 0x1f,
      state,
      poll: (b[1]! & 0x20) !== 0,
      final: (b[1]! & 0x10) !== 0,
      controlPlaneIndependent: (b[1]! & 0x08) !== 0,
      demand: (b[1]! & 0x02) !== 0,
      detectMult,
      myDiscriminator,
      yourDiscriminator,
      desiredMinTxInterval: b.readUInt32BE(12),
      requiredMinRxInterval: b.readUInt32BE(16),
      requiredMinEchoRxInterval: b.readUInt32BE(20),
    },
  };
}
