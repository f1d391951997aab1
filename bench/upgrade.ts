// Rolling upgrade without an outage (issue 10 item 5), from the client's side. ferrolb is
// installed with its Helm chart on a lab of three real nodes; a client sends 50
// requests/s (each over a new TCP connection, 250 ms timeout: bench/http-probe.ts) to an
// L2 service and, through the lab's BIRD router, to a BGP service; then `helm upgrade
// --set image.tag=TAG` rolls the controller Deployment and the speaker DaemonSet (one
// node at a time). The new tag is the same image under a second name (`lab/lab image
// tag ferrolb:dev ferrolb:next`), so what is measured is the rollout, not a change of
// code. Rounds alternate between the two tags. For each service a round prints the
// failed requests and the longest run of failures (bench/outage.ts) from 3 s before the
// upgrade until 5 s after the last new pod is Ready, and the failures' times relative to
// the upgrade, with which pods changed then.
//
// Run as root: npm run bench:upgrade -- [--rounds 2] [--rate 50]
// (BENCH_LOGS=DIR copies the lab's logs there before the lab goes down.) It brings the
// lab up and down itself and waits for the lab lock.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { kubectl, kubectlJson, labOk, repoDir, stateDir, sleep, eventually, holdLabForRun } from '../test/helpers/lab.ts';
import { buildRealNodeInputs, configureL2AndBGP, helm, ingressIP, podReady, routerRoute, wgetFromClient, type Pod } from '../test/helpers/realnodes.ts';
import { outage, type ProbeResult } from './outage.ts';
import { ipMonitor, probe } from './probe.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' }, rate: { type: 'string', default: '50' } } });
const ROUNDS = Number(values.rounds);
const RATE = Number(values.rate);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1 && ROUNDS <= 20)) throw new Error('--rounds must be 1-20');
if (!(RATE >= 1 && RATE <= 500)) throw new Error('--rate must be 1-500 requests/s');
const chart = join(repoDir, 'charts', 'ferrolb');
const system = 'metallb-system';
const ns = 'upgrade';
const NODES = 3;

interface Change { at: number; what: string }

/** Both components' pods, in one call (each kubectl costs the loaded machine ~0.5 s). */
function ferrolbAll(): Pod[] {
  return kubectlJson<{ items: Pod[] }>('get', 'pods', '-n', system, '-l', 'app=ferrolb').items;
}

/** The ferrolb pods, as "component@node image ready|not-ready|terminating" by name. */
function podStates(pods: readonly Pod[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of pods) {
    const image = (p.spec.containers?.[0]?.image ?? '').split(':').pop();
    const state = p.metadata.deletionTimestamp ? 'terminating' : podReady(p) ? 'ready' : 'not-ready';
    out.set(p.metadata.name, `${p.metadata.labels?.['component']}@${p.spec.nodeName ?? '?'} ${image} ${state}`);
  }
  return out;
}

/** Every ferrolb pod on `tag`, Ready, and no other pod left. */
function rolledTo(tag: string, pods: readonly Pod[] = ferrolbAll()): boolean {
  return pods.length === NODES + 1 && pods.every((p) => !p.metadata.deletionTimestamp && podReady(p) && p.spec.containers?.[0]?.image === `ferrolb:${tag}`);
}

/** Runs of failed requests as "+start ms (length ms, n failed)", relative to t0. */
function failureRuns(results: readonly ProbeResult[], from: number, to: number, t0: number): string[] {
  const window = results.filter((r) => r.start >= from && r.start < to).sort((a, b) => a.start - b.start);
  const runs: string[] = [];
  let first: number | undefined;
  let n = 0;
  for (const r of window) {
    if (!r.ok) {
      first ??= r.start;
      n++;
    } else if (first !== undefined) {
      runs.push(`+${first - t0} ms (${r.start - first} ms, ${n} failed)`);
      first = undefined;
      n = 0;
    }
  }
  if (first !== undefined) runs.push(`+${first - t0} ms (until the end, ${n} failed)`);
  return runs;
}

/**
 * Where the client's traffic to the two IPs goes, as it changes: the MAC the client's
 * ARP entry for the L2 IP names (`ip monitor neigh` in the client), and the next hops of
 * the router's route for the BGP IP (`ip monitor route` in the router). Each change as
 * "+ms what", relative to t0, with MACs named by node.
 */
function watchPaths(l2: string, bgp: string, macs: Map<string, string>): { stop: (t0: number) => string[] } {
  const seen: { at: number; what: string }[] = [];
  const neigh = new RegExp(`^${l2.replaceAll('.', '\\.')} dev eth0 lladdr ([0-9a-f:]{17}) (\\S+)`);
  const monitors = [
    ipMonitor('flb-client', 'neigh', (line, at) => {
      const m = neigh.exec(line);
      if (m) seen.push({ at, what: `l2 ARP ${macs.get(m[1]!) ?? m[1]} ${m[2]}` });
    }),
    ipMonitor('flb-router', 'route', (line, at) => {
      if (line.startsWith(`${bgp} `) || line.startsWith(`Deleted ${bgp} `)) seen.push({ at, what: `bgp route ${line.replace(/ proto .*$/, '').replace(/ dev \S+/, '')}` });
      // A multipath route's next hops follow on lines of their own.
      const hop = /^\s+nexthop via (\S+)/.exec(line);
      const last = seen.at(-1);
      if (hop && last?.what.startsWith('bgp route')) seen[seen.length - 1] = { at: last.at, what: `${last.what} ${hop[1]}` };
    }),
  ];
  return {
    stop: (t0) => {
      for (const stop of monitors) stop();
      return seen.map((c) => `+${c.at - t0} ms ${c.what}`);
    },
  };
}

/** Each node's LAN MAC, to name what the client's ARP entry points at. */
function nodeMacs(): Map<string, string> {
  const out = new Map<string, string>();
  for (let k = 1; k <= NODES; k++) out.set(labOk(['exec', `node-${k}`, 'cat', '/sys/class/net/eth0/address']).trim(), `node-${k}`);
  return out;
}

async function setUp(): Promise<{ l2: string; bgp: string }> {
  buildRealNodeInputs();
  labOk(['down'], 60_000);
  labOk(['up', '--nodes', String(NODES), '--real-nodes', String(NODES), '--ferrolb-image'], 300_000);
  kubectl('create', 'namespace', system);
  kubectl('label', 'namespace', system, 'pod-security.kubernetes.io/enforce=privileged');
  const r = helm('install', 'ferrolb', chart, '-n', system);
  if (r.status !== 0) throw new Error(`helm install: ${r.stderr}`);
  await eventually('ferrolb running', 180_000, () => (rolledTo('dev') ? true : undefined), 1000);
  kubectl('create', 'namespace', ns);
  kubectl('create', 'deployment', 'web', '-n', ns, '--image=lab.ferrolb.io/hostname:1', '--replicas=3', '--port=80');
  kubectl('expose', 'deployment', 'web', '-n', ns, '--name=l2', '--port=80', '--type=LoadBalancer');
  kubectl('expose', 'deployment', 'web', '-n', ns, '--name=bgp', '--port=80', '--type=LoadBalancer');
  kubectl('annotate', 'service', 'bgp', '-n', ns, 'metallb.io/address-pool=bgp');
  configureL2AndBGP(system);
  const l2 = await eventually('the L2 IP', 60_000, () => ingressIP('l2', ns), 500);
  const bgp = await eventually('the BGP IP', 60_000, () => ingressIP('bgp', ns), 500);
  await eventually('answers at both IPs', 120_000, () => (wgetFromClient(`http://${l2}/`) && wgetFromClient(`http://${bgp}/`) ? true : undefined), 500);
  await eventually('the BGP route via all three nodes', 60_000, () => ((routerRoute(bgp).match(/nexthop via/g) ?? []).length === NODES ? true : undefined), 500);
  // The same image under a second tag on every node: an upgrade without a registry.
  console.log(labOk(['image', 'tag', 'ferrolb:dev', 'ferrolb:next']).trim());
  return { l2, bgp };
}

async function round(n: number, tag: string, ips: { l2: string; bgp: string }, macs: Map<string, string>): Promise<void> {
  const paths = watchPaths(ips.l2, ips.bgp, macs);
  const probes = { l2: probe(`http://${ips.l2}/`, 10 * 60_000, RATE), bgp: probe(`http://${ips.bgp}/`, 10 * 60_000, RATE) };
  await Promise.all([probes.l2.ready, probes.bgp.ready]);
  await sleep(3000);
  const t0 = Date.now();
  const r = helm('upgrade', 'ferrolb', chart, '-n', system, '--set', `image.tag=${tag}`);
  if (r.status !== 0) throw new Error(`helm upgrade: ${r.stderr}`);
  const helmMs = Date.now() - t0;
  // Which pods changed when, to place the failures.
  const changes: Change[] = [];
  let last = podStates(ferrolbAll());
  await eventually(`every ferrolb pod on ferrolb:${tag}`, 300_000, () => {
    const pods = ferrolbAll();
    const now = podStates(pods);
    for (const [name, state] of now) if (last.get(name) !== state) changes.push({ at: Date.now() - t0, what: `${state}` });
    for (const [name, state] of last) if (!now.has(name)) changes.push({ at: Date.now() - t0, what: `${state.replace(/ \S+$/, '')} gone` });
    last = now;
    return rolledTo(tag, pods) ? true : undefined;
  }, 100);
  const t1 = Date.now();
  await sleep(5000);
  const results = { l2: await probes.l2.stop(), bgp: await probes.bgp.stop() };
  const from = t0 - 3000;
  const to = t1 + 5000;
  console.log(`round ${n}: helm upgrade to ferrolb:${tag} at ${new Date(t0).toISOString()} (helm returned after ${(helmMs / 1000).toFixed(1)} s), every pod replaced and Ready after ${((t1 - t0) / 1000).toFixed(1)} s`);
  for (const svc of ['l2', 'bgp'] as const) {
    const o = outage(results[svc], from, to);
    const runs = failureRuns(results[svc], from, to, t0);
    console.log(`  ${svc} ${ips[svc]}: ${o.failed} of ${o.total} requests failed, longest gap ${o.longestMs} ms${runs.length ? `; failures at ${runs.join(', ')}` : ''}`);
  }
  console.log(`  pods: ${changes.map((c) => `+${c.at} ms ${c.what}`).join('; ')}`);
  console.log(`  paths: ${paths.stop(t0).join('; ') || 'no change'}`);
}

const teardown = holdLabForRun(() => {
  // The lab's logs and the pods' (the speakers' and the controller's, on the real nodes).
  const keep = process.env['BENCH_LOGS'];
  if (keep) spawnSync('sh', ['-c', `cp -r ${stateDir}/logs "$1" && for d in ${stateDir}/nodes/*/pod-logs; do cp -r "$d" "$1/$(basename "$(dirname "$d")")-pod-logs"; done`, 'sh', keep]);
});
try {
  const ips = await setUp();
  const macs = nodeMacs();
  for (let n = 1; n <= ROUNDS; n++) await round(n, n % 2 === 1 ? 'next' : 'dev', ips, macs);
} finally {
  teardown();
}
