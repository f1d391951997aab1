// The lab's network, all in network namespaces so the host's own networking is never
// touched: a bridge `lan` in its own namespace, one veth per host onto it, and behind
// each node a pod bridge `cbr0` with the node's /26 of pod addresses (kubenet's shape).
// Nodes route each other's pod ranges over the LAN, as a flat routed pod network
// (Calico without encapsulation, or static routes on a bare-metal switch) would.
import { readdirSync } from 'node:fs';
import { control, lan, lanNetns, netnsPrefix, podRange, hosts, router, type Host } from './layout.ts';
import { ipBatch, must, run } from './run.ts';

export function netnsExists(name: string): boolean {
  try {
    return readdirSync('/run/netns').includes(name);
  } catch {
    return false;
  }
}

export function labNetns(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(netnsPrefix));
  } catch {
    return [];
  }
}

function sysctl(netns: string, settings: Record<string, string>): void {
  const args = ['netns', 'exec', netns, 'sysctl', '-q', '-w'];
  for (const [k, v] of Object.entries(settings)) args.push(`${k}=${v}`);
  must('ip', args);
}

/** The control host's namespace comes first: etcd and the API server start in it while the rest is built. */
export function createControlNamespace(): void {
  must('ip', ['netns', 'add', control.netns]);
  ipBatch(['link set lo up'], control.netns);
}

export function createNetwork(nodes: number): void {
  const all = hosts(nodes);
  for (const ns of [lanNetns, ...all.map((h) => h.netns)]) if (!netnsExists(ns)) must('ip', ['netns', 'add', ns]);

  // STP off and no forward delay: ports forward at once instead of after 30 s of
  // listening/learning, and a lab has no loops.
  ipBatch([
    'link set lo up',
    `link add ${lan.bridge} type bridge stp_state 0 forward_delay 0 mcast_snooping 0`,
    `link set ${lan.bridge} up`,
  ], lanNetns);

  for (const h of all) {
    // The bridge-side end is named after the host, so `lab link HOST down` and a packet
    // capture on the bridge speak the host's name.
    must('ip', ['-n', lanNetns, 'link', 'add', h.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns]);
    ipBatch([`link set ${h.name} master ${lan.bridge} up`], lanNetns);
    const cmds = [
      'link set lo up',
      'link set eth0 up',
      `addr add ${h.v4}/24 dev eth0`,
      // nodad: DAD would hold the address "tentative" for a second or more, and every
      // LAN address here is assigned by the lab, unique by construction.
      `addr add ${h.v6}/64 dev eth0 nodad`,
    ];
    if (h.role !== 'router') {
      // Hosts reach anything beyond the LAN (BGP-announced pools in 198.18.1.0/24, say)
      // through the router, like hosts behind a real one. Nodes need a route for
      // service cluster IPs too: the kernel looks up a route before kube-proxy's
      // output hook rewrites the destination, as on any real node.
      cmds.push(`route add default via ${router.v4}`, `route add default via ${router.v6}`);
    }
    if (h.role === 'control') {
      // The API server answers pods (the `kubernetes` Service) and calls webhooks at
      // pod addresses: it routes every node's pod range via that node.
      for (const other of all) if (other.role === 'node') cmds.push(`route add ${podRange(other.index).cidr} via ${other.v4}`);
    }
    if (h.role === 'node') {
      const own = podRange(h.index);
      cmds.push(
        'link add cbr0 type bridge stp_state 0 forward_delay 0',
        'link set cbr0 up',
        `addr add ${own.gateway}/26 dev cbr0`,
      );
      for (const other of all) {
        if (other.role !== 'node' || other.index === h.index) continue;
        cmds.push(`route add ${podRange(other.index).cidr} via ${other.v4}`);
      }
    }
    ipBatch(cmds, h.netns);
    const settings: Record<string, string> = {
      'net.ipv4.ip_forward': h.role === 'client' || h.role === 'control' ? '0' : '1',
      'net.ipv6.conf.all.forwarding': h.role === 'client' || h.role === 'control' ? '0' : '1',
      // Masqueraded NodePort traffic comes back asymmetric during failover tests;
      // strict reverse-path filtering would drop it silently.
      'net.ipv4.conf.all.rp_filter': '0',
      'net.ipv4.conf.eth0.rp_filter': '0',
    };
    sysctl(h.netns, settings);
  }
}

// Pod namespaces and veths are named after the pod's address, unique in the lab.
export function podNetnsName(ip: string): string {
  const [, , c, d] = ip.split('.');
  return `${netnsPrefix}pod-${c}-${d}`;
}

export function podVethName(ip: string): string {
  const [, , c, d] = ip.split('.');
  return `pod${c}-${d}`; // at most 10 characters: interface names stop at 15
}

export function createPodNetwork(node: Host, ip: string): string {
  const netns = podNetnsName(ip);
  const veth = podVethName(ip);
  const range = podRange(node.index);
  // A leftover from a pod the agent lost track of would make `add` fail; start clean.
  if (netnsExists(netns)) run('ip', ['netns', 'del', netns]);
  must('ip', ['netns', 'add', netns]);
  must('ip', ['-n', node.netns, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  ipBatch([`link set ${veth} master cbr0 up`], node.netns);
  ipBatch(['link set lo up', 'link set eth0 up', `addr add ${ip}/26 dev eth0`, `route add default via ${range.gateway}`], netns);
  return netns;
}

export function deletePodNetwork(node: Host, ip: string): void {
  const netns = podNetnsName(ip);
  // Deleting the namespace deletes its veth end, and with it the peer on cbr0.
  if (netnsExists(netns)) run('ip', ['netns', 'del', netns]);
  // The node would otherwise keep the gone pod's MAC for this address until the entry
  // ages out, and black-hole the next pod that gets it.
  run('ip', ['-n', node.netns, 'neigh', 'flush', 'to', ip]);
}

export function setLink(host: Host, up: boolean): void {
  must('ip', ['-n', lanNetns, 'link', 'set', host.name, up ? 'up' : 'down']);
}
