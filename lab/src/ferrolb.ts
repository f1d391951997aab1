// `lab up --ferrolb`: ferrolb from the working tree, installed as an operator would
// install it (deploy/crds, deploy/rbac) and run with its own identity, so the lab
// proves the RBAC in deploy/ is enough. The controller runs on the host; speakers will
// run one per node namespace once `ferrolb speaker` exists.
import { get } from 'node:http';
import { dirname, join } from 'node:path';
import { kubeconfigPath, nodeBinary, repoDir } from './layout.ts';
import { daemon, must } from './run.ts';

export const controllerMetricsPort = 7472;

function kubectl(binDir: string, args: string[]): void {
  must('env', [`KUBECONFIG=${kubeconfigPath('admin')}`, join(binDir, 'kubectl'), ...args], { timeoutMs: 60_000 });
}

export function installFerrolb(binDir: string): void {
  kubectl(binDir, ['apply', '-f', join(repoDir, 'deploy', 'crds')]);
  kubectl(binDir, ['wait', '--for=condition=Established', '--timeout=30s', 'crd', '--all']);
  kubectl(binDir, ['apply', '-f', join(repoDir, 'deploy', 'rbac')]);
}

/** Runs the controller as users run it: the npm bin entry, whose shebang sets V8 flags. */
export function startController(): void {
  const path = `${dirname(nodeBinary)}:${process.env['PATH'] ?? ''}`;
  daemon('ferrolb-controller', join(repoDir, 'bin', 'ferrolb.js'), [
    'controller',
    '--kubeconfig', kubeconfigPath('controller'),
    '--metrics-addr', `127.0.0.1:${controllerMetricsPort}`,
  ], { ...process.env, PATH: path });
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
