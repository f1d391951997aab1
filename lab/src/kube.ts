// A minimal Kubernetes API client over node:https with a client certificate. The lab
// needs a handful of verbs on a handful of kinds; a client library would add a
// dependency to the project for that.
import { request, Agent } from 'node:https';
import { ports } from './layout.ts';

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

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
    this.name = 'ApiError';
  }
}

export class Kube {
  readonly #agent: Agent;
  constructor(tls: { ca: Buffer; cert: Buffer; key: Buffer }) {
    // Keep-alive: the agent polls several lists per tick; new TLS handshakes each time
    // would cost more than the lists.
    // No socket limit: each watch holds one connection for minutes.
    this.#agent = new Agent({ ...tls, keepAlive: true });
  }

  close(): void {
    this.#agent.destroy();
  }

  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 10_000): Promise<T> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: ports.apiserver,
          method,
          path,
          agent: this.#agent,
          timeout: timeoutMs,
          headers: {
            accept: 'application/json',
            ...(data ? { 'content-type': contentType, 'content-length': data.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              try {
                resolve((text ? JSON.parse(text) : {}) as T);
              } catch {
                resolve(text as T);
              }
              return;
            }
            let message = text.trim();
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? message;
            } catch {
              // not JSON (e.g. /healthz); keep the text
            }
            reject(new ApiError(status, `${method} ${path}: ${status} ${message}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  /**
   * Streams a watch: one JSON event per line until the server ends it (the caller
   * passes timeoutSeconds, so every watch ends) or the connection fails. Resolves when
   * the stream ends; rejects with an ApiError for an HTTP error or an ERROR event.
   */
  watch(path: string, onEvent: (e: WatchEvent) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: ports.apiserver, method: 'GET', path, agent: this.#agent, headers: { accept: 'application/json' } }, (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          reject(new ApiError(status, `watch ${path}: ${status}`));
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line.trim()) continue;
            const e = JSON.parse(line) as WatchEvent;
            if (e.type === 'ERROR') {
              const st = e.object as unknown as { code?: number; message?: string };
              req.destroy();
              reject(new ApiError(st.code ?? 500, `watch ${path}: ${st.message ?? 'error event'}`));
              return;
            }
            onEvent(e);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      // A watch that stays silent past its own server-side timeout (240 s, and bookmarks
      // about every minute) is a dead connection: drop it so the caller watches anew.
      req.setTimeout(300_000, () => req.destroy(new Error(`watch ${path}: silent for 300 s`)));
      req.on('error', reject);
      req.end();
    });
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async list<T>(path: string): Promise<T[]> {
    return (await this.request<{ items: T[] }>('GET', path)).items ?? [];
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body, 'application/merge-patch+json');
  }

  delete(path: string, body?: unknown): Promise<unknown> {
    return this.request('DELETE', path, body);
  }
}

export function isStatus(err: unknown, status: number): boolean {
  return err instanceof ApiError && err.status === status;
}
