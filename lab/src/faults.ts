// Faults a lab user injects to see what the speakers do (docs/LAB.md "Faults"):
//
// - partition A B [--one-way] [--all]: A stops receiving B's membership heartbeats (UDP
//   to the memberlist port, from B's LAN addresses), and with two ways B stops receiving
//   A's. The LAN itself stays: ARP, NDP and traffic still flow, which is the case where
//   membership and the LAN disagree (issue 11 item 3). `--all` drops every packet
//   between them instead. Made of nft rules in each host's own namespace, in a table of
//   the lab's (`inet ferrolb_lab_partition`), so `heal` and `lab down` remove them.
// - freeze HOST / thaw HOST: SIGSTOP / SIGCONT every process of a node: those in its
//   network namespace, in its played pods' namespaces, and in its kubelet's cgroups
//   (a real node's containers), as if the machine hung with its NIC still up.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { memberlistPort } from './ferrolb.ts';
import { podRange, type Host } from './layout.ts';
import { LabError, run } from './run.ts';
import { labNetns, podNetnsName } from './network.ts';
import { cgroupRoot } from './realnode.ts';

const TABLE = 'ferrolb_lab_partition';

function nft(host: Host, script: string): void {
  const r = run('ip', ['netns', 'exec', host.netns, 'nft', '-f', '-'], { input: script });
  if (r.status !== 0) throw new LabError('nft', `nft in ${host.name}: ${r.stderr.trim() || r.stdout.trim()}`);
}

/** The nft rules that make `to` deaf to `from`: membership only, or everything. */
export function partitionRules(from: Host, all: boolean): string {
  const what = all ? '' : ` udp dport ${memberlistPort}`;
  return [
    `table inet ${TABLE} {`,
    '  chain input {',
    '    type filter hook input priority -10; policy accept;',
    `    ip saddr ${from.v4}${what} drop comment "from ${from.name}"`,
    `    ip6 saddr ${from.v6}${what} drop comment "from ${from.name}"`,
    '  }',
    '}',
  ].join('\n');
}

/** `to` no longer hears `from` (its membership datagrams, or all its packets). */
export function deafen(to: Host, from: Host, all: boolean): void {
  // The table is created if missing and the rules appended: one host may be deaf to
  // several others.
  nft(to, partitionRules(from, all));
}

/** Removes every partition rule from a host. */
export function heal(host: Host): void {
  run('ip', ['netns', 'exec', host.netns, 'nft', 'delete', 'table', 'inet', TABLE]);
}

/** The partition rules in a host, one line per peer it is deaf to (for `lab status`). */
export function partitions(host: Host): string[] {
  const r = run('ip', ['netns', 'exec', host.netns, 'nft', 'list', 'table', 'inet', TABLE]);
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter((l) => l.includes(' drop ')).map((l) => l.trim());
}

function netnsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Every process of a node: its namespace's, its played pods', its real pods' (cgroups). */
export function nodeProcesses(node: Host): number[] {
  const inodes = new Set<number>();
  const own = netnsInode(`/run/netns/${node.netns}`);
  if (own !== undefined) inodes.add(own);
  // A played node's pods: the namespaces named after its pod range's addresses.
  const [c, d] = podRange(node.index).base;
  const pods = new Set(Array.from({ length: 64 }, (_, k) => podNetnsName(`198.18.${c}.${d + k}`)));
  for (const ns of labNetns()) if (pods.has(ns)) {
    const ino = netnsInode(`/run/netns/${ns}`);
    if (ino !== undefined) inodes.add(ino);
  }
  const cgroup = cgroupRoot(node);
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const ino = netnsInode(`/proc/${pid}/ns/net`);
      // cgroup v1 lines: "ID:controllers:/path".
      const inCgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').some((l) => {
        const path = l.split(':')[2];
        return path === cgroup || path?.startsWith(`${cgroup}/`) === true;
      });
      if ((ino !== undefined && inodes.has(ino)) || inCgroup) pids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** SIGSTOP (freeze) or SIGCONT (thaw) every process of a node; returns how many. */
export function signalNode(node: Host, freeze: boolean): number {
  if (node.role !== 'node') throw new LabError('usage', `${node.name} is not a node; freeze and thaw take node-N`);
  const pids = nodeProcesses(node);
  let n = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, freeze ? 'SIGSTOP' : 'SIGCONT');
      n++;
    } catch {
      // exited meanwhile
    }
  }
  return n;
}

/** The processes of a node that are stopped now (state T), for `lab status`. */
export function frozenCount(node: Host): number {
  let n = 0;
  for (const pid of nodeProcesses(node)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) n++;
    } catch {
      // exited
    }
  }
  return n;
}

