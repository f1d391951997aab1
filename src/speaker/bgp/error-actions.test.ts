// Every DecodeError names the action RFC 4271 §6 / RFC 7606 prescribes for it, and the
// section. Messages are written by hand from the RFCs; `update` only fills in lengths.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode, MessageReader, type DecodeError, type ErrorAction } from './decode.ts';
import { hex, KEEPALIVE, MARKER, message, OPEN, update } from './fixtures.test-support.ts';
import type { BGPMessage } from './messages.ts';


function expectAction(result: BGPMessage | DecodeError, action: ErrorAction, rule: string, subcode?: string): DecodeError {
  assert.equal(result.type, 'error', JSON.stringify(result));
  const e = result as DecodeError;
  assert.deepEqual([e.action, e.rule], [action, rule], e.reason);
  if (subcode !== undefined) assert.equal(`${e.code}/${e.subcode}`, subcode, e.reason);
  return e;
}

const ORIGIN_IGP = '40 01 01 00';
const AS_PATH_64512 = '40 02 06 02 01 0000fc00';
const NEXT_HOP = '40 03 04 c612000b';
const MANDATORY = ORIGIN_IGP + AS_PATH_64512 + NEXT_HOP;
const NLRI = '20 c612010a'; // 198.18.1.10/32
const BAD_ORIGIN = '40 01 01 03'; // value 3
// AFI 2, SAFI 1, a 16-byte next hop, reserved, 2001:db8:18::/64 (RFC 4760 §3).
const MP_REACH_V6 = '80 0e 1e 0002 01 10 20010db8001800000000000000000001 00 40 20010db800180000';

describe('RFC 7606 / RFC 4271 actions of decode errors', () => {
  it('header and OPEN errors reset the session (RFC 4271 §6.1, §6.2)', () => {
    const bad = Buffer.from(KEEPALIVE);
    bad[3] = 0;
    expectAction(decode(bad), 'session-reset', 'RFC 4271 §6.1', '1/1');
    const version3 = Buffer.from(OPEN);
    version3[19] = 3;
    expectAction(decode(version3), 'session-reset', 'RFC 4271 §6.2', '2/1');
  });

  const cases: [string, string, ErrorAction, string, string][] = [
    ['ORIGIN of length 2', '40 01 02 0000' + AS_PATH_64512 + NEXT_HOP, 'treat-as-withdraw', 'RFC 7606 §7.1', '3/5'],
    ['ORIGIN value 3', BAD_ORIGIN + AS_PATH_64512 + NEXT_HOP, 'treat-as-withdraw', 'RFC 7606 §7.1', '3/6'],
    ['AS_PATH segment type 3', ORIGIN_IGP + '40 02 06 03 01 0000fc00' + NEXT_HOP, 'treat-as-withdraw', 'RFC 7606 §7.2', '3/11'],
    ['NEXT_HOP of length 5', ORIGIN_IGP + AS_PATH_64512 + '40 03 05 c612000b00', 'treat-as-withdraw', 'RFC 7606 §7.3', '3/5'],
    ['MED of length 3', MANDATORY + '80 04 03 000000', 'treat-as-withdraw', 'RFC 7606 §7.4', '3/5'],
    ['LOCAL_PREF of length 3', MANDATORY + '40 05 03 000064', 'treat-as-withdraw', 'RFC 7606 §7.5', '3/5'],
    ['ATOMIC_AGGREGATE of length 1', MANDATORY + '40 06 01 00', 'attribute-discard', 'RFC 7606 §7.6', '3/5'],
    ['AGGREGATOR of length 6', MANDATORY + 'c0 07 06 0000fc00c612', 'attribute-discard', 'RFC 7606 §7.7', '3/5'],
    ['COMMUNITIES of length 5', MANDATORY + 'c0 08 05 fc00006400', 'treat-as-withdraw', 'RFC 7606 §7.8', '3/5'],
    ['LARGE_COMMUNITY of length 11', MANDATORY + 'c0 20 0b' + '00'.repeat(11), 'treat-as-withdraw', 'RFC 8092 §6', '3/5'],
    ['ORIGIN with the Optional bit', 'c0 01 01 00' + AS_PATH_64512 + NEXT_HOP, 'treat-as-withdraw', 'RFC 7606 §3(c)', '3/4'],
    ['NLRI without NEXT_HOP', ORIGIN_IGP + AS_PATH_64512, 'treat-as-withdraw', 'RFC 7606 §3(d)', '3/3'],
    ['an attribute overrunning the path attributes', MANDATORY + '80 04 09 00000000', 'treat-as-withdraw', 'RFC 7606 §4', '3/1'],
    ['an attribute header cut short', MANDATORY + '80 04', 'treat-as-withdraw', 'RFC 7606 §4', '3/1'],
    ['MP_REACH_NLRI twice', MANDATORY + MP_REACH_V6 + MP_REACH_V6, 'session-reset', 'RFC 7606 §3(g)', '3/1'],
    ['MP_REACH_NLRI next hop of length 5', MANDATORY + '80 0e 0a 0002 01 05 0000000000 00 00', 'afi-safi-disable', 'RFC 7606 §7.11', '3/9'],
    ['MP_REACH_NLRI of length 4 (no AFI/SAFI to disable)', MANDATORY + '80 0e 04 00020110', 'session-reset', 'RFC 7606 §7.11', '3/9'],
    ['an unrecognised well-known attribute', MANDATORY + '40 63 01 00', 'session-reset', 'RFC 4271 §6.3', '3/2'],
  ];
  for (const [what, attributes, action, rule, subcode] of cases) {
    it(`${what}: ${action} (${rule})`, () => {
      expectAction(decode(update('', attributes, NLRI)), action, rule, subcode);
    });
  }

  it('a malformed Withdrawn Routes or NLRI field resets the session (RFC 7606 §5.3)', () => {
    expectAction(decode(update('21 c612010a00', '')), 'session-reset', 'RFC 7606 §5.3', '3/10');
    expectAction(decode(update('', MANDATORY, '21 c612010a00')), 'session-reset', 'RFC 7606 §5.3', '3/10');
  });

  it('the most severe error of the UPDATE decides, wherever it is; the first among equals', () => {
    // A treat-as-withdraw error first, a reset later: reset.
    expectAction(decode(update('', BAD_ORIGIN + AS_PATH_64512 + NEXT_HOP + MP_REACH_V6 + MP_REACH_V6, NLRI)), 'session-reset', 'RFC 7606 §3(g)');
    expectAction(decode(update('', BAD_ORIGIN + AS_PATH_64512 + NEXT_HOP, '21 c612010a00')), 'session-reset', 'RFC 7606 §5.3');
    // A discard first, a treat-as-withdraw later: treat-as-withdraw.
    expectAction(decode(update('', MANDATORY + '40 06 01 00' + '80 04 03 000000', NLRI)), 'treat-as-withdraw', 'RFC 7606 §7.4');
    // Two treat-as-withdraw errors: the first.
    expectAction(decode(update('', BAD_ORIGIN + AS_PATH_64512 + NEXT_HOP + '80 04 03 000000', NLRI)), 'treat-as-withdraw', 'RFC 7606 §7.1');
    // An overrun stops the attribute list, not the NLRI check.
    expectAction(decode(update('', MANDATORY + '80 04 09 00000000', '21 c612010a00')), 'session-reset', 'RFC 7606 §5.3');
  });

  it('MessageReader goes on with the next message after a treat-as-withdraw UPDATE', () => {
    const r = new MessageReader();
    r.push(Buffer.concat([update('', BAD_ORIGIN + AS_PATH_64512 + NEXT_HOP, NLRI), KEEPALIVE]));
    assert.equal((r.next() as DecodeError).action, 'treat-as-withdraw');
    assert.deepEqual(r.next(), { type: 'keepalive' });
    assert.equal(r.next(), undefined);
  });
});
