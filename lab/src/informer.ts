// A list-then-watch cache of one kind, as client-go's informers keep: the agent reads
// its state from memory and reacts to changes within milliseconds, instead of listing
// every kind every tick (which, with thousands of Services from a controller benchmark,
// would load the very API server being measured).
import { isStatus, type Kube, type KubeObject } from './kube.ts';
import { sleep } from './run.ts';

function key(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

// etcd resource versions are increasing integers; the API says to treat them as opaque,
// but comparing them is what lets a cache ignore an event older than a write it has
// already recorded. The lab runs only on etcd.
function newer(a: KubeObject, b: KubeObject | undefined): boolean {
  return !b || Number(a.metadata.resourceVersion ?? 0) >= Number(b.metadata.resourceVersion ?? 0);
}

export class Informer<T extends KubeObject> {
  readonly #kube: Kube;
  readonly #path: string;
  readonly #onChange: (o?: KubeObject) => void;
  readonly #log: (msg: string) => void;
  readonly #items = new Map<string, T>();
  #rv = '';
  #synced = false;

  constructor(kube: Kube, path: string, onChange: (o?: KubeObject) => void, log: (msg: string) => void) {
    this.#kube = kube;
    this.#path = path;
    this.#onChange = onChange;
    this.#log = log;
  }

  get synced(): boolean {
    return this.#synced;
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  /** Records the result of the agent's own write at once, so the next tick sees it. */
  upsert(o: T): void {
    if (newer(o, this.#items.get(key(o)))) this.#items.set(key(o), o);
  }

  forget(o: KubeObject): void {
    this.#items.delete(key(o));
  }

  async #relist(): Promise<void> {
    const r = await this.#kube.request<{ metadata: { resourceVersion: string }; items: T[] }>('GET', this.#path);
    this.#items.clear();
    for (const o of r.items ?? []) this.#items.set(key(o), o);
    this.#rv = r.metadata.resourceVersion;
    this.#synced = true;
    this.#onChange();
  }

  /** Lists and watches until `stopped()`; each watch lasts at most 4 minutes. */
  async run(stopped: () => boolean): Promise<void> {
    const sep = this.#path.includes('?') ? '&' : '?';
    while (!stopped()) {
      try {
        if (!this.#rv) await this.#relist();
        await this.#kube.watch(`${this.#path}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=240&resourceVersion=${this.#rv}`, (e) => {
          if (e.object.metadata?.resourceVersion) this.#rv = e.object.metadata.resourceVersion;
          if (e.type === 'BOOKMARK') return;
          const o = e.object as T;
          if (e.type === 'DELETED') this.#items.delete(key(o));
          else if (newer(o, this.#items.get(key(o)))) this.#items.set(key(o), o);
          this.#onChange(o);
        });
      } catch (err) {
        // 410 Gone: the version is too old to resume from; start over with a list.
        if (isStatus(err, 410)) this.#rv = '';
        else if (!stopped()) {
          this.#log(`watch ${this.#path}: ${(err as Error).message}`);
          await sleep(500);
        }
      }
    }
  }
}
