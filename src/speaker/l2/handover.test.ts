// A hand-over on a simulated switched LAN: two real L2Responders (the node giving an IP
// up and the one taking it over) and a client that updates its ARP cache by Linux's
// rules (net/ipv4/arp.c arp_process: within the 1 s locktime the *first* reply wins,
// a gratuitous ARP always overrides). Frames are delivered by destination MAC with
// random delays, so replies and announcements arrive in any order. What must hold
// (docs/L2.md "Taking over"): when the old owner stops answering within the handover
// window, the client ends up with the new owner's MAC, whatever the order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pino } from 'pino';
import { ManualClock } from '../../time/clock.ts';
import { L2Responder } from './responder.ts';
import type { Link } from './interfaces.ts';
import { arpRequest, parseFrame } from './frames.ts';

const IP = '198.18.0.200';
const CLIENT = { mac: '02:00:00:00:00:aa', ip: '198.18.0.2' };
const OLD: Link = { name: 'eth0', mac: '02:00:00:00:00:01', flags: 0x1003, type: 1 };
const NEW: Link = { name: 'eth0', mac: '02:00:00:00:00:03', flags: 0x1003, type: 1 };
const LOCKTIME_MS = 1000;
const TAKEOVER_AT = 10_000;

interface Scenario {
  /** When the old owner gives the IP up, ms relative to the takeover (negative: before it, as in a failover). */
  readonly giveUp: number;
  /** When the client asks "who has IP" (broadcast), ms. */
  readonly asks: readonly number[];
  readonly seed: number;
}

/** Runs one hand-over; returns the MAC the client's cache holds at the end. */
function handOver(s: Scenario): string {
  const clock = new ManualClock(0);
  let seed = s.seed >>> 0 || 1;
  const delay = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 30) + 1; // 1-30 ms
  const cache = { mac: OLD.mac, updated: 0 };
  const ports = new Map<string, (frame: Buffer) => void>();

  /** A switch: unicast to the port that owns the MAC, broadcast to every other port. */
  const transmit = (from: string, frame: Buffer) => {
    const dst = [...frame.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    const copy = Buffer.from(frame);
    for (const [mac, deliver] of ports) {
      if (mac === from) continue;
      if (dst === mac || (frame[0]! & 1) === 1) clock.setTimeout(() => deliver(copy), delay());
    }
  };
  ports.set(CLIENT.mac, (frame) => {
    const m = parseFrame(frame);
    if (m.type !== 'arp-request' && m.type !== 'arp-reply') return;
    if (m.senderIP !== IP) return; // probes (sender 0.0.0.0) must not disturb caches, RFC 5227
    const garp = m.type === 'arp-request' ? m.targetIP === IP : m.targetIP === IP && m.targetMAC === m.senderMAC;
    const override = garp || clock.now() - cache.updated >= LOCKTIME_MS;
    if (override && m.senderMAC !== cache.mac) {
      cache.mac = m.senderMAC;
      cache.updated = clock.now();
    }
  });
  const responder = (link: Link) => {
    const r = new L2Responder({
      clock,
      log: pino({ level: 'silent' }),
      node: link.mac,
      probeInterval: 60_000,
      readLinks: () => [link],
      openSocket: (_ifname, onFrame) => {
        ports.set(link.mac, onFrame);
        return { send: (frame) => transmit(link.mac, frame), close: () => ports.delete(link.mac) };
      },
    });
    r.start();
    return r;
  };
  const old = responder(OLD);
  old.setAnnouncements([{ ip: IP, interfaces: [] }]);
  clock.advance(TAKEOVER_AT - 6000); // the old owner's own takeover schedule is long over
  const fresh = responder(NEW);
  const events = [
    { at: TAKEOVER_AT, run: () => fresh.setAnnouncements([{ ip: IP, interfaces: [] }]) },
    { at: TAKEOVER_AT + s.giveUp, run: () => old.setAnnouncements([]) },
    ...s.asks.map((at) => ({ at, run: () => transmit(CLIENT.mac, arpRequest({ srcMAC: CLIENT.mac, senderIP: CLIENT.ip, targetIP: IP })) })),
  ].sort((a, b) => a.at - b.at);
  for (const e of events) {
    clock.advance(Math.max(0, e.at - clock.now()));
    e.run();
  }
  clock.advance(30_000);
  old.stop();
  fresh.stop();
  return cache.mac;
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

test('the same model finds the failure when the old owner keeps answering past every announcement', () => {
  // Asking while both answer, after the new owner's last announcement: the first reply
  // wins, and it is not always the new owner's. The model can tell a wrong outcome.
  const result = fc.check(fc.property(scenario(fc.integer({ min: 12_000, max: 15_000 })), (s) => handOver({ ...s, asks: [...s.asks, TAKEOVER_AT + 11_000] }) === NEW.mac), { numRuns: 300 });
  assert.equal(result.failed, true);
});
