import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeHeartbeat, nameHash, parseHeartbeat } from './heartbeat.ts';

// Built by hand from the layout in heartbeat.ts, not by the encoder.
const HEAD = '464c42' + // "FLB"
  '%V' + // version
  '01' + // alive
  '0000019ac7c27000' + // incarnation 1764288000000
  '00000007' + // sequence 7
  '06' + Buffer.from('node-1').toString('hex');
const ALIVE_NODE1 = Buffer.from(HEAD.replace('%V', '02') + '0000', 'hex'); // no reports
const ALIVE_NODE1_V1 = Buffer.from(HEAD.replace('%V', '01'), 'hex');
const WITH_REPORTS = Buffer.from(
  HEAD.replace('%V', '02') +
    '0002' + // two reports
    '55c43516' + '0000019ac7c27001' + '0019' + // FNV-1a("node-2"), incarnation, 25 ms ago
    '56c436a9' + '0000000000000005' + 'ffff', // FNV-1a("node-3"), incarnation 5, 65535 ms or more
  'hex',
);

test('a heartbeat encodes to the documented layout and parses back', () => {
  const h = { type: 'alive' as const, node: 'node-1', incarnation: 1764288000000n, sequence: 7 };
  assert.deepEqual(encodeHeartbeat(h), ALIVE_NODE1);
  assert.deepEqual(parseHeartbeat(ALIVE_NODE1), { ok: true, heartbeat: { ...h, reports: [] } });
});

test('reports: the peers heard, by FNV-1a name hash, their incarnation and age', () => {
  // FNV-1a 32 of "node-2" and "node-3", computed apart from this code (Python, from the FNV definition:
  // offset basis 0x811c9dc5, prime 0x01000193); "a" is the published test vector.
  assert.equal(nameHash('a').toString(16), 'e40c292c', 'the FNV-1a 32 test vector for "a"');
  assert.equal(nameHash('node-2').toString(16), '55c43516');
  assert.equal(nameHash('node-3').toString(16), '56c436a9');
  assert.equal(nameHash('').toString(16), '811c9dc5');
  const h = {
    type: 'alive' as const, node: 'node-1', incarnation: 1764288000000n, sequence: 7,
    reports: [{ hash: nameHash('node-2'), incarnation: 1764288000001n, age: 25 }, { hash: nameHash('node-3'), incarnation: 5n, age: 65535 }],
  };
  assert.deepEqual(encodeHeartbeat({ ...h, reports: [h.reports[0]!, { ...h.reports[1]!, age: 1e9 }] }), WITH_REPORTS, 'an age past 65535 ms is sent as 65535');
  assert.deepEqual(parseHeartbeat(WITH_REPORTS), { ok: true, heartbeat: h });
  for (let n = 0; n < WITH_REPORTS.length; n++) assert.equal(parseHeartbeat(WITH_REPORTS.subarray(0, n)).ok, false, `truncated to ${n}`);
  const tooMany = Buffer.from(ALIVE_NODE1);
  tooMany.writeUInt16BE(1001, tooMany.length - 2);
  assert.deepEqual(parseHeartbeat(tooMany), { ok: false, reason: '1001 reports, at most 1000' });
});

test('version 1 (no reports) is still read, so speakers of both versions are members during an upgrade', () => {
  assert.deepEqual(parseHeartbeat(ALIVE_NODE1_V1), { ok: true, heartbeat: { type: 'alive', node: 'node-1', incarnation: 1764288000000n, sequence: 7 } });
});

test('every truncation and every extension of a heartbeat is rejected with a reason', () => {
  for (let n = 0; n < ALIVE_NODE1.length; n++) {
    const r = parseHeartbeat(ALIVE_NODE1.subarray(0, n));
    assert.equal(r.ok, false, `truncated to ${n}`);
  }
  const r = parseHeartbeat(Buffer.concat([ALIVE_NODE1, Buffer.from([0])]));
  assert.deepEqual(r, { ok: false, reason: '27 bytes, expected 26 for a 6-byte name and 0 reports' });
  assert.deepEqual(parseHeartbeat(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), { ok: false, reason: 'not a ferrolb heartbeat (bad magic)' });
  const v3 = Buffer.from(ALIVE_NODE1);
  v3[3] = 3;
  assert.deepEqual(parseHeartbeat(v3), { ok: false, reason: 'version 3, expected 1 or 2' });
  const t9 = Buffer.from(ALIVE_NODE1);
  t9[4] = 9;
  assert.deepEqual(parseHeartbeat(t9), { ok: false, reason: 'unknown type 9' });
});

test('with a key, only heartbeats authenticated by the same key are accepted', () => {
  const key = Buffer.from('a shared memberlist secret');
  const h = { type: 'leaving' as const, node: 'node-2', incarnation: 5n, sequence: 1 };
  const signed = encodeHeartbeat(h, key);
  assert.deepEqual(parseHeartbeat(signed, key), { ok: true, heartbeat: { ...h, reports: [] } });
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
    fc.array(fc.record({ hash: fc.nat({ max: 2 ** 32 - 1 }), incarnation: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), age: fc.nat({ max: 65535 }) }).map((r) => ({ ...r })), { maxLength: 20 }),
    (type, node, incarnation, sequence, key, reports) => {
      const k = key ? Buffer.from(key) : undefined;
      const h = { type, node, incarnation, sequence, reports };
      assert.deepEqual(parseHeartbeat(encodeHeartbeat(h, k), k), { ok: true, heartbeat: h });
    },
  ));
});
