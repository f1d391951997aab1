// The lab's view of the API server: ferrolb's own REST client (src/k8s/client.ts) with
// the lab's admin certificate, plus the two shapes the agent likes (list → items, a
// watch as a promise that ends with the stream).
import { ApiError, KubeClient, isStatus } from '../../src/k8s/client.ts';
import { ports } from './layout.ts';

export { ApiError, isStatus };

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
  resourceVersion?: string;
  deletionTimestamp?: string;
  creationTimestamp?: string;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

/** Silence beyond this on a watch (the server ends each after timeoutSeconds) is a dead stream. */
const WATCH_SILENCE_MS = 300_000;

export class Kube {
  readonly #client: KubeClient;

  constructor(tls: { ca: Buffer; cert: Buffer; key: Buffer }) {
    this.#client = new KubeClient({
      server: new URL(`https://127.0.0.1:${ports.apiserver}`),
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      insecureSkipTLSVerify: false,
      source: 'lab',
    });
  }

  close(): void {
    this.#client.close();
  }

  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 10_000): Promise<T> {
    return this.#client.request<T>(method, path, body, contentType, timeoutMs);
  }

  /**
   * Streams a watch: one event per line until the server ends it (the caller passes
   * timeoutSeconds, so every watch ends) or the connection fails. Resolves when the
   * stream ends; rejects with an ApiError for an HTTP error or an ERROR event.
   */
  watch(path: string, onEvent: (e: WatchEvent) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let failed: unknown;
      let silence: NodeJS.Timeout | undefined;
      const stream = this.#client.watch(path, (type, object) => {
        armSilence();
        if (type === 'ERROR') {
          const st = object as { code?: number; message?: string };
          failed = new ApiError(st.code ?? 500, '', `watch ${path}: ${st.message ?? 'error event'}`);
          stream.abort();
          return;
        }
        onEvent({ type, object: object as unknown as KubeObject });
      });
      const armSilence = () => {
        clearTimeout(silence);
        silence = setTimeout(() => {
          failed = new Error(`watch ${path}: silent for ${WATCH_SILENCE_MS / 1000} s`);
          stream.abort();
        }, WATCH_SILENCE_MS);
      };
      armSilence();
      void stream.ended.then(({ error }) => {
        clearTimeout(silence);
        if (failed !== undefined) reject(failed);
        else if (error !== undefined) reject(error);
        else resolve();
      });
    });
  }

  get<T>(path: string): Promise<T> {
    return this.#client.get<T>(path);
  }

  async list<T>(path: string): Promise<T[]> {
    return (await this.#client.get<{ items?: T[] }>(path)).items ?? [];
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.#client.create<T>(path, body);
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.#client.replace<T>(path, body);
  }

  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.#client.mergePatch<T>(path, body);
  }

  delete(path: string, body?: unknown): Promise<unknown> {
    return this.#client.delete(path, body);
  }
}
