import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeHeartbeat, parseHeartbeat } from './heartbeat.ts';
import { MemberTable } from './members.ts';

// Built by hand from the layout in heartbeat.ts, not by the encoder.
const ALIVE_NODE1 = Buffer.from(
  '464c42' + '01' + // "FLB", version 1
    '01' + // alive
    '0000019ac7c27000' + // incarnation 1764288000000
    '00000007' + // sequence 7
    '06' + Buffer.from('node-1').toString('hex'),
  'hex',
);

test('a heartbeat encodes to the documented layout and parses back', () => {
  const h = { type: 'alive' as const, node: 'node-1', incarnation: 1764288000000n, sequence: 7 };
  assert.deepEqual(encodeHeartbeat(h), ALIVE_NODE1);
  assert.deepEqual(parseHeartbeat(ALIVE_NODE1), { ok: true, heartbeat: h });
});

test('every truncation and every extension of a heartbeat is rejected with a reason', () => {
  for (let n = 0; n < ALIVE_NODE1.length; n++) {
    const r = parseHeartbeat(ALIVE_NODE1.subarray(0, n));
    assert.equal(r.ok, false, `truncated to ${n}`);
  }
  const r = parseHeartbeat(Buffer.concat([ALIVE_NODE1, Buffer.from([0])]));
  assert.deepEqual(r, { ok: false, reason: '25 bytes, expected 24 for a 6-byte name' });
  assert.deepEqual(parseHeartbeat(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), { ok: false, reason: 'not a ferrolb heartbeat (bad magic)' });
  const v2 = Buffer.from(ALIVE_NODE1);
  v2[3] = 2;
  assert.deepEqual(parseHeartbeat(v2), { ok: false, reason: 'version 2, expected 1' });
  const t9 = Buffer.from(ALIVE_NODE1);
  t9[4] = 9;
  assert.deepEqual(parseHeartbeat(t9), { ok: false, reason: 'unknown type 9' });
});

test('with a key, only heartbeats authenticated by the same key are accepted', () => {
  const key = Buffer.from('a shared memberlist secret');
  const h = { type: 'leaving' as const, node: 'node-2', incarnation: 5n, sequence: 1 };
  const signed = encodeHeartbeat(h, key);
  assert.deepEqual(parseHeartbeat(signed, key), { ok: true, heartbeat: h });
  assert.match((parseHeartbeat(signed, Buffer.from('another key')) as { reason: string }).reason, /bad authentication/);
  assert.match((parseHeartbeat(encodeHeartbeat(h), key) as { reason: string }).reason, /without authentication/);
  assert.match((parseHeartbeat(signed) as { reason: string }).reason, /no key is configured/);
  const tampered = Buffer.from(signed);
  tampered[20] = tampered[20]! ^ 1; // one bit of the name
  assert.match((parseHeartbeat(tampered, key) as { reason: string }).reason, /bad authentication/);
});

test('property: parse never throws, and encode/parse round-trips', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
    parseHeartbeat(bytes);
    parseHeartbeat(bytes, Buffer.from('k'));
  }), { numRuns: 3000 });
  fc.assert(fc.property(
    fc.constantFrom('alive' as const, 'leaving' as const),
    fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,60}[a-z0-9])?$/),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.nat({ max: 2 ** 32 - 1 }),
    fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: undefined }),
    (type, node, incarnation, sequence, key) => {
      const k = key ? Buffer.from(key) : undefined;
      const h = { type, node, incarnation, sequence };
      assert.deepEqual(parseHeartbeat(encodeHeartbeat(h, k), k), { ok: true, heartbeat: h });
    },
  ));
});

test('members: live while heard within suspectAfter; leaving ends it at once', () => {
  const t = new MemberTable(500);
  assert.equal(t.heard('node-2', 10n, 1, false, 1000), 'joined');
  assert.equal(t.heard('node-2', 10n, 2, false, 1100), 'refreshed');
  assert.deepEqual(t.live(1599), ['node-2']);
  assert.deepEqual(t.live(1600), [], 'unheard for 500 ms: dead');
  assert.equal(t.heard('node-2', 10n, 3, false, 1700), 'joined', 'heard again: alive again');
  assert.equal(t.heard('node-2', 10n, 4, true, 1750), 'left');
  assert.deepEqual(t.live(1751), []);
  assert.equal(t.heard('node-2', 10n, 5, false, 1760), 'stale', 'the same process cannot come back after leaving');
  assert.equal(t.heard('node-2', 11n, 1, false, 1770), 'joined', 'a restarted speaker (new incarnation) can');
});

test('members: delayed datagrams from an earlier life or out of order change nothing', () => {
  const t = new MemberTable(500);
  t.heard('node-3', 20n, 5, false, 0);
  assert.equal(t.heard('node-3', 19n, 99, true, 10), 'stale', 'a leave from the previous incarnation');
  assert.deepEqual(t.live(10), ['node-3']);
  assert.equal(t.heard('node-3', 20n, 4, false, 20), 'stale', 'reordered');
  assert.equal(t.get('node-3')?.lastHeard, 0);
});
