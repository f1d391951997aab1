// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
// - a candidate takes the lease only when it is free or its holder has not renewed it
//   for leaseDuration, measured on the candidate's own clock from when it last saw the
//   lease change (so clock skew between nodes does not matter);
// - every write carries the resourceVersion it read (optimistic concurrency): of two
//   candidates racing, the API server lets exactly one write succeed;
// - the leader renews every retryPeriod and gives up leadership when it has not renewed
//   successfully for renewDeadline, before anyone else may take the lease
//   (renewDeadline < leaseDuration), so two leaders never write at once.
import type { Clock, Timer } from '../time/clock.ts';

export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  /** Milliseconds since the epoch (microsecond times on the wire). */
  readonly acquireTime: number;
  readonly renewTime: number;
  readonly leaseTransitions: number;
}

export interface StoredLease {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

/** The API server's Lease, seen through what election needs. Errors reject. */
export interface LeaseStore {
  get(): Promise<StoredLease | undefined>;
  /** Resolves false when someone else created it first (409). */
  create(record: LeaseRecord): Promise<boolean>;
  /** Resolves false on a resourceVersion conflict (409). */
  update(record: LeaseRecord, resourceVersion: string): Promise<boolean>;
}

export interface ElectionTiming {
  /** Seconds: how long a lease stays valid without renewal (default 15). */
  readonly leaseDuration: number;
  /** Seconds: a leader that has not renewed for this long stops leading (default 10). */
  readonly renewDeadline: number;
  /** Seconds: interval between attempts (default 2). */
  readonly retryPeriod: number;
}

export const DEFAULT_TIMING: ElectionTiming = { leaseDuration: 15, renewDeadline: 10, retryPeriod: 2 };

export function validateTiming(t: ElectionTiming): string | undefined {
  if (!(t.retryPeriod > 0)) return 'retry period must be positive';
  if (!(t.renewDeadline > t.retryPeriod)) return 'renew deadline must be longer than the retry period';
  if (!(t.leaseDuration > t.renewDeadline)) return 'lease duration must be longer than the renew deadline';
  return undefined;
}

/** What we last saw of the lease, and when (on our clock). */
export interface Observation {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
  readonly observedAt: number;
}

export type ElectionStep =
  | { readonly kind: 'create'; readonly record: LeaseRecord }
  | { readonly kind: 'update'; readonly record: LeaseRecord; readonly resourceVersion: string }
  | { readonly kind: 'wait'; readonly holder: string };

/** Pure: given the lease as read now, what this candidate should write, if anything. */
export function electionStep(
  current: StoredLease | undefined,
  previous: Observation | undefined,
  me: string,
  now: number,
  timing: ElectionTiming,
): { step: ElectionStep; observation: Observation | undefined } {
  if (!current) {
    const record: LeaseRecord = { holderIdentity: me, leaseDurationSeconds: timing.leaseDuration, acquireTime: now, renewTime: now, leaseTransitions: 0 };
    return { step: { kind: 'create', record }, observation: undefined };
  }
  // The lease's age is judged from when we saw it change, not from its renewTime.
  const changed = !previous || previous.resourceVersion !== current.resourceVersion;
  const observation: Observation = changed ? { ...current, observedAt: now } : previous;
  const r = current.record;
  const held = r.holderIdentity !== '' && r.holderIdentity !== me;
  const expired = observation.observedAt + r.leaseDurationSeconds * 1000 <= now;
  if (held && !expired) return { step: { kind: 'wait', holder: r.holderIdentity }, observation };
  const mine = r.holderIdentity === me;
  const record: LeaseRecord = {
    holderIdentity: me,
    leaseDurationSeconds: timing.leaseDuration,
    acquireTime: mine ? r.acquireTime : now,
    renewTime: now,
    leaseTransitions: mine ? r.leaseTransitions : r.leaseTransitions + 1,
  };
  return { step: { kind: 'update', record, resourceVersion: current.resourceVersion }, observation };
}

export interface ElectorEvents {
  onStartedLeading(): void;
  /** Called once when leadership is lost; the caller must stop writing at once. */
  onStoppedLeading(): void;
  onNewLeader?(identity: string): void;
  onError?(err: unknown): void;
}

/** Runs the election loop: acquire, then renew until the deadline passes without success. */
export class LeaderElector {
  readonly #store: LeaseStore;
  readonly #me: string;
  readonly #clock: Clock;
  readonly #timing: ElectionTiming;
  readonly #events: ElectorEvents;
  #observation: Observation | undefined;
  #leading = false;
  #lastRenew = 0;
  #timer: Timer | undefined;
  #stopped = false;
  #lastLeader = '';

  constructor(store: LeaseStore, identity: string, clock: Clock, timing: ElectionTiming, events: ElectorEvents) {
    const bad = validateTiming(timing);
    if (bad) throw new Error(`leader election: ${bad}`);
    this.#store = store;
    this.#me = identity;
    this.#clock = clock;
    this.#timing = timing;
    this.#events = events;
  }

  get isLeader(): boolean {
    // A leader past its renew deadline is no leader, even before the timer fires.
    return this.#leading && this.#clock.now() - this.#lastRenew < this.#timing.renewDeadline * 1000;
  }

  start(): void {
    this.#stopped = false;
    void this.#attempt();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    if (this.#leading) {
      this.#leading = false;
      this.#events.onStoppedLeading();
    }
  }

  /**
   * Gives the lease up so a standby takes over at once instead of after leaseDuration
   * (client-go's ReleaseOnCancel). Call after stop(); errors are the caller's to log.
   */
  async release(): Promise<void> {
    const current = await this.#store.get();
    if (!current || current.record.holderIdentity !== this.#me) return;
    const now = this.#clock.now();
    await this.#store.update({ ...current.record, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now }, current.resourceVersion);
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    let ok = false;
    try {
      ok = await this.#tryAcquireOrRenew();
    } catch (err) {
      this.#events.onError?.(err);
    }
    if (this.#stopped) return;
    const now = this.#clock.now();
    if (ok) {
      this.#lastRenew = now;
      if (!this.#leading) {
        this.#leading = true;
        this.#events.onStartedLeading();
      }
    } else if (this.#leading && now - this.#lastRenew >= this.#timing.renewDeadline * 1000) {
      this.#leading = false;
      this.#events.onStoppedLeading();
    }
    this.#timer = this.#clock.setTimeout(() => void this.#attempt(), this.#timing.retryPeriod * 1000);
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const current = await this.#store.get();
    const now = this.#clock.now();
    const { step, observation } = electionStep(current, this.#observation, this.#me, now, this.#timing);
    this.#observation = observation;
    if (step.kind === 'wait') {
      if (step.holder !== this.#lastLeader) {
        this.#lastLeader = step.holder;
        this.#events.onNewLeader?.(step.holder);
      }
      return false;
    }
    const written = step.kind === 'create' ? await this.#store.create(step.record) : await this.#store.update(step.record, step.resourceVersion);
    if (written && this.#lastLeader !== this.#me) {
      this.#lastLeader = this.#me;
      this.#events.onNewLeader?.(this.#me);
    }
    return written;
  }
}
