// The heartbeat runway: this speaker's "alive" heartbeats go out from a thread of the
// native addon (native/heartbeat.c) on a fixed grid of slots, one per interval, from
// datagrams this thread builds ahead of time. While the JavaScript thread is on time it
// loads a fresh datagram for the next slot at every tick; every RUNWAY_REFRESH_MS it also
// loads the slots of the next RUNWAY_MS, so that a stall of this thread (a plan over
// thousands of services, a garbage collection, a starved CPU) is not silence: the peers
// would take a stall of more than 150 ms for a death and move this node's IPs, and each
// move is work that makes the next stall longer (docs/L2.md "The heartbeat runway").
// What the runway does not cover is what must fail over fast: a killed process (the
// thread dies with it), a frozen one (SIGSTOP stops every thread), a cut link.
//
// The slot number is the heartbeat's sequence number: it only grows, and each slot is
// sent once. Reports in a datagram built ahead carry the ages they will have when it is
// sent (the age now plus the slots ahead), which is exact while this thread hears
// nothing new, as during a stall.
import { loadAddon } from '../../native/addon.ts';
import { encodeHeartbeat, type PeerReport } from './heartbeat.ts';

/** How far ahead heartbeats are loaded, ms: the longest stall of the JavaScript thread that peers do not see. */
export const RUNWAY_MS = 1_000;
/** How often the whole runway is rebuilt, ms; a stall shorter than RUNWAY_MS - RUNWAY_REFRESH_MS is always covered. */
export const RUNWAY_REFRESH_MS = 250;

interface HeartbeatAddon {
  open(bindAddress: string, intervalMs: number): object;
  peers(handle: object, addresses: string[], port: number): void;
  nextSlot(handle: object): number;
  load(handle: object, firstSlot: number, datagrams: Buffer[]): void;
  clear(handle: object): void;
  close(handle: object): void;
  stats(handle: object): { sent: number; errors: number; skipped: number };
}

export interface RunwayOptions {
  readonly node: string;
  readonly incarnation: bigint;
  readonly interval: number;
  readonly bindAddress: string;
  readonly key?: Buffer;
}

export class HeartbeatRunway {
  readonly #opts: RunwayOptions;
  readonly #addon: HeartbeatAddon;
  #handle: object | undefined;
  /** The last slot the whole runway was loaded up to, and when. */
  #loadedTo = -1;
  #refreshedAt = -Infinity;

  constructor(opts: RunwayOptions) {
    this.#opts = opts;
    this.#addon = loadAddon<HeartbeatAddon>('heartbeat', 'heartbeat sender');
    this.#handle = this.#addon.open(opts.bindAddress, opts.interval);
  }

  /** Where every slot goes: one address per peer (IPv4 or IPv6). */
  setPeers(addresses: readonly string[], port: number): void {
    if (this.#handle) this.#addon.peers(this.#handle, [...addresses], port);
  }

  /**
   * Loads the next slot with a heartbeat carrying `reports` (their ages as of `now`),
   * and the whole runway when it was last loaded RUNWAY_REFRESH_MS ago or more, or has
   * less than that left.
   */
  load(reports: readonly PeerReport[], now: number): void {
    if (!this.#handle) return;
    const interval = this.#opts.interval;
    const next = this.#addon.nextSlot(this.#handle);
    const whole = now - this.#refreshedAt >= RUNWAY_REFRESH_MS || (this.#loadedTo - next) * interval < RUNWAY_REFRESH_MS;
    const slots = whole ? Math.max(1, Math.ceil(RUNWAY_MS / interval)) : 1;
    const datagrams: Buffer[] = [];
    for (let i = 0; i < slots; i++) {
      datagrams.push(encodeHeartbeat({
        type: 'alive', node: this.#opts.node, incarnation: this.#opts.incarnation, sequence: next + i,
        reports: i === 0 ? reports : reports.map((r) => ({ ...r, age: r.age + i * interval })),
      }, this.#opts.key));
    }
    this.#addon.load(this.#handle, next, datagrams);
    if (whole) {
      this.#loadedTo = next + slots - 1;
      this.#refreshedAt = now;
    }
  }

  /** The slot a heartbeat sent now, outside the grid (a goodbye), uses: after every slot loaded. */
  nextSequence(): number {
    return Math.max(this.#loadedTo + 1, this.#handle ? this.#addon.nextSlot(this.#handle) : 0);
  }

  /** Sends nothing more: every loaded slot is forgotten, the thread stops. */
  close(): void {
    if (!this.#handle) return;
    this.#addon.clear(this.#handle);
    this.#addon.close(this.#handle);
    this.#handle = undefined;
  }

  stats(): { sent: number; errors: number; skipped: number } {
    return this.#handle ? this.#addon.stats(this.#handle) : { sent: 0, errors: 0, skipped: 0 };
  }
}
