// A simulated switched LAN for responder tests: real L2Responders on ports, frames
// delivered by destination MAC (broadcast to every other port) after a random delay of
// 1-30 ms, so replies and announcements arrive in any order; and a client whose ARP
// cache follows Linux's rules (net/ipv4/arp.c arp_process: within the 1 s locktime the
// *first* reply wins, a gratuitous ARP always overrides).
import { silentLogger } from '../../observability/logging.ts';
import type { ManualClock } from '../../time/clock.ts';
import { L2Responder, type ResponderOptions } from './responder.ts';
import type { Link } from './interfaces.ts';
import { arpRequest, parseFrame } from './frames.ts';

export const LOCKTIME_MS = 1000;

export class SimulatedLAN {
  readonly #clock: ManualClock;
  #seed: number;
  readonly #ports = new Map<string, (frame: Buffer) => void>();

  constructor(clock: ManualClock, seed: number) {
    this.#clock = clock;
    this.#seed = seed >>> 0 || 1;
  }

  #delay(): number {
    return ((this.#seed = (this.#seed * 1103515245 + 12345) >>> 0) % 30) + 1;
  }

  /** A switch: unicast to the port that owns the MAC, broadcast to every other port. */
  transmit(from: string, frame: Buffer): void {
    const dst = [...frame.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    const copy = Buffer.from(frame);
    for (const [mac, deliver] of this.#ports) {
      if (mac === from) continue;
      if (dst === mac || (frame[0]! & 1) === 1) this.#clock.setTimeout(() => deliver(copy), this.#delay());
    }
  }

  /** A started responder on its own port. */
  responder(link: Link, opts: Partial<ResponderOptions> = {}): L2Responder {
    const r = new L2Responder({
      clock: this.#clock,
      log: silentLogger,
      node: link.mac,
      probeInterval: 60_000,
      readLinks: () => [link],
      openSocket: (_ifname, onFrame) => {
        this.#ports.set(link.mac, onFrame);
        return { send: (frame) => this.transmit(link.mac, frame), close: () => this.#ports.delete(link.mac) };
      },
      ...opts,
    });
    r.start();
    return r;
  }

  /**
   * A client asking for `ip`; `cache.mac` is the MAC its kernel would send to, and
   * `replies` every (time, MAC) answer to its own questions.
   */
  client(mac: string, ownIP: string, ip: string, initial: string): { cache: { mac: string; updated: number }; replies: { at: number; mac: string }[]; ask: () => void } {
    const cache = { mac: initial, updated: 0 };
    const replies: { at: number; mac: string }[] = [];
    this.#ports.set(mac, (frame) => {
      const m = parseFrame(frame);
      if (m.type !== 'arp-request' && m.type !== 'arp-reply') return;
      if (m.senderIP !== ip) return; // probes (sender 0.0.0.0) must not disturb caches, RFC 5227
      const garp = m.type === 'arp-request' ? m.targetIP === ip : m.targetIP === ip && m.targetMAC === m.senderMAC;
      if (m.type === 'arp-reply' && !garp && m.targetMAC === mac) replies.push({ at: this.#clock.now(), mac: m.senderMAC });
      const override = garp || this.#clock.now() - cache.updated >= LOCKTIME_MS;
      if (override && m.senderMAC !== cache.mac) {
        cache.mac = m.senderMAC;
        cache.updated = this.#clock.now();
      }
    });
    return { cache, replies, ask: () => this.transmit(mac, arpRequest({ srcMAC: mac, senderIP: ownIP, targetIP: ip })) };
  }
}
