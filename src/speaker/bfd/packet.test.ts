import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeControl, parseControl, type ControlPacket } from './packet.ts';

// RFC 5880 4.1, written out by hand: version 1 / diag 0, state Up (3) with no flags,
// detect mult 3, length 24, discriminators 1 and 2, intervals 300,000 us.
const UP = Buffer.from('20' + 'c0' + '03' + '18' + '00000001' + '00000002' + '000493e0' + '000493e0' + '00000000', 'hex');
const UP_PACKET: ControlPacket = {
  diag: 0, state: 'up', poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3,
  myDiscriminator: 1, yourDiscriminator: 2, desiredMinTxInterval: 300_000, requiredMinRxInterval: 300_000, requiredMinEchoRxInterval: 0,
};

test('a control packet parses to the fields RFC 5880 4.1 lays out, and encodes back to the same bytes', () => {
  assert.deepEqual(parseControl(UP), { ok: true, packet: UP_PACKET });
  assert.deepEqual(encodeControl(UP_PACKET), UP);
});

test('the reception checks of RFC 5880 6.8.6 reject with a reason', () => {
  const with_ = (i: number, v: number) => {
    const b = Buffer.from(UP);
    b[i] = v;
    return b;
  };
  assert.deepEqual(parseControl(UP.subarray(0, 23)), { ok: false, reason: '23 bytes, shorter than a BFD control packet (24)' });
  assert.deepEqual(parseControl(with_(0, 0x40)), { ok: false, reason: 'version 2, expected 1' });
  assert.deepEqual(parseControl(with_(2, 0)), { ok: false, reason: 'detect multiplier 0' });
  assert.deepEqual(parseControl(with_(3, 30)), { ok: false, reason: 'length field 30 does not fit the 24-byte datagram' });
  assert.deepEqual(parseControl(with_(1, 0xc4)), { ok: false, reason: 'authentication present, but this session has none' });
  assert.deepEqual(parseControl(with_(1, 0xc1)), { ok: false, reason: 'multipoint bit set' });
  assert.deepEqual(parseControl(with_(7, 0)), { ok: false, reason: 'my discriminator 0' });
  const noYours = Buffer.from(UP);
  noYours.writeUInt32BE(0, 8);
  assert.deepEqual(parseControl(noYours), { ok: false, reason: 'your discriminator 0 in state up' });
  noYours[1] = 0x40; // Down: a zero "your discriminator" is how a session starts
  assert.equal(parseControl(noYours).ok, true);
});

test('property: parse never throws; valid packets round-trip', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => void parseControl(b)), { numRuns: 3000 });
  fc.assert(fc.property(
    fc.record({
      diag: fc.integer({ min: 0, max: 31 }), state: fc.constantFrom('down' as const, 'init' as const, 'up' as const, 'adminDown' as const),
      poll: fc.boolean(), final: fc.boolean(), controlPlaneIndependent: fc.boolean(), demand: fc.boolean(), detectMult: fc.integer({ min: 1, max: 255 }),
      myDiscriminator: fc.integer({ min: 1, max: 2 ** 32 - 1 }), yourDiscriminator: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      desiredMinTxInterval: fc.nat({ max: 2 ** 32 - 1 }), requiredMinRxInterval: fc.nat({ max: 2 ** 32 - 1 }), requiredMinEchoRxInterval: fc.nat({ max: 2 ** 32 - 1 }),
    }),
    (p) => assert.deepEqual(parseControl(encodeControl(p)), { ok: true, packet: { ...p } }),
  ));
});
