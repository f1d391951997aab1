// The lab's view of the API server: ferrolb's own REST client (src/k8s/client.ts) with
// the lab's admin certificate, and a list that answers with its items.
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

  /** The client itself, for what takes one (the agent's watched caches). */
  get client(): KubeClient {
    return this.#client;
  }

  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 10_000): Promise<T> {
    return this.#client.request<T>(method, path, body, contentType, timeoutMs);
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
