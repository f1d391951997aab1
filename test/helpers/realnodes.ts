// What a lab with real nodes needs (lab/src/realnode.ts), for describeLab, and the
// helpers the real-node suites share.
import { existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { eventually, kubectl, kubectlJson, labBin, repoDir, stateDir, type LabNeed } from './lab.ts';

/** Real nodes: containerd, runc and the image tools, and the CNI plugins (root is checked first). */
export const needsRealNodes: LabNeed = () => {
  for (const tool of ['containerd', 'runc', 'ctr', 'buildah', 'mmdebstrap']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install containerd runc buildah mmdebstrap)`;
  }
  if (!existsSync('/usr/lib/cni/bridge')) return 'the CNI plugins are not installed (apt-get install containernetworking-plugins)';
  return undefined;
};

/** Builds the kubelet, the controllers, the small images and the ferrolb image, outside `up`'s timeout (minutes on a cold machine). */
export function buildRealNodeInputs(): void {
  for (const script of ['build-node.sh', 'build-image.sh']) {
    const r = spawnSync('bash', [join(repoDir, 'lab', script)], { encoding: 'utf8', timeout: 60 * 60_000 });
    if (r.status !== 0) throw new Error(`lab/${script} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
}

export function kubectlApply(obj: unknown): void {
  const file = join(stateDir, `apply-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(obj));
  kubectl('apply', '-f', file);
}

/** kubectl ARGS -f - with `input` on its standard input; the result, whatever the exit. */
export function kubectlStdin(input: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(labBin, ['kubectl', ...args, '-f', '-'], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** The fields of a Pod the real-node suites look at. */
export interface Pod {
  metadata: { name: string; uid?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: {
    nodeName?: string;
    hostNetwork?: boolean;
    serviceAccountName?: string;
    containers?: { name: string; image: string; args?: string[] }[];
    volumes?: { name: string; projected?: { sources: { serviceAccountToken?: unknown }[] } }[];
  };
  status: { podIP?: string; hostIP?: string; conditions?: { type: string; status: string }[] };
}

export const podReady = (p: Pod): boolean => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** ferrolb's pods of one component (`controller` or `speaker`), by the label deploy/ gives them. */
export function ferrolbPods(component: string, namespace = 'metallb-system'): Pod[] {
  return kubectlJson<{ items: Pod[] }>('get', 'pods', '-n', namespace, '-l', `component=${component}`).items;
}

/**
 * Waits until ferrolb runs: one Ready controller and one Ready speaker on each of
 * `nodes`, none of them terminating (a rollout's old pods do not count).
 */
export async function ferrolbRunning(nodes: number, timeoutMs = 120_000): Promise<{ controller: Pod; speakers: Pod[] }> {
  return eventually(`a Ready controller and ${nodes} Ready speakers`, timeoutMs, () => {
    const live = (pods: Pod[]) => pods.filter((p) => !p.metadata.deletionTimestamp);
    const speakers = live(ferrolbPods('speaker'));
    const controllers = live(ferrolbPods('controller'));
    if (speakers.length !== nodes || !speakers.every(podReady) || controllers.length !== 1 || !podReady(controllers[0]!)) return undefined;
    return { controller: controllers[0]!, speakers };
  }, 1000);
}

/** The IP in a Service's status.loadBalancer.ingress, or undefined while it is <pending>. */
export function ingressIP(name: string, namespace: string): string | undefined {
  const svc = kubectlJson<{ status: { loadBalancer?: { ingress?: { ip: string }[] } } }>('get', 'service', name, '-n', namespace);
  return svc.status.loadBalancer?.ingress?.[0]?.ip;
}

/** One HTTP GET from the lab's client with wget, as the tutorial does; the body, or undefined. */
export function wgetFromClient(url: string): string | undefined {
  const r = spawnSync('ip', ['netns', 'exec', 'flb-client', 'wget', '-q', '-T', '2', '-O', '-', url], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Whether anything on the LAN answers ARP for `ip`, asked from the client. */
export function arpAnswered(ip: string): boolean {
  return spawnSync('ip', ['netns', 'exec', 'flb-client', 'arping', '-c', '1', '-w', '1', '-I', 'eth0', ip], { encoding: 'utf8', timeout: 5000 }).status === 0;
}

/** The helm the project builds (tools/helm/build.sh), or undefined when it is not built. */
export const helmBin = ((): string | undefined => {
  const r = spawnSync('bash', [join(repoDir, 'tools', 'helm', 'build.sh'), '--path'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
})();

/** helm against the lab's API server as admin, with its own state directories. */
export function helm(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  if (helmBin === undefined) throw new Error('helm is not built: run bash tools/helm/build.sh (scripts/setup.sh does)');
  const home = '/tmp/ferrolb-helm-lab';
  const env = { ...process.env, KUBECONFIG: join(stateDir, 'kubeconfig', 'admin.yaml'), HELM_CACHE_HOME: `${home}/cache`, HELM_CONFIG_HOME: `${home}/config`, HELM_DATA_HOME: `${home}/data` };
  const r = spawnSync(helmBin, args, { encoding: 'utf8', timeout: 180_000, env });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * ferrolb's configuration for both modes on the lab: pool `lan` (198.18.0.200-254,
 * L2Advertisement) and pool `bgp` (198.18.1.0/24) announced to the lab's BIRD router
 * (198.18.0.1, AS 64512; the nodes are AS 64513). A Service picks `bgp` with the
 * annotation metallb.io/address-pool; the others get `lan` addresses.
 */
export function configureL2AndBGP(namespace = 'metallb-system'): void {
  const meta = (name: string) => ({ name, namespace });
  kubectlApply({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: meta('lan'), spec: { addresses: ['198.18.0.200-198.18.0.254'] } });
  kubectlApply({ apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: meta('lan'), spec: { ipAddressPools: ['lan'] } });
  kubectlApply({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: meta('bgp'), spec: { addresses: ['198.18.1.0/24'], autoAssign: false } });
  kubectlApply({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: meta('router'), spec: { myASN: 64513, peerASN: 64512, peerAddress: '198.18.0.1' } });
  kubectlApply({ apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: meta('bgp'), spec: { ipAddressPools: ['bgp'] } });
}

/** The lab router's kernel route for `ip` (what BIRD installed from the nodes), or '' when none. */
export function routerRoute(ip: string): string {
  return spawnSync('ip', ['-n', 'flb-router', 'route', 'show', `${ip}/32`], { encoding: 'utf8' }).stdout.trim();
}
