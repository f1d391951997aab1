// Where the API server is and how to prove who we are: a kubeconfig file's current
// context, or the in-cluster service account. Written here rather than taken from
// @kubernetes/client-node, whose import alone costs ~80 MB of resident memory (it loads
// the whole generated API), more than the controller's whole budget at 10,000 services.
// Supported: server, CA (file or data), client certificate and key (file or data),
// bearer token (inline or file, re-read so rotated service-account tokens work).
// Exec plugins and auth providers are refused with a clear message.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { createRequire } from 'node:module';

export interface Connection {
  readonly server: URL;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly insecureSkipTLSVerify: boolean;
  readonly tlsServerName?: string;
  /** The bearer token to send now (re-read from its file when it has one). */
  readonly token?: () => string;
  /** Where it came from, for messages. */
  readonly source: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The namespace of the pod this process runs in, from its ServiceAccount's mounted files;
 * undefined outside a pod. MetalLB's controller and speaker default to it when neither
 * --namespace nor METALLB_NAMESPACE is given, so its Helm chart runs in any namespace.
 */
export function podNamespace(dir: string = SA_DIR): string | undefined {
  try {
    const ns = readFileSync(join(dir, 'namespace'), 'utf8').trim();
    return ns === '' ? undefined : ns;
  } catch {
    return undefined;
  }
}

export class KubeconfigError extends Error {
  readonly code = 'EKUBECONFIG';
}

type Named<T> = { name?: unknown } & { [k: string]: unknown } & Partial<T>;

function pick(list: unknown, name: unknown, field: string, what: string, file: string): Record<string, unknown> {
  if (!Array.isArray(list)) throw new KubeconfigError(`${file}: no ${what}s`);
  const entry = (list as Named<unknown>[]).find((e) => e && typeof e === 'object' && e.name === name);
  if (!entry) throw new KubeconfigError(`${file}: ${what} "${String(name)}" not found`);
  const body = entry[field];
  if (typeof body !== 'object' || body === null) throw new KubeconfigError(`${file}: ${what} "${String(name)}" has no ${field}`);
  return body as Record<string, unknown>;
}

function str(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * A kubeconfig is YAML, and often JSON (which is YAML too): JSON is parsed as JSON, and
 * the YAML parser is loaded only for the rest. In a cluster the processes use their
 * ServiceAccount token and never load it (docs/BENCHMARKS.md, "Footprint").
 */
function parseKubeconfig(text: string): unknown {
  if (/^\s*\{/.test(text)) return JSON.parse(text);
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}

/** Reads a kubeconfig file's current context. */
export function loadKubeconfig(file: string): Connection {
  let doc: unknown;
  try {
    doc = parseKubeconfig(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new KubeconfigError(`${file}: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null) throw new KubeconfigError(`${file}: not a kubeconfig`);
  const cfg = doc as Record<string, unknown>;
  const contextName = cfg['current-context'];
  if (typeof contextName !== 'string' || contextName === '') throw new KubeconfigError(`${file}: no current-context`);
  const context = pick(cfg.contexts, contextName, 'context', 'context', file);
  const cluster = pick(cfg.clusters, context.cluster, 'cluster', 'cluster', file);
  const user = context.user === undefined ? {} : pick(cfg.users, context.user, 'user', 'user', file);
  const base = dirname(file);
  const readPath = (p: string) => {
    try {
      return readFileSync(isAbsolute(p) ? p : join(base, p));
    } catch (err) {
      throw new KubeconfigError(`${file}: cannot read ${p}: ${(err as Error).message}`);
    }
  };
  const material = (o: Record<string, unknown>, dataKey: string, fileKey: string): Buffer | undefined => {
    const data = str(o, dataKey);
    if (data) return Buffer.from(data, 'base64');
    const path = str(o, fileKey);
    return path ? readPath(path) : undefined;
  };
  if (user.exec || user['auth-provider']) {
    throw new KubeconfigError(`${file}: user "${String(context.user)}" uses an exec plugin or auth provider, which ferrolb does not support; use a client certificate or a token`);
  }
  const server = str(cluster, 'server');
  if (!server) throw new KubeconfigError(`${file}: cluster "${String(context.cluster)}" has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigError(`${file}: server "${server}" is not a URL`);
  }
  const inlineToken = str(user, 'token');
  const tokenFile = str(user, 'tokenFile');
  const ca = material(cluster, 'certificate-authority-data', 'certificate-authority');
  const cert = material(user, 'client-certificate-data', 'client-certificate');
  const key = material(user, 'client-key-data', 'client-key');
  const tlsServerName = str(cluster, 'tls-server-name');
  return {
    server: url,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    ...(inlineToken ? { token: () => inlineToken } : tokenFile ? { token: rereadToken(isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile)) } : {}),
    source: file,
  };
}

/** The pod's service account (https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/). */
export function inClusterConnection(): Connection {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new KubeconfigError('not running in a cluster (KUBERNETES_SERVICE_HOST is unset); give --kubeconfig');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  let ca: Buffer;
  try {
    ca = readFileSync(join(SA_DIR, 'ca.crt'));
  } catch (err) {
    throw new KubeconfigError(`cannot read the service account CA: ${(err as Error).message}`);
  }
  return { server: new URL(`https://${hostPart}:${port}`), ca, insecureSkipTLSVerify: false, token: rereadToken(join(SA_DIR, 'token')), source: 'in-cluster service account' };
}

/** Bound service-account tokens rotate (about hourly): read the file again each minute. */
function rereadToken(path: string): () => string {
  let value = '';
  let readAt = 0;
  return () => {
    const now = Date.now();
    if (value === '' || now - readAt > 60_000) {
      try {
        value = readFileSync(path, 'utf8').trim();
        readAt = now;
      } catch (err) {
        if (value === '') throw new KubeconfigError(`cannot read token ${path}: ${(err as Error).message}`);
      }
    }
    return value;
  };
}

/** --kubeconfig PATH, else $KUBECONFIG (first entry), else in-cluster, else ~/.kube/config. */
export function resolveConnection(kubeconfigPath?: string): Connection {
  if (kubeconfigPath) return loadKubeconfig(kubeconfigPath);
  const env = process.env.KUBECONFIG?.split(':').find((p) => p !== '');
  if (env) return loadKubeconfig(env);
  if (process.env.KUBERNETES_SERVICE_HOST) return inClusterConnection();
  return loadKubeconfig(join(process.env.HOME ?? '/root', '.kube', 'config'));
}
