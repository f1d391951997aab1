// L2 failover benchmark in the lab: how long the LAN's clients keep sending to a node
// that can no longer answer. For each round it finds the node announcing a service IP,
// breaks it, and times the moment the client's own kernel moves its ARP entry for the IP
// to another node's MAC (from `ip monitor neigh` in the client namespace, so the clock
// stops when the client would send its next packet to the new node).
//
// Scenarios:
//   link-cut   the announcing node's LAN link goes down (a dead node or switch port);
//              the others notice the silence (membership, 500 ms) and take over
//   crash      the announcing speaker is SIGKILLed (node still up): same detection path
//   sigterm    the announcing speaker stops cleanly: it says goodbye, hand-over at once
//
// Run as root: npm run bench:failover -- [--rounds 10]
// It brings the lab up (3 nodes, ferrolb), runs, and brings it down again.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { kubectl, labOk, lab, acquireLock, releaseLock, stateDir, sleep } from '../test/helpers/lab.ts';
import { waitFor } from '../lab/src/run.ts';
import { nodeHost } from '../lab/src/layout.ts';
import { startSpeaker } from '../lab/src/ferrolb.ts';

const arg = process.argv.indexOf('--rounds');
const ROUNDS = arg > 0 ? Number(process.argv[arg + 1]) : 10;
const NODES = ['node-1', 'node-2', 'node-3'];
type Scenario = 'link-cut' | 'crash' | 'sigterm';

function macOf(node: string): string {
  return labOk(['exec', node, 'cat', '/sys/class/net/eth0/address']).trim();
}

function arpAnswers(ip: string): string[] {
  const r = lab(['exec', 'client', 'arping', '-c', '2', '-w', '2', '-I', 'eth0', ip], 15_000);
  return [...new Set([...r.stdout.matchAll(/bytes from ([0-9a-f:]{17}) /gi)].map((m) => m[1]!.toLowerCase()))];
}

function clientNeighbour(ip: string): string | undefined {
  const r = spawnSync('ip', ['-n', 'flb-client', 'neigh', 'show', ip, 'dev', 'eth0'], { encoding: 'utf8' });
  return /lladdr ([0-9a-f:]{17})/.exec(r.stdout)?.[1];
}

/** Resolves with the time (performance.now()) the client's entry for ip first shows a MAC other than `from`. */
function watchNeighbour(ip: string, from: string): { moved: Promise<{ at: number; mac: string }>; stop: () => void } {
  const mon = spawn('ip', ['-n', 'flb-client', 'monitor', 'neigh'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const moved = new Promise<{ at: number; mac: string }>((resolve) => {
    let rest = '';
    mon.stdout.setEncoding('utf8');
    mon.stdout.on('data', (chunk: string) => {
      const at = performance.now();
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const m = new RegExp(`^${ip.replaceAll('.', '\\.')} dev eth0 lladdr ([0-9a-f:]{17})`).exec(line);
        if (m && m[1] !== from) resolve({ at, mac: m[1]! });
      }
    });
  });
  return { moved, stop: () => mon.kill() };
}

function speakerPid(node: string): number {
  return Number(readFileSync(`${stateDir}/pids/ferrolb-speaker-${node}.pid`, 'utf8').trim());
}

async function settle(ip: string, macs: Map<string, string>): Promise<string> {
  return waitFor(`one node answering for ${ip}`, 30_000, () => {
    const a = arpAnswers(ip);
    return a.length === 1 && macs.has(a[0]!) ? macs.get(a[0]!) : undefined;
  }, 300);
}

async function round(scenario: Scenario, ip: string, macs: Map<string, string>): Promise<number> {
  const node = await settle(ip, macs);
  // The client talks to the IP, so its kernel holds a fresh entry for it.
  lab(['exec', 'client', 'curl', '-s', '-m', '2', `http://${ip}/`]);
  const from = clientNeighbour(ip) ?? '';
  const watch = watchNeighbour(ip, from);
  await sleep(200);
  const t0 = performance.now();
  if (scenario === 'link-cut') spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', node, 'down']);
  else process.kill(speakerPid(node), scenario === 'crash' ? 'SIGKILL' : 'SIGTERM');
  const moved = await Promise.race([watch.moved, sleep(10_000).then(() => undefined)]);
  watch.stop();
  if (!moved) throw new Error(`${scenario}: the client's entry for ${ip} did not move within 10 s`);
  // Restore, and let membership and the plan settle before the next round.
  if (scenario === 'link-cut') spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', node, 'up']);
  else {
    startSpeaker(nodeHost(Number(node.split('-')[1])));
    await waitFor(`${node}'s speaker`, 20_000, () => (lab(['exec', node, 'curl', '-s', '-m', '1', 'http://127.0.0.1:7472/healthz']).status === 0 ? true : undefined), 300);
  }
  await sleep(1500);
  return moved.at - t0;
}

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `min ${s[0]!.toFixed(0)} ms, p50 ${q(0.5).toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, max ${s[s.length - 1]!.toFixed(0)} ms (n=${s.length})`;
}

acquireLock();
try {
  labOk(['down'], 60_000);
  labOk(['up', '--nodes', '3', '--ferrolb'], 180_000);
  const pool = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bench, namespace: metallb-system}
spec: {addresses: ["198.18.0.200-198.18.0.210"]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: bench, namespace: metallb-system}
`;
  spawnSync('lab/lab', ['kubectl', 'apply', '-f', '-'], { input: pool });
  labOk(['deploy', 'web', '--replicas', '3']);
  kubectl('expose', 'deployment', 'web', '--port', '80', '--type', 'LoadBalancer');
  const ip = await waitFor('an EXTERNAL-IP', 20_000, () => {
    const svc = JSON.parse(kubectl('get', 'service', 'web', '-o', 'json')) as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
    return svc.status?.loadBalancer?.ingress?.[0]?.ip;
  });
  const macs = new Map(NODES.map((n) => [macOf(n), n]));
  for (const scenario of ['link-cut', 'crash', 'sigterm'] as const) {
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) times.push(await round(scenario, ip, macs));
    console.log(`${scenario.padEnd(8)} client ARP entry moved after: ${summary(times)}`);
  }
} finally {
  lab(['down'], 60_000);
  releaseLock();
}
