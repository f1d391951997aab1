// When the gratuitous announcements for the IPs this node takes over go out: each
// (IP, interface) gets a schedule of repeats, and every interface a frame budget, so a
// node taking over a thousand IPs at once announces them all within a bound instead of
// flooding the LAN's broadcast domain. Pure: time comes in as arguments, the responder
// owns the timer and the sockets.
//
// The schedule (docs/L2.md "Taking over"): at once, then 0.5, 1, 2 and 4 s later. The
// first frame is the failover; the repeat at 0.5 s covers one lost frame; the last one
// comes after the 3 s handover window in which the node that gave the IP up may still
// be answering for it (each speaker learns of a move from its own informers), so the
// owner's announcement is the last a client hears. A client's kernel takes the *first*
// of several replies within its ARP locktime (Linux: 1 s), but a gratuitous frame
// overrides that, so only the order of the last frames matters.
//
// The budget: a token bucket per interface, 10,000 frames/s with a burst of 2,000.
// A gratuitous ARP is two minimum-size frames (request and reply, 84 bytes on the wire
// each with preamble and gap), an unsolicited NA one; 10,000 frames/s is 6.7 Mbit/s of
// broadcast, under the 1% of a gigabit port at which switches' storm control commonly
// starts dropping broadcast, and a burst of 2,000 frames sends the first round for
// 1,000 IPv4 addresses at once. First announcements go before any repeat.

export interface QueueOptions {
  /** Offsets from the (re)start, ms; 0 means at once. */
  readonly schedule: readonly number[];
  /** Frames per second per interface. */
  readonly ratePerSecond: number;
  /** Frames an interface may send at once after a quiet spell. */
  readonly burst: number;
}

export const DEFAULT_QUEUE_OPTIONS: QueueOptions = { schedule: [0, 500, 1000, 2000, 4000], ratePerSecond: 10_000, burst: 2_000 };

export interface DueAnnouncement {
  readonly ip: string;
  readonly ifname: string;
  /** 0 for the first announcement of a (re)start, 1 for the first repeat, ... */
  readonly round: number;
}

interface Entry {
  readonly ip: string;
  readonly ifname: string;
  readonly frames: number;
  readonly start: number;
  round: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * What is waiting on one interface: a queue per round of the schedule and one for
 * refreshes, each in the order its entries fall due, and the budget. Within a round the
 * arrival order is the due order: first announcements arrive as they are made (time only
 * goes forward), and each later round receives its entries in the order the round before
 * sent them, all shifted by the same offset. A refresh is due at once and goes behind
 * every repeat, so it has its own queue. Entries replaced or cancelled stay in their
 * queue until they reach its head (`#entries` says which are current), so that no
 * operation scans more than what it sends.
 */
interface Lane {
  readonly bucket: Bucket;
  /** rounds[r]: entries waiting for round r; rounds[schedule.length]: refreshes. */
  readonly rounds: Fifo<Entry>[];
}

export class GratuitousQueue {
  readonly #opts: QueueOptions;
  /** The current entry of each (IP, interface). */
  readonly #entries = new Map<string, Entry>();
  readonly #lanes = new Map<string, Lane>();
  /** Each interface's budget, kept when its lane empties (a quiet spell refills it). */
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: QueueOptions = DEFAULT_QUEUE_OPTIONS) {
    if (opts.schedule.length === 0 || opts.ratePerSecond <= 0 || opts.burst < 1) throw new Error('gratuitous queue: schedule, rate and burst must be positive');
    this.#opts = { ...opts, schedule: [...opts.schedule].sort((a, b) => a - b) };
  }

  get size(): number {
    return this.#entries.size;
  }

  /** (Re)starts the schedule of `ip` on `ifname` at `now`; `frames` per announcement. */
  announce(ip: string, ifname: string, frames: number, now: number): void {
    const e: Entry = { ip, ifname, frames: Math.min(frames, this.#opts.burst), start: now, round: 0 };
    this.#entries.set(key(ip, ifname), e);
    this.#lane(ifname, now).rounds[0]!.push(e);
  }

  /**
   * One more announcement of `ip` on `ifname` (a periodic refresh for switches and
   * routers whose tables age out, docs/L2.md "Periodic re-announcement"), with the
   * lowest priority: it queues as the last repeat of a schedule, behind every first
   * announcement and earlier repeat. Nothing is added while a schedule is running.
   */
  refresh(ip: string, ifname: string, frames: number, now: number): void {
    const k = key(ip, ifname);
    if (this.#entries.has(k)) return;
    const last = this.#opts.schedule.length - 1;
    const e: Entry = { ip, ifname, frames: Math.min(frames, this.#opts.burst), start: now - this.#opts.schedule[last]!, round: last };
    this.#entries.set(k, e);
    this.#lane(ifname, now).rounds[last + 1]!.push(e);
  }

  cancel(ip: string, ifname: string): void {
    this.#entries.delete(key(ip, ifname));
  }

  /**
   * The announcements to send at `now`, within each interface's budget: first rounds
   * first, then repeats by round, then refreshes, each in due order. An entry that does
   * not fit the budget holds back everything behind it on its interface (a repeat never
   * overtakes a first announcement); each entry goes at most once per call.
   */
  take(now: number): DueAnnouncement[] {
    const out: DueAnnouncement[] = [];
    const advanced: [Lane, Entry][] = [];
    for (const lane of this.#lanes.values()) {
      const bucket = this.#refill(lane.bucket, now);
      queues: for (const queue of lane.rounds) {
        for (let e = this.#head(queue); e !== undefined && this.#dueAt(e) <= now; e = this.#head(queue)) {
          if (bucket.tokens < e.frames) break queues;
          bucket.tokens -= e.frames;
          queue.shift();
          out.push({ ip: e.ip, ifname: e.ifname, round: e.round });
          e.round++;
          if (e.round >= this.#opts.schedule.length) this.#entries.delete(key(e.ip, e.ifname));
          else advanced.push([lane, e]);
        }
      }
    }
    // Into the next round's queue only now, so that no entry goes twice in one call.
    for (const [lane, e] of advanced) lane.rounds[e.round]!.push(e);
    for (const [ifname, lane] of this.#lanes) if (lane.rounds.every((q) => this.#head(q) === undefined)) this.#lanes.delete(ifname);
    return out;
  }

  /** When `take` next has something to give, or undefined when nothing is pending. */
  nextAt(now: number): number | undefined {
    let next: number | undefined;
    for (const lane of this.#lanes.values()) {
      const bucket = this.#refill(lane.bucket, now);
      for (const queue of lane.rounds) {
        const e = this.#head(queue);
        if (e === undefined) continue;
        const refilled = bucket.tokens >= e.frames ? now : now + Math.ceil(((e.frames - bucket.tokens) * 1000) / this.#opts.ratePerSecond);
        const due = this.#dueAt(e);
        const at = Math.max(due, refilled);
        if (next === undefined || at < next) next = at;
        if (due <= now) break; // it holds back everything behind it on this interface
      }
    }
    return next;
  }

  #dueAt(e: Entry): number {
    return e.start + this.#opts.schedule[e.round]!;
  }

  /** The queue's first current entry, dropping replaced and cancelled ones before it. */
  #head(queue: Fifo<Entry>): Entry | undefined {
    for (let e = queue.peek(); e !== undefined; e = queue.peek()) {
      if (this.#entries.get(key(e.ip, e.ifname)) === e) return e;
      queue.shift();
    }
    return undefined;
  }

  #lane(ifname: string, now: number): Lane {
    let lane = this.#lanes.get(ifname);
    if (!lane) {
      const bucket = this.#buckets.get(ifname) ?? { tokens: this.#opts.burst, at: now };
      this.#buckets.set(ifname, bucket);
      lane = { bucket, rounds: Array.from({ length: this.#opts.schedule.length + 1 }, () => new Fifo<Entry>()) };
      this.#lanes.set(ifname, lane);
    }
    return lane;
  }

  #refill(b: Bucket, now: number): Bucket {
    if (now > b.at) {
      b.tokens = Math.min(this.#opts.burst, b.tokens + ((now - b.at) * this.#opts.ratePerSecond) / 1000);
      b.at = now;
    }
    return b;
  }
}

/** A first-in first-out queue: O(1) push and shift (an array with a moving head, compacted as it goes). */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  shift(): void {
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

function key(ip: string, ifname: string): string {
  return `${ip}%${ifname}`;
}
