// What the long-running commands (controller, speaker) share: logger, API client and
// a clean shutdown on SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../k8s/client.ts';
import { metricsAuthorizer } from '../k8s/access-review.ts';
import { realClock } from '../time/clock.ts';
import { checkMetricsTLS, serveMetrics, type MetricsTLS, type MetricsTLSError } from '../observability/metrics.ts';
import type { Registry } from '../observability/prometheus.ts';
import { createLogger, type Logger } from '../observability/logging.ts';
import { UsageError, type CommandIO } from './io.ts';

export function daemonLogger(component: string, level: string | undefined): Logger {
  try {
    return createLogger(component, level ?? 'info');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The API client from --kubeconfig, or in-cluster; undefined (reported) if neither works. */
export function daemonClient(command: string, kubeconfig: string | undefined, io: CommandIO): KubeClient | undefined {
  try {
    return KubeClient.load(kubeconfig);
  } catch (err) {
    io.stderr(`ferrolb ${command}: cannot load kubeconfig${kubeconfig ? ` ${kubeconfig}` : ''}: ${(err as Error).message}\n`);
    return undefined;
  }
}

/** Resolves on the first SIGTERM or SIGINT; keeps the process alive until then. */
export function untilSignal(log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const stop = (signal: string) => {
      clearInterval(keepAlive);
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** The options of the metrics and health endpoints, the same on the controller and the speaker. */
export const METRICS_OPTIONS = ['metrics-addr', 'health-addr', 'metrics-cert-dir'] as const;
export const METRICS_FLAGS = ['metrics-secure'] as const;

export interface DaemonEndpoints {
  readonly close: () => void;
  /** For the start-up log line. */
  readonly describe: Record<string, unknown>;
}

/**
 * Starts the metrics endpoint (--metrics-addr) and the health one (--health-addr). With
 * --metrics-secure or --metrics-cert-dir, /metrics is HTTPS and every scrape's bearer
 * token is checked with a TokenReview and a SubjectAccessReview for `get /metrics` (what
 * kube-rbac-proxy did for MetalLB, and MetalLB's binaries do since v0.16); the health
 * port stays plain HTTP with /healthz and /readyz only, for the kubelet's probes. The
 * certificate is tls.crt and tls.key in --metrics-cert-dir (a mounted Secret), or, without
 * it, a self-signed one made at start (as MetalLB's). The files are checked before
 * anything else starts: undefined, with the code and the file on stderr, when one is bad,
 * and the process does not start.
 */
export interface DaemonEndpointsPlan {
  readonly start: (registry: Registry, healthy: () => boolean, client: KubeClient) => Promise<DaemonEndpoints>;
}

export function planDaemonEndpoints(
  command: string,
  single: Readonly<Record<string, string | undefined>>,
  flags: ReadonlySet<string>,
  io: CommandIO,
): DaemonEndpointsPlan | undefined {
  const certDir = single['metrics-cert-dir'];
  const secure = flags.has('metrics-secure') || certDir !== undefined;
  let tls: MetricsTLS | undefined;
  if (secure) {
    if (certDir !== undefined) {
      const loaded = readMetricsTLS(certDir);
      if ('code' in loaded) {
        io.stderr(`ferrolb ${command}: ${loaded.code}: ${loaded.message}\n`);
        return undefined;
      }
      tls = loaded;
    }
  }
  const metricsAddr = single['metrics-addr'] ?? '0.0.0.0:7472';
  const healthAddr = single['health-addr'] ?? 'off';
  return {
    start: async (registry, healthy, client) => {
      if (secure && tls === undefined) tls = await selfSigned(command);
      const server = metricsAddr === 'off' ? undefined : await serveMetrics(registry, metricsAddr, healthy, tls ? { tls, authorize: metricsAuthorizer(client, realClock) } : {});
      const health = healthAddr === 'off' ? undefined : await serveMetrics(registry, healthAddr, healthy, { metrics: !secure });
      return {
        close: () => {
          server?.close();
          health?.close();
        },
        describe: { metrics: metricsAddr, ...(secure ? { metricsTLS: certDir ?? 'self-signed' } : {}), ...(healthAddr !== 'off' ? { health: healthAddr } : {}) },
      };
    },
  };
}

/**
 * A certificate made at start, as MetalLB's self-signed one: a CA of its own signs a
 * serving certificate for the host name and localhost (P-256, a year). The X.509 code is
 * loaded only here, so a speaker without secure metrics never loads it (commands.test.ts).
 */
async function selfSigned(command: string): Promise<MetricsTLS> {
  const { createCA, issueServingCert } = await import('../webhook/x509.ts');
  const now = new Date();
  const commonName = `ferrolb-${command}-metrics-ca`;
  const ca = createCA(commonName, { now, days: 365 });
  const serving = issueServingCert({ ...ca, commonName }, [hostname(), 'localhost'], { now, days: 365 });
  return { cert: serving.certPem, key: serving.keyPem };
}

/** tls.crt and tls.key of a directory, checked: a coded error naming the bad file otherwise. */
export function readMetricsTLS(certDir: string): MetricsTLS | MetricsTLSError {
  const certFile = join(certDir, 'tls.crt');
  const keyFile = join(certDir, 'tls.key');
  const read = (file: string, code: MetricsTLSError['code']): Buffer | MetricsTLSError => {
    try {
      return readFileSync(file);
    } catch (err) {
      return { code, file, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
  };
  const cert = read(certFile, 'ETLSCERT');
  if (!Buffer.isBuffer(cert)) return cert;
  const key = read(keyFile, 'ETLSKEY');
  if (!Buffer.isBuffer(key)) return key;
  return checkMetricsTLS(certFile, cert, keyFile, key) ?? { cert, key };
}
