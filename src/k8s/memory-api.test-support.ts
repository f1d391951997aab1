// An API server in memory, over HTTP on 127.0.0.1, for testing the Controller and the
// Speaker below the lab with the real KubeClient, informers and typed writes. It keeps
// what those rely on of the API's semantics (API concepts, "Resource versions" and
// "Efficient detection of changes"): one increasing resourceVersion for every write,
// list then watch from a version, a status subresource that is the only way to write
// status, create/replace conflicts (409), merge patch (RFC 7386), generateName. What it
// does not do (admission, validation, finalizers, field selectors beyond metadata.name,
// label selectors beyond `k=v,k2=v2`) the tests do not need; the lab runs the real one.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { KubeClient } from './client.ts';
import { applyMergePatch } from './merge-patch.ts';

/** Where an object lives: `/api/v1` or `/apis/group/version`, then the resource. */
interface Address {
  readonly prefix: string;
  readonly resource: string;
  /** Empty for cluster-scoped objects, and for a list across every namespace. */
  readonly namespace: string;
  readonly name?: string;
  readonly subresource?: string;
}

interface Metadata {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  generateName?: string;
  labels?: Record<string, string>;
  [field: string]: unknown;
}

interface Stored {
  metadata: Metadata;
  status?: unknown;
  [field: string]: unknown;
}

interface OpenWatch {
  readonly address: Address;
  readonly query: URLSearchParams;
  readonly res: ServerResponse;
}

export interface Refusal {
  readonly method: string;
  /** Matches the path (without the query). */
  readonly path: RegExp;
  readonly status: number;
  /** How many matching requests are refused; then the rule is gone. */
  times: number;
}

export function parseAddress(path: string): Address | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  let prefixLength: number;
  if (segments[0] === 'api') prefixLength = 2;
  else if (segments[0] === 'apis') prefixLength = 3;
  else return undefined;
  const prefix = `/${segments.slice(0, prefixLength).join('/')}`;
  let rest = segments.slice(prefixLength);
  let namespace = '';
  // `/namespaces/NS/<resource>...` is namespaced; `/namespaces` and `/namespaces/NS` are the Namespace kind.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (resource === undefined || rest.length > 3) return undefined;
  return { prefix, resource, namespace, ...(name !== undefined ? { name: decodeURIComponent(name) } : {}), ...(subresource !== undefined ? { subresource } : {}) };
}

function storeKey(a: Address, namespace: string, name: string): string {
  return `${a.prefix}|${a.resource}|${namespace}|${name}`;
}

function selects(query: URLSearchParams, a: Address, o: Stored): boolean {
  if (a.namespace !== '' && (o.metadata.namespace ?? '') !== a.namespace) return false;
  const field = query.get('fieldSelector');
  if (field) {
    for (const term of field.split(',')) {
      const [k, v] = term.split('=');
      if (k === 'metadata.name' && o.metadata.name !== v) return false;
    }
  }
  const label = query.get('labelSelector');
  if (label) {
    const labels = o.metadata.labels ?? {};
    for (const term of label.split(',')) {
      const [k, v] = term.split('=');
      if (v === undefined ? !(k! in labels) : labels[k!] !== v) return false;
    }
  }
  return true;
}

export class MemoryAPI {
  readonly #objects = new Map<string, Stored>();
  readonly #watches = new Set<OpenWatch>();
  readonly #server: Server;
  #version = 1;
  /** Every request, `METHOD path` (query included), in order. */
  readonly requests: string[] = [];
  /** Requests answered with an error status until each rule's `times` runs out. */
  readonly refusals: Refusal[] = [];
  /** Each request is answered this much later (for tests of requests in flight). */
  delayMs = 0;
  /** The most requests (watches excluded) answered at once while delayMs > 0. */
  maxInFlight = 0;
  #inFlight = 0;

  private constructor() {
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  /** Listens on an ephemeral port of 127.0.0.1; `client` talks to it. */
  static async start(): Promise<{ api: MemoryAPI; client: KubeClient }> {
    const api = new MemoryAPI();
    await new Promise<void>((resolve) => api.#server.listen(0, '127.0.0.1', resolve));
    const { port } = api.#server.address() as AddressInfo;
    const client = new KubeClient({ server: new URL(`http://127.0.0.1:${port}`), insecureSkipTLSVerify: false, source: 'memory-api' });
    return { api, client };
  }

  async stop(): Promise<void> {
    for (const w of this.#watches) w.res.end();
    this.#watches.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The object at an object path, as stored (a copy). */
  get<T = Stored>(path: string): T | undefined {
    const a = parseAddress(path);
    if (!a?.name) throw new Error(`not an object path: ${path}`);
    const o = this.#objects.get(storeKey(a, a.namespace, a.name));
    return o === undefined ? undefined : (structuredClone(o) as T);
  }

  /** The objects of a collection path (one namespace, or every one). */
  list<T = Stored>(path: string): T[] {
    const a = parseAddress(path);
    if (!a || a.name !== undefined) throw new Error(`not a collection path: ${path}`);
    return this.#select(a, new URLSearchParams()).map((o) => structuredClone(o) as T);
  }

  /** Writes an object as a client would create it (status included: a test sets the scene). */
  put(collectionPath: string, object: Record<string, unknown>): Stored {
    const a = parseAddress(collectionPath);
    if (!a || a.name !== undefined) throw new Error(`not a collection path: ${collectionPath}`);
    const o = structuredClone(object) as Stored;
    const namespace = a.namespace || (o.metadata.namespace ?? '');
    const previous = this.#objects.get(storeKey(a, namespace, o.metadata.name));
    return this.#store(a, namespace, o, previous);
  }

  /** Deletes an object by its path, as a client would. */
  remove(path: string): void {
    const a = parseAddress(path);
    if (!a?.name) throw new Error(`not an object path: ${path}`);
    this.#delete(a);
  }

  /** In key order (namespace, then name), as etcd lists them. */
  #select(a: Address, query: URLSearchParams): Stored[] {
    const out: [string, Stored][] = [];
    for (const [key, o] of this.#objects) if (key.startsWith(`${a.prefix}|${a.resource}|`) && selects(query, a, o)) out.push([key, o]);
    return out.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, o]) => o);
  }

  #store(a: Address, namespace: string, o: Stored, previous: Stored | undefined): Stored {
    const meta = o.metadata;
    if (namespace !== '') meta.namespace = namespace;
    else delete meta.namespace;
    meta.uid = previous?.metadata.uid ?? randomUUID();
    meta.creationTimestamp = previous?.metadata.creationTimestamp ?? new Date().toISOString();
    meta.resourceVersion = String(++this.#version);
    this.#objects.set(storeKey(a, namespace, o.metadata.name), o);
    this.#notify(a, previous ? 'MODIFIED' : 'ADDED', o);
    return o;
  }

  #delete(a: Address): Stored | undefined {
    const key = storeKey(a, a.namespace, a.name!);
    const o = this.#objects.get(key);
    if (!o) return undefined;
    this.#objects.delete(key);
    o.metadata.resourceVersion = String(++this.#version);
    this.#notify(a, 'DELETED', o);
    return o;
  }

  #notify(a: Address, type: 'ADDED' | 'MODIFIED' | 'DELETED', o: Stored): void {
    const line = `${JSON.stringify({ type, object: o })}\n`;
    for (const w of this.#watches) {
      if (w.address.prefix === a.prefix && w.address.resource === a.resource && selects(w.query, w.address, o)) w.res.write(line);
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://memory');
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.delayMs > 0 && !url.searchParams.has('watch')) {
      this.maxInFlight = Math.max(this.maxInFlight, ++this.#inFlight);
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      this.#inFlight--;
    }
    const refusal = this.refusals.find((r) => r.times > 0 && r.method === method && r.path.test(url.pathname));
    if (refusal) {
      refusal.times--;
      return fail(res, refusal.status, 'Refused', `refused by the test: ${method} ${url.pathname}`);
    }
    const a = parseAddress(url.pathname);
    if (!a) return fail(res, 404, 'NotFound', `no such path ${url.pathname}`);
    let body: Stored | undefined;
    if (chunks.length > 0) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Stored;
      } catch {
        return fail(res, 400, 'BadRequest', 'the body is not JSON');
      }
    }
    if (a.name === undefined) return this.#collection(a, method, url.searchParams, body, res);
    return this.#object(a, method, body, req.headers['content-type'] ?? '', res);
  }

  #collection(a: Address, method: string, query: URLSearchParams, body: Stored | undefined, res: ServerResponse): void {
    if (method === 'GET' && (query.get('watch') === 'true' || query.get('watch') === '1')) return this.#watch(a, query, res);
    if (method === 'GET') {
      const items = this.#select(a, query);
      return answer(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.#version) }, items });
    }
    if (method !== 'POST' || !body?.metadata) return fail(res, 405, 'MethodNotAllowed', `${method} on a collection`);
    const meta = body.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    if (!meta.name) return fail(res, 422, 'Invalid', 'metadata.name: Required value');
    const namespace = a.namespace;
    if (this.#objects.has(storeKey(a, namespace, meta.name))) return fail(res, 409, 'AlreadyExists', `${a.resource} "${meta.name}" already exists`);
    delete body.status;
    return answer(res, 201, this.#store(a, namespace, body, undefined));
  }

  #object(a: Address, method: string, body: Stored | undefined, contentType: string, res: ServerResponse): void {
    const namespace = a.namespace;
    const key = storeKey(a, namespace, a.name!);
    const current = this.#objects.get(key);
    if (method === 'DELETE') {
      const gone = this.#delete(a);
      return gone ? answer(res, 200, gone) : fail(res, 404, 'NotFound', `${a.resource} "${a.name}" not found`);
    }
    if (!current) return fail(res, 404, 'NotFound', `${a.resource} "${a.name}" not found`);
    if (method === 'GET') return answer(res, 200, current);
    if (!body) return fail(res, 400, 'BadRequest', 'no body');
    let next: Stored;
    if (method === 'PATCH') {
      if (!contentType.includes('merge-patch')) return fail(res, 415, 'UnsupportedMediaType', contentType);
      next = applyMergePatch(structuredClone(current), body) as Stored;
    } else if (method === 'PUT') {
      const expected = body.metadata?.resourceVersion;
      if (expected !== undefined && expected !== current.metadata.resourceVersion) return fail(res, 409, 'Conflict', `the object has been modified`);
      next = body;
    } else return fail(res, 405, 'MethodNotAllowed', method);
    // The status subresource writes only status (and, for a Service, its labels and
    // annotations too: the core strategy resets only spec, while a custom resource's
    // resets metadata as well); the object itself never writes status.
    if (a.subresource === 'status') {
      const kept = structuredClone(current);
      if (a.prefix === '/api/v1' && a.resource === 'services') {
        const { labels, annotations } = next.metadata ?? {};
        kept.metadata = { ...kept.metadata, ...(labels !== undefined ? { labels } : {}), ...(annotations !== undefined ? { annotations } : {}) };
        if (labels === undefined) delete kept.metadata.labels;
        if (annotations === undefined) delete kept.metadata['annotations'];
      }
      next = { ...kept, status: next.status };
    }
    else if (a.subresource === undefined) {
      const { status: _ignored, ...spec } = next;
      next = current.status === undefined ? spec : { ...spec, status: current.status };
    } else return fail(res, 404, 'NotFound', `no subresource ${a.subresource}`);
    next.metadata = { ...next.metadata, name: current.metadata.name };
    return answer(res, 200, this.#store(a, namespace, next, current));
  }

  #watch(a: Address, query: URLSearchParams, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    // Everything newer than the version the client listed at; this store keeps no
    // history, so a watch from an old version sees the current objects as ADDED
    // only if they changed after it (enough for a client that listed first).
    const from = Number(query.get('resourceVersion') ?? '0');
    for (const o of this.#select(a, query)) {
      if (Number(o.metadata.resourceVersion) > from) res.write(`${JSON.stringify({ type: 'MODIFIED', object: o })}\n`);
    }
    const w: OpenWatch = { address: a, query, res };
    this.#watches.add(w);
    res.on('close', () => this.#watches.delete(w));
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function fail(res: ServerResponse, status: number, reason: string, message: string): void {
  answer(res, status, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code: status });
}

/** Polls until check gives a value (not undefined or false), for at most timeoutMs; the tests' one wait on the API server's side. */
export async function eventually<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
