// L2 soak (issue 11 item 2): with both cores saturated and the API server busy, nothing
// may move. A false death (a speaker taken for dead while it runs) shows up as an
// ownership change, a gratuitous announcement, a membership change in a speaker's log,
// or a yield; every one of those should stay at 0 for the whole run.
//
// Load: stress-ng on the host (--cpu 2) and one more worker inside each node's
// namespace (the same two cores, so four times oversubscribed), and a writer creating,
// updating and deleting ConfigMaps through the API server as fast as it answers (the
// speakers' informers watch other kinds, but the API server and etcd share the CPUs).
//
// Run as root: npm run bench:l2-soak -- [--minutes 10] [--services 30] [--nodes 3]
// It brings the lab up, runs, and brings it down again. Bounded: the load stops with the
// run (stress-ng --timeout, the writer's deadline), and `lab down` removes the rest.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { applyYaml, freshFerrolbLab, kubectlJson, lab, labOk, loggedMemberSets, sleep, speakerLog, stateDir, holdLabForRun } from '../test/helpers/lab.ts';
import { waitFor } from '../lab/src/run.ts';
import { Kube } from '../lab/src/kube.ts';
import { tlsMaterial } from '../lab/src/certs.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, services: { type: 'string', default: '30' }, nodes: { type: 'string', default: '3' } } });
const MINUTES = Number(values.minutes);
const SERVICES = Number(values.services);
const NODE_COUNT = Number(values.nodes);
if (!(MINUTES > 0 && MINUTES <= 60)) throw new Error('--minutes must be in (0, 60]');
if (!(Number.isInteger(SERVICES) && SERVICES >= 1 && SERVICES <= 50)) throw new Error('--services must be 1-50 (the pool holds 51 addresses)');
if (!(Number.isInteger(NODE_COUNT) && NODE_COUNT >= 2 && NODE_COUNT <= 10)) throw new Error('--nodes must be 2-10');
const NODES = Array.from({ length: NODE_COUNT }, (_, i) => `node-${i + 1}`);

function owners(): Map<string, string> {
  const items = kubectlJson<{ items: { status?: { node?: string; serviceName?: string } }[] }>('get', 'servicel2statuses', '-n', 'metallb-system').items;
  const out = new Map<string, string>();
  for (const o of items) {
    const svc = o.status?.serviceName ?? '';
    out.set(svc, out.has(svc) ? `${out.get(svc)}+${o.status?.node}` : (o.status?.node ?? ''));
  }
  return out;
}

/** The sum over every label set of a counter, from each speaker's metrics. */
function counter(name: string): number {
  let sum = 0;
  for (const n of NODES) {
    const text = lab(['exec', n, 'curl', '-s', '-m', '3', 'http://127.0.0.1:7472/metrics']).stdout;
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)`, 'gm'))) sum += Number(m[1]);
  }
  return sum;
}

/** Membership losses a speaker logged since `from` (a live set with fewer than all). */
function membershipLosses(node: string, from: number): number {
  return loggedMemberSets(node, from).filter((live) => live.length < NODE_COUNT).length;
}

async function apiWriter(until: number): Promise<number> {
  const kube = new Kube(tlsMaterial('admin'));
  let writes = 0;
  try {
    while (Date.now() < until) {
      const name = `soak-${writes % 20}`;
      const path = '/api/v1/namespaces/default/configmaps';
      await kube.request('DELETE', `${path}/${name}`).catch(() => undefined);
      await kube.request('POST', path, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: String(writes), pad: 'x'.repeat(4096) } }).catch(() => undefined);
      writes++;
    }
  } finally {
    kube.close();
  }
  return writes;
}

const teardown = holdLabForRun(() => {
  if (process.env['BENCH_LOGS']) spawnSync('cp', ['-r', `${stateDir}/logs`, process.env['BENCH_LOGS']]);
});
const load: ChildProcess[] = [];
try {
  freshFerrolbLab(NODE_COUNT);
  applyYaml(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: soak, namespace: metallb-system}
spec: {addresses: ["198.18.0.200-198.18.0.250"]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: soak, namespace: metallb-system}
`);
  labOk(['deploy', 'web', '--replicas', String(NODE_COUNT)]);
  const services = Array.from({ length: SERVICES }, (_, i) => `apiVersion: v1
kind: Service
metadata: {name: soak-${i}, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
`).join('---\n');
  applyYaml(services);
  await waitFor(`one announcer for each of ${SERVICES} services`, 120_000, () => {
    const o = owners();
    return o.size === SERVICES && [...o.values()].every((n) => !n.includes('+') && n !== '') ? true : undefined;
  }, 1000);
  await sleep(10_000); // every takeover schedule over (the last frame goes at 4 s)
  const before = owners();
  const garp0 = counter('ferrolb_layer2_gratuitous_sent');
  const yields0 = counter('ferrolb_layer2_yields_total');
  const logs0 = new Map(NODES.map((n) => [n, speakerLog(n).length]));
  const seconds = Math.round(MINUTES * 60);
  console.log(`${NODE_COUNT} nodes, ${SERVICES} L2 services, settled; ${MINUTES} min of load: stress-ng --cpu 2 on the host and --cpu 1 in each node, and an API writer`);
  load.push(spawn('stress-ng', ['--cpu', '2', '--timeout', `${seconds}s`, '--quiet'], { stdio: 'ignore' }));
  for (const n of NODES) load.push(spawn('ip', ['netns', 'exec', `flb-${n}`, 'stress-ng', '--cpu', '1', '--timeout', `${seconds}s`, '--quiet'], { stdio: 'ignore' }));
  const until = Date.now() + seconds * 1000;
  const writer = apiWriter(until);
  let changes = 0;
  let samples = 0;
  let last = before;
  const loads: number[] = [];
  while (Date.now() < until) {
    await sleep(Math.min(15_000, Math.max(0, until - Date.now())));
    const now = owners();
    for (const [svc, node] of now) if (last.get(svc) !== node) changes++;
    last = now;
    samples++;
    loads.push(loadavg()[0]!);
  }
  const writes = await writer;
  await sleep(5000); // let the last of it settle before counting
  const garp = counter('ferrolb_layer2_gratuitous_sent') - garp0;
  const yields = counter('ferrolb_layer2_yields_total') - yields0;
  const losses = NODES.map((n) => membershipLosses(n, logs0.get(n)!));
  const after = owners();
  const moved = [...after].filter(([svc, node]) => before.get(svc) !== node).length;
  console.log(`load average during the run: ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} (2 cores); API writes: ${writes}`);
  console.log(`ownership changes seen (${samples} samples, every 15 s): ${changes}; services on another node at the end than at the start: ${moved}`);
  console.log(`gratuitous frames sent: ${garp}; yields: ${yields}; membership losses logged per speaker: ${losses.join(', ')}`);
  console.log(`result: ${changes + moved + garp + yields + losses.reduce((a, b) => a + b, 0) === 0 ? 'no false move' : 'FALSE MOVES'}`);
} finally {
  for (const p of load) p.kill('SIGKILL');
  spawnSync('pkill', ['-KILL', '-x', 'stress-ng']);
  teardown();
}
