// The only code that talks to the API server: a small REST client on top of
// @kubernetes/client-node's KubeConfig (which resolves kubeconfig files, in-cluster
// service-account tokens, TLS and auth). Plain REST keeps every verb and content type
// visible: status writes are merge patches on the status subresource, Lease updates carry
// resourceVersion, and every error keeps its HTTP status.
import { request, Agent, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';

export class ApiError extends Error {
  readonly code = 'EAPI';
  readonly status: number;
  /** The Status reason (`Conflict`, `NotFound`, `Expired`, ...), when the server gave one. */
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export function isStatus(err: unknown, status: number): boolean {
  return err instanceof ApiError && err.status === status;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
}

export interface KubeList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

export type RequestObserver = (method: string, path: string, status: number, seconds: number) => void;

export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly server: URL;
  #options: RequestOptions | undefined;
  #agent: Agent | undefined;
  observe: RequestObserver | undefined;

  constructor(kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.kubeConfig = kubeConfig;
    this.server = new URL(cluster.server);
  }

  /** From a kubeconfig file, or the in-cluster service account when no path is given. */
  static load(kubeconfigPath?: string): KubeClient {
    const kc = new KubeConfig();
    if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
    else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
    else kc.loadFromDefault();
    return new KubeClient(kc);
  }

  async #requestOptions(): Promise<RequestOptions> {
    if (!this.#options) {
      const opts: RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(opts);
      this.#agent = new Agent({ ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized ?? true, keepAlive: true, maxSockets: 16 });
      this.#options = opts;
    }
    return this.#options;
  }

  close(): void {
    this.#agent?.destroy();
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 30_000): Promise<T> {
    const opts = await this.#requestOptions();
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const started = performance.now();
    const secure = this.server.protocol === 'https:';
    return new Promise<T>((resolve, reject) => {
      const req = (secure ? request : httpRequest)(
        {
          host: this.server.hostname,
          port: this.server.port || (secure ? 443 : 80),
          method,
          path: this.server.pathname.replace(/\/$/, '') + path,
          ...(secure ? { agent: this.#agent } : {}),
          timeout: timeoutMs,
          headers: {
            ...(opts.headers as Record<string, string> | undefined),
            accept: 'application/json',
            'user-agent': 'ferrolb',
            ...(data ? { 'content-type': contentType, 'content-length': data.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            this.observe?.(method, path, status, (performance.now() - started) / 1000);
            const text = Buffer.concat(chunks).toString('utf8');
            if (status >= 200 && status < 300) {
              try {
                resolve((text ? JSON.parse(text) : {}) as T);
              } catch {
                reject(new ApiError(status, 'BadResponse', `${method} ${path}: answer is not JSON`));
              }
              return;
            }
            let reason = '';
            let message = text.trim().slice(0, 500);
            try {
              const s = JSON.parse(text) as { reason?: string; message?: string };
              reason = s.reason ?? '';
              message = s.message ?? message;
            } catch {
              // not a Status object; keep the text
            }
            reject(new ApiError(status, reason, `${method} ${path}: ${status} ${message}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', (err) => {
        this.observe?.(method, path, 0, (performance.now() - started) / 1000);
        reject(err);
      });
      if (data) req.write(data);
      req.end();
    });
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** Lists every page (limit/continue), so a large list never arrives in one answer. */
  async list<T>(path: string, pageSize = 500): Promise<KubeList<T>> {
    const items: T[] = [];
    let cont = '';
    let resourceVersion: string | undefined;
    for (let page = 0; page < 100_000; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const l = await this.get<KubeList<T>>(`${path}${sep}limit=${pageSize}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      items.push(...(l.items ?? []));
      resourceVersion = l.metadata?.resourceVersion;
      cont = l.metadata?.continue ?? '';
      if (!cont) break;
    }
    return { metadata: resourceVersion !== undefined ? { resourceVersion } : {}, items };
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  /** RFC 7386 JSON merge patch. */
  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body, 'application/merge-patch+json');
  }

  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path);
  }
}
