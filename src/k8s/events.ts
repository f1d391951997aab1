// Kubernetes Events (core v1) about objects, as users read them in `kubectl describe`
// and grep for their reasons. Like client-go's recorder: a repeat of the same event on
// the same object bumps the count of the existing Event instead of creating another,
// and each object has a token bucket (burst 25, one more every 5 minutes) so a service
// failing in a loop cannot flood the API server. Recording never throws and never
// blocks the caller.
import type { KubeClient } from './client.ts';
import { createEvent, patchEventCount } from './operations.ts';
import type { Clock } from '../time/clock.ts';
import { formatRuntimeError, type RuntimeError } from '../observability/errors.ts';

/**
 * Reasons of the Warning Events a runtime failure causes. Their message starts with the
 * failure's code (formatRuntimeError), which `ferrolb doctor` reads back
 * (docs/METRICS.md "Runtime error codes").
 */
export const FAILURE_REASON = {
  /** The API server refused a write of the controller's: a Service's IPs or annotation, a pool's status. */
  writeFailed: 'WriteFailed',
  /** A speaker's BGP session with the BGPPeer failed or could not be established. */
  bgpSessionFailed: 'BGPSessionFailed',
} as const;
export type FailureReason = (typeof FAILURE_REASON)[keyof typeof FAILURE_REASON];

export interface ObjectReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EventRecorderOptions {
  readonly component: string;
  readonly instance: string;
  readonly clock: Clock;
  readonly onError?: (err: unknown) => void;
  readonly burst?: number;
  /** ms per token refill. */
  readonly refillEvery?: number;
}

interface Seen {
  name?: string;
  namespace: string;
  count: number;
  first: string;
}

const REPEAT_WINDOW_MS = 10 * 60_000;
const MAX_TRACKED = 4096;

export class EventRecorder {
  readonly #client: KubeClient;
  readonly #opts: EventRecorderOptions;
  readonly #seen = new Map<string, Seen & { at: number }>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #chain: Promise<void> = Promise.resolve();

  constructor(client: KubeClient, opts: EventRecorderOptions) {
    this.#client = client;
    this.#opts = opts;
  }

  record(obj: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = this.#opts.clock.now();
    const objKey = `${obj.kind}/${obj.namespace}/${obj.name}/${obj.uid ?? ''}`;
    if (!this.#take(objKey, now)) return;
    const key = `${objKey}\0${type}\0${reason}\0${message}`;
    const seen = this.#seen.get(key);
    const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    // Writes go one after another, so a repeat finds the name of the Event it bumps.
    this.#chain = this.#chain.then(async () => {
      try {
        if (seen?.name && now - seen.at < REPEAT_WINDOW_MS) {
          seen.count++;
          seen.at = now;
          await patchEventCount(this.#client, seen.namespace, seen.name, seen.count, stamp);
          return;
        }
        if (this.#seen.size >= MAX_TRACKED) this.#seen.clear();
        const name = await createEvent(this.#client, {
          metadata: { generateName: `${obj.name}.`, namespace: obj.namespace },
          involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.namespace, name: obj.name, ...(obj.uid ? { uid: obj.uid } : {}) },
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: stamp,
          lastTimestamp: stamp,
          source: { component: this.#opts.component },
          reportingComponent: this.#opts.component,
          reportingInstance: this.#opts.instance,
        });
        this.#seen.set(key, { name, namespace: obj.namespace, count: 1, first: stamp, at: now });
      } catch (err) {
        this.#opts.onError?.(err);
      }
    });
  }

  /** A Warning Event for a runtime failure: `CODE: what: message`. */
  recordFailure(obj: ObjectReference, reason: FailureReason, error: RuntimeError, what: string): void {
    this.record(obj, 'Warning', reason, formatRuntimeError(error, what));
  }

  /** Resolves when every event recorded so far has been written (or failed). */
  flush(): Promise<void> {
    return this.#chain;
  }

  #take(objKey: string, now: number): boolean {
    const burst = this.#opts.burst ?? 25;
    const every = this.#opts.refillEvery ?? 300_000;
    const b = this.#buckets.get(objKey) ?? { tokens: burst, at: now };
    const refill = Math.floor((now - b.at) / every);
    if (refill > 0) {
      b.tokens = Math.min(burst, b.tokens + refill);
      b.at += refill * every;
    }
    if (b.tokens <= 0) {
      this.#buckets.set(objKey, b);
      return false;
    }
    b.tokens--;
    if (this.#buckets.size >= MAX_TRACKED && !this.#buckets.has(objKey)) this.#buckets.clear();
    this.#buckets.set(objKey, b);
    return true;
  }
}
