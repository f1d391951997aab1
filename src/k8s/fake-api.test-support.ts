// An API server of the least kind for the informer and ConfigSource tests: lists per
// path, and watches the test drives by hand (send an event, end the stream, or say
// nothing at all: a half-open connection). No HTTP.
import type { KubeList, KubeObject, WatchEventType, WatchStream } from './client.ts';
import type { WatchClient } from './informer.ts';

export interface FakeWatch {
  readonly path: string;
  /** The query of the watch URL: resourceVersion, timeoutSeconds, ... */
  readonly query: URLSearchParams;
  send(type: WatchEventType, object: Record<string, unknown>): void;
  /** The server ends the stream (its timeout, or an error). */
  end(error?: unknown): void;
  /** We aborted it (the watchdog, or stop). */
  readonly aborted: boolean;
  /** Ended by either side. */
  readonly closed: boolean;
}

export class FakeAPI implements WatchClient {
  readonly objects = new Map<string, KubeObject[]>();
  resourceVersion = '1';
  readonly lists: string[] = [];
  readonly watches: FakeWatch[] = [];
  /** The next list fails with this, once. */
  failNextList: unknown;

  async list<T>(path: string): Promise<KubeList<T>> {
    this.lists.push(path);
    if (this.failNextList !== undefined) {
      const err = this.failNextList;
      this.failNextList = undefined;
      throw err;
    }
    return { items: structuredClone(this.objects.get(path) ?? []) as T[], metadata: { resourceVersion: this.resourceVersion } } as KubeList<T>;
  }

  watch(url: string, onEvent: (type: WatchEventType, object: Record<string, unknown>) => void): WatchStream {
    const [path = '', query = ''] = url.split('?');
    let settle!: (r: { error?: unknown }) => void;
    const ended = new Promise<{ error?: unknown }>((r) => (settle = r));
    let open = true;
    let aborted = false;
    const w: FakeWatch = {
      path,
      query: new URLSearchParams(query),
      send: (type, object) => {
        if (open) onEvent(type, object);
      },
      end: (error) => {
        if (!open) return;
        open = false;
        settle(error === undefined ? {} : { error });
      },
      get aborted() {
        return aborted;
      },
      get closed() {
        return !open;
      },
    };
    this.watches.push(w);
    return {
      ended,
      abort: () => {
        aborted = true;
        w.end(new Error('aborted'));
      },
    };
  }

  /** The watches still open on a path. */
  open(path: string): FakeWatch[] {
    return this.watches.filter((w) => w.path === path && !w.closed);
  }
}

/** Lets the promise chains of list and watch rounds run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}
