// Controller benchmark against the lab's real kube-apiserver: creates N LoadBalancer
// services as fast as the API server takes them and reports create→status latency
// (p50/p99), the time until all are assigned, the controller's CPU time and peak RSS,
// and the API server's CPU time for comparison (who is the bottleneck).
// Run as root: npm run bench:controller -- [--services 1000,10000]
// It brings the lab up (1 node), runs, and brings it down again.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient } from '../src/k8s/client.ts';
import { WatchedResource } from '../src/k8s/informer.ts';
import { realClock } from '../src/time/clock.ts';
import type { V1Service } from '../src/api/service.ts';
import { cpuTicks, inParallel } from './proc.ts';
import { kubectl, labOk, lab, repoDir, holdLabForRun } from '../test/helpers/lab.ts';

const arg = process.argv.indexOf('--services');
const COUNTS = (arg > 0 ? process.argv[arg + 1]! : '1000,10000').split(',').map(Number);
const CREATE_CONCURRENCY = 16;

function procStats(pid: number): { cpuSeconds: number; peakRssMB: number } {
  const ticks = cpuTicks(pid);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / 100, peakRssMB: Number(hwm?.[1] ?? 0) / 1024 };
}

function findPid(marker: string): number {
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.split('\0')[0]!.endsWith(marker)) return pid;
    } catch {
      // exited
    }
  }
  return 0;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(count: number, admin: KubeClient): Promise<void> {
  const ns = `bench-${count}`;
  kubectl('create', 'namespace', ns);
  kubectl('delete', 'ipaddresspools', '--all', '-n', 'metallb-system', '--ignore-not-found');
  await admin.create('/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools', {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'bench', namespace: 'metallb-system' },
    spec: { addresses: ['198.18.0.0/15'] }, // in memory only: these IPs are never announced here
  });
  const kubeconfig = labOk(['kubeconfig', 'controller']).trim();
  // Through the npm bin entry, as users run it (its shebang sets the V8 flags).
  const env = { ...process.env, PATH: `${join(repoDir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };
  const controller = spawn(join(repoDir, 'bin', 'ferrolb.js'), ['controller', '--kubeconfig', kubeconfig, '--metrics-addr', 'off', '--log-level', 'warn', '--leader-elect', 'false'], { stdio: 'ignore', env });
  const apiPid = findPid('/kube-apiserver');
  const apiBefore = procStats(apiPid);
  // Let the controller start and sync before the clock runs.
  await new Promise((r) => setTimeout(r, 3000));
  const created = new Map<string, number>();
  const assigned = new Map<string, number>();
  const watch = new WatchedResource<V1Service>(admin, `/api/v1/namespaces/${ns}/services`, { clock: realClock });
  watch.onChange((_t, s) => {
    const name = s.metadata?.name ?? '';
    if (!assigned.has(name) && (s.status?.loadBalancer?.ingress?.length ?? 0) > 0) assigned.set(name, performance.now());
  });
  watch.start();
  await watch.synced;
  const ctlBefore = procStats(controller.pid!);
  const t0 = performance.now();
  await inParallel(count, CREATE_CONCURRENCY, async (i) => {
    const name = `s${i}`;
    await admin.create(`/api/v1/namespaces/${ns}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      // No node ports: 10,000 services would exhaust the 2,768 of the default range.
      spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, selector: { app: name }, ports: [{ port: 80 }] },
    });
    created.set(name, performance.now());
  });
  const createdAll = performance.now();
  const deadline = Date.now() + 15 * 60_000;
  while (assigned.size < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const done = performance.now();
  const ctlAfter = procStats(controller.pid!);
  const apiAfter = procStats(apiPid);
  watch.stop();
  controller.kill('SIGTERM');
  const latencies = [...created].map(([n, t]) => (assigned.get(n) ?? Infinity) - t).sort((a, b) => a - b);
  console.log(
    [
      `services ${count}`,
      `created in ${((createdAll - t0) / 1000).toFixed(1)} s (${Math.round(count / ((createdAll - t0) / 1000))}/s)`,
      `all assigned ${((done - t0) / 1000).toFixed(1)} s after the first create (${assigned.size}/${count})`,
      `create→status p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
      `controller CPU ${(ctlAfter.cpuSeconds - ctlBefore.cpuSeconds).toFixed(1)} s, peak RSS ${ctlAfter.peakRssMB.toFixed(0)} MB`,
      `kube-apiserver CPU ${(apiAfter.cpuSeconds - apiBefore.cpuSeconds).toFixed(1)} s`,
    ].join('\n  '),
  );
  await new Promise((r) => controller.once('exit', r));
}

// The lab is one per machine: wait for tests that hold it.
const teardown = holdLabForRun();
const up = lab(['up', '--nodes', '1', '--real-nodes', '0'], 180_000);
try {
  if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`);
  kubectl('apply', '-f', join(repoDir, 'deploy', 'crds'));
  kubectl('wait', '--for=condition=Established', '--timeout=30s', 'crd', '--all');
  kubectl('apply', '-f', join(repoDir, 'deploy', 'rbac'));
  const admin = KubeClient.load(labOk(['kubeconfig', 'admin']).trim());
  console.log(`ferrolb controller benchmark, Node ${process.version}, create concurrency ${CREATE_CONCURRENCY}`);
  for (const n of COUNTS) await run(n, admin);
  admin.close();
} finally {
  teardown();
}
