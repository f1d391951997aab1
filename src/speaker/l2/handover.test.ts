// A hand-over on a simulated switched LAN (lan.test-support.ts): two real L2Responders
// (the node giving an IP up and the one taking it over) and a client that updates its
// ARP cache by Linux's rules. What must hold
// (docs/L2.md "Taking over"): when the old owner stops answering within the handover
// window, the client ends up with the new owner's MAC, whatever the order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../time/clock.ts';
import type { Link } from './interfaces.ts';
import { SimulatedLAN } from './lan.test-support.ts';

const IP = '198.18.0.200';
const CLIENT = { mac: '02:00:00:00:00:aa', ip: '198.18.0.2' };
const OLD: Link = { name: 'eth0', mac: '02:00:00:00:00:01', flags: 0x1003, type: 1 };
const NEW: Link = { name: 'eth0', mac: '02:00:00:00:00:03', flags: 0x1003, type: 1 };
const TAKEOVER_AT = 10_000;

interface Scenario {
  /** When the old owner gives the IP up, ms relative to the takeover (negative: before it, as in a failover; Infinity: never). */
  readonly giveUp: number;
  /** When the client asks "who has IP" (broadcast), ms. */
  readonly asks: readonly number[];
  readonly seed: number;
}

/** Runs one hand-over; returns the MAC the client's cache holds at the end. */
function handOver(s: Scenario): string {
  const clock = new ManualClock(0);
  const lan = new SimulatedLAN(clock, s.seed);
  const client = lan.client(CLIENT.mac, CLIENT.ip, IP, OLD.mac);
  const old = lan.responder(OLD);
  old.setAnnouncements([{ ip: IP, interfaces: [] }]);
  clock.advance(TAKEOVER_AT - 6000); // the old owner's own takeover schedule is long over
  const fresh = lan.responder(NEW);
  const events = [
    { at: TAKEOVER_AT, run: () => fresh.setAnnouncements([{ ip: IP, interfaces: [] }]) },
    ...(Number.isFinite(s.giveUp) ? [{ at: TAKEOVER_AT + s.giveUp, run: () => old.setAnnouncements([]) }] : []),
    ...s.asks.map((at) => ({ at, run: client.ask })),
  ].sort((a, b) => a.at - b.at);
  for (const e of events) {
    clock.advance(Math.max(0, e.at - clock.now()));
    e.run();
  }
  clock.advance(30_000);
  old.stop();
  fresh.stop();
  return client.cache.mac;
}

const scenario = (giveUp: fc.Arbitrary<number>) =>
  fc.record({
    giveUp,
    asks: fc.array(fc.integer({ min: TAKEOVER_AT - 3000, max: TAKEOVER_AT + 9000 }), { maxLength: 12 }),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  });

test('property: the old owner quiet within the handover window (or within 4 s of the re-probe that still heard it) -> every client ends on the new owner', () => {
  fc.assert(fc.property(scenario(fc.integer({ min: -1000, max: 6500 })), (s) => handOver(s) === NEW.mac), { numRuns: 300 });
});

test('an old owner with the lower MAC answering past every announcement: the new owner yields to it, and takes over once it stops', () => {
  // Before the yield rule (docs/L2.md "Two announcers") this was the model's
  // counterexample: asked while both answered, after the new owner's last announcement,
  // the client kept the first reply, not always the new owner's.
  fc.assert(fc.property(scenario(fc.integer({ min: 12_000, max: 15_000 })), (s) => handOver({ ...s, asks: [...s.asks, TAKEOVER_AT + 11_000] }) === NEW.mac), { numRuns: 200 });
});

test('the same model finds the failure when the old owner never lets go: the lower MAC keeps the IP', () => {
  const result = fc.check(fc.property(scenario(fc.constant(Infinity)), (s) => handOver(s) === NEW.mac), { numRuns: 50 });
  assert.equal(result.failed, true);
});

// Two announcers for good (membership disagrees), on the same simulated LAN.
const A: Link = { name: 'eth0', mac: '02:00:00:00:00:05', flags: 0x1003, type: 1 };
const B: Link = { name: 'eth0', mac: '02:00:00:00:00:0b', flags: 0x1003, type: 1 };

test('property: two nodes that both hold an IP settle on one within a second (the lower MAC), and the other takes it back within a second once that one stops', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 3000 }), fc.boolean(), fc.integer({ min: 2000, max: 8000 }), (seed, lag, lowFirst, hold) => {
    const clock = new ManualClock(0);
    const lan = new SimulatedLAN(clock, seed);
    const client = lan.client(CLIENT.mac, CLIENT.ip, IP, A.mac);
    const [first, second] = lowFirst ? [A, B] : [B, A];
    const r1 = lan.responder(first);
    const r2 = lan.responder(second);
    r1.setAnnouncements([{ ip: IP, interfaces: [] }]);
    clock.advance(lag);
    r2.setAnnouncements([{ ip: IP, interfaces: [] }]);
    clock.advance(1000);
    // From here on exactly one node answers, and it is the lower MAC.
    const askUntil = clock.now() + hold;
    while (clock.now() < askUntil) {
      client.ask();
      clock.advance(100);
    }
    const late = client.replies.filter((r) => r.at > lag + 1000);
    assert.ok(late.length > 0);
    assert.deepEqual([...new Set(late.map((r) => r.mac))], [A.mac], `replies after the first second: ${[...new Set(late.map((r) => r.mac))].join(', ')}`);
    const [low, high] = lowFirst ? [r1, r2] : [r2, r1];
    assert.deepEqual([...high.yielded().values()], [A.mac]);
    // The winner stops holding the IP (its plan moved it, or it died): the other takes it.
    low.setAnnouncements([]);
    const stoppedAt = clock.now();
    clock.advance(1000);
    client.replies.length = 0;
    client.ask();
    clock.advance(100);
    assert.deepEqual(client.replies.map((r) => r.mac), [B.mac], 'the node that yielded answers again within a second');
    clock.advance(6000);
    assert.equal(client.cache.mac, B.mac, 'and the client follows it');
    assert.ok(high.yielded().size === 0 && clock.now() > stoppedAt);
    r1.stop();
    r2.stop();
  }), { numRuns: 100 });
});
