// A short fixed-seed fuzz run of every network decoder (the long one is `npm run fuzz`,
// docs/BENCHMARKS.md): no input makes a decoder throw or break its contract, and the
// generators reach the outcomes that matter (otherwise a run that "passes" would test
// nothing).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { arp, bfd, bgp, checkBGPError, formatReport, frames, fuzz, heartbeat, ndp, type FuzzTarget } from './decoders.ts';

const INPUTS = 3000;
const SEED = 20261202;

function run(target: FuzzTarget, mustReach: readonly string[]): void {
  const report = fuzz(target, INPUTS, SEED);
  assert.equal(report.failureCount, 0, formatReport(report));
  assert.equal(report.inputs, INPUTS);
  for (const kind of mustReach) assert.ok((report.outcomes.get(kind) ?? 0) > 0, `${target.name}: no input reached "${kind}"\n${formatReport(report)}`);
}

describe(`fuzz, ${INPUTS} inputs per decoder, seed ${SEED}`, () => {
  it('BGP: every message type decodes, every RFC 7606 action is reached, each error carries the action its code and subcode allow', () => {
    run(bgp, ['open', 'update', 'keepalive', 'notification', 'route-refresh', 'error session-reset', 'error treat-as-withdraw', 'error afi-safi-disable', 'error attribute-discard']);
  });

  it('BFD', () => run(bfd, ['rejected', 'accepted up', 'accepted down']));
  it('ARP', () => run(arp, ['arp-request', 'arp-reply', 'ignored', 'invalid']));
  it('NDP', () => run(ndp, ['neighbor-solicitation', 'neighbor-advertisement', 'ignored', 'invalid']));
  it('Ethernet frames', () => run(frames, ['arp-request', 'neighbor-solicitation', 'ignored', 'invalid']));
  it('membership heartbeats', () => run(heartbeat, ['accepted alive', 'accepted leaving', 'rejected', 'accepted alive (keyed)', 'rejected (keyed)']));

  it('the harness notices a decoder that throws, and one that breaks the BGP action table', () => {
    const throwing: FuzzTarget = {
      name: 'throws on a byte 0x42',
      generate: bgp.generate,
      run: (input) => {
        if (input.includes(0x42)) throw new TypeError('boom');
        return 'fine';
      },
    };
    const report = fuzz(throwing, 500, SEED);
    assert.ok(report.failureCount > 0 && (report.outcomes.get('UNCAUGHT EXCEPTION') ?? 0) === report.failureCount);
    assert.match(report.failures[0]!.error, /boom/);
    // An Invalid Network Field (§5.3) that claims treat-as-withdraw is refused by the table.
    assert.throws(() => checkBGPError({ type: 'error', action: 'treat-as-withdraw', rule: 'RFC 7606 §5.3', code: 3, subcode: 10, data: Buffer.alloc(0), reason: 'NLRI: bad' }), /allow session-reset/);
    assert.throws(() => checkBGPError({ type: 'error', action: 'session-reset', rule: 'RFC 4271 §6.3', code: 3, subcode: 0, data: Buffer.alloc(0), reason: 'internal: decoder threw' }), /decoder failure/);
  });
});
