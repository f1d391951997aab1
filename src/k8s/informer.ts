// A watched cache of one resource, on @kubernetes/client-node's informer, made to
// survive what that informer does not: it stops for good on any error other than 410
// Gone (API server restarted, connection refused, 5xx, a 403 while RBAC propagates), so
// here every error restarts it after an exponential backoff; and a watch can go quiet
// without ever closing (a half-open TCP connection), so a watchdog re-watches when
// nothing arrived for a while. 410 (etcd compacted past our resourceVersion) is handled by
// the informer itself: it lists again and reports the differences as events.
import { makeInformer, type Informer, type ObjectCache, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeClient, KubeObject } from './client.ts';
import type { Clock, Timer } from './clock.ts';

export type ChangeType = 'add' | 'update' | 'delete';

export interface WatchOptions {
  readonly clock: Clock;
  /** Re-watch when no event arrived for this long, ms (default 5 min). */
  readonly quietTimeout?: number;
  /** Restart delays after an error, ms: first and longest (default 500 ms .. 30 s). */
  readonly minBackoff?: number;
  readonly maxBackoff?: number;
  readonly onError?: (path: string, err: unknown, retryInMs: number) => void;
  readonly onRestart?: (path: string, why: 'error' | 'quiet') => void;
}

export class WatchedResource<T extends KubeObject> {
  readonly path: string;
  readonly #informer: Informer<T & KubernetesObject> & ObjectCache<T & KubernetesObject>;
  readonly #opts: WatchOptions;
  readonly #handlers: ((type: ChangeType, obj: T) => void)[] = [];
  #failures = 0;
  #lastActivity: number;
  #restartTimer: Timer | undefined;
  #restartPending = false;
  #watchdog: Timer | undefined;
  #stopped = false;
  #synced = false;
  #resolveSynced!: () => void;
  /** Resolves once the first list has been loaded into the cache. */
  readonly synced: Promise<void>;

  constructor(client: KubeClient, path: string, opts: WatchOptions) {
    this.path = path;
    this.#opts = opts;
    this.#lastActivity = opts.clock.now();
    this.synced = new Promise((r) => (this.#resolveSynced = r));
    const list = async () => {
      const l = await client.list<T & KubernetesObject>(path);
      this.#failures = 0;
      this.#lastActivity = this.#opts.clock.now();
      // The informer adds the listed items right after this promise resolves.
      setImmediate(() => {
        if (!this.#synced) {
          this.#synced = true;
          this.#resolveSynced();
        }
      });
      return l;
    };
    this.#informer = makeInformer(client.kubeConfig, path, list as never);
    for (const type of ['add', 'update', 'delete'] as const) {
      this.#informer.on(type, (obj) => {
        this.#lastActivity = this.#opts.clock.now();
        this.#failures = 0;
        for (const h of this.#handlers) h(type, obj as T);
      });
    }
    this.#informer.on('error', (err) => this.#restartAfterError(err));
  }

  onChange(handler: (type: ChangeType, obj: T) => void): void {
    this.#handlers.push(handler);
  }

  start(): void {
    this.#stopped = false;
    void this.#informer.start();
    this.#armWatchdog();
  }

  stop(): void {
    this.#stopped = true;
    this.#restartTimer?.cancel();
    this.#watchdog?.cancel();
    void this.#informer.stop();
  }

  list(): T[] {
    return this.#informer.list() as T[];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#informer.get(name, namespace) as T | undefined;
  }

  #restartAfterError(err: unknown): void {
    // Our own stop (watchdog re-watch) aborts the stream: not a failure.
    if (this.#stopped || (err instanceof Error && err.name === 'AbortError')) return;
    const min = this.#opts.minBackoff ?? 500;
    const max = this.#opts.maxBackoff ?? 30_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.#failures, 20));
    this.#failures++;
    this.#opts.onError?.(this.path, err, delay);
    this.#restartTimer?.cancel();
    this.#restartPending = true;
    this.#restartTimer = this.#opts.clock.setTimeout(() => {
      this.#restartPending = false;
      if (this.#stopped) return;
      this.#opts.onRestart?.(this.path, 'error');
      void this.#informer.start();
    }, delay);
  }

  #armWatchdog(): void {
    const quiet = this.#opts.quietTimeout ?? 300_000;
    this.#watchdog?.cancel();
    this.#watchdog = this.#opts.clock.setTimeout(() => {
      if (this.#stopped) return;
      if (this.#opts.clock.now() - this.#lastActivity >= quiet && !this.#restartPending) {
        // Re-watch from the last resourceVersion: cheap, and heals a silently dead stream.
        this.#lastActivity = this.#opts.clock.now();
        this.#opts.onRestart?.(this.path, 'quiet');
        void this.#informer.stop().then(() => (this.#stopped ? undefined : this.#informer.start()));
      }
      this.#armWatchdog();
    }, Math.max(1000, quiet / 2));
  }
}
