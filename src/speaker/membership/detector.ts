// Who is alive: the failure detector's pure state (docs/L2.md "Membership"). Time comes
// in as `now` on every call; nothing here reads a clock or a socket.
//
// A member is live while someone heard it recently: this speaker directly, or another
// member that says so in its heartbeat's reports (heartbeat.ts). That second-hand
// evidence is SWIM's indirect probe without the extra round trip (Das, Gupta and
// Motivala, "SWIM", DSN 2002, section 3.1): a peer this speaker cannot hear because of
// a one-way or partial partition of the membership traffic stays live as long as some
// member hears it, so every speaker keeps the same live set, and the same plan, while
// the LAN still reaches that peer.
//
// Silence is counted only while this speaker was looking (Lifeguard, Dadgar et al.,
// 2018, "local health"): when this speaker's own event loop stalls (a CPU-starved node,
// a frozen and thawed process, a long GC), the stall is not a peer's silence, so a
// speaker that wakes up does not declare everyone dead before reading the heartbeats
// queued for it. And a speaker whose heartbeat timer keeps firing late is unhealthy
// itself: its timeout grows (`health`), up to suspectAfter x (1 + maxHealth), and
// shrinks back after steady on-time ticks, so an overloaded node accuses no one.
//
// Incarnations order a node's lives: a delayed datagram or report about a previous
// process (lower incarnation) can neither revive nor kill the current one, and a
// "leaving" heartbeat ends a life at once; only the node itself, restarted, comes back.

export interface DetectorOptions {
  /** This speaker's own node: others' reports about it are not evidence of anything. */
  readonly node: string;
  /** Silence, ms, after which a member nobody heard is dead (before health widens it). */
  readonly suspectAfter: number;
  /** The heartbeat period, ms: tick() is due this often. */
  readonly interval: number;
  /** Lifeguard's cap: the timeout grows up to suspectAfter x (1 + maxHealth). Default 4. */
  readonly maxHealth?: number;
}

/** What a heartbeat's report names: a peer, the life it was heard in, how long ago (ms). */
export interface Report {
  readonly node: string;
  readonly incarnation: bigint;
  readonly age: number;
}

export type HeardOutcome = 'joined' | 'refreshed' | 'left' | 'stale';

interface Member {
  readonly incarnation: bigint;
  /** The last sequence heard directly in this incarnation (-1: none yet). */
  readonly sequence: number;
  /** Attentive time (below) it was last heard directly; -Infinity: never. */
  readonly direct: number;
  /** Wall time of that, for the age this speaker reports to others. */
  readonly directAt: number;
  /** Attentive time the freshest report from another member says it was heard. */
  readonly relayed: number;
  readonly left: boolean;
  /**
   * Whether its last heartbeat reported hearing this speaker (undefined: no report yet
   * in this life, or a version 1 heartbeat, which carries none).
   */
  readonly hearsMe: boolean | undefined;
  /** It reported this speaker, then stopped: it took this speaker for dead. */
  readonly lostMe: boolean;
  /**
   * The freshest evidence (attentive time) there was when it was found dead; it stays
   * dead until something fresher is heard. Without this, a timeout widened afterwards
   * (this speaker running late, often because of the takeover itself) would bring it
   * back on the same old evidence, and its IPs would move back and forth.
   */
  buried: number;
}

/** On-time ticks that earn back one step of health. */
const RECOVERY_TICKS = 10;

export class FailureDetector {
  readonly node: string;
  readonly suspectAfter: number;
  readonly interval: number;
  readonly maxHealth: number;
  readonly #members = new Map<string, Member>();
  #heardAgain: string[] = [];
  /** A member may have joined or left the live set since changed() was last asked. */
  #changed = false;
  /** ms of this speaker's own stalls so far; attentive time = now - stalled. */
  #stalled = 0;
  #lastSeen: number | undefined;
  #lastTick: number | undefined;
  #health = 0;
  #onTime = 0;

  constructor(opts: DetectorOptions) {
    this.node = opts.node;
    this.suspectAfter = opts.suspectAfter;
    this.interval = opts.interval;
    this.maxHealth = opts.maxHealth ?? 4;
  }

  /** 0 (healthy) .. maxHealth: how much this speaker's own lateness widens its timeout. */
  get health(): number {
    return this.#health;
  }

  /** The silence, ms, that makes a member dead now. */
  get timeout(): number {
    return this.suspectAfter * (1 + this.#health);
  }

  /** ms this speaker has spent stalled, in all (not counted as anyone's silence). */
  get stalled(): number {
    return this.#stalled;
  }

  /**
   * The heartbeat timer fired at `now`: if it fired more than half a period late, this
   * speaker is struggling and widens its timeout one step; steady on-time ticks narrow
   * it again.
   */
  tick(now: number): void {
    this.#observe(now);
    if (this.#lastTick !== undefined) {
      const late = now - this.#lastTick - this.interval;
      if (late > this.interval / 2) {
        this.#health = Math.min(this.maxHealth, this.#health + 1);
        this.#onTime = 0;
      } else if (this.#health > 0 && ++this.#onTime >= RECOVERY_TICKS) {
        this.#health--;
        this.#onTime = 0;
      }
    }
    this.#lastTick = now;
  }

  /**
   * A heartbeat from `node`, with the reports it carried (mapped to names; undefined for
   * a heartbeat that carries none). A report about the sender itself is ignored; one
   * about this speaker says the sender hears it (heardAgain()).
   */
  heard(node: string, incarnation: bigint, sequence: number, leaving: boolean, now: number, reports?: readonly Report[]): HeardOutcome {
    const at = this.#observe(now);
    const m = this.#members.get(node);
    if (node === this.node) return 'stale';
    if (m && (incarnation < m.incarnation || (incarnation === m.incarnation && (m.left || (sequence <= m.sequence && !leaving))))) return 'stale';
    const wasLive = m !== undefined && this.#isLive(m, at);
    const sameLife = m !== undefined && m.incarnation === incarnation;
    const hearsMe = reports === undefined ? undefined : reports.some((r) => r.node === this.node);
    const before = sameLife ? m.hearsMe : undefined;
    // Lost and found again within one life of the sender: it took this speaker for dead
    // meanwhile (a partition, or this speaker frozen), and may have announced its IPs.
    const lostMe = (sameLife && m.lostMe) || (before === true && hearsMe === false);
    if (lostMe && hearsMe === true) this.#heardAgain.push(node);
    this.#members.set(node, {
      incarnation, sequence, direct: at, directAt: now, relayed: sameLife ? m.relayed : -Infinity, left: leaving,
      hearsMe: hearsMe ?? before, lostMe: lostMe && hearsMe !== true, buried: sameLife ? m.buried : -Infinity,
    });
    if (leaving || !wasLive) this.#changed = true;
    if (leaving) return 'left';
    for (const r of reports ?? []) if (r.node !== node && r.node !== this.node) this.#relayed(r.node, r.incarnation, at - Math.max(0, r.age), at);
    return wasLive ? 'refreshed' : 'joined';
  }

  /**
   * The members that stopped reporting this speaker and now report it again, since the
   * last call: they took it for dead, so the LAN may have heard them claim its IPs.
   */
  heardAgain(): string[] {
    const out = this.#heardAgain;
    this.#heardAgain = [];
    return out;
  }

  forget(node: string): void {
    this.#members.delete(node);
  }

  isLive(node: string, now: number): boolean {
    const m = this.#members.get(node);
    return m !== undefined && this.#isLive(m, this.#observe(now));
  }

  /** Live members, sorted by name. */
  live(now: number): string[] {
    const at = this.#observe(now);
    return [...this.#members].filter(([, m]) => this.#isLive(m, at)).map(([n]) => n).sort();
  }

  /**
   * What this speaker tells the others: every member it heard directly within the
   * timeout, with the wall-clock age (a speaker back from a stall must not vouch for
   * peers it has not heard for that long).
   */
  reports(now: number): Report[] {
    this.#observe(now);
    const out: Report[] = [];
    for (const [node, m] of this.#members) {
      if (m.left || now - m.directAt >= this.timeout) continue;
      out.push({ node, incarnation: m.incarnation, age: now - m.directAt });
    }
    return out;
  }

  /**
   * Whether `node`'s last heartbeat came at or after `since` (wall time) and reported
   * hearing this speaker: it counts this speaker live again, so it no longer stands in
   * for this speaker's IPs (it re-plans on hearing it, before its next heartbeat).
   */
  hearsMeSince(node: string, since: number): boolean {
    const m = this.#members.get(node);
    return m !== undefined && !m.left && m.directAt >= since && m.hearsMe === true;
  }

  /** Whether this speaker itself hears `node` (not only through others). */
  hearsDirectly(node: string, now: number): boolean {
    const m = this.#members.get(node);
    return m !== undefined && !m.left && this.#observe(now) - m.direct < this.timeout;
  }

  #relayed(node: string, incarnation: bigint, heardAt: number, at: number): void {
    const m = this.#members.get(node);
    if (m && (incarnation < m.incarnation || (incarnation === m.incarnation && m.left))) return;
    const wasLive = m !== undefined && this.#isLive(m, at);
    if (!m || incarnation > m.incarnation) {
      this.#members.set(node, { incarnation, sequence: -1, direct: -Infinity, directAt: -Infinity, relayed: heardAt, left: false, hearsMe: undefined, lostMe: false, buried: -Infinity });
    } else if (heardAt > m.relayed) {
      this.#members.set(node, { ...m, relayed: heardAt });
    }
    if (!wasLive && this.#isLive(this.#members.get(node)!, at)) this.#changed = true;
  }

  /**
   * Whether a heartbeat since the last call may have changed the live set (a member
   * joined, came back through a report, or left); deaths come with time instead, and the
   * driver looks for those on its timer.
   */
  changed(): boolean {
    const c = this.#changed;
    this.#changed = false;
    return c;
  }

  /**
   * Attentive time at `now`. Every call is evidence that the event loop was running; a
   * gap between two calls longer than a heartbeat period (the membership driver calls
   * at least twice per period) is a stall of this speaker, and is not counted.
   */
  #observe(now: number): number {
    if (this.#lastSeen !== undefined) {
      const gap = now - this.#lastSeen;
      if (gap > this.interval) this.#stalled += gap - this.interval;
    }
    if (this.#lastSeen === undefined || now > this.#lastSeen) this.#lastSeen = now;
    return now - this.#stalled;
  }

  #isLive(m: Member, at: number): boolean {
    const evidence = Math.max(m.direct, m.relayed);
    if (m.left || evidence <= m.buried) return false;
    if (at - evidence < this.timeout) return true;
    m.buried = evidence;
    return false;
  }
}
