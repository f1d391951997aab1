// Planned BGP withdrawals from the client's side (issue 12 item 4): what graceful
// shutdown (RFC 8326, --bgp-drain-time) changes for a client behind the router. Three
// nodes, one pod each, announce a service IP to the lab router, which installs an ECMP
// route over them. The service has externalTrafficPolicy Local, so each node serves what
// it receives from its own pod and a failure is the route's doing: with Cluster, a node
// cut off would also fail the share of every other node's connections that kube-proxy
// sends to its pod, whatever BGP does; a client behind the router sends 100 requests/s,
// each over a new TCP connection with a 250 ms timeout (bench/http-probe.ts). Each
// scenario runs with the speakers started with --bgp-drain-time 0 (withdraw at once, as
// before graceful shutdown) and with the default 5 s:
//   restart   a rolling restart of the speakers: each in turn SIGTERMed, started again,
//             and back in the router's ECMP route before the next (no graceful restart
//             on the BGPPeer, so each stop withdraws)
//   exclude   node-3 labelled node.kubernetes.io/exclude-from-external-load-balancers
//             until its path has left the router's route, then the label removed
//   drain     node-3 cordoned and its speaker SIGTERMed with graceful restart on the
//             BGPPeer, then node-3's LAN link cut for 5 s (the node going down for
//             maintenance), restored, the speaker started and the node uncordoned
//   down      the same without the cordon: the SIGTERM is a graceful restart, so the
//             router keeps node-3's path, stale, while the node is down (what any
//             speaker that cannot tell a drain from a restart does)
// Failed requests are counted from 1 s before the scenario until 2 s after the route has
// all three next hops again.
//
// Only routers that install their routes carry traffic: BIRD and FRR. GoBGP keeps its
// RIB to itself in this lab (lab/src/router.ts), so it is refused here.
//
// Run as root: npm run bench:bgp-drain -- [--routers bird,frr] [--rounds 1] [--scenarios restart,exclude,drain,down]
// It brings the lab up for each router and down at the end, and waits for the lab lock.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { kubectl, kubectlJson, labOk, stateDir, sleep, holdLabForRun } from '../test/helpers/lab.ts';
import { waitFor } from '../lab/src/run.ts';
import { nodeHost } from '../lab/src/layout.ts';
import { startSpeaker } from '../lab/src/ferrolb.ts';
import { routerControl, routerKinds, type RouterKind } from '../lab/src/router.ts';
import { outage } from './outage.ts';
import { probe } from './probe.ts';

const SCENARIOS = ['restart', 'exclude', 'drain', 'down'] as const;
type Scenario = (typeof SCENARIOS)[number];
const { values } = parseArgs({ options: { routers: { type: 'string', default: 'bird,frr' }, rounds: { type: 'string', default: '1' }, scenarios: { type: 'string', default: SCENARIOS.join(',') } } });
const ROUTERS = values.routers.split(',') as RouterKind[];
const ROUNDS = Number(values.rounds);
const scenarios = values.scenarios.split(',') as Scenario[];
for (const r of ROUTERS) {
  if (!routerKinds.includes(r)) throw new Error(`unknown router "${r}" (bird, frr)`);
  if (!routerControl(r).installsRoutes) throw new Error(`${r} installs no routes in the lab (its RIB only), so no traffic crosses it: nothing to measure`);
}
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}" (${SCENARIOS.join(', ')})`);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1 && ROUNDS <= 20)) throw new Error('--rounds must be 1-20');
const VARIANTS = [0, 5] as const; // --bgp-drain-time
const NODE_IPS = ['198.18.0.11', '198.18.0.12', '198.18.0.13'];
const EXCLUDE = 'node.kubernetes.io/exclude-from-external-load-balancers';

function apply(yaml: string): void {
  const r = spawnSync('lab/lab', ['kubectl', 'apply', '-f', '-'], { input: yaml, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

function peer(gracefulRestart: boolean): string {
  return `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: {myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1, holdTime: 9s, keepaliveTime: 3s, enableGracefulRestart: ${gracefulRestart}}
`;
}

/** The router kernel's next hops for the service IP. */
function nextHops(ip: string): string[] {
  const r = spawnSync('ip', ['-4', '-n', 'flb-router', 'route', 'show', `${ip}/32`], { encoding: 'utf8', timeout: 5000 });
  return [...r.stdout.matchAll(/via (198\.18\.0\.\d+)/g)].map((m) => m[1]!).sort();
}

async function allThree(ip: string): Promise<void> {
  await waitFor('the route over the three nodes', 60_000, () => (nextHops(ip).join() === NODE_IPS.join() ? true : undefined), 100);
}

function speakerPid(node: number): number {
  return Number(readFileSync(`${stateDir}/pids/ferrolb-speaker-node-${node}.pid`, 'utf8').trim());
}

async function stopSpeaker(node: number): Promise<void> {
  const pid = speakerPid(node);
  process.kill(pid, 'SIGTERM');
  await waitFor(`node-${node}'s speaker gone`, 30_000, () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  }, 50);
}

async function startAndWait(node: number, drain: number, ip: string): Promise<void> {
  startSpeaker(nodeHost(node), ['--bgp-drain-time', String(drain)]);
  await allThree(ip);
}

async function scenario(s: Scenario, drain: number, ip: string): Promise<{ failed: number; total: number; longestMs: number; tookMs: number }> {
  const run = probe(`http://${ip}/`, 180_000, 100);
  await run.ready;
  await sleep(1000);
  const t0 = Date.now();
  if (s === 'restart') {
    for (const node of [1, 2, 3]) {
      await stopSpeaker(node);
      await startAndWait(node, drain, ip);
      await sleep(1000);
    }
  } else if (s === 'exclude') {
    kubectl('label', 'node', 'node-3', `${EXCLUDE}=true`);
    await waitFor('node-3 out of the route', 30_000, () => (nextHops(ip).includes('198.18.0.13') ? undefined : true), 50);
    await sleep(1000);
    kubectl('label', 'node', 'node-3', `${EXCLUDE}-`);
    await allThree(ip);
  } else {
    if (s === 'drain') kubectl('cordon', 'node-3');
    await sleep(500);
    await stopSpeaker(3);
    spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', 'node-3', 'down'], { timeout: 5000 });
    await sleep(5000);
    spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', 'node-3', 'up'], { timeout: 5000 });
    if (s === 'drain') kubectl('uncordon', 'node-3');
    await startAndWait(3, drain, ip);
  }
  const t1 = Date.now();
  await sleep(2000);
  const results = await run.stop();
  const o = outage(results, t0 - 1000, t1 + 2000);
  return { ...o, tookMs: t1 - t0 };
}

const teardown = holdLabForRun(() => {
  if (process.env['BENCH_LOGS']) spawnSync('cp', ['-r', `${stateDir}/logs`, process.env['BENCH_LOGS']]);
});
const summary: string[] = [];
try {
  for (const kind of ROUTERS) {
    labOk(['down'], 60_000);
    labOk(['up', '--nodes', '3', '--ferrolb', '--router', kind, '--real-nodes', '0'], 180_000);
    apply(`${peer(false)}---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bench, namespace: metallb-system}
spec: {addresses: ["198.18.1.0/24"]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bench, namespace: metallb-system}
spec: {ipAddressPools: [bench]}
`);
    labOk(['deploy', 'web', '--replicas', '3']);
    apply(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {type: LoadBalancer, externalTrafficPolicy: Local, selector: {app: web}, ports: [{port: 80}]}
`);
    const ip = await waitFor('an EXTERNAL-IP', 30_000, () => kubectlJson<{ status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>('get', 'service', 'web').status?.loadBalancer?.ingress?.[0]?.ip, 200);
    await allThree(ip);
    console.log(`${kind}: service web ${ip} over ${NODE_IPS.join(', ')} (ECMP); 100 requests/s over new connections, 250 ms timeout`);
    for (const drain of VARIANTS) {
      // Every speaker with this variant's drain time.
      for (const node of [1, 2, 3]) {
        await stopSpeaker(node);
        await startAndWait(node, drain, ip);
      }
      for (const s of scenarios) {
        apply(peer(s === 'drain' || s === 'down'));
        // The sessions are replaced when the peer changes; wait for them to settle.
        await sleep(3000);
        await allThree(ip);
        for (let round = 1; round <= ROUNDS; round++) {
          const r = await scenario(s, drain, ip);
          const line = `${kind.padEnd(5)} ${s.padEnd(8)} --bgp-drain-time ${drain}: ${String(r.failed).padStart(4)} failed of ${r.total} (longest run of failures ${r.longestMs} ms; scenario took ${(r.tookMs / 1000).toFixed(1)} s)`;
          console.log(line);
          summary.push(line);
        }
      }
    }
  }
  console.log(`\nsummary (failed requests at 100 requests/s, new connection each):\n${summary.join('\n')}`);
} finally {
  teardown();
}
