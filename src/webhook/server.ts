// The webhook's HTTPS endpoint: the API server POSTs an AdmissionReview for each
// metallb.io configuration change; the answer comes from admit() over the controller's
// cached configuration. Served by every controller replica (the cache is everyone's),
// so a leadership change never takes the webhook down.
//
// TLS material comes from a TLSSource: the controller's own certificate in a Secret
// (certificates.ts), or --cert-dir (tls.crt, tls.key) as controller-runtime webhooks read
// it. It is re-read every few seconds and swapped in when it changed, so a rotated
// certificate is served without a restart.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../k8s/client.ts';
import type { Logger } from '../observability/logging.ts';
import { admit, configurationFindings, type AdmissionRequest, type Findings } from './admission.ts';
import { convertObjects, type ConversionRequest } from './conversion.ts';

/** Where the serving certificate comes from; `stamp` changes when the material does. */
export interface TLSSource {
  readonly describe: string;
  read(): { readonly cert: string | Buffer; readonly key: string | Buffer; readonly stamp: string };
}

/** tls.crt and tls.key in a directory (a mounted Secret, cert-manager's layout). */
export function filesTLS(certDir: string): TLSSource {
  const cert = join(certDir, 'tls.crt');
  const key = join(certDir, 'tls.key');
  const read = (path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read the webhook's TLS ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return {
    describe: certDir,
    read() {
      const stamp = [cert, key].map((p) => { try { return String(statSync(p).mtimeMs); } catch { return ''; } }).join('|');
      return { cert: read(cert), key: read(key), stamp };
    },
  };
}

export interface WebhookOptions {
  readonly port: number;
  readonly host?: string;
  readonly tls: TLSSource;
  /** How often the TLS source is checked for a new certificate, ms (default 10 s). */
  readonly reloadEvery?: number;
  readonly namespace: string;
  /** The current configuration objects (the controller's cache); undefined until it is loaded. */
  readonly current: () => readonly KubeObject[] | undefined;
  readonly log: Logger;
  /** Counts decisions, for metrics. */
  readonly onDecision?: (kind: string, operation: string, allowed: boolean) => void;
}

/** The largest AdmissionReview accepted; the API server's objects are far smaller. */
const MAX_BODY = 3 * 1024 * 1024;
const RELOAD_EVERY_MS = 10_000;

export class WebhookServer {
  readonly #opts: WebhookOptions;
  #server: Server | undefined;
  #certStamp = '';
  /** The current configuration's errors and warnings, until an object changes (by uid and resourceVersion). */
  #findingsCache: { key: string; findings: Findings } | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: WebhookOptions) {
    this.#opts = opts;
  }

  /** Rejects with a message naming the file when the certificate cannot be read. */
  async start(): Promise<void> {
    const tls = this.#opts.tls.read();
    this.#certStamp = tls.stamp;
    const server = createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (req, res) => this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`webhook port ${this.#opts.port}: ${err.message}`)));
      server.listen(this.#opts.port, this.#opts.host ?? '0.0.0.0', () => resolve());
    });
    server.on('error', (err) => this.#opts.log.error({ err: String(err) }, 'webhook server'));
    this.#server = server;
    this.#timer = setInterval(() => this.#reloadIfChanged(), this.#opts.reloadEvery ?? RELOAD_EVERY_MS);
    this.#timer.unref();
  }

  get port(): number {
    const a = this.#server?.address();
    return typeof a === 'object' && a ? a.port : this.#opts.port;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#server?.close();
    this.#server?.closeAllConnections();
  }

  #currentFindings(current: readonly KubeObject[]): Findings {
    const key = current.map((o) => `${o.kind}/${o.metadata?.name}/${o.metadata?.uid ?? ''}/${o.metadata?.resourceVersion ?? ''}`).join('|');
    if (this.#findingsCache?.key !== key) this.#findingsCache = { key, findings: configurationFindings(current, this.#opts.namespace) };
    return this.#findingsCache.findings;
  }

  /** A ConversionReview (MetalLB's CRDs convert BGPPeers through /convert). */
  #convert(review: { apiVersion?: unknown; request?: unknown }, res: ServerResponse): void {
    const r = review.request as Partial<ConversionRequest> | undefined;
    if (typeof r !== 'object' || r === null || typeof r.uid !== 'string' || typeof r.desiredAPIVersion !== 'string' || !Array.isArray(r.objects)) {
      res.writeHead(400).end('not a ConversionReview: request.uid, request.desiredAPIVersion and request.objects are required\n');
      return;
    }
    const response = convertObjects(r as ConversionRequest);
    if (response.result.status !== 'Success') this.#opts.log.warn({ why: response.result.message }, 'conversion refused');
    const apiVersion = typeof review.apiVersion === 'string' ? review.apiVersion : 'apiextensions.k8s.io/v1';
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion, kind: 'ConversionReview', response }));
  }

  #reloadIfChanged(): void {
    try {
      const tls = this.#opts.tls.read();
      if (tls.stamp === this.#certStamp) return;
      this.#server?.setSecureContext({ cert: tls.cert, key: tls.key });
      this.#certStamp = tls.stamp;
      this.#opts.log.info({ source: this.#opts.tls.describe }, 'webhook certificate reloaded');
    } catch (err) {
      this.#opts.log.error({ err: String(err) }, 'webhook certificate not reloaded; keeping the old one');
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    // The API server calls webhooks with its deadline in the query (`?timeout=30s`).
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'GET' && (path === '/healthz' || path === '/readyz')) {
      res.writeHead(200).end('ok\n');
      return;
    }
    const converting = path === '/convert';
    if (req.method !== 'POST' || (!path.startsWith('/validate-') && !converting)) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        res.writeHead(413).end('AdmissionReview too large\n');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let review: { apiVersion?: unknown; request?: AdmissionRequest };
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof review;
      } catch (err) {
        res.writeHead(400).end(`not JSON: ${(err as Error).message}\n`);
        return;
      }
      if (converting) {
        this.#convert(review as { apiVersion?: unknown; request?: unknown }, res);
        return;
      }
      const request = review?.request;
      if (typeof request !== 'object' || request === null || typeof request.uid !== 'string' || typeof request.kind !== 'object' || request.kind === null) {
        res.writeHead(400).end('not an AdmissionReview: request.uid and request.kind are required\n');
        return;
      }
      let decision;
      try {
        const current = this.#opts.current();
        // Judging against an empty cache would let an overlapping pool through.
        decision = current ? admit(request, current, this.#opts.namespace, this.#currentFindings(current)) : { allowed: false, message: 'the ferrolb controller has not loaded the configuration yet; retry in a few seconds' };
      } catch (err) {
        // A bug must not block every configuration change forever: refuse this one, say why.
        this.#opts.log.error({ err: String(err), kind: request.kind.kind, name: request.name }, 'webhook decision failed');
        decision = { allowed: false, message: `ferrolb webhook error: ${(err as Error).message}` };
      }
      this.#opts.onDecision?.(request.kind.kind, request.operation, decision.allowed);
      if (!decision.allowed) this.#opts.log.info({ kind: request.kind.kind, namespace: request.namespace, name: request.name, operation: request.operation, why: decision.message }, 'webhook refused a change');
      const response = {
        apiVersion: typeof review.apiVersion === 'string' ? review.apiVersion : 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: {
          uid: request.uid,
          allowed: decision.allowed,
          ...(decision.allowed ? {} : { status: { code: 403, reason: 'Forbidden', message: decision.message } }),
          ...(decision.warnings && decision.warnings.length > 0 ? { warnings: decision.warnings } : {}),
        },
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response));
    });
  }
}
