// The only code that talks to the API server: a small REST client over node:https.
// Plain REST keeps every verb and content type visible: status writes are merge patches
// on the status subresource, Lease updates carry resourceVersion, every error keeps its
// HTTP status, and watches are streams of JSON lines read here (see informer.ts).
import { applyMergePatch } from './merge-patch.ts';
import { request, Agent } from 'node:https';
import type { IncomingMessage, ClientRequest } from 'node:http';
import { resolveConnection, type Connection } from './kubeconfig.ts';
import type { ObjectMeta } from '../api/metallb.ts';
import type { RuntimeError } from '../observability/errors.ts';

// node:http taken without an ESM import: importing it as a module reads every export,
// and its lazy `WebSocket` getter then loads Node's bundled undici, ~10 MB of resident
// memory in every process (docs/BENCHMARKS.md, "Footprint"). src/layering.test.ts keeps
// value imports of node:http out of src/.
const { request: httpRequest } = process.getBuiltinModule('node:http');

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

/**
 * A failed API request as a RuntimeError: EAPIREFUSED when the server answered with an
 * error status, EAPIUNREACHABLE when no answer came (a system error such as ECONNREFUSED
 * or ECONNRESET, or our own timeout, ETIMEDOUT); anything else thrown is a bug, EINTERNAL.
 */
export function apiFailure(err: unknown): RuntimeError {
  if (err instanceof ApiError) return { code: 'EAPIREFUSED', message: err.message, status: err.status, reason: err.reason };
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') return { code: 'EAPIUNREACHABLE', message: err.message };
  return { code: 'EINTERNAL', message: err instanceof Error ? err.message : String(err) };
}

export function isStatus(err: unknown, status: number): boolean {
  return err instanceof ApiError && err.status === status;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface KubeList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

function apiError(method: string, path: string, status: number, text: string): ApiError {
  let reason = '';
  let message = text.trim().slice(0, 500);
  try {
    const st = JSON.parse(text) as { reason?: string; message?: string };
    reason = st.reason ?? '';
    message = st.message ?? message;
  } catch {
    // not a Status object; keep the text
  }
  return new ApiError(status, reason, `${method} ${path}: ${status} ${message}`);
}

export type RequestObserver = (method: string, path: string, status: number, seconds: number) => void;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchStream {
  /** Resolves when the stream ends: normally (the server's timeout), or with an error. */
  readonly ended: Promise<{ error?: unknown }>;
  abort(): void;
}

export class KubeClient {
  readonly connection: Connection;
  readonly #agent: Agent | undefined;
  observe: RequestObserver | undefined;

  constructor(connection: Connection) {
    this.connection = connection;
    if (connection.server.protocol === 'https:') {
      this.#agent = new Agent({
        ...(connection.ca ? { ca: connection.ca } : {}),
        ...(connection.cert ? { cert: connection.cert } : {}),
        ...(connection.key ? { key: connection.key } : {}),
        ...(connection.tlsServerName ? { servername: connection.tlsServerName } : {}),
        rejectUnauthorized: !connection.insecureSkipTLSVerify,
        keepAlive: true,
        maxSockets: 64,
      });
    }
  }

  /** From a kubeconfig file, $KUBECONFIG, the in-cluster service account, or ~/.kube/config. */
  static load(kubeconfigPath?: string): KubeClient {
    return new KubeClient(resolveConnection(kubeconfigPath));
  }

  get server(): URL {
    return this.connection.server;
  }

  close(): void {
    this.#agent?.destroy();
  }

  #send(method: string, path: string, headers: Record<string, string | number>, timeoutMs: number, onResponse: (res: IncomingMessage) => void): ClientRequest {
    const server = this.connection.server;
    const secure = server.protocol === 'https:';
    const token = this.connection.token?.();
    return (secure ? request : httpRequest)(
      {
        host: server.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: server.port || (secure ? 443 : 80),
        method,
        path: server.pathname.replace(/\/$/, '') + path,
        ...(secure ? { agent: this.#agent } : {}),
        timeout: timeoutMs,
        headers: { accept: 'application/json', 'user-agent': 'ferrolb', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      },
      onResponse,
    );
  }

  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = 30_000): Promise<T> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const started = performance.now();
    return new Promise<T>((resolve, reject) => {
      let req: ClientRequest;
      try {
        req = this.#send(method, path, data ? { 'content-type': contentType, 'content-length': data.length } : {}, timeoutMs, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            this.observe?.(method, path, status, (performance.now() - started) / 1000);
            const text = Buffer.concat(chunks).toString('utf8');
            if (status >= 200 && status < 300) {
              // Health endpoints (/healthz, /readyz) answer plain text.
              if (!(res.headers['content-type'] ?? 'application/json').includes('json')) return resolve(text as T);
              try {
                resolve((text ? JSON.parse(text) : {}) as T);
              } catch {
                reject(new ApiError(status, 'BadResponse', `${method} ${path}: answer is not JSON`));
              }
              return;
            }
            reject(apiError(method, path, status, text));
          });
        });
      } catch (err) {
        reject(err);
        return;
      }
      req.on('timeout', () => req.destroy(Object.assign(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => {
        this.observe?.(method, path, 0, (performance.now() - started) / 1000);
        reject(err);
      });
      if (data) req.write(data);
      req.end();
    });
  }

  /**
   * Opens a watch and calls onEvent for each JSON line. The stream ends when the server
   * closes it (timeoutSeconds), on an HTTP error (an ApiError, 410 included), or on
   * abort().
   */
  watch(path: string, onEvent: (type: WatchEventType, object: Record<string, unknown>) => void): WatchStream {
    let req: ClientRequest | undefined;
    let finish!: (r: { error?: unknown }) => void;
    const ended = new Promise<{ error?: unknown }>((r) => (finish = r));
    let done = false;
    const end = (r: { error?: unknown }) => {
      if (done) return;
      done = true;
      finish(r);
    };
    try {
      req = this.#send('GET', path, {}, 0, (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => end({ error: apiError('WATCH', path, status, Buffer.concat(chunks).toString('utf8')) }));
          res.on('error', (error) => end({ error }));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line === '') continue;
            let ev: { type?: WatchEventType; object?: Record<string, unknown> };
            try {
              ev = JSON.parse(line) as typeof ev;
            } catch {
              end({ error: new Error(`WATCH ${path}: a line that is not JSON`) });
              req?.destroy();
              return;
            }
            if (ev.type && ev.object) onEvent(ev.type, ev.object);
          }
        });
        res.on('end', () => end({}));
        res.on('error', (error) => end({ error }));
        res.on('close', () => end({}));
      });
    } catch (error) {
      end({ error });
      return { ended, abort: () => {} };
    }
    req.on('error', (error) => end({ error }));
    req.end();
    return {
      ended,
      abort: () => {
        end({ error: Object.assign(new Error('aborted'), { code: 'ECONNABORTED' }) });
        req?.destroy();
      },
    };
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

  /**
   * RFC 7386 JSON merge patch. When RBAC refuses the PATCH (403) the same change is
   * written as GET + PUT (resourceVersion-checked, retried on a conflict): MetalLB's
   * Roles, which ferrolb must run under unchanged, grant `update` but not `patch` on
   * services, services/status and ipaddresspools/status. The object is read from its
   * own path, not from a subresource's: those Roles grant `get` on services and pools
   * but not on their status subresources, and both paths return the whole object.
   */
  async mergePatch<T>(path: string, body: unknown): Promise<T> {
    try {
      return await this.request<T>('PATCH', path, body, 'application/merge-patch+json');
    } catch (err) {
      if (!isStatus(err, 403)) throw err;
      const objectPath = path.replace(/\/status$/, '');
      for (let attempt = 0; ; attempt++) {
        const current = await this.get<unknown>(objectPath);
        try {
          return await this.replace<T>(path, applyMergePatch(current, body));
        } catch (conflict) {
          if (!isStatus(conflict, 409) || attempt >= 4) throw conflict;
        }
      }
    }
  }

  /** DELETE, with DeleteOptions (preconditions, grace period) when given. */
  delete(path: string, options?: unknown): Promise<unknown> {
    return this.request('DELETE', path, options);
  }
}
