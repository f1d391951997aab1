// A watched cache of one resource (list, then watch from the list's resourceVersion),
// built to survive what a long-running controller meets:
// - any error (API server restarted, connection refused, 5xx, 403 while RBAC
//   propagates) restarts the watch after an exponential backoff, never stops it for good
//   (@kubernetes/client-node's informer stops on any error other than 410);
// - 410 Gone (etcd compacted past our resourceVersion) lists again and reports the
//   difference as add/update/delete events, so no change is lost;
// - a watch that goes quiet without closing (a half-open TCP connection) is caught by a
//   watchdog: the server sends a bookmark about once a minute (allowWatchBookmarks) and
//   ends every watch after timeoutSeconds, so silence beyond that means the stream is
//   dead and is replaced.
import type { KubeClient, KubeObject, WatchStream } from './client.ts';
import { ApiError } from './client.ts';
import type { Clock, Timer } from '../time/clock.ts';
import { backoffDelay } from '../time/backoff.ts';

export type ChangeType = 'add' | 'update' | 'delete';

/** What a watched resource asks of the API server: a list, then a watch (tests pass their own). */
export type WatchClient = Pick<KubeClient, 'list' | 'watch'>;

export interface WatchOptions {
  readonly clock: Clock;
  /** Seconds the server keeps one watch open (default 300; a little jitter is added). */
  readonly watchSeconds?: number;
  /** Silence beyond this, ms, means a dead stream (default watchSeconds + 60 s). */
  readonly quietTimeout?: number;
  /** Restart delays after an error, ms: first and longest (default 500 ms .. 30 s). */
  readonly minBackoff?: number;
  readonly maxBackoff?: number;
  readonly onError?: (path: string, err: unknown, retryInMs: number) => void;
  readonly onRestart?: (path: string, why: 'gone' | 'quiet' | 'closed') => void;
}

/**
 * What the cache keeps of an object when its owner names no projection: everything but
 * metadata.managedFields, which ferrolb never reads and which is often the largest part
 * of an object (client-go's informers drop it with a transform for the same reason).
 */
function trimmed<T extends KubeObject>(o: T): T {
  if (o.metadata?.managedFields !== undefined) delete o.metadata.managedFields;
  return o;
}

/**
 * How a resource's cache holds its objects, chosen by its owner:
 * - `project`: what is kept of each object, applied to every listed and watched object
 *   before it is cached and before the change handlers see it (client-go's
 *   SetTransform). A projection keeps only the fields its readers use (src/api/projection.ts),
 *   so a cache of 10,000 Services costs what the planners read, not the API objects.
 * - `indexBy`: a secondary index, one value per object or none (client-go's Indexer),
 *   kept with the cache, so readers ask `indexed(value)` instead of keeping their own map
 *   in step with the change events.
 */
export interface CacheOptions<T extends KubeObject> {
  readonly project?: (o: T) => T;
  readonly indexBy?: (o: T) => string | undefined;
}
function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

export class WatchedResource<T extends KubeObject> {
  readonly path: string;
  readonly #client: WatchClient;
  readonly #opts: WatchOptions;
  readonly #handlers: ((type: ChangeType, obj: T) => void)[] = [];
  #objects = new Map<string, T>();
  readonly #project: (o: T) => T;
  readonly #indexBy: ((o: T) => string | undefined) | undefined;
  /** indexBy value -> object key -> object. */
  #index = new Map<string, Map<string, T>>();
  #resourceVersion = '';
  #failures = 0;
  #lastActivity: number;
  #stream: WatchStream | undefined;
  #timer: Timer | undefined;
  #watchdog: Timer | undefined;
  #stopped = true;
  #generation = 0;
  #resolveSynced!: () => void;
  #synced = false;
  /** Resolves once the first list has been loaded into the cache. */
  readonly synced: Promise<void>;

  constructor(client: WatchClient, path: string, opts: WatchOptions, cache: CacheOptions<T> = {}) {
    this.#client = client;
    this.path = path;
    this.#opts = opts;
    this.#project = cache.project ?? trimmed;
    this.#indexBy = cache.indexBy;
    this.#lastActivity = opts.clock.now();
    this.synced = new Promise((r) => (this.#resolveSynced = r));
  }

  onChange(handler: (type: ChangeType, obj: T) => void): void {
    this.#handlers.push(handler);
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#armWatchdog();
    void this.#run(++this.#generation);
  }

  stop(): void {
    this.#stopped = true;
    this.#generation++;
    this.#timer?.cancel();
    this.#watchdog?.cancel();
    this.#stream?.abort();
  }

  list(): T[] {
    return [...this.#objects.values()];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#objects.get(`${namespace ?? ''}/${name}`);
  }

  /** The cached objects whose `indexBy` value is `value` (none without an index). */
  indexed(value: string): T[] {
    const objects = this.#index.get(value);
    return objects ? [...objects.values()] : [];
  }

  /** Caches an object (or replaces it), keeping the index in step. */
  #put(k: string, obj: T): void {
    const before = this.#objects.get(k);
    this.#objects.set(k, obj);
    if (!this.#indexBy) return;
    const was = before ? this.#indexBy(before) : undefined;
    const now = this.#indexBy(obj);
    if (was !== undefined && was !== now) this.#unindex(was, k);
    if (now === undefined) return;
    let objects = this.#index.get(now);
    if (!objects) this.#index.set(now, (objects = new Map()));
    objects.set(k, obj);
  }

  #remove(k: string): T | undefined {
    const before = this.#objects.get(k);
    if (!before) return undefined;
    this.#objects.delete(k);
    const was = this.#indexBy?.(before);
    if (was !== undefined) this.#unindex(was, k);
    return before;
  }

  #unindex(value: string, k: string): void {
    const objects = this.#index.get(value);
    objects?.delete(k);
    if (objects?.size === 0) this.#index.delete(value);
  }

  #emit(type: ChangeType, obj: T): void {
    for (const h of this.#handlers) h(type, obj);
  }

  /** One list-or-watch round; schedules the next. `generation` cancels stale rounds. */
  async #run(generation: number): Promise<void> {
    if (this.#stopped || generation !== this.#generation) return;
    try {
      if (this.#resourceVersion === '') await this.#relist();
      if (this.#stopped || generation !== this.#generation) return;
      const result = await this.#watchOnce();
      if (generation !== this.#generation) return;
      if (result === 'gone') {
        this.#resourceVersion = '';
        this.#opts.onRestart?.(this.path, 'gone');
      } else this.#opts.onRestart?.(this.path, 'closed');
      this.#failures = 0;
      this.#schedule(generation, 0);
    } catch (err) {
      if (generation !== this.#generation || this.#stopped) return;
      if (err instanceof ApiError && err.status === 410) this.#resourceVersion = '';
      const delay = backoffDelay(this.#failures++, this.#opts.minBackoff ?? 500, this.#opts.maxBackoff ?? 30_000);
      this.#opts.onError?.(this.path, err, delay);
      this.#schedule(generation, delay);
    }
  }

  #schedule(generation: number, delay: number): void {
    this.#timer?.cancel();
    this.#timer = this.#opts.clock.setTimeout(() => void this.#run(generation), delay);
  }

  async #relist(): Promise<void> {
    const l = await this.#client.list<T>(this.path);
    this.#lastActivity = this.#opts.clock.now();
    const old = this.#objects;
    this.#objects = new Map();
    this.#index = new Map();
    for (const item of l.items) this.#put(keyOf(item), this.#project(item));
    const fresh = this.#objects;
    this.#resourceVersion = l.metadata?.resourceVersion ?? '';
    // Report what changed while we were not watching (after a 410, or at start).
    for (const [k, o] of old) if (!fresh.has(k)) this.#emit('delete', o);
    for (const [k, o] of fresh) {
      const before = old.get(k);
      if (!before) this.#emit('add', o);
      else if (before.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.#emit('update', o);
    }
    if (!this.#synced) {
      this.#synced = true;
      this.#resolveSynced();
    }
  }

  /** Watches until the stream ends: 'closed' (normal end) or 'gone' (410: list again). */
  async #watchOnce(): Promise<'closed' | 'gone'> {
    const seconds = this.#opts.watchSeconds ?? 300;
    // Jitter spreads re-watches of many resources over time, as client-go does.
    const timeout = Math.round(seconds * (1 + Math.random() * 0.1));
    const sep = this.path.includes('?') ? '&' : '?';
    const url = `${this.path}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=${timeout}&resourceVersion=${encodeURIComponent(this.#resourceVersion)}`;
    let gone = false;
    this.#stream = this.#client.watch(url, (type, object) => {
      this.#lastActivity = this.#opts.clock.now();
      if (type === 'ERROR') {
        // A Status object: 410 Expired/Gone means our resourceVersion was compacted.
        if ((object as { code?: number }).code === 410) gone = true;
        this.#stream?.abort();
        return;
      }
      if (type === 'BOOKMARK') {
        // Only a resourceVersion to resume from: nothing to project or cache.
        const rv = (object as KubeObject).metadata?.resourceVersion;
        if (rv) this.#resourceVersion = rv;
        return;
      }
      const obj = this.#project(object as T);
      const rv = obj.metadata?.resourceVersion;
      switch (type) {
        case 'ADDED':
        case 'MODIFIED': {
          const k = keyOf(obj);
          const existed = this.#objects.has(k);
          this.#put(k, obj);
          this.#emit(existed ? 'update' : 'add', obj);
          break;
        }
        case 'DELETED': {
          if (this.#remove(keyOf(obj))) this.#emit('delete', obj);
          break;
        }
      }
      if (rv) this.#resourceVersion = rv;
    });
    const { error } = await this.#stream.ended;
    this.#stream = undefined;
    if (gone) return 'gone';
    if (error && !(error instanceof Error && error.message === 'aborted' && this.#stopped)) throw error;
    return 'closed';
  }

  #armWatchdog(): void {
    const quiet = this.#opts.quietTimeout ?? ((this.#opts.watchSeconds ?? 300) * 1.1 + 60) * 1000;
    this.#watchdog?.cancel();
    this.#watchdog = this.#opts.clock.setTimeout(() => {
      if (this.#stopped) return;
      if (this.#stream && this.#opts.clock.now() - this.#lastActivity >= quiet) {
        this.#lastActivity = this.#opts.clock.now();
        this.#opts.onRestart?.(this.path, 'quiet');
        this.#stream.abort(); // the round fails and is retried: a fresh watch
      }
      this.#armWatchdog();
    }, Math.max(1000, quiet / 4));
  }
}
