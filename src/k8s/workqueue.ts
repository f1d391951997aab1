// A work queue keyed by object, with client-go's semantics: a key waiting in the queue
// is queued once however often it is added; a key being processed that is added again
// is processed once more after it is done (never twice at once); failures are retried
// with per-key exponential backoff.
import type { Clock, Timer } from '../time/clock.ts';
import { backoffDelay } from '../time/backoff.ts';

export interface RetryPolicy {
  /** First retry delay, ms (client-go: 5 ms). */
  readonly baseDelay: number;
  /** Longest retry delay, ms (client-go: 1000 s; shorter here, so a controller heals quicker). */
  readonly maxDelay: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseDelay: 5, maxDelay: 60_000 };

export class WorkQueue {
  readonly #clock: Clock;
  readonly #retry: RetryPolicy;
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirtyWhileProcessing = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, Timer>();
  #waiters: ((key: string | undefined) => void)[] = [];
  #shutDown = false;

  constructor(clock: Clock, retry: RetryPolicy = DEFAULT_RETRY) {
    this.#clock = clock;
    this.#retry = retry;
  }

  get length(): number {
    return this.#queue.length;
  }

  add(key: string): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      this.#dirtyWhileProcessing.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#queued.delete(key);
      this.#processing.add(key);
      waiter(key);
    } else this.#queue.push(key);
  }

  /** Adds the key after its backoff delay: base * 2^failures, capped. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = backoffDelay(failures, this.#retry.baseDelay, this.#retry.maxDelay);
    this.addAfter(key, delay);
    return delay;
  }

  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    this.#delayed.get(key)?.cancel();
    this.#delayed.set(
      key,
      this.#clock.setTimeout(() => {
        this.#delayed.delete(key);
        this.add(key);
      }, ms),
    );
  }

  /** Forgets a key's failures (call after it was processed successfully). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key to process; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shutDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks a key processed; if it was added meanwhile, queues it again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirtyWhileProcessing.delete(key)) this.add(key);
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const t of this.#delayed.values()) t.cancel();
    this.#delayed.clear();
    for (const w of this.#waiters) w(undefined);
    this.#waiters = [];
  }
}
