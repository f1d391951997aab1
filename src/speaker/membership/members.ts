// Who is alive, from heartbeats alone: the failure detector's pure state. A member is
// live while its last heartbeat is younger than `suspectAfter`; a "leaving" heartbeat
// ends it at once. Incarnations order a node's lives: a delayed datagram from a
// previous process (lower incarnation) can neither revive nor kill the current one.
export interface MemberState {
  readonly incarnation: bigint;
  readonly sequence: number;
  readonly lastHeard: number;
  readonly left: boolean;
}

export type HeardOutcome = 'joined' | 'refreshed' | 'left' | 'stale';

export class MemberTable {
  readonly #members = new Map<string, MemberState>();
  readonly suspectAfter: number;

  constructor(suspectAfter: number) {
    this.suspectAfter = suspectAfter;
  }

  heard(node: string, incarnation: bigint, sequence: number, leaving: boolean, now: number): HeardOutcome {
    const m = this.#members.get(node);
    if (m && (incarnation < m.incarnation || (incarnation === m.incarnation && (m.left || (sequence <= m.sequence && !leaving))))) return 'stale';
    const wasLive = m !== undefined && this.#isLive(m, now);
    this.#members.set(node, { incarnation, sequence, lastHeard: now, left: leaving });
    if (leaving) return 'left';
    return wasLive ? 'refreshed' : 'joined';
  }

  forget(node: string): void {
    this.#members.delete(node);
  }

  isLive(node: string, now: number): boolean {
    const m = this.#members.get(node);
    return m !== undefined && this.#isLive(m, now);
  }

  /** Live members, sorted by name. */
  live(now: number): string[] {
    return [...this.#members].filter(([, m]) => this.#isLive(m, now)).map(([n]) => n).sort();
  }

  get(node: string): MemberState | undefined {
    return this.#members.get(node);
  }

  #isLive(m: MemberState, now: number): boolean {
    return !m.left && now - m.lastHeard < this.suspectAfter;
  }
}
