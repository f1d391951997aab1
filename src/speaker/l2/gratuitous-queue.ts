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

export class GratuitousQueue {
  readonly #opts: QueueOptions;
  readonly #entries = new Map<string, Entry>();
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
    this.#entries.set(key(ip, ifname), { ip, ifname, frames: Math.min(frames, this.#opts.burst), start: now, round: 0 });
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
    this.#entries.set(k, { ip, ifname, frames: Math.min(frames, this.#opts.burst), start: now - this.#opts.schedule[last]!, round: last });
  }

  cancel(ip: string, ifname: string): void {
    this.#entries.delete(key(ip, ifname));
  }

  /** The announcements to send at `now`, within each interface's budget; first rounds first. */
  take(now: number): DueAnnouncement[] {
    const due = [...this.#entries.values()].filter((e) => this.#dueAt(e) <= now);
    // The order only decides who waits when a budget cannot carry everything due; when
    // every interface's can (the usual case, a takeover included), the sort is skipped:
    // for a thousand entries it is most of the time before the first frame.
    const needed = new Map<string, number>();
    for (const e of due) needed.set(e.ifname, (needed.get(e.ifname) ?? 0) + e.frames);
    if ([...needed].some(([ifname, frames]) => this.#bucket(ifname, now).tokens < frames)) {
      due.sort((a, b) => a.round - b.round || this.#dueAt(a) - this.#dueAt(b) || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
    }
    const out: DueAnnouncement[] = [];
    for (const e of due) {
      const bucket = this.#bucket(e.ifname, now);
      if (bucket.tokens < e.frames) continue;
      bucket.tokens -= e.frames;
      out.push({ ip: e.ip, ifname: e.ifname, round: e.round });
      e.round++;
      if (e.round >= this.#opts.schedule.length) this.#entries.delete(key(e.ip, e.ifname));
    }
    return out;
  }

  /** When `take` next has something to give, or undefined when nothing is pending. */
  nextAt(now: number): number | undefined {
    let next: number | undefined;
    for (const e of this.#entries.values()) {
      const bucket = this.#bucket(e.ifname, now);
      const refilled = bucket.tokens >= e.frames ? now : now + Math.ceil(((e.frames - bucket.tokens) * 1000) / this.#opts.ratePerSecond);
      const at = Math.max(this.#dueAt(e), refilled);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  #dueAt(e: Entry): number {
    return e.start + this.#opts.schedule[e.round]!;
  }

  #bucket(ifname: string, now: number): Bucket {
    let b = this.#buckets.get(ifname);
    if (!b) this.#buckets.set(ifname, (b = { tokens: this.#opts.burst, at: now }));
    if (now > b.at) {
      b.tokens = Math.min(this.#opts.burst, b.tokens + ((now - b.at) * this.#opts.ratePerSecond) / 1000);
      b.at = now;
    }
    return b;
  }
}

function key(ip: string, ifname: string): string {
  return `${ip}%${ifname}`;
}
