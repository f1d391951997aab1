// The played pods' "containers": each pod gets a network namespace behind its node's
// cbr0, an address from the node's /26, and an HTTP server (lab/src/pod-server.ts)
// listening on port 80 and every declared TCP container port. What the kubelet reports
// is what it sees here: a pod is Ready only while its server is listening.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { labDir, nodeBinary, paths, podRange, stateDir, type Host } from '../layout.ts';
import { createPodNetwork, deletePodNetwork } from '../network.ts';
import { sleep } from '../run.ts';
import { ns, type Pod } from './api.ts';
import { log } from './log.ts';

/** The kubelet's view of one pod it runs. */
export interface PodRuntime {
  uid: string;
  namespace: string;
  name: string;
  node: Host;
  ip: string;
  child?: ChildProcess;
  listening: boolean;
  exited?: { code: number | null; signal: string | null; at: string };
  startedAt: string;
  reported?: string; // the status last written, so each change is written once
}

/** The pid file that lets a test or `lab pod stop` stop a pod's "container". */
export function podPidFile(namespace: string, name: string): string {
  return join(paths.pods, `${namespace}_${name}.pid`);
}

function tcpPorts(p: Pod): number[] {
  const ports = new Set<number>([80]);
  for (const c of p.spec.containers ?? []) for (const cp of c.ports ?? []) if ((cp.protocol ?? 'TCP') === 'TCP') ports.add(cp.containerPort);
  return [...ports];
}

export class PodRuntimes {
  readonly #pods = new Map<string, PodRuntime>(); // by pod uid
  readonly #nextHost = new Map<number, number>(); // node index -> next host number
  /** Called when a server starts or stops listening. */
  readonly #changed: () => void;

  constructor(changed: () => void) {
    this.#changed = changed;
  }

  get(uid: string): PodRuntime | undefined {
    return this.#pods.get(uid);
  }

  all(): PodRuntime[] {
    return [...this.#pods.values()];
  }

  // Addresses are handed out round-robin, as CNI's host-local IPAM does: reusing the
  // address a pod just released would meet stale ARP entries and conntrack state for
  // the old pod, and traffic would vanish for up to a minute.
  #allocateIp(node: Host): string | undefined {
    const used = new Set(this.all().filter((r) => r.node === node).map((r) => r.ip));
    const [third, fourth] = podRange(node.index).base;
    const start = this.#nextHost.get(node.index) ?? 2;
    for (let k = 0; k < 61; k++) {
      const host = 2 + ((start - 2 + k) % 61); // .2 to .62
      const ip = `198.18.${third}.${fourth + host}`;
      if (!used.has(ip)) {
        this.#nextHost.set(node.index, host + 1);
        return ip;
      }
    }
    return undefined;
  }

  start(p: Pod, node: Host): PodRuntime | undefined {
    const ip = this.#allocateIp(node);
    if (!ip) {
      log(`pod ${ns(p)}/${p.metadata.name}: node ${node.name} has no free pod address`);
      return undefined;
    }
    const rt: PodRuntime = { uid: p.metadata.uid ?? '', namespace: ns(p), name: p.metadata.name, node, ip, listening: false, startedAt: new Date().toISOString() };
    this.#pods.set(rt.uid, rt);
    const netns = createPodNetwork(node, ip);
    const child = spawn('ip', ['netns', 'exec', netns, nodeBinary, join(labDir, 'src', 'pod-server.ts'), rt.name, stateDir, ...tcpPorts(p).map(String)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    rt.child = child;
    mkdirSync(paths.pods, { recursive: true });
    if (child.pid) writeFileSync(podPidFile(rt.namespace, rt.name), `${child.pid}\n`);
    this.#follow(rt, child);
    log(`pod ${rt.namespace}/${rt.name}: started on ${node.name} at ${ip}`);
    return rt;
  }

  #follow(rt: PodRuntime, child: ChildProcess): void {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') {
        rt.listening = true;
        this.#changed();
      }
    });
    child.on('exit', (code, signal) => {
      rt.listening = false;
      rt.exited = { code, signal, at: new Date().toISOString() };
      log(`pod ${rt.namespace}/${rt.name}: server exited (${signal ?? code})`);
      this.#changed();
    });
  }

  async stop(rt: PodRuntime): Promise<void> {
    if (rt.child && !rt.exited) {
      rt.child.kill('SIGTERM');
      // Bounded: the server exits within 500 ms of SIGTERM; after 2 s it is killed.
      for (let i = 0; i < 20 && !rt.exited; i++) await sleep(100);
      if (!rt.exited) rt.child.kill('SIGKILL');
    }
    deletePodNetwork(rt.node, rt.ip);
    rmSync(podPidFile(rt.namespace, rt.name), { force: true });
    this.#pods.delete(rt.uid);
    log(`pod ${rt.namespace}/${rt.name}: stopped`);
  }
}
