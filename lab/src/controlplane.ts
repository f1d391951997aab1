// The control plane and the per-node daemons: etcd and kube-apiserver in the control
// host's namespace (on the LAN, layout.ts `control`), relays that bring the API server to
// the host's loopback and to every node's, and in each node namespace a real kube-proxy.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiserverUrl, clusterCidr, control, kubeconfigPath, paths, ports, serviceCidr, serviceCidrV6, stateDir, type Host, type ProxyMode } from './layout.ts';
import { daemon, run } from './run.ts';
import type { Kube } from './kube.ts';

export function startEtcd(binDir: string): void {
  const local = (p: number) => `http://127.0.0.1:${p}`;
  daemon('etcd', 'ip', ['netns', 'exec', control.netns, join(binDir, 'etcd'),
    '--name=lab',
    `--data-dir=${paths.etcdData}`,
    `--listen-client-urls=${local(ports.etcdClient)}`,
    `--advertise-client-urls=${local(ports.etcdClient)}`,
    `--listen-peer-urls=${local(ports.etcdPeer)}`,
    `--initial-advertise-peer-urls=${local(ports.etcdPeer)}`,
    `--initial-cluster=lab=${local(ports.etcdPeer)}`,
    // The lab's data dies with the lab: durability buys nothing and fsync costs
    // seconds of `up` on a loaded disk.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ]);
}

export function startApiserver(binDir: string, opts: { realNodes?: boolean } = {}): void {
  const pki = (f: string) => join(paths.pki, f);
  daemon('kube-apiserver', 'ip', ['netns', 'exec', control.netns, join(binDir, 'kube-apiserver'),
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    `--secure-port=${ports.apiserver}`,
    // Its namespace's loopback (the relays' side) and its LAN address (pods, through
    // the `kubernetes` Service, whose endpoint is the advertised address).
    '--bind-address=0.0.0.0',
    `--advertise-address=${control.v4}`,
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    `--service-cluster-ip-range=${serviceCidr},${serviceCidrV6}`,
    '--allow-privileged=true',
    // RBAC only, so the controller's and speaker's certificates get exactly what the
    // RBAC objects in deploy/ grant them, as ServiceAccounts would in a cluster.
    // With real nodes (realnode.ts), kubelets authenticate as system:node:NAME and the
    // Node authorizer with NodeRestriction gives each what a kubeadm cluster gives it.
    opts.realNodes ? '--authorization-mode=Node,RBAC' : '--authorization-mode=RBAC',
    ...(opts.realNodes ? ['--enable-admission-plugins=NodeRestriction'] : []),
    `--service-account-issuer=${apiserverUrl}/`,
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    // A webhook behind a Service is called at its endpoints (pod addresses, routed over
    // the LAN from the control host) rather than at the cluster IP: the control host
    // runs no kube-proxy, like many real control planes whose API servers use
    // aggregator routing for the same reason.
    '--enable-aggregator-routing=true',
    // `kubectl logs`, `exec` and `port-forward` on real nodes: the API server calls the
    // kubelet (port 10250 on the node's LAN address) with this lab-CA certificate,
    // which the kubelet's x509 authentication accepts (realnode.ts).
    `--kubelet-client-certificate=${pki('kubelet-client.crt')}`,
    `--kubelet-client-key=${pki('kubelet-client.key')}`,
    '--kubelet-preferred-address-types=InternalIP',
    // Without real nodes no controller creates each namespace's `default`
    // ServiceAccount, and the ServiceAccount admission plugin would reject every pod.
    // With them, kube-controller-manager does, and pods get their projected tokens.
    ...(opts.realNodes ? [] : ['--disable-admission-plugins=ServiceAccount']),
    '--profiling=false',
    '--v=1',
  ]);
}

export async function apiserverReady(kube: Kube): Promise<true | undefined> {
  const health = await kube.request<string>('GET', '/healthz', undefined, 'application/json', 2000);
  if (String(health).trim() !== 'ok') return undefined;
  // The API server answers /healthz before its bootstrap controller has made the
  // default namespace; clients that create objects there would race it.
  await kube.get('/api/v1/namespaces/default');
  return true;
}

/**
 * The API server listens in the control namespace. A Unix socket crosses namespaces (it
 * lives in the file system), so a relay there exposes the API server on one, and a
 * relay on the host and in each node namespace listens on its own 127.0.0.1 at the
 * same port. The result: `https://127.0.0.1:16443` and the serving certificate for
 * 127.0.0.1 are valid on the host and on every node, TLS passes through untouched, and
 * a node whose LAN link is cut still reaches the API server (the lab's failover tests
 * cut the LAN, not the management network).
 */
export function startApiRelays(): void {
  daemon('relay-control', 'ip', ['netns', 'exec', control.netns, 'socat', `UNIX-LISTEN:${paths.apiSocket},fork,unlink-early,mode=600`, `TCP:127.0.0.1:${ports.apiserver}`]);
  daemon('relay-host', 'socat', [`TCP-LISTEN:${ports.apiserver},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${paths.apiSocket}`]);
}

/**
 * The other way: a ferrolb controller run on the host (process mode) serves its
 * webhook on the host's 127.0.0.1:PORT, and the lab's webhook configuration names that
 * URL; inside the control namespace the same address leads there.
 */
export function startWebhookRelays(port: number): void {
  daemon('relay-webhook-host', 'socat', [`UNIX-LISTEN:${paths.webhookSocket},fork,unlink-early,mode=600`, `TCP:127.0.0.1:${port}`]);
  daemon('relay-webhook-control', 'ip', ['netns', 'exec', control.netns, 'socat', `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${paths.webhookSocket}`]);
}

export function startNodeRelay(node: Host): void {
  daemon(`relay-${node.name}`, 'ip', [
    'netns', 'exec', node.netns,
    'socat', `TCP-LISTEN:${ports.apiserver},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${paths.apiSocket}`,
  ]);
}

/**
 * kubeadm publishes kube-proxy's configuration as ConfigMap kube-system/kube-proxy
 * (key config.conf); the tutorial's step #4 edits strictARP there, and `ferrolb doctor`
 * reads it. The lab's kube-proxies read per-node files, so this copy is informational,
 * as it is in a kubeadm cluster after kube-proxy has started.
 */
export function kubeProxyConfigMap(mode: ProxyMode, strictArp: boolean): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: { app: 'kube-proxy' } },
    data: {
      'config.conf': `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ${mode}
clusterCIDR: ${clusterCidr}
ipvs:
  strictARP: ${strictArp}
`,
    },
  };
}

export function startKubeProxy(binDir: string, node: Host, mode: ProxyMode, strictArp: boolean): void {
  const dir = join(stateDir, 'kube-proxy');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, `${node.name}.yaml`);
  // conntrack limits and timeouts are zero: kube-proxy then leaves the kernel's values
  // alone, since those sysctls are global or read-only outside the initial namespace.
  writeFileSync(config, `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${kubeconfigPath('kube-proxy')}
hostnameOverride: ${node.name}
bindAddress: ${node.v4}
healthzBindAddress: ${node.v4}:10256
metricsBindAddress: 127.0.0.1:10249
mode: ${mode}
clusterCIDR: ${clusterCidr}
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  minSyncPeriod: 100ms
nftables:
  minSyncPeriod: 100ms
oomScoreAdj: 0
ipvs:
  strictARP: ${strictArp}
  minSyncPeriod: 100ms
`);
  daemon(`kube-proxy-${node.name}`, 'ip', ['netns', 'exec', node.netns, join(binDir, 'kube-proxy'), `--config=${config}`, '--v=1']);
}

/** kube-proxy answers 200 on /healthz once it has programmed the data plane. */
export function kubeProxyHealthy(node: Host): boolean {
  const r = run('ip', ['netns', 'exec', node.netns, 'curl', '-s', '-o', '/dev/null', '-m', '1', '-w', '%{http_code}', `http://${node.v4}:10256/healthz`], { timeoutMs: 3000 });
  return r.stdout.trim() === '200';
}

/** The kernel must have IPVS for kube-proxy's ipvs mode; say so before starting. */
export function kernelHasIpvs(): boolean {
  if (existsSync('/proc/net/ip_vs')) return true;
  // Built as a module: loading it is what kube-proxy would ask for anyway.
  try {
    return run('modprobe', ['ip_vs'], { timeoutMs: 5000 }).status === 0 && existsSync('/proc/net/ip_vs');
  } catch {
    return false; // no modprobe: no modules to load either
  }
}
