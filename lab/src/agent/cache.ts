// The agent's cache of one kind: ferrolb's own watched cache (src/k8s/informer.ts: list,
// then watch; a new list after 410 Gone; backoff; a watchdog for a silent stream) with
// the agent's own writes laid over it. A role that creates a pod, patches a status or
// deletes a slice records the API server's answer here at once, so the next tick (which
// may come before the watch event does) does not create that pod again or count a
// deleted one; an event older than a recorded write does not undo it.
import { WatchedResource, type ChangeType, type WatchClient } from '../../../src/k8s/informer.ts';
import { realClock } from '../../../src/time/clock.ts';
import type { KubeObject } from './api.ts';
import { log } from './log.ts';

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

// etcd resource versions are increasing integers; the API says to treat them as opaque,
// but comparing them is what tells a recorded write from an older event. The lab runs
// only on etcd.
const version = (o: KubeObject): number => Number(o.metadata.resourceVersion ?? 0);

export class Cache<T extends KubeObject> {
  readonly #watched: WatchedResource<T>;
  /** The agent's writes, by key, until the watch has delivered their version. */
  readonly #written = new Map<string, T>();
  /** Objects the agent deleted (key -> uid), hidden until the watch says they are gone. */
  readonly #deleted = new Map<string, string | undefined>();
  /** The highest version the watch has delivered: every write up to it is in the cache. */
  #seen = 0;

  constructor(client: WatchClient, path: string, onChange: (type: ChangeType, o: T) => void) {
    this.#watched = new WatchedResource<T>(client, path, {
      clock: realClock,
      // As the lab's watches always were: 4-minute watches, 5 minutes of silence means a
      // dead stream, a retry every 500 ms while the API server is away.
      watchSeconds: 240,
      quietTimeout: 300_000,
      minBackoff: 500,
      maxBackoff: 500,
      onError: (p, err) => log(`watch ${p}: ${(err as Error).message}`),
    });
    this.#watched.onChange((type, o) => {
      this.#seen = Math.max(this.#seen, version(o));
      if (type === 'delete') {
        this.#written.delete(keyOf(o));
        this.#deleted.delete(keyOf(o));
      }
      onChange(type, o);
    });
  }

  start(): void {
    this.#watched.start();
  }

  stop(): void {
    this.#watched.stop();
  }

  /** Resolves once the first list is in. */
  get synced(): Promise<void> {
    return this.#watched.synced;
  }

  list(): T[] {
    const view = new Map<string, T>();
    for (const o of this.#watched.list()) view.set(keyOf(o), o);
    for (const [k, uid] of this.#deleted) {
      const o = view.get(k);
      if (o && o.metadata.uid === uid) view.delete(k);
      else this.#deleted.delete(k); // gone, or another object by that name
    }
    for (const [k, o] of this.#written) {
      if (version(o) <= this.#seen) this.#written.delete(k);
      else view.set(k, o);
    }
    return [...view.values()];
  }

  /** Records the API server's answer to the agent's own write. */
  upsert(o: T): void {
    // Trimmed as the watched cache trims what it keeps.
    delete (o.metadata as { managedFields?: unknown }).managedFields;
    this.#deleted.delete(keyOf(o));
    const before = this.#written.get(keyOf(o));
    if (!before || version(o) >= version(before)) this.#written.set(keyOf(o), o);
  }

  /** Records that the agent deleted this object. */
  forget(o: KubeObject): void {
    this.#written.delete(keyOf(o));
    this.#deleted.set(keyOf(o), o.metadata.uid);
  }
}
