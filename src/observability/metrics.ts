// Prometheus metrics. Families mirror MetalLB's (metallb_* → ferrolb_*; docs/METRICS.md
// has the mapping), so dashboards and alerts carry over by renaming the prefix.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly addressesInUse = new Gauge({ name: 'ferrolb_allocator_addresses_in_use_total', help: 'Number of IP addresses in use, per pool', labelNames: ['pool'], registers: [this.registry] });
  readonly addressesTotal = new Gauge({ name: 'ferrolb_allocator_addresses_total', help: 'Number of usable IP addresses, per pool (saturates at 2^53 for huge IPv6 pools)', labelNames: ['pool'], registers: [this.registry] });
  readonly updates = new Counter({ name: 'ferrolb_k8s_client_updates_total', help: 'Number of k8s object updates that have been processed', registers: [this.registry] });
  readonly updateErrors = new Counter({ name: 'ferrolb_k8s_client_update_errors_total', help: 'Number of k8s object updates that failed for some reason', registers: [this.registry] });
  readonly configLoaded = new Gauge({ name: 'ferrolb_k8s_client_config_loaded_bool', help: '1 if the ferrolb configuration was successfully loaded at least once', registers: [this.registry] });
  readonly configStale = new Gauge({ name: 'ferrolb_k8s_client_config_stale_bool', help: '1 if running on a stale configuration, because the latest one is invalid', registers: [this.registry] });
  readonly apiRequests = new Histogram({
    name: 'ferrolb_k8s_client_request_duration_seconds',
    help: 'API server request latency by verb and HTTP status (0 = no answer)',
    labelNames: ['verb', 'code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'ferrolb_controller_reconcile_duration_seconds',
    help: 'Time to reconcile one service, including API writes',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'ferrolb_controller_queue_depth', help: 'Services waiting to be reconciled', registers: [this.registry] });
  readonly isLeader = new Gauge({ name: 'ferrolb_controller_leader_bool', help: '1 while this replica holds the leader Lease', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ferrolb_' });
  }
}

/** Serves /metrics (and /healthz) on HOST:PORT; port 0 picks a free one. */
export async function serveMetrics(registry: Registry, address: string, healthy: () => boolean): Promise<Server> {
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m) throw new Error(`--metrics-addr "${address}" is not HOST:PORT`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err) => res.writeHead(500).end(String(err)),
      );
    } else if (req.url === '/healthz' || req.url === '/readyz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : 'not ready\n');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`--metrics-addr ${address}: ${err.message}`)));
    server.listen(Number(m[2]), host || '0.0.0.0', () => resolve());
  });
  return server;
}
