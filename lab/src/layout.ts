// The lab's fixed layout: where its state lives, which ports and addresses it uses, and
// how its hosts are named. Docs and tests name these values, so they are constants, not
// options. Addresses come only from 198.18.0.0/15 (RFC 2544 benchmarking) and
// 2001:db8::/32 (RFC 3849 documentation), never from private or public ranges.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

// One lab per machine: network namespace names are machine-wide, so a second state
// directory could not give a second lab its own hosts anyway.
export const stateDir = process.env['FERROLB_LAB_DIR'] ?? '/run/ferrolb-lab';

export const labDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const repoDir = dirname(labDir);
export const nodeBinary = process.execPath;

// Every namespace the lab creates starts with this, so `down` can find leftovers of a
// crashed run without trusting any state file.
export const netnsPrefix = 'flb-';
export const lanNetns = `${netnsPrefix}lan`;

// Non-default ports so a system etcd or a real cluster on this machine is left alone.
export const ports = {
  etcdClient: 12379,
  etcdPeer: 12380,
  apiserver: 16443,
} as const;

export const apiserverUrl = `https://127.0.0.1:${ports.apiserver}`;

export const lan = {
  v4Prefix: '198.18.0.0/24',
  v6Prefix: '2001:db8:18::/64',
  bridge: 'lan',
} as const;

// Service cluster IPs and pod ranges live in 198.18.0.0/15 but away from the LAN and the
// load-balancer pools (198.18.0.200-254, 198.18.1.0/24) that ferrolb's tests use.
// A /17 (32,768 cluster IPs): the controller benchmark creates 10,000 LoadBalancer services.
export const serviceCidr = '198.18.128.0/17';
// IPv6 cluster IPs, so dual-stack Services (PreferDualStack, RequireDualStack) can be
// created; pods stay IPv4, so such services are for the load balancer's sake only.
export const serviceCidrV6 = '2001:db8:128::/112';
export const clusterCidr = '198.18.64.0/18';
export const maxNodes = 16; // 16 x /26 pod ranges fill 198.18.64.0/22; plenty for 2 cores.

export type HostRole = 'router' | 'client' | 'control' | 'node';

export interface Host {
  readonly name: string; // what `lab exec` and docs call it
  readonly role: HostRole;
  readonly netns: string;
  readonly v4: string; // LAN address
  readonly v6: string;
  readonly index: number; // node index (1-based) for nodes, 0 otherwise
}

function host(name: string, role: HostRole, last: number, index: number): Host {
  return { name, role, netns: netnsPrefix + name, v4: `198.18.0.${last}`, v6: `2001:db8:18::${last}`, index };
}

export const router = host('router', 'router', 1, 0);
export const client = host('client', 'client', 2, 0);
// The control plane's host: etcd and kube-apiserver run in this namespace, on the LAN,
// as on a real cluster's control-plane machine. So the API server reaches what a real
// one reaches: a webhook behind a Service (at its pods' addresses), kubelets on port
// 10250 (`kubectl logs`, `exec`), and pods reach it through the `kubernetes` Service.
export const control = host('control', 'control', 3, 0);

export function nodeHost(i: number): Host {
  return host(`node-${i}`, 'node', 10 + i, i);
}

export function hosts(nodes: number): Host[] {
  const list = [router, client, control];
  for (let i = 1; i <= nodes; i++) list.push(nodeHost(i));
  return list;
}

// Node i owns the i-th /26 of 198.18.64.0/18: .1 is its pod bridge, .2-.62 its pods.
export function podRange(i: number): { cidr: string; gateway: string; base: [number, number] } {
  const offset = (i - 1) * 64;
  const third = 64 + Math.floor(offset / 256);
  const fourth = offset % 256;
  return { cidr: `198.18.${third}.${fourth}/26`, gateway: `198.18.${third}.${fourth + 1}`, base: [third, fourth] };
}

export const paths = {
  state: stateDir,
  lock: join(stateDir, 'lock.json'),
  pki: join(stateDir, 'pki'),
  kubeconfigs: join(stateDir, 'kubeconfig'),
  logs: join(stateDir, 'logs'),
  pids: join(stateDir, 'pids'),
  pods: join(stateDir, 'pods'),
  etcdData: join(stateDir, 'etcd'),
  apiSocket: join(stateDir, 'apiserver.sock'),
  webhookSocket: join(stateDir, 'webhook.sock'),
  agentReady: join(stateDir, 'agent.ready'),
  info: join(stateDir, 'lab.json'),
} as const;

export const identities = ['admin', 'controller', 'speaker'] as const;
export type Identity = (typeof identities)[number] | 'kube-proxy';

export function kubeconfigPath(identity: Identity): string {
  return join(paths.kubeconfigs, `${identity}.yaml`);
}

// What `lab up` records so later commands (kubectl, exec, status) know the lab's shape.
export interface LabInfo {
  nodes: number;
  proxyMode: ProxyMode;
  strictArp: boolean;
  ferrolb: boolean;
  realNodes?: number; // the last this many nodes are real (kubelet + containerd)
  router?: 'bird' | 'frr' | 'gobgp'; // the BGP router running in `router` (router.ts), if any
  binDir: string;
  startedAt: string;
}

export const proxyModes = ['nftables', 'iptables', 'ipvs'] as const;
export type ProxyMode = (typeof proxyModes)[number];
