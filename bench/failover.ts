// L2 failover benchmark in the lab, from the client's side. A client in the client
// namespace sends 100 requests/s to a service IP, each over a new TCP connection with a
// 250 ms timeout (bench/http-probe.ts); the outage of a round is the longest run of
// failed requests (bench/outage.ts). The client's ARP/NDP cache is never flushed: each
// round starts from whatever the previous rounds left in it, as on a real LAN.
//
// Each round breaks one node, restores it 3 s later, waits until the IP is back home
// (ServiceL2Status) and past the owner's last announcement, then checks which MAC the
// client's kernel holds. Rounds alternate their victim:
//   owner      the node announcing the IP: a failover, then a hand-back on its return
//   stand-in   the node that stood in last round: it announces nothing now, so a
//              client left on its MAC by the hand-back (issue 15) sees an outage here,
//              and a correct one sees none
// Scenarios (how the victim breaks):
//   link-cut   its LAN link goes down (`ip link set down` on its bridge port)
//   crash      its speaker is SIGKILLed (node up); restarted to restore
//   sigterm    its speaker stops cleanly (says goodbye); restarted to restore
//   exclude    the node gets the label node.kubernetes.io/exclude-from-external-load-
//              balancers (a planned move, as before a drain); the label goes to restore
//   freeze     every process of the node is SIGSTOPped (`lab/lab freeze`: the machine
//              hangs, its NIC stays up), SIGCONTinued to restore
//
// The service has externalTrafficPolicy Local, so what is measured is the load
// balancer: with Cluster the new owner's kube-proxy also sends a share of the new
// connections to the broken node's pods, which stay Ready until a node controller
// notices (about 40 s in a real cluster; never in the lab), and those fail whatever the
// load balancer does. `--cluster` measures that case instead, as what a user also sees.
//
// Run as root: npm run bench:failover -- [--rounds 10] [--scenarios link-cut,crash,sigterm,freeze,exclude] [--nodes 3] [--cluster]
// (BENCH_LOGS=DIR copies the lab's logs there before the lab goes down.)
// It brings the lab up (--nodes, default 3, with ferrolb), runs, and brings it down again.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { applyYaml, freshFerrolbLab, kubectl, kubectlJson, lab, labOk, sleep, stateDir, holdLabForRun } from '../test/helpers/lab.ts';
import { waitFor } from '../lab/src/run.ts';
import { nodeHost } from '../lab/src/layout.ts';
import { startSpeaker } from '../lab/src/ferrolb.ts';
import { outage, percentiles } from './outage.ts';
import { ipMonitor, probe } from './probe.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '10' }, scenarios: { type: 'string', default: 'link-cut,crash,sigterm,freeze,exclude' }, nodes: { type: 'string', default: '3' }, cluster: { type: 'boolean', default: false } },
});
const ROUNDS = Number(values.rounds);
const SCENARIOS = values.scenarios.split(',') as Scenario[];
const POLICY = values.cluster ? 'Cluster' : 'Local';
const NODE_COUNT = Number(values.nodes);
if (!(Number.isInteger(NODE_COUNT) && NODE_COUNT >= 2 && NODE_COUNT <= 10)) throw new Error('--nodes must be 2-10');
const NODES = Array.from({ length: NODE_COUNT }, (_, i) => `node-${i + 1}`);
const BROKEN_MS = 3000;
type Scenario = 'link-cut' | 'crash' | 'sigterm' | 'freeze' | 'exclude';
const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
for (const s of SCENARIOS) if (!['link-cut', 'crash', 'sigterm', 'freeze', 'exclude'].includes(s)) throw new Error(`unknown scenario "${s}"`);
if (!(ROUNDS >= 1 && ROUNDS <= 200)) throw new Error('--rounds must be 1-200');

function macOf(node: string): string {
  return labOk(['exec', node, 'cat', '/sys/class/net/eth0/address']).trim();
}

function clientNeighbour(ip: string): string | undefined {
  const r = spawnSync('ip', ['-n', 'flb-client', 'neigh', 'show', ip, 'dev', 'eth0'], { encoding: 'utf8' });
  return /lladdr ([0-9a-f:]{17})/.exec(r.stdout)?.[1];
}

/** Resolves with the wall-clock time the client's entry for ip first shows a MAC other than `from`. */
function watchNeighbour(ip: string, from: string): { moved: Promise<{ at: number; mac: string }>; stop: () => void } {
  let stop = () => {};
  const moved = new Promise<{ at: number; mac: string }>((resolve) => {
    const entry = new RegExp(`^${ip.replaceAll('.', '\\.')} dev eth0 lladdr ([0-9a-f:]{17})`);
    stop = ipMonitor('flb-client', 'neigh', (line, at) => {
      const m = entry.exec(line);
      if (m && m[1] !== from) resolve({ at, mac: m[1]! });
    });
  });
  return { moved, stop };
}

function speakerPid(node: string): number {
  return Number(readFileSync(`${stateDir}/pids/ferrolb-speaker-${node}.pid`, 'utf8').trim());
}

function owners(): string[] {
  return kubectlJson<{ items: { status?: { node?: string; serviceName?: string } }[] }>('get', 'servicel2statuses', '-n', 'metallb-system').items
    .filter((o) => o.status?.serviceName === 'web')
    .map((o) => o.status?.node ?? '')
    .sort();
}

async function settledOwner(): Promise<string> {
  return waitFor('one node announcing web', 30_000, () => {
    const o = owners();
    return o.length === 1 ? o[0] : undefined;
  }, 100);
}

function breakNode(scenario: Scenario, node: string): void {
  if (scenario === 'link-cut') spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', node, 'down']);
  else if (scenario === 'freeze') labOk(['freeze', node]);
  else if (scenario === 'exclude') kubectl('label', 'node', node, `${EXCLUDE_LABEL}=true`);
  else process.kill(speakerPid(node), scenario === 'crash' ? 'SIGKILL' : 'SIGTERM');
}

async function restoreNode(scenario: Scenario, node: string): Promise<void> {
  if (scenario === 'link-cut') {
    spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', node, 'up']);
    return;
  }
  if (scenario === 'freeze') {
    labOk(['thaw', node]);
    return;
  }
  if (scenario === 'exclude') {
    kubectl('label', 'node', node, `${EXCLUDE_LABEL}-`);
    return;
  }
  await waitFor(`${node}'s speaker gone`, 5000, () => {
    try {
      process.kill(speakerPid(node), 0);
      return undefined;
    } catch {
      return true;
    }
  }, 50);
  startSpeaker(nodeHost(Number(node.split('-')[1])));
  await waitFor(`${node}'s speaker`, 20_000, () => (lab(['exec', node, 'curl', '-s', '-m', '1', 'http://127.0.0.1:7472/healthz']).status === 0 ? true : undefined), 200);
}

interface Round {
  readonly victim: 'owner' | 'stand-in';
  readonly node: string;
  readonly outageMs: number;
  readonly failed: number;
  readonly total: number;
  readonly handBackOutageMs: number;
  readonly arpMovedMs: number | undefined;
  readonly standIn: string | undefined;
  readonly clientRight: boolean;
  /** For a round with a few failures: when each failed request started, ms from the client's neighbour change. */
  readonly failedVsMove: readonly number[];
}

async function round(scenario: Scenario, victim: 'owner' | 'stand-in', node: string, ip: string, url: string, macs: Map<string, string>): Promise<Round> {
  const owner = await settledOwner();
  const run = probe(url, 30_000);
  await run.ready;
  await sleep(1000);
  const from = clientNeighbour(ip) ?? '';
  const watch = watchNeighbour(ip, from);
  const tBreak = Date.now();
  breakNode(scenario, node);
  await sleep(BROKEN_MS);
  const moved = await Promise.race([watch.moved, sleep(0).then(() => undefined)]);
  watch.stop();
  const tRestore = Date.now();
  await restoreNode(scenario, node);
  await waitFor('the IP back home', 20_000, () => (owners().join() === owner ? true : undefined), 100);
  await sleep(4500); // past the owner's last gratuitous announcement
  const tEnd = Date.now();
  const results = await run.stop();
  const during = outage(results, tBreak, tRestore);
  const after = outage(results, tRestore, tEnd);
  const standIn = moved ? macs.get(moved.mac) : undefined;
  return {
    victim,
    node,
    outageMs: during.longestMs,
    failed: during.failed,
    total: during.total,
    handBackOutageMs: after.longestMs,
    arpMovedMs: moved ? moved.at - tBreak : undefined,
    standIn,
    clientRight: macs.get(clientNeighbour(ip) ?? '') === owner,
    // A planned move that loses a request or two: did they start just before the
    // client's entry changed (a connection straddling the switch) or elsewhere?
    failedVsMove: moved && during.failed + after.failed <= 5 ? results.filter((r) => !r.ok && r.start >= tBreak && r.start < tEnd).map((r) => r.start - moved.at) : [],
  };
}

const teardown = holdLabForRun(() => {
  // BENCH_LOGS=DIR keeps the lab's logs (they go with `lab down`) for a look afterwards.
  if (process.env['BENCH_LOGS']) spawnSync('cp', ['-r', `${stateDir}/logs`, process.env['BENCH_LOGS']]);
});
try {
  freshFerrolbLab(NODE_COUNT);
  const pool = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bench, namespace: metallb-system}
spec: {addresses: ["198.18.0.200-198.18.0.210"]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: bench, namespace: metallb-system}
`;
  applyYaml(pool);
  labOk(['deploy', 'web', '--replicas', String(NODE_COUNT)]);
  applyYaml(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  externalTrafficPolicy: ${POLICY}
  selector: {app: web}
  ports: [{port: 80}]
`);
  const ip = await waitFor('an EXTERNAL-IP', 20_000, () => {
    const svc = JSON.parse(kubectl('get', 'service', 'web', '-o', 'json')) as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
    return svc.status?.loadBalancer?.ingress?.[0]?.ip;
  });
  const url = `http://${ip}/`;
  const macs = new Map(NODES.map((n) => [macOf(n), n]));
  console.log(`${NODE_COUNT} nodes; service web ${ip}, externalTrafficPolicy ${POLICY}; 100 requests/s over new connections, 250 ms timeout; the node broken for ${BROKEN_MS} ms per round`);
  const summary: string[] = [];
  for (const scenario of SCENARIOS) {
    const rounds: Round[] = [];
    let standIn: string | undefined;
    for (let i = 0; i < ROUNDS; i++) {
      const owner = await settledOwner();
      const victim = i % 2 === 1 && standIn && standIn !== owner ? 'stand-in' : 'owner';
      const node = victim === 'owner' ? owner : standIn!;
      const r = await round(scenario, victim, node, ip, url, macs);
      if (victim === 'owner') standIn = r.standIn;
      rounds.push(r);
      console.log(
        `${scenario.padEnd(8)} round ${String(i + 1).padStart(2)}: ${victim.padEnd(8)} ${node} broken: outage ${String(r.outageMs).padStart(5)} ms (${r.failed}/${r.total} failed)` +
          `${r.arpMovedMs !== undefined ? `, client's ARP moved to ${r.standIn} after ${r.arpMovedMs} ms` : ''}; after restore: outage ${r.handBackOutageMs} ms, client on the owner: ${r.clientRight ? 'yes' : 'NO'}` +
          (r.failedVsMove.length > 0 ? `; failed requests started ${r.failedVsMove.map((d) => `${d >= 0 ? '+' : ''}${d}`).join(', ')} ms from the neighbour change` : ''),
      );
    }
    const of = (v: 'owner' | 'stand-in') => rounds.filter((r) => r.victim === v);
    summary.push(`${scenario.padEnd(8)} owner broken:    outage ${percentiles(of('owner').map((r) => r.outageMs))}`);
    summary.push(`${scenario.padEnd(8)} stand-in broken: outage ${percentiles(of('stand-in').map((r) => r.outageMs))}`);
    summary.push(`${scenario.padEnd(8)} after restore:   outage ${percentiles(rounds.map((r) => r.handBackOutageMs))}; client on the owner after ${rounds.filter((r) => r.clientRight).length}/${rounds.length} rounds`);
  }
  console.log(`\nsummary (externalTrafficPolicy ${POLICY}):\n${summary.join('\n')}`);
} finally {
  teardown();
}
