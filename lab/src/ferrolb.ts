// `lab up --ferrolb`: ferrolb from the working tree, installed as an operator would
// install it (deploy/crds, deploy/rbac) and run with its own identity, so the lab
// proves the RBAC in deploy/ is enough. The controller runs on the host, a speaker in
// every node namespace (as a DaemonSet with hostNetwork would), each with its identity.
import { get } from 'node:http';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { kubeconfigPath, nodeBinary, repoDir, type Host } from './layout.ts';
import { daemon, must, run } from './run.ts';

export const controllerMetricsPort = 7472;
export const webhookPort = 9443;

/**
 * deploy/webhook/webhook.yaml's ValidatingWebhookConfiguration, pointed at the
 * controller on the host (the API server runs there too). Its caBundle is left empty:
 * the controller writes its own CA there, as it does in a cluster.
 * Written to /run/ferrolb-lab/webhook.yaml by `up --ferrolb`, not applied: some tests
 * store invalid configurations on purpose. `lab/lab kubectl apply -f` it to turn it on.
 */
export function labWebhookConfiguration(): string {
  const docs = parseAllDocuments(readFileSync(join(repoDir, 'deploy', 'webhook', 'webhook.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
  const config = docs.find((d) => d['kind'] === 'ValidatingWebhookConfiguration') as { webhooks: { clientConfig: { service?: { path?: string }; url?: string; caBundle?: string } }[] } | undefined;
  if (!config) throw new Error('deploy/webhook/webhook.yaml has no ValidatingWebhookConfiguration');
  for (const w of config.webhooks) {
    w.clientConfig = { url: `https://127.0.0.1:${webhookPort}${w.clientConfig.service?.path ?? ''}` };
  }
  return stringify(config);
}

function kubectl(binDir: string, args: string[]): void {
  must('env', [`KUBECONFIG=${kubeconfigPath('admin')}`, join(binDir, 'kubectl'), ...args], { timeoutMs: 60_000 });
}

export function installFerrolb(binDir: string): void {
  kubectl(binDir, ['apply', '-f', join(repoDir, 'deploy', 'crds')]);
  kubectl(binDir, ['wait', '--for=condition=Established', '--timeout=30s', 'crd', '--all']);
  kubectl(binDir, ['apply', '-f', join(repoDir, 'deploy', 'rbac')]);
}

export const speakerMetricsPort = 7472;
export const memberlistPort = 7946;

/** The npm bin entry (its shebang sets V8 flags) finds Node 24 first on the PATH. */
function ferrolbEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${dirname(nodeBinary)}:${process.env['PATH'] ?? ''}` };
}

/** Runs the controller as users run it. */
export function startController(): void {
  daemon('ferrolb-controller', join(repoDir, 'bin', 'ferrolb.js'), [
    'controller',
    '--kubeconfig', kubeconfigPath('controller'),
    '--metrics-addr', `127.0.0.1:${controllerMetricsPort}`,
    '--webhook-port', String(webhookPort),
    // The controller's own certificate, as in a cluster; the API server calls it by URL.
    '--cert-extra-hosts', '127.0.0.1',
  ], ferrolbEnv());
}

export function speakerName(node: Host): string {
  return `ferrolb-speaker-${node.name}`;
}

/** Runs a speaker inside a node's namespace, with the speaker identity. */
/** `extraArgs`: more `ferrolb speaker` flags (a benchmark's variant, e.g. --bgp-drain-time 0). */
export function startSpeaker(node: Host, extraArgs: readonly string[] = []): void {
  daemon(speakerName(node), 'ip', ['netns', 'exec', node.netns, join(repoDir, 'bin', 'ferrolb.js'),
    'speaker',
    '--node-name', node.name,
    '--kubeconfig', kubeconfigPath('speaker'),
    '--metrics-addr', `0.0.0.0:${speakerMetricsPort}`,
    '--ml-bind-port', String(memberlistPort),
    ...extraArgs,
  ], ferrolbEnv());
}

/** A speaker's /healthz (200 once its caches are synced), from inside its node. */
export function speakerHealthy(node: Host): boolean {
  const r = run('ip', ['netns', 'exec', node.netns, 'curl', '-s', '-o', '/dev/null', '-m', '1', '-w', '%{http_code}', `http://127.0.0.1:${speakerMetricsPort}/healthz`], { timeoutMs: 3000 });
  return r.stdout.trim() === '200';
}

/** The controller's /healthz; true once it answers 200. */
export function controllerHealthy(): Promise<true | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port: controllerMetricsPort, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}
