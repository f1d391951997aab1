// The membership driver: sends a heartbeat to every other node's speaker every
// `interval` ms over UDP, reads theirs, and reports the live set whenever it changes.
// The heartbeats go out through the runway (runway.ts), from a thread of their own, so
// a stall of this thread is not taken for a death.
// Who is live is decided by the pure FailureDetector (detector.ts); each heartbeat
// carries this speaker's reports of whom it hears, which is how a peer this speaker
// cannot hear, but others can, stays live here too.
// It needs the API server only for the list of nodes and their addresses (from the
// Node informer's cache, which outlives an API server outage), so failover keeps
// working while the control plane is down.
//
// A heartbeat is accepted only from one of the named node's own addresses (and, with a
// key, only with a valid HMAC), so a host on the LAN cannot keep a dead node "alive" by
// forging its name, unless it also spoofs that node's address; use a key against that.
import { createSocket, type Socket } from 'node:dgram';
import type { Clock, Timer } from '../../time/clock.ts';
import { encodeHeartbeat, nameHash, parseHeartbeat, type PeerReport } from './heartbeat.ts';
import { FailureDetector, type Report } from './detector.ts';
import { HeartbeatRunway } from './runway.ts';

/** Heartbeat period, ms. */
export const DEFAULT_INTERVAL = 40;
/**
 * Silence after which a member nobody hears is dead, ms: three lost heartbeats in a row,
 * with room for a late timer. At 50 ms (three periods exactly) two lost heartbeats and
 * a few ms of jitter were already a death in the model (detector.test.ts).
 */
export const DEFAULT_SUSPECT_AFTER = 150;

export interface MembershipOptions {
  readonly node: string;
  /** UDP port every speaker listens on (MetalLB's memberlist uses 7946). */
  readonly port: number;
  /** Address to bind; default "::" (IPv4 and IPv6). */
  readonly bindAddress?: string;
  /** Heartbeat period, ms (default DEFAULT_INTERVAL). */
  readonly interval?: number;
  /** A member nobody hears this long is dead, ms (default DEFAULT_SUSPECT_AFTER). */
  readonly suspectAfter?: number;
  /** Shared secret: heartbeats are authenticated with HMAC-SHA256 when set. */
  readonly key?: Buffer;
  readonly clock: Clock;
  readonly onChange: (live: ReadonlySet<string>) => void;
  /**
   * Peers that had stopped hearing this speaker and hear it again (it was frozen, or
   * cut off from them): they took it for dead and may have claimed its IPs meanwhile.
   */
  readonly onHeardAgain?: (peers: readonly string[]) => void;
  /**
   * This speaker's own health changed (detector.ts, Lifeguard): `health` 0 is on time;
   * more means its timers run late and it waits `timeout` ms before declaring a peer dead.
   * `stalledMs` is set when its event loop stopped for longer than a detection period
   * (a freeze, a starved CPU) since the last heartbeat.
   */
  readonly onHealth?: (health: number, timeout: number, stalledMs?: number) => void;
  readonly onRejected?: (from: string, reason: string) => void;
  /** After each accepted heartbeat, once the live set it may have changed is told (onChange). */
  readonly onHeard?: () => void;
}

export class Membership {
  readonly #opts: MembershipOptions;
  readonly #interval: number;
  readonly #detector: FailureDetector;
  readonly #incarnation: bigint;
  /** Other nodes and their addresses, from the Node objects. */
  #peers = new Map<string, readonly string[]>();
  /** Name hash -> peer, for the reports in heartbeats; a hash two peers share is left out. */
  #byHash = new Map<number, string>();
  /** Peer -> its name hash, computed once per peer list. */
  #hashOf = new Map<string, number>();
  readonly #ownHash: number;
  #socket: Socket | undefined;
  #runway: HeartbeatRunway | undefined;
  #timer: Timer | undefined;
  #lastLive = '';
  #startedAt = 0;
  #stopped = false;
  #lastStalled = 0;

  constructor(opts: MembershipOptions) {
    this.#opts = opts;
    this.#interval = opts.interval ?? DEFAULT_INTERVAL;
    this.#detector = new FailureDetector({ node: opts.node, suspectAfter: opts.suspectAfter ?? DEFAULT_SUSPECT_AFTER, interval: this.#interval });
    this.#incarnation = BigInt(opts.clock.now());
    this.#ownHash = nameHash(opts.node);
  }

  /** True once the detector has listened long enough to know who is alive. */
  get settled(): boolean {
    return this.#socket !== undefined && this.#opts.clock.now() - this.#startedAt >= this.#detector.suspectAfter;
  }

  /** The live nodes, this one included, in name order. */
  live(): ReadonlySet<string> {
    return new Set([this.#opts.node, ...this.#detector.live(this.#opts.clock.now()).filter((n) => this.#peers.has(n))].sort());
  }

  /**
   * True when every peer has sent a heartbeat since `since` (wall ms) that reports hearing
   * this speaker: none of them still takes it for dead and stands in for its IPs. A peer
   * not heard since, or one whose heartbeats carry no reports, keeps it false.
   */
  heardBackSince(since: number): boolean {
    for (const node of this.#peers.keys()) if (!this.#detector.hearsMeSince(node, since)) return false;
    return true;
  }

  /** Sets the other nodes (name -> addresses); the own node is ignored. */
  setPeers(peers: ReadonlyMap<string, readonly string[]>): void {
    const next = new Map<string, readonly string[]>();
    for (const [name, addresses] of peers) if (name !== this.#opts.node && addresses.length > 0) next.set(name, addresses.map(normalize));
    for (const name of this.#peers.keys()) if (!next.has(name)) this.#detector.forget(name);
    this.#peers = next;
    const byHash = new Map<number, string>();
    const shared = new Set<number>();
    for (const name of next.keys()) {
      const h = nameHash(name);
      if (byHash.has(h)) shared.add(h);
      byHash.set(h, name);
    }
    for (const h of shared) byHash.delete(h);
    byHash.delete(this.#ownHash); // a peer that shares this speaker's hash is not relayed
    this.#byHash = byHash;
    this.#hashOf = new Map([...byHash].map(([h, name]) => [name, h]));
    this.#runway?.setPeers([...next.values()].map((a) => a[0]!), this.#opts.port);
    this.#evaluate();
  }

  async start(): Promise<void> {
    const socket = createSocket({ type: 'udp6', reuseAddr: true, ipv6Only: false });
    socket.on('message', (msg, rinfo) => this.#receive(msg, rinfo.address));
    socket.on('error', () => {}); // a failed send is a lost heartbeat, which the peers allow for
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      // An IPv4 bind address (MetalLB's manifests pass the pod IP as METALLB_ML_BIND_ADDR)
      // is bound in its IPv4-mapped form: a dual-stack socket refuses the bare one (EINVAL).
      socket.bind(this.#opts.port, dualStack(this.#opts.bindAddress ?? '::'), () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.#socket = socket;
    this.#runway = new HeartbeatRunway({ node: this.#opts.node, incarnation: this.#incarnation, interval: this.#interval, bindAddress: this.#opts.bindAddress ?? '::', ...(this.#opts.key ? { key: this.#opts.key } : {}) });
    this.#runway.setPeers([...this.#peers.values()].map((a) => a[0]!), this.#opts.port);
    this.#startedAt = this.#opts.clock.now();
    this.#tick();
  }

  /** Tells the peers this speaker is leaving (they fail over at once), then closes. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    // The runway first: an "alive" sent after the goodbye would be ignored, but must not be sent.
    const sequence = this.#runway?.nextSequence() ?? 0;
    this.#runway?.close();
    this.#runway = undefined;
    if (this.#socket) {
      // Three copies: one lost datagram must not cost a detection period.
      const goodbye = encodeHeartbeat({ type: 'leaving', node: this.#opts.node, incarnation: this.#incarnation, sequence }, this.#opts.key);
      for (let i = 0; i < 3; i++) this.#sendNow(goodbye);
      const s = this.#socket;
      this.#socket = undefined;
      setTimeout(() => s.close(), 20).unref();
    }
  }

  #tick(): void {
    if (this.#stopped) return;
    const health = this.#detector.health;
    this.#detector.tick(this.#opts.clock.now());
    const stalled = this.#detector.stalled - this.#lastStalled;
    this.#lastStalled = this.#detector.stalled;
    if (this.#detector.health !== health || stalled > this.#detector.suspectAfter) {
      this.#opts.onHealth?.(this.#detector.health, this.#detector.timeout, stalled > this.#detector.suspectAfter ? stalled : undefined);
    }
    this.#loadRunway();
    this.#evaluate();
    // Check more often than we send, so a death is seen within suspectAfter + interval/2.
    this.#timer = this.#opts.clock.setTimeout(() => this.#tick(), this.#interval);
    this.#opts.clock.setTimeout(() => this.#evaluate(), this.#interval / 2);
  }

  /** The next heartbeat, with this speaker's reports, goes to the runway's next slot. */
  #loadRunway(): void {
    const now = this.#opts.clock.now();
    const reports: PeerReport[] = [];
    for (const r of this.#detector.reports(now)) {
      const hash = this.#hashOf.get(r.node); // only peers with a hash of their own
      if (hash !== undefined) reports.push({ hash, incarnation: r.incarnation, age: r.age });
    }
    this.#runway?.load(reports, now);
  }

  /** One datagram to every peer, from this thread (the goodbye). */
  #sendNow(datagram: Buffer): void {
    const socket = this.#socket;
    if (!socket) return;
    for (const addresses of this.#peers.values()) {
      socket.send(datagram, this.#opts.port, dualStack(addresses[0]!));
    }
  }

  #receive(datagram: Buffer, fromAddress: string): void {
    const from = normalize(fromAddress);
    const parsed = parseHeartbeat(datagram, this.#opts.key);
    if (!parsed.ok) return this.#reject(from, parsed.reason);
    const h = parsed.heartbeat;
    if (h.node === this.#opts.node) return; // our own, looped back
    const addresses = this.#peers.get(h.node);
    if (!addresses) return this.#reject(from, `heartbeat from unknown node "${h.node}"`);
    if (!addresses.includes(from)) return this.#reject(from, `heartbeat for node "${h.node}" from ${from}, which is not one of its addresses (${addresses.join(', ')})`);
    let reports: Report[] | undefined;
    if (h.reports) {
      reports = [];
      for (const r of h.reports) {
        // A report about this speaker: in this life only (not a previous process's).
        const node = r.hash === this.#ownHash ? (r.incarnation === this.#incarnation ? this.#opts.node : undefined) : this.#byHash.get(r.hash);
        if (node !== undefined && node !== h.node) reports.push({ node, incarnation: r.incarnation, age: r.age });
      }
    }
    this.#detector.heard(h.node, h.incarnation, h.sequence, h.type === 'leaving', this.#opts.clock.now(), reports);
    // Most heartbeats only refresh a live member: the live set is recomputed when one may
    // have joined or left (deaths are found by the timer's evaluation).
    if (this.#detector.changed()) this.#evaluate();
    const again = this.#detector.heardAgain();
    if (again.length > 0) this.#opts.onHeardAgain?.(again);
    this.#opts.onHeard?.();
  }

  #reject(from: string, reason: string): void {
    this.#opts.onRejected?.(from, reason);
  }

  #evaluate(): void {
    if (this.#stopped) return;
    const live = this.live();
    const key = [...live].sort().join(',');
    if (key === this.#lastLive) return;
    this.#lastLive = key;
    this.#opts.onChange(live);
  }
}

/** The socket is dual-stack (udp6): IPv4 addresses are given to it IPv4-mapped (RFC 4291 2.5.5.2). */
function dualStack(address: string): string {
  return address.includes(':') ? address : `::ffff:${address}`;
}

/** IPv4-mapped IPv6 (::ffff:198.18.0.11, what a dual-stack socket reports) as IPv4. */
function normalize(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address.toLowerCase();
}
