// Footprint benchmark in the lab: what ferrolb's processes cost on a node, as users run
// them (bin/ferrolb.js, whose shebang sets the V8 flags). L2 and BGP both configured:
// half the services come from an L2-advertised pool, half from a BGP-advertised one
// (peered with the lab's BIRD router). For each service count it reports, per process:
//   peak RSS (VmHWM) once every service is assigned and announced, and RSS then, split
//   into anonymous memory (V8's heap, malloc) and file pages (the node binary's code);
//   idle CPU in millicores over --idle-seconds with nothing changing (heartbeats on),
//   with the machine's load average over that time (CPU figures on a shared machine are
//   only as good as that);
//   time from process start to /healthz 200, restarting it with all services present.
// The processes run build/js as built when the benchmark starts (FERROLB_COMPILED=1),
// even if someone edits a source meanwhile.
//
// Run as root: npm run bench:footprint -- [--services 200] [--nodes 3] [--idle-seconds 60]
// [--heap-snapshots DIR] [--pods] (--services takes a list, e.g. 100,1000,10000: a fresh
// lab for each count; --heap-snapshots writes a V8 heap snapshot of the controller and of
// node-1's speaker into DIR after the idle period, for Chrome's memory tab; --pods runs
// ferrolb as users install it instead: real nodes (kubelet, containerd), the image built
// from the Dockerfile, `kubectl apply -f deploy/ferrolb-native.yaml`, ServiceAccount
// tokens rather than a kubeconfig file; the restart timing is left out there).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeClient } from '../src/k8s/client.ts';
import { loadKubeconfig } from '../src/k8s/kubeconfig.ts';
import { labOk, stateDir, sleep, repoDir, kubectl, holdLabForRun } from '../test/helpers/lab.ts';
import { buildRealNodeInputs, ferrolbRunning, kubectlStdin } from '../test/helpers/realnodes.ts';
import { waitFor } from '../lab/src/run.ts';
import { nodeHost } from '../lab/src/layout.ts';
import { cpuTicks, threadTicks } from './proc.ts';
import { controllerHealthy, speakerHealthy, startController, startSpeaker } from '../lab/src/ferrolb.ts';

const { values } = parseArgs({ options: { services: { type: 'string', default: '200' }, nodes: { type: 'string', default: '3' }, 'idle-seconds': { type: 'string', default: '60' }, 'heap-snapshots': { type: 'string' }, pods: { type: 'boolean', default: false } } });
const SNAPSHOTS = values['heap-snapshots'];
const PODS = values.pods;
if (PODS && SNAPSHOTS) throw new Error('--heap-snapshots works on the lab\'s processes, not with --pods');
const COUNTS = values.services.split(',').map(Number);
const NODES = Number(values.nodes);
const IDLE_S = Number(values['idle-seconds']);
if (COUNTS.some((n) => !(n >= 2 && n <= 12_000)) || !(NODES >= 1 && NODES <= 16) || !(IDLE_S >= 5 && IDLE_S <= 900)) {
  throw new Error('--services 2-12000 (list), --nodes 1-16, --idle-seconds 5-900');
}
const CONCURRENCY = 16;
const CLK_TCK = 100;

// Each pool holds 8,192 addresses: half of the largest --services (12,000) fits in either
// (198.19.0.0/19 is away from everything the lab itself uses, lab/src/layout.ts).
const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: l2-pool, namespace: metallb-system}
spec: {addresses: ["198.19.0.0/19"]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-pool, namespace: metallb-system}
spec: {addresses: ["198.18.32.0/19"]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [l2-pool]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: {myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp, namespace: metallb-system}
spec: {ipAddressPools: [bgp-pool]}
`;

interface ProcStat {
  readonly cpuTicks: number;
  /** By thread name: where the idle CPU goes (the JavaScript thread, V8's helpers, libuv's pool, the heartbeat thread). */
  readonly threads: ReadonlyMap<string, number>;
  readonly rssMB: number;
  readonly peakMB: number;
  readonly anonMB: number;
  readonly fileMB: number;
}

function stat(pid: number): ProcStat {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { cpuTicks: cpuTicks(pid), threads: threadTicks(pid), rssMB: kb('VmRSS'), peakMB: kb('VmHWM'), anonMB: kb('RssAnon'), fileMB: kb('RssFile') };
}

function pidOf(name: string): number {
  return PODS ? podPid(name) : Number(readFileSync(`${stateDir}/pids/${name}.pid`, 'utf8').trim());
}

/**
 * A pod's ferrolb process, found on the host: the process running bin/ferrolb.js for the
 * component, a speaker by the node namespace it runs in (hostNetwork).
 */
const podPids = new Map<string, number>(); // the pods do not restart while measured
function podPid(name: string): number {
  const known = podPids.get(name);
  if (known !== undefined) return known;
  const speakerOf = /^ferrolb-speaker-(node-\d+)$/.exec(name)?.[1];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (!argv.some((a) => a.endsWith('/ferrolb.js'))) continue;
    const component = argv.includes('speaker') ? 'speaker' : argv.includes('controller') ? 'controller' : undefined;
    if (speakerOf === undefined ? component === 'controller' : component === 'speaker' && netnsOf(Number(entry)) === nodeHost(Number(speakerOf.slice(5))).netns) {
      podPids.set(name, Number(entry));
      return Number(entry);
    }
  }
  throw new Error(`no process of ${name} among the pods`);
}

function netnsOf(pid: number): string {
  return spawnSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' }).stdout.trim();
}

async function createServices(count: number): Promise<void> {
  const admin = client(); // the lab's one admin client (below), closed with the lab
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      await admin.create('/api/v1/namespaces/default/services', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${i}`, namespace: 'default', annotations: { 'metallb.io/address-pool': i % 2 === 0 ? 'l2-pool' : 'bgp-pool' } },
        // The NodePort range (30000-32767) holds 2,768 ports: beyond it, Services as a
        // large MetalLB user creates them, without node ports (ferrolb reads neither).
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80 }], ...(count > 2000 ? { allocateLoadBalancerNodePorts: false } : {}) },
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

// Counted through the API client's paged lists: kubectl's JSON of 1,000 Services is past
// what a child process's output buffer takes. Each `lab up` makes a new CA, so measure()
// drops the client of the lab before.
let reader: KubeClient | undefined;
const client = () => (reader ??= new KubeClient(loadKubeconfig(labOk(['kubeconfig', 'admin']).trim())));

async function assigned(): Promise<number> {
  const list = await client().list<{ status?: { loadBalancer?: { ingress?: unknown[] } } }>('/api/v1/namespaces/default/services');
  return list.items.filter((s) => (s.status?.loadBalancer?.ingress ?? []).length > 0).length;
}

async function statusCount(plural: string): Promise<number> {
  return (await client().list(`/apis/metallb.io/v1beta1/namespaces/metallb-system/${plural}`)).items.length;
}

/** Kills the process, starts it again, and times start -> healthz 200. */
async function timeToReady(name: string, start: () => void, healthy: () => boolean | Promise<boolean | undefined>): Promise<number> {
  const pid = pidOf(name);
  process.kill(pid, 'SIGTERM');
  await waitFor(`${name} stopped`, 10_000, () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  }, 20);
  const t0 = performance.now();
  start();
  await waitFor(`${name} ready`, 60_000, async () => ((await healthy()) ? true : undefined), 20);
  return performance.now() - t0;
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

async function measure(count: number): Promise<string[]> {
  spawnSync('bash', ['scripts/build.sh'], { stdio: 'inherit' }); // what users run: build/js
  process.env['FERROLB_COMPILED'] = '1'; // the lab's processes inherit it
  if (SNAPSHOTS) {
    mkdirSync(SNAPSHOTS, { recursive: true });
    process.env['NODE_OPTIONS'] = `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${SNAPSHOTS}`;
  }
  labOk(['down'], 60_000);
  reader?.close();
  reader = undefined;
  if (PODS) {
    buildRealNodeInputs();
    labOk(['up', '--nodes', String(NODES), '--real-nodes', String(NODES), '--ferrolb-image'], 900_000);
    kubectl('apply', '-f', join(repoDir, 'deploy', 'ferrolb-native.yaml'));
    await ferrolbRunning(NODES, 300_000);
    // The CRDs and the webhook may need a moment after the pods are Ready (docs/WEBHOOK.md).
    await waitFor('the configuration applied', 60_000, () => (kubectlStdin(CONFIG, 'apply').status === 0 ? true : undefined), 1000);
  } else {
    labOk(['up', '--nodes', String(NODES), '--ferrolb', '--real-nodes', '0'], 300_000);
    const applied = spawnSync('lab/lab', ['kubectl', 'apply', '-f', '-'], { input: CONFIG, encoding: 'utf8' });
    if (applied.status !== 0) throw new Error(applied.stderr);
  }
  labOk(['deploy', 'web', '--replicas', String(Math.min(NODES, 3))]);
  const t0 = performance.now();
  await createServices(count);
  // The lab's API server takes 10-80 creates a second on this machine: allow for it.
  const budget = 300_000 + count * 150;
  await waitFor(`${count} services assigned`, budget, async () => ((await assigned()) === count ? true : undefined), 2000);
  const assignedS = (performance.now() - t0) / 1000;
  await waitFor('every L2 service announced', budget, async () => ((await statusCount('servicel2statuses')) >= count / 2 ? true : undefined), 2000);
  await waitFor('BGP services carried', budget, async () => ((await statusCount('servicebgpstatuses')) >= (count / 2) * NODES ? true : undefined), 2000);
  await sleep(10_000);
  const names = ['ferrolb-controller', ...Array.from({ length: NODES }, (_, i) => `ferrolb-speaker-node-${i + 1}`)];
  const loaded = new Map(names.map((n) => [n, stat(pidOf(n))]));
  const loadBefore = loadAverage();
  await sleep(IDLE_S * 1000);
  const idle = new Map(names.map((n) => [n, stat(pidOf(n))]));
  const lines = [`${count} services (${count / 2} L2, ${count / 2} BGP), ${NODES} nodes; all assigned in ${assignedS.toFixed(1)} s; idle ${IDLE_S} s, load average ${loadBefore} before, ${loadAverage()} after`];
  for (const n of names) {
    const a = loaded.get(n)!;
    const b = idle.get(n)!;
    const millicores = (((b.cpuTicks - a.cpuTicks) / CLK_TCK) * 1000) / IDLE_S;
    // bin/ferrolb.js says so when it runs the sources instead of build/js (a source changed after the build).
    const mode = PODS ? 'pod' : readFileSync(`${stateDir}/logs/${n}.log`, 'utf8').includes('running the TypeScript sources') ? 'sources' : 'compiled';
    const byThread = [...b.threads]
      .map(([thread, ticks]): [string, number] => [thread, (((ticks - (a.threads.get(thread) ?? 0)) / CLK_TCK) * 1000) / IDLE_S])
      .filter(([, m]) => m >= 0.5)
      .sort((x, y) => y[1] - x[1])
      .map(([thread, m]) => `${thread} ${m.toFixed(1)}`)
      .join(', ');
    lines.push(`  ${n.padEnd(24)} (${mode}) peak RSS ${b.peakMB.toFixed(1).padStart(6)} MB, RSS ${b.rssMB.toFixed(1).padStart(6)} MB (anon ${b.anonMB.toFixed(1)}, file ${b.fileMB.toFixed(1)}), idle CPU ${millicores.toFixed(1).padStart(5)} millicores (${byThread})`);
  }
  if (SNAPSHOTS) {
    // After the figures above: writing a snapshot grows the process.
    for (const n of ['ferrolb-controller', 'ferrolb-speaker-node-1']) {
      const before = readdirSync(SNAPSHOTS).length;
      process.kill(pidOf(n), 'SIGUSR2');
      await waitFor(`${n}'s heap snapshot`, 120_000, () => (readdirSync(SNAPSHOTS).length > before ? true : undefined), 500);
      // Finished when its size stops changing (the speaker is killed next).
      let size = -1;
      await waitFor(`${n}'s heap snapshot written`, 120_000, () => {
        const now = readdirSync(SNAPSHOTS).reduce((sum, f) => sum + statSync(join(SNAPSHOTS, f)).size, 0);
        const done = now === size;
        size = now;
        return done ? true : undefined;
      }, 2000);
      lines.push(`  ${n}: heap snapshot in ${SNAPSHOTS} (pid ${pidOf(n)})`);
    }
  }
  if (PODS) return lines; // restarts are the kubelet's there (and its probes' periods)
  const speakerReady = await timeToReady('ferrolb-speaker-node-1', () => startSpeaker(nodeHost(1)), () => speakerHealthy(nodeHost(1)));
  const controllerReady = await timeToReady('ferrolb-controller', startController, controllerHealthy);
  lines.push(`  start to /healthz 200: speaker ${speakerReady.toFixed(0)} ms, controller ${controllerReady.toFixed(0)} ms`);
  return lines;
}

const teardown = holdLabForRun(() => {
  // BENCH_LOGS=DIR keeps the lab's logs (they go with `lab down`), e.g. with
  // FERROLB_V8_FLAGS='... --trace-gc' to see when the processes collect.
  if (process.env['BENCH_LOGS']) spawnSync('cp', ['-r', `${stateDir}/logs`, process.env['BENCH_LOGS']]);
});
try {
  for (const count of COUNTS) for (const line of await measure(count)) console.log(line);
} finally {
  reader?.close();
  teardown();
}
