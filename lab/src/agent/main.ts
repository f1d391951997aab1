// The agent's process, which `lab up` starts (lifecycle.ts) and `lab down` kills:
//
//   node lab/src/agent/main.ts NODES STATE_DIR [REAL_NODE_INDEXES]
//
// NODES is the number of nodes, REAL_NODE_INDEXES a comma-separated list of those with
// a real kubelet; STATE_DIR (layout.ts's) is passed only so that `lab down` finds the
// process by its command line. It writes paths.agentReady after its first tick and logs
// to stdout (logs/agent.log).
import { writeFileSync } from 'node:fs';
import { tlsMaterial } from '../certs.ts';
import { Kube } from '../kube.ts';
import { paths } from '../layout.ts';
import { sleep } from '../run.ts';
import { Agent } from './agent.ts';
import { Failures, log } from './log.ts';

// A lab forgotten for a week stops its agent; everything else stays for `lab down`.
const maxLifetimeMs = 7 * 24 * 3600_000;

async function loop(agent: Agent): Promise<void> {
  const started = Date.now();
  const failures = new Failures();
  let ready = false;
  while (!agent.stopping && Date.now() - started < maxLifetimeMs) {
    try {
      await agent.tick();
      if (!ready) {
        writeFileSync(paths.agentReady, `${process.pid}\n`);
        ready = true;
        log('ready');
      }
      failures.clear('tick');
    } catch (err) {
      // Log each distinct burst once, not every tick.
      const n = failures.count('tick');
      if (n !== undefined) log(`tick failed (${n}): ${(err as Error).message}`);
    }
    // Watches wake the agent at once; the timeout drives heartbeats and retries, and
    // the short pause batches bursts of events into one tick.
    await sleep(50);
    await agent.idle(2000);
  }
}

async function main(): Promise<void> {
  const nodes = Number(process.argv[2]);
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error('usage: agent/main.ts NODES STATE_DIR [REAL_NODES]');
  const kube = new Kube(tlsMaterial('admin'));
  const real = new Set((process.argv[4] ?? '').split(',').filter(Boolean).map(Number));
  const agent = new Agent(kube, nodes, real);
  process.on('SIGTERM', () => agent.stop());
  process.on('SIGINT', () => agent.stop());
  await agent.startInformers();
  await loop(agent);
  await agent.shutdown();
  kube.close();
  log('stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
