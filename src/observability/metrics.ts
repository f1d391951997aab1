// Prometheus metrics. Families mirror MetalLB's (metallb_* → ferrolb_*; docs/METRICS.md
// has the mapping), so dashboards and alerts carry over by renaming the prefix.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import type { RuntimeErrorCode } from './errors.ts';
import { Counter, Gauge, Histogram, Registry, processMetrics } from './prometheus.ts';

// Not an ESM import: that would load Node's bundled undici (~10 MB; why in src/k8s/client.ts).
const { createServer } = process.getBuiltinModule('node:http');

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly addressesInUse = new Gauge({ name: 'ferrolb_allocator_addresses_in_use_total', help: 'Number of IP addresses in use, per pool', labelNames: ['pool'], registers: [this.registry] });
  readonly addressesTotal = new Gauge({ name: 'ferrolb_allocator_addresses_total', help: 'Number of usable IP addresses, per pool (saturates at 2^53 for huge IPv6 pools)', labelNames: ['pool'], registers: [this.registry] });
  readonly updates: Counter;
  readonly updateErrors: Counter;
  readonly configLoaded: Gauge;
  readonly configStale: Gauge;
  readonly apiRequests: Histogram<'verb' | 'code'>;
  readonly reconcileDuration = new Histogram({
    name: 'ferrolb_controller_reconcile_duration_seconds',
    help: 'Time to reconcile one service, including API writes',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'ferrolb_controller_queue_depth', help: 'Services waiting to be reconciled', registers: [this.registry] });
  readonly isLeader = new Gauge({ name: 'ferrolb_controller_leader_bool', help: '1 while this replica holds the leader Lease', registers: [this.registry] });
  readonly webhookDecisions = new Counter({
    name: 'ferrolb_webhook_decisions_total',
    help: 'Admission decisions on metallb.io configuration changes',
    labelNames: ['kind', 'operation', 'allowed'],
    registers: [this.registry],
  });

  constructor() {
    ({ updates: this.updates, updateErrors: this.updateErrors, configLoaded: this.configLoaded, configStale: this.configStale, apiRequests: this.apiRequests } = clientMetrics(this.registry));
  }
}

/** The families every ferrolb process has: process metrics and its API client's. */
function clientMetrics(registry: Registry) {
  processMetrics(registry, 'ferrolb_');
  return {
    updates: new Counter({ name: 'ferrolb_k8s_client_updates_total', help: 'Number of k8s object updates that have been processed', registers: [registry] }),
    updateErrors: new Counter({ name: 'ferrolb_k8s_client_update_errors_total', help: 'Number of k8s object updates that failed for some reason', registers: [registry] }),
    configLoaded: new Gauge({ name: 'ferrolb_k8s_client_config_loaded_bool', help: '1 if the ferrolb configuration was successfully loaded at least once', registers: [registry] }),
    configStale: new Gauge({ name: 'ferrolb_k8s_client_config_stale_bool', help: '1 if running on a stale configuration, because the latest one is invalid', registers: [registry] }),
    apiRequests: new Histogram<'verb' | 'code'>({
      name: 'ferrolb_k8s_client_request_duration_seconds',
      help: 'API server request latency by verb and HTTP status (0 = no answer)',
      labelNames: ['verb', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

export class SpeakerMetrics {
  readonly registry = new Registry();
  readonly announced = new Gauge({ name: 'ferrolb_speaker_announced', help: 'Services being announced from this node (1 per service and IP)', labelNames: ['ip', 'node', 'protocol', 'service'], registers: [this.registry] });
  readonly requestsReceived = new Counter({ name: 'ferrolb_layer2_requests_received', help: 'Number of layer2 requests (ARP requests, neighbour solicitations) received for owned IPs', labelNames: ['ip'], registers: [this.registry] });
  readonly responsesSent = new Counter({ name: 'ferrolb_layer2_responses_sent', help: 'Number of layer2 responses sent for owned IPs', labelNames: ['ip'], registers: [this.registry] });
  readonly gratuitousSent = new Counter({ name: 'ferrolb_layer2_gratuitous_sent', help: 'Number of gratuitous layer2 packets sent for owned IPs', labelNames: ['ip'], registers: [this.registry] });
  readonly conflicts = new Counter({ name: 'ferrolb_layer2_address_conflicts_total', help: 'Frames from another host claiming an IP this node announces', labelNames: ['ip', 'mac'], registers: [this.registry] });
  readonly yields = new Counter({ name: 'ferrolb_layer2_yields_total', help: 'Times this node stopped announcing an IP because a lower MAC announced it too (two announcers; docs/L2.md)', labelNames: ['ip'], registers: [this.registry] });
  readonly invalidFrames = new Counter({ name: 'ferrolb_layer2_invalid_frames_total', help: 'ARP/NDP frames dropped as malformed', labelNames: ['interface'], registers: [this.registry] });
  readonly liveMembers = new Gauge({ name: 'ferrolb_speaker_members_live', help: 'Speakers this one hears (itself included)', registers: [this.registry] });
  readonly bgpSessionUp = new Gauge({ name: 'ferrolb_bgp_session_up', help: 'BGP session state (1 established, 0 not)', labelNames: ['peer'], registers: [this.registry] });
  readonly bgpSessionFailures = new Counter({ name: 'ferrolb_bgp_session_failures_total', help: 'BGP sessions that went down or did not come up, by runtime error code (EBGPCONNECTION, EBGPRECEIVED, EBGPSENT, EBGPENCODE)', labelNames: ['peer', 'code'], registers: [this.registry] });
  readonly bgpAnnouncedPrefixes = new Gauge({ name: 'ferrolb_bgp_announced_prefixes_total', help: 'Number of prefixes currently being advertised on the BGP session', labelNames: ['peer'], registers: [this.registry] });
  readonly membershipHealth = new Gauge({ name: 'ferrolb_speaker_membership_local_health', help: "This speaker's own lateness (0 on time .. 4): its failure detector waits 150 ms x (1 + this) before declaring a peer dead", registers: [this.registry] });
  readonly heartbeatsRejected = new Counter({ name: 'ferrolb_speaker_heartbeats_rejected_total', help: 'Membership datagrams rejected (forged, foreign, malformed)', registers: [this.registry] });
  readonly updates: Counter;
  readonly updateErrors: Counter;
  readonly configLoaded: Gauge;
  readonly configStale: Gauge;
  readonly apiRequests: Histogram<'verb' | 'code'>;

  constructor() {
    ({ updates: this.updates, updateErrors: this.updateErrors, configLoaded: this.configLoaded, configStale: this.configStale, apiRequests: this.apiRequests } = clientMetrics(this.registry));
  }
}

/** The TLS material of a secure metrics endpoint, PEM. */
export interface MetricsTLS {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/**
 * Who may read /metrics on a secure endpoint, from the request's bearer token (undefined
 * without one). kube-rbac-proxy's and MetalLB's answers: 401 when the token is missing or
 * not valid, 403 when its user may not `get` the /metrics nonResourceURL, 503 when the API
 * server could not say (the scrape is retried; nothing is served unchecked).
 */
export type MetricsAuthorizer = (bearerToken: string | undefined) => Promise<MetricsAccess>;
export type MetricsAccess = { readonly allowed: true } | { readonly allowed: false; readonly status: 401 | 403 | 503; readonly reason: string };

export interface ServeOptions {
  /** HTTPS with this certificate instead of plain HTTP. */
  readonly tls?: MetricsTLS;
  /** Checks every /metrics request; the health paths are never checked (the kubelet's probes carry no token). */
  readonly authorize?: MetricsAuthorizer;
  /** false: /healthz and /readyz only (a plain health port beside a secure metrics one). */
  readonly metrics?: boolean;
}

/** The token of an `Authorization: Bearer TOKEN` header (RFC 6750 2.1), else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * Serves /metrics (and /healthz, /readyz) on HOST:PORT; port 0 picks a free one. One
 * handler for every endpoint, over plain HTTP or, with `tls`, HTTPS.
 */
export async function serveMetrics(registry: Registry, address: string, healthy: () => boolean, opts: ServeOptions = {}): Promise<Server | HttpsServer> {
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m) throw new Error(`--metrics-addr "${address}" is not HOST:PORT`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  const path = (url: string | undefined) => (url ?? '').replace(/\?.*$/, '');
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = path(req.url);
    if (url === '/metrics' && opts.metrics !== false) {
      const serve = () => {
        try {
          res.writeHead(200, { 'content-type': registry.contentType }).end(registry.metrics());
        } catch (err) {
          res.writeHead(500).end(String(err));
        }
      };
      if (opts.authorize === undefined) return serve();
      opts.authorize(bearerToken(req.headers.authorization)).then(
        (access) => (access.allowed ? serve() : res.writeHead(access.status, { 'content-type': 'text/plain', ...(access.status === 401 ? { 'www-authenticate': 'Bearer' } : {}) }).end(`${access.reason}\n`)),
        (err: unknown) => res.writeHead(503, { 'content-type': 'text/plain' }).end(`cannot check the token: ${(err as Error).message}\n`),
      );
    } else if (url === '/healthz' || url === '/readyz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : 'not ready\n');
    } else res.writeHead(404).end();
  };
  const server = opts.tls !== undefined ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, handler) : createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`--metrics-addr ${address}: ${err.message}`)));
    server.listen(Number(m[2]), host || '0.0.0.0', () => resolve());
  });
  return server;
}

export type MetricsTLSError = { readonly code: Extract<RuntimeErrorCode, 'ETLSCERT' | 'ETLSKEY'>; readonly file: string; readonly message: string };

/**
 * Checks a certificate and key (PEM files' contents) before a server is built with them:
 * a certificate that does not parse, a key that does not, or a key that is not the
 * certificate's, each with the file it came from. Pure: contents in, error or undefined out.
 */
export function checkMetricsTLS(certFile: string, cert: Buffer | string, keyFile: string, key: Buffer | string): MetricsTLSError | undefined {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    return { code: 'ETLSCERT', file: certFile, message: `${certFile} is not a PEM certificate (${(err as Error).message})` };
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    return { code: 'ETLSKEY', file: keyFile, message: `${keyFile} is not a PEM private key (${(err as Error).message})` };
  }
  if (!x509.checkPrivateKey(privateKey)) return { code: 'ETLSKEY', file: keyFile, message: `${keyFile} is not the key of the certificate in ${certFile}` };
  return undefined;
}
