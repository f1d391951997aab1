// L2 failover with many IPs on the failing node (issue 11 item 1): every IP must move
// within the same bound as one, so the gratuitous burst (src/speaker/l2/gratuitous-queue.ts:
// 10,000 frames/s, burst 2,000) has to carry them all at once.
//
// 2,000 IPv6 LoadBalancer services (the lab's IPv4 LAN is a /24; its IPv6 LAN a /64)
// announced from two of the three nodes (an L2Advertisement selecting node-1 and
// node-2), so the node that fails holds about 1,000. The client captures the unsolicited
// neighbour advertisements on its own interface (tcpdump); for each IP the failing node
// held, the delay is from the link cut to the first advertisement of that IP from
// another MAC. Printed: how many moved, p50, p99 and the last.
//
// --nodes N (default 3) runs N nodes; the advertisement still selects node-1 and node-2
// only, so the failing node holds about 1,000 IPs whatever N, and the others add their
// heartbeats and their plans.
//
// Run as root: npm run bench:l2-burst -- [--services 2000] [--nodes 3]
// It brings the lab up, runs, and brings it down again.
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { applyYaml, freshFerrolbLab, labOk, sleep, stateDir, holdLabForRun } from '../test/helpers/lab.ts';
import { waitFor } from '../lab/src/run.ts';
import { Kube } from '../lab/src/kube.ts';
import { tlsMaterial } from '../lab/src/certs.ts';
import { percentiles } from './outage.ts';
import { inParallel } from './proc.ts';

const { values } = parseArgs({ options: { services: { type: 'string', default: '2000' }, nodes: { type: 'string', default: '3' } } });
const SERVICES = Number(values.services);
const NODE_COUNT = Number(values.nodes);
if (!(Number.isInteger(SERVICES) && SERVICES >= 2 && SERVICES <= 4000)) throw new Error('--services must be 2-4000');
if (!(Number.isInteger(NODE_COUNT) && NODE_COUNT >= 3 && NODE_COUNT <= 10)) throw new Error('--nodes must be 3-10');

function macOf(node: string): string {
  return labOk(['exec', node, 'cat', '/sys/class/net/eth0/address']).trim();
}

// Read through the API client: kubectl's JSON of 2,000 objects overflows a child process's buffer.
let client: Kube | undefined;
const api = (): Kube => (client ??= new Kube(tlsMaterial('admin'))); // once the lab is up

/** ServiceL2Status: service name -> the nodes announcing it. */
async function announcers(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const items = await api().list<{ status?: { node?: string; serviceName?: string } }>('/apis/metallb.io/v1beta1/namespaces/metallb-system/servicel2statuses');
  for (const o of items) out.set(o.status?.serviceName ?? '', [...(out.get(o.status?.serviceName ?? '') ?? []), o.status?.node ?? '']);
  return out;
}

async function ips(): Promise<Map<string, string>> {
  const items = await api().list<{ metadata: { name: string }; status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>('/api/v1/namespaces/default/services');
  return new Map(items.filter((s) => s.status?.loadBalancer?.ingress?.[0]?.ip).map((s) => [s.metadata.name, s.status!.loadBalancer!.ingress![0]!.ip!]));
}

async function createServices(n: number): Promise<void> {
  const kube = new Kube(tlsMaterial('admin'));
  try {
    await inParallel(n, 16, (i) => kube.request('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1', kind: 'Service', metadata: { name: `burst-${i}` },
      spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack', selector: { app: 'web' }, ports: [{ port: 80 }] },
    }, 'application/json', 30_000).then(() => undefined));
  } finally {
    kube.close();
  }
}

const teardown = holdLabForRun(() => {
  if (process.env['BENCH_LOGS']) spawnSync('cp', ['-r', `${stateDir}/logs`, process.env['BENCH_LOGS']]);
});
try {
  freshFerrolbLab(NODE_COUNT);
  applyYaml(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: burst, namespace: metallb-system}
spec: {addresses: ["2001:db8:18::1:0/112"]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: burst, namespace: metallb-system}
spec:
  nodeSelectors:
  - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [node-1, node-2]}]
`);
  labOk(['deploy', 'web', '--replicas', String(NODE_COUNT)]);
  const t0 = Date.now();
  await createServices(SERVICES);
  await waitFor(`${SERVICES} services announced by one node each`, 300_000, async () => {
    const a = await announcers();
    return a.size >= SERVICES && [...a.values()].every((n) => n.length === 1) ? true : undefined;
  }, 2000);
  console.log(`${SERVICES} IPv6 L2 services over node-1 and node-2, announced ${((Date.now() - t0) / 1000).toFixed(0)} s after the first create`);
  await sleep(10_000); // every takeover schedule over
  const byService = await announcers();
  const addresses = await ips();
  const count = (node: string) => [...byService.values()].filter((n) => n[0] === node).length;
  const victim = count('node-1') >= count('node-2') ? 'node-1' : 'node-2';
  const held = new Set([...byService].filter(([, n]) => n[0] === victim).map(([svc]) => addresses.get(svc)!).filter(Boolean));
  const victimMAC = macOf(victim);
  const dump = spawn('ip', ['netns', 'exec', 'flb-client', 'tcpdump', '-i', 'eth0', '-nn', '-l', '-e', '-tt', 'icmp6 and ip6[40] == 136'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const firstNA = new Map<string, number>();
  let frames = 0;
  let rest = '';
  dump.stdout.setEncoding('utf8');
  dump.stdout.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^(\d+\.\d+) ([0-9a-f:]{17}) > .*tgt is ([0-9a-f:]+),/.exec(line);
      if (!m || m[2] === victimMAC) continue;
      frames++;
      if (!firstNA.has(m[3]!)) firstNA.set(m[3]!, Math.round(Number(m[1]) * 1000));
    }
  });
  await sleep(1500);
  const tBreak = Date.now();
  spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', victim, 'down']);
  await sleep(6000);
  dump.kill();
  spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', victim, 'up']);
  const delays = [...held].map((ip) => firstNA.get(ip)).filter((t): t is number => t !== undefined && t >= tBreak).map((t) => t - tBreak);
  console.log(`${victim} held ${held.size} IPs; link cut; within 6 s ${delays.length} of them were announced from another MAC (${frames} advertisements from the others in all)`);
  if (delays.length > 0) console.log(`delay from the cut to each IP's first advertisement: ${percentiles(delays)}`);
} finally {
  client?.close();
  teardown();
}
