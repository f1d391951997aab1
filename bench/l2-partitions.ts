// Never two announcers (issue 11 item 3), each fault held for a whole minute: the
// membership traffic cut one way, both ways, and between the owner and every peer while
// the LAN stays up; that cut flapping; the owner's LAN link flapping. The client asks
// who has the IP ten times a second (bench/arp-who-has.ts, the answers by MAC) and the benchmark prints,
// per scenario, how many probes one node, none, or several nodes answered, the longest
// stretch with several (the target: under a second, and one for the rest of the minute)
// and with none, and how often the answerer changed.
//
// Run as root: npm run bench:l2-partitions -- [--seconds 60] [--nodes 3] [--scenarios a,b]
// It brings the lab up (three played nodes, ferrolb's speakers), runs, and brings it
// down. Bounded: the prober has a count, each scenario a deadline, and `heal` + `lab
// down` undo every fault.
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { applyYaml, freshFerrolbLab, kubectlJson, lab, labOk, sleep, stateDir, holdLabForRun } from '../test/helpers/lab.ts';
import { waitFor } from '../lab/src/run.ts';
import { irregularRuns, probesFrom, summarize, type AnnouncerSummary, type Probe } from './announcers.ts';

const INTERVAL_MS = 100;
const SCENARIOS = ['one-way', 'both-ways', 'owner-isolated', 'cut-flapping', 'link-flapping'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, nodes: { type: 'string', default: '3' }, scenarios: { type: 'string', default: SCENARIOS.join(',') } } });
const SECONDS = Number(values.seconds);
const NODE_COUNT = Number(values.nodes);
if (!(SECONDS >= 5 && SECONDS <= 300)) throw new Error('--seconds must be 5-300');
if (!(Number.isInteger(NODE_COUNT) && NODE_COUNT >= 3 && NODE_COUNT <= 10)) throw new Error('--nodes must be 3-10 (a third node carries the reports)');
const chosen = values.scenarios.split(',').map((s) => s.trim()) as Scenario[];
for (const s of chosen) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}: one of ${SCENARIOS.join(', ')}`);
const NODES = Array.from({ length: NODE_COUNT }, (_, i) => `node-${i + 1}`);

/** The node of each MAC on the LAN (read once the lab is up). */
const nodeMACs = () => new Map(NODES.map((n) => [labOk(['exec', n, 'cat', '/sys/class/net/eth0/address']).trim().toLowerCase(), n] as const));

function owner(service: string): string {
  const items = kubectlJson<{ items: { status?: { node?: string; serviceName?: string } }[] }>('get', 'servicel2statuses', '-n', 'metallb-system').items;
  const nodes = items.filter((o) => o.status?.serviceName === service).map((o) => o.status?.node ?? '');
  if (nodes.length !== 1) throw new Error(`${service}: ${nodes.length} ServiceL2Status objects`);
  return nodes[0]!;
}

/** Asks from the client every INTERVAL_MS for `seconds` (bench/arp-who-has.ts); each request's answerers. */
function askWhoHas(ip: string, seconds: number): Promise<Probe[]> {
  const count = Math.round((seconds * 1000) / INTERVAL_MS);
  const child = spawn('ip', ['netns', 'exec', 'flb-client', process.execPath, 'bench/arp-who-has.ts', ip, '--interval-ms', String(INTERVAL_MS), '--count', String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sent: number[] = [];
  const replies: { at: number; mac: string }[] = [];
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      const [what, at, mac] = line.split(' ');
      if (what === 'sent') sent.push(Number(at));
      else if (what === 'reply') replies.push({ at: Number(at), mac: mac! });
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 10) * 1000);
  return new Promise((resolve) => child.on('exit', () => {
    clearTimeout(killer);
    resolve(probesFrom(sent, replies));
  }));
}

/** Applies a scenario's fault, flapping it until `until`; heals at the end. */
async function fault(s: Scenario, o: string, others: string[], until: number): Promise<void> {
  const a = others[0]!;
  try {
    switch (s) {
      case 'one-way':
        labOk(['partition', a, o, '--one-way']); // a stops hearing the owner; the owner hears all
        break;
      case 'both-ways':
        labOk(['partition', a, o]);
        break;
      case 'owner-isolated':
        for (const x of others) labOk(['partition', o, x]);
        break;
      case 'cut-flapping':
      case 'link-flapping':
        for (let k = 0; k < 200 && performance.now() < until - 2000; k++) {
          labOk(s === 'cut-flapping' ? ['partition', a, o] : ['link', o, 'down']);
          await sleep(2000);
          labOk(s === 'cut-flapping' ? ['heal'] : ['link', o, 'up']);
          await sleep(2000);
        }
        break;
    }
    await sleep(Math.max(0, until - performance.now()));
  } finally {
    lab(['heal']);
    lab(['link', o, 'up']);
  }
}

const faultText: Record<Scenario, (o: string, a: string) => string> = {
  'one-way': (o, a) => `${a} does not hear ${o}'s heartbeats (${o} hears everyone)`,
  'both-ways': (o, a) => `${o} and ${a} do not hear each other`,
  'owner-isolated': (o) => `${o} hears no peer and no peer hears it; the LAN is up`,
  'cut-flapping': (o, a) => `${o} and ${a} cut 2 s, healed 2 s, over and over`,
  'link-flapping': (o) => `${o}'s LAN link down 2 s, up 2 s, over and over`,
};

const row = (s: Scenario, text: string, r: AnnouncerSummary) =>
  `| ${s} | ${text} | ${r.probes} | ${r.one} | ${r.none} | ${r.several} | ${r.longestSeveralMs.toFixed(0)} | ${r.longestNoneMs.toFixed(0)} | ${r.moves} |`;

const teardown = holdLabForRun(() => {
  if (process.env['BENCH_LOGS']) spawnSync('cp', ['-r', `${stateDir}/logs`, process.env['BENCH_LOGS']]);
});
try {
  freshFerrolbLab(NODE_COUNT);
  applyYaml(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: partitions, namespace: metallb-system}
spec: {addresses: ["198.18.0.200-198.18.0.210"]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: partitions, namespace: metallb-system}
---
apiVersion: v1
kind: Service
metadata: {name: partitions, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
`);
  labOk(['deploy', 'web', '--replicas', String(NODE_COUNT)]);
  const ip = await waitFor('an IP for the service', 60_000, () => kubectlJson<{ status?: { loadBalancer?: { ingress?: { ip: string }[] } } }>('get', 'service', 'partitions', '-n', 'default').status?.loadBalancer?.ingress?.[0]?.ip, 500);
  await waitFor('one announcer', 60_000, () => { try { return owner('partitions'); } catch { return undefined; } }, 500);
  await sleep(6000); // past the takeover schedule
  const macs = nodeMACs();
  console.log(`${NODE_COUNT} nodes, one L2 service at ${ip}; each scenario ${SECONDS} s, the client asking every ${INTERVAL_MS} ms`);
  console.log('| scenario | fault | probes | one | none | several | longest several, ms | longest none, ms | answerer changes |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const s of chosen) {
    const o = owner('partitions');
    const others = NODES.filter((n) => n !== o);
    const until = performance.now() + SECONDS * 1000;
    const [probes] = await Promise.all([askWhoHas(ip, SECONDS), fault(s, o, others, until)]);
    console.log(row(s, faultText[s](o, others[0]!), summarize(probes)));
    const runs = irregularRuns(probes);
    const name = (m: string) => macs.get(m) ?? m;
    for (const r of runs.slice(0, 12)) console.log(`  at ${(r.fromMs / 1000).toFixed(1)} s for ${r.ms.toFixed(0)} ms: ${r.macs.length === 0 ? 'nobody' : r.macs.map(name).join(' and ')}`);
    if (runs.length > 12) console.log(`  ... ${runs.length - 12} more such runs`);
    const strangers = [...new Set(probes.flatMap((p) => p.macs))].filter((m) => !macs.has(m));
    if (strangers.length > 0) console.log(`  answers from MACs of no node: ${strangers.join(', ')}`);
    await sleep(5000); // healed: let the IP settle before the next
  }
} finally {
  lab(['heal']);
  teardown();
}
