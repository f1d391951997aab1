// Where a speaker's CPU goes when one Service changes among many: the real Speaker
// (informers, config, membership on 127.0.0.1, responder with links and packet sockets
// in memory, status writer) against the in-memory API server of the unit tests, N
// services of one IP each, all announced by this node (the most work a plan can
// leave for one speaker). After the first plan settles, one Service's labels change
// `--changes` times, `--gap-ms` apart, under V8's CPU profiler; prints the time per
// change and the functions that took most of it (self time), and the inclusive time
// of the speaker's plan steps.
//
//   npm run bench:speaker-plan [-- --services 10000 --changes 10 --gap-ms 1500]
//
// (with the daemons' V8 flags, bin/ferrolb.js). The profile counts the in-memory API
// server too (its handlers, structuredClone, the HTTP parser): it runs in the same process.
// Not the lab: no second speaker, so no standby, and the API server answers from
// memory. For the speaker as users run it, bench/footprint.ts.
import { Session } from 'node:inspector/promises';
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { silentLogger } from '../src/observability/logging.ts';
import { eventually, MemoryAPI } from '../src/k8s/memory-api.test-support.ts';
import { realClock } from '../src/time/clock.ts';
import { SpeakerMetrics } from '../src/observability/metrics.ts';
import { COLLECTION, metallbPath } from '../src/k8s/paths.ts';
import type { Link } from '../src/speaker/l2/interfaces.ts';
import { Speaker } from '../src/speaker/speaker.ts';

const { values: args } = parseArgs({
  options: { services: { type: 'string', default: '10000' }, changes: { type: 'string', default: '10' }, 'gap-ms': { type: 'string', default: '1500' } },
});
const SERVICES = Number.parseInt(args.services, 10);
const CHANGES = Number.parseInt(args.changes, 10);
const GAP_MS = Number.parseInt(args['gap-ms'], 10);
const NS = 'metallb-system';
const NODE = 'node-0';
const ETH0: Link = { name: 'eth0', mac: '02:00:00:00:00:01', flags: 0x1003, type: 1 };

const ipOf = (i: number) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function service(i: number, labels: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: 'default', labels, annotations: { 'metallb.io/ip-allocated-from-pool': 'lan' }, creationTimestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString().replace('.000', '') },
    spec: { type: 'LoadBalancer', clusterIP: '198.19.255.1', ports: [{ port: 80, protocol: 'TCP' }] },
    status: { loadBalancer: { ingress: [{ ip: ipOf(i) }] } },
  };
}

async function freeUDPPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const { api, client } = await MemoryAPI.start();
api.put(COLLECTION.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } });
api.put(metallbPath('IPAddressPool', NS), { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lan', namespace: NS }, spec: { addresses: ['198.18.0.0/15'] } });
api.put(metallbPath('L2Advertisement', NS), { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'lan', namespace: NS }, spec: { ipAddressPools: ['lan'] } });
for (let i = 0; i < SERVICES; i++) {
  api.put('/api/v1/namespaces/default/services', service(i));
  api.put('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `svc-${i}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['198.19.0.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: NODE }],
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
  });
}

const metrics = new SpeakerMetrics();
const speaker = new Speaker(client, {
  node: NODE,
  namespace: NS,
  clock: realClock,
  log: silentLogger,
  metrics,
  membership: { port: await freeUDPPort(), bindAddress: '127.0.0.1' },
  responder: { readLinks: () => [ETH0], openSocket: () => ({ send: () => {}, close: () => {} }) },
  bgpDrainMs: 0,
});
const t0 = performance.now();
await speaker.start();
await eventually('the first plan', () => speaker.plan?.announcements.length === SERVICES, 600_000);
console.log(`first plan of ${SERVICES} services after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
await sleep(GAP_MS * 2); // statuses and the rest settle

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 200 });
await session.post('Profiler.start');
const cpu0 = process.cpuUsage();
const w0 = performance.now();
for (let c = 0; c < CHANGES; c++) {
  api.put('/api/v1/namespaces/default/services', service(c % SERVICES, { change: String(c) }));
  await sleep(GAP_MS);
}
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - w0;
const { profile } = await session.post('Profiler.stop');
session.disconnect();

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const nodes = new Map<number, ProfileNode>((profile.nodes as ProfileNode[]).map((n) => [n.id, n]));
const sampleMs = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples?.length ?? 1);
const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const self = new Map<string, number>();
for (const n of nodes.values()) self.set(label(n), (self.get(label(n)) ?? 0) + (n.hitCount ?? 0) * sampleMs);
const inclusive = (n: ProfileNode): number => (n.hitCount ?? 0) * sampleMs + (n.children ?? []).reduce((s, c) => s + inclusive(nodes.get(c)!), 0);
const byName = new Map<string, number>();
const walk = (n: ProfileNode, onStack: Set<string>) => {
  const name = n.callFrame.functionName;
  const counted = !onStack.has(name);
  if (counted) byName.set(name, (byName.get(name) ?? 0) + inclusive(n));
  const next = counted ? new Set([...onStack, name]) : onStack;
  for (const c of n.children ?? []) walk(nodes.get(c)!, next);
};
walk(nodes.get((profile.nodes as ProfileNode[])[0]!.id)!, new Set());

const busy = (cpu.user + cpu.system) / 1000;
console.log(`${CHANGES} changes in ${(wall / 1000).toFixed(1)} s: ${(busy / CHANGES).toFixed(0)} ms of CPU per change (process)`);
console.log('\ninclusive ms per change:');
for (const name of ['#plan', '#planFrom', '#planInput', 'planL2', 'standbySteps', '#planBGP', '#report', 'set', 'setAnnouncements', '(garbage collector)']) {
  console.log(`  ${name.padEnd(22)} ${((byName.get(name) ?? 0) / CHANGES).toFixed(1)}`);
}
console.log('\ntop self time, ms per change:');
for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${(ms / CHANGES).toFixed(1).padStart(7)}  ${name}`);

await speaker.stop();
client.close();
await api.stop();
