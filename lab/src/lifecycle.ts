// `lab up` and `lab down`. Up is all-or-nothing: on any failure it tears down what it
// started. Down trusts nothing: it finds the lab's processes by pid file, by command
// line (every lab process names the state directory) and by network namespace, so it
// works after a crash or a killed `up`, and running it twice is harmless.
import { mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { labDir, lanNetns, netnsPrefix, nodeBinary, paths, ports, stateDir, type LabInfo, type ProxyMode, nodeHost } from './layout.ts';
import { LabError, ancestors, daemon, isAlive, run, sleep, waitFor } from './run.ts';
import { createPki, tlsMaterial } from './certs.ts';
import { createControlNamespace, createNetwork, labNetns } from './network.ts';
import { apiserverReady, kernelHasIpvs, kubeProxyConfigMap, kubeProxyHealthy, startApiRelays, startApiserver, startEtcd, startKubeProxy, startNodeRelay, startWebhookRelays } from './controlplane.ts';
import { Kube, isStatus } from './kube.ts';
import { nodeObject } from './agent/node.ts';
import { allowRouterUser, routerControl, type RouterKind } from './router.ts';
import { cleanupRealNodes, controllerManagerHealthy, ferrolbImageBuild, kubeletHealthy, nodeBuild, requireRuntime, schedulerHealthy, startControllerManager, startRealNode, startScheduler } from './realnode.ts';
import { createIdentity, createNodeIdentity } from './certs.ts';
import { controllerHealthy, controllerMetricsPort, installFerrolb, labWebhookConfiguration, speakerHealthy, speakerName, startController, startSpeaker, webhookPort } from './ferrolb.ts';

export interface UpOptions {
  nodes: number;
  proxyMode: ProxyMode;
  strictArp: boolean;
  ferrolb: boolean;
  /** The last this many nodes run a real kubelet and containerd (realnode.ts); 0: none. */
  realNodes?: number;
  /** Build the ferrolb image from the Dockerfile and load it into every real node. */
  ferrolbImage?: boolean;
  /** The BGP router (router.ts). Without it: BIRD when installed, else none. */
  router?: RouterKind;
}

interface Lock {
  pid: number;
  phase: 'starting' | 'ready';
}

// Test runs hold the lab through this lock (see test/helpers/lab.ts). A `lab up` or
// `lab down` typed by hand meanwhile would pull the lab from under a running test, so
// only the holder and its children may change the lab while it is held.
const testLock = `${stateDir}.test-lock`;

export function requireNotHeldByTests(): void {
  let holder = 0;
  try {
    holder = Number(readFileSync(join(testLock, 'pid'), 'utf8').trim());
  } catch {
    return;
  }
  if (holder > 0 && isAlive(holder) && !ancestors().has(holder)) {
    throw new LabError('in-use', `a test run (pid ${holder}) holds the lab (${testLock}); wait for it to finish`);
  }
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new LabError('not-root', 'the lab needs root (it creates network namespaces and runs kube-proxy); run it as root');
}

export function readInfo(): LabInfo | undefined {
  try {
    return JSON.parse(readFileSync(paths.info, 'utf8')) as LabInfo;
  } catch {
    return undefined;
  }
}

function readLock(): Lock | undefined {
  try {
    return JSON.parse(readFileSync(paths.lock, 'utf8')) as Lock;
  } catch {
    return undefined;
  }
}

/** Takes the lab's lock: creating the state directory is atomic, so two `up`s cannot both win. */
function takeLock(): void {
  try {
    mkdirSync(stateDir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const lock = readLock();
    if (lock?.phase === 'ready') {
      const info = readInfo();
      throw new LabError('already-up', `the lab is already up${info ? ` (${info.nodes} nodes, ${info.proxyMode}, since ${info.startedAt})` : ''}; run lab/lab down first`);
    }
    if (lock && lock.pid !== process.pid && isAlive(lock.pid)) {
      throw new LabError('already-starting', `another lab/lab up (pid ${lock.pid}) is starting the lab`);
    }
    throw new LabError('stale', `a previous lab was not torn down (state in ${stateDir}); run lab/lab down first`);
  }
  writeLock('starting');
}

function writeLock(phase: Lock['phase']): void {
  writeFileSync(paths.lock, JSON.stringify({ pid: process.pid, phase } satisfies Lock) + '\n');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function requireTools(mode: ProxyMode): void {
  const tools: Record<string, string> = { ip: 'iproute2', socat: 'socat', curl: 'curl', openssl: 'openssl', sysctl: 'procps' };
  if (mode === 'nftables') tools['nft'] = 'nftables';
  if (mode === 'iptables') tools['iptables'] = 'iptables';
  if (mode === 'ipvs') Object.assign(tools, { ipvsadm: 'ipvsadm', iptables: 'iptables', ipset: 'ipset' });
  const missing = Object.entries(tools).filter(([t]) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, p]) => p))].join(' ');
    throw new LabError('missing-tool', `missing ${missing.map(([t]) => t).join(', ')}; install with: apt-get install -y ${pkgs}`);
  }
}

/** Builds the binaries if a pin changed (seconds when warm) and returns their directory. */
function binaries(): string {
  const r = spawnSync('bash', [join(labDir, 'build.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 60 * 60_000 });
  const dir = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !dir || !existsSync(join(dir, 'kube-apiserver'))) {
    throw new LabError('build-failed', `lab/build.sh failed (exit ${r.status}); see its output above`);
  }
  return dir;
}

function logTail(name: string): string {
  try {
    const lines = readFileSync(join(paths.logs, `${name}.log`), 'utf8').trim().split('\n');
    return lines.slice(-1)[0] ?? '';
  } catch {
    return '';
  }
}

function daemonPid(name: string): number | undefined {
  try {
    return Number(readFileSync(join(paths.pids, `${name}.pid`), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Fails fast, with the daemon's last log line, when a daemon the lab waits for has died. */
function requireAlive(name: string): void {
  const pid = daemonPid(name);
  if (pid !== undefined && !isAlive(pid)) throw new LabError('daemon-died', `${name} exited: ${logTail(name)} (log: ${join(paths.logs, `${name}.log`)})`);
}

export async function up(opts: UpOptions, say: (line: string) => void): Promise<void> {
  requireRoot();
  requireNotHeldByTests();
  const started = Date.now();
  const leftovers = labNetns();
  if (leftovers.length > 0 && !existsSync(stateDir)) {
    throw new LabError('stale', `namespaces from a previous lab remain (${leftovers.slice(0, 3).join(', ')}${leftovers.length > 3 ? ', ...' : ''}); run lab/lab down first`);
  }
  // Checks that need nothing created come first, so refusing leaves nothing to undo.
  if (opts.proxyMode === 'ipvs' && !kernelHasIpvs()) {
    throw new LabError('no-ipvs', 'this kernel has no IPVS (CONFIG_IP_VS), which --proxy-mode ipvs needs; use nftables or iptables');
  }
  requireTools(opts.proxyMode);
  const realCount = opts.realNodes ?? 0;
  if (realCount > opts.nodes) throw new LabError('usage', `--real-nodes ${realCount} is more than --nodes ${opts.nodes}`);
  if (realCount > 0) requireRuntime();
  if (opts.ferrolbImage && realCount === 0) throw new LabError('usage', '--ferrolb-image needs --real-nodes');
  // An asked-for router must exist; the default one (BIRD) is left out quietly if absent.
  if (opts.router && !routerControl(opts.router).available()) {
    throw new LabError('missing-tool', `--router ${opts.router} is not installed (apt-get install ${opts.router === 'bird' ? 'bird2' : opts.router === 'frr' ? 'frr' : 'gobgpd'})`);
  }
  const routerKind: RouterKind | undefined = opts.router ?? (routerControl('bird').available() ? 'bird' : undefined);
  const bgpRouter = routerKind ? routerControl(routerKind) : undefined;
  takeLock();
  // From here on everything up creates is torn down again if up fails or is
  // interrupted: nothing half-created stays behind.
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`lab: interrupted (${sig}); tearing down\n`);
    void down(() => {}, { force: true }).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const wanted: [string, number][] = Object.entries(ports);
    if (opts.ferrolb) wanted.push(['ferrolb controller metrics', controllerMetricsPort]);
    for (const [what, port] of wanted) {
      if (!(await portFree(port))) throw new LabError('port-taken', `port ${port} on 127.0.0.1 (${what}) is already in use; free it and retry`);
    }
    const binDir = binaries();
    const nodeBins = realCount > 0 ? { ...nodeBuild(labDir), extraImages: opts.ferrolbImage ? [ferrolbImageBuild(labDir)] : [] } : undefined;
    createPki();
    createControlNamespace();
    startEtcd(binDir);
    startApiserver(binDir, { realNodes: realCount > 0 });
    startApiRelays();
    startWebhookRelays(webhookPort);
    // The network is built while etcd and the API server boot: `up`'s time is the
    // API server's start-up, not the sum.
    createNetwork(opts.nodes);
    const nodes = Array.from({ length: opts.nodes }, (_, i) => nodeHost(i + 1));
    for (const n of nodes) startNodeRelay(n);
    // Real nodes are the last ones: node-1.. stay the agent's, as before.
    const real = nodes.slice(opts.nodes - realCount);
    const played = nodes.slice(0, opts.nodes - realCount);

    const kube = new Kube(tlsMaterial('admin'));
    try {
      await waitFor('the API server (/healthz and the default namespace)', 60_000, async () => {
        requireAlive('etcd');
        requireAlive('kube-apiserver');
        return apiserverReady(kube);
      }, 200);
      for (const n of played) {
        try {
          await kube.create('/api/v1/nodes', nodeObject(n));
        } catch (err) {
          if (!isStatus(err, 409)) throw err;
        }
      }
      // The API server creates kube-system itself, a moment after it is ready.
      await waitFor('the kube-proxy ConfigMap in kube-system', 20_000, async () => {
        try {
          await kube.create('/api/v1/namespaces/kube-system/configmaps', kubeProxyConfigMap(opts.proxyMode, opts.strictArp));
        } catch (err) {
          if (isStatus(err, 404)) return undefined;
          if (!isStatus(err, 409)) throw err;
        }
        return true;
      }, 100);
      if (bgpRouter) {
        if (bgpRouter.kind === 'frr') allowRouterUser();
        bgpRouter.start(nodes);
      }
      daemon('agent', nodeBinary, [join(labDir, 'src', 'agent', 'main.ts'), String(opts.nodes), stateDir, real.map((n) => n.index).join(',')]);
      if (real.length > 0) {
        startScheduler(nodeBins!.binDir, createIdentity('kube-scheduler', { cn: 'system:kube-scheduler', groups: [] }));
        startControllerManager(nodeBins!.binDir, createIdentity('kube-controller-manager', { cn: 'system:kube-controller-manager', groups: [] }));
      }
      for (const n of nodes) startKubeProxy(binDir, n, opts.proxyMode, opts.strictArp);
      // A kube-proxy waits for its Node object, which on a real node its kubelet creates.
      for (const n of real) await startRealNode(n, nodeBins!, createNodeIdentity(n.name));
      await waitFor('the agent (the lab\'s kubelet)', 30_000, () => {
        requireAlive('agent');
        return existsSync(paths.agentReady) ? true : undefined;
      });
      await waitFor('kube-proxy on every node', 60_000, () => {
        for (const n of nodes) requireAlive(`kube-proxy-${n.name}`);
        return nodes.every(kubeProxyHealthy) ? true : undefined;
      }, 200);
      if (real.length > 0) {
        await waitFor('the kubelet on every real node (healthz, its Node Ready and untainted), kube-scheduler and kube-controller-manager (the default ServiceAccount)', 120_000, async () => {
          if (!real.every(kubeletHealthy) || !schedulerHealthy() || !controllerManagerHealthy()) return undefined;
          for (const n of real) {
            const node = await kube.get<{ spec?: { taints?: { key: string }[] }; status?: { conditions?: { type: string; status: string }[] } }>(`/api/v1/nodes/${n.name}`).catch(() => undefined);
            if (!node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return undefined;
            // Schedulable: the node lifecycle controller has lifted the not-ready taint.
            if (node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready')) return undefined;
          }
          // ServiceAccount admission refuses pods in a namespace until its `default`
          // ServiceAccount exists; kube-controller-manager creates it.
          return (await kube.get('/api/v1/namespaces/default/serviceaccounts/default').catch(() => undefined)) ? true : undefined;
        }, 500);
      }
      if (bgpRouter) {
        await waitFor(`the router (${bgpRouter.kind})`, 20_000, () => {
          for (const d of bgpRouter.daemons) requireAlive(d);
          return bgpRouter.ready() ? true : undefined;
        }, 200);
      }
      if (opts.ferrolb) {
        installFerrolb(binDir);
        writeFileSync(join(stateDir, 'webhook.yaml'), labWebhookConfiguration());
        startController();
        for (const n of nodes) startSpeaker(n);
        await waitFor('the ferrolb controller (/healthz)', 30_000, async () => {
          requireAlive('ferrolb-controller');
          return controllerHealthy();
        }, 200);
        await waitFor('a ferrolb speaker on every node (/healthz)', 30_000, () => {
          for (const n of nodes) requireAlive(speakerName(n));
          return nodes.every(speakerHealthy) ? true : undefined;
        }, 200);
      }
    } finally {
      kube.close();
    }
    const info: LabInfo = { nodes: opts.nodes, proxyMode: opts.proxyMode, strictArp: opts.strictArp, ferrolb: opts.ferrolb, binDir, startedAt: new Date().toISOString(), ...(realCount > 0 ? { realNodes: realCount } : {}), ...(routerKind ? { router: routerKind } : {}) };
    writeFileSync(paths.info, JSON.stringify(info, null, 2) + '\n');
    writeLock('ready');
    say(`lab: up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${opts.nodes} nodes, kube-proxy ${opts.proxyMode}${opts.proxyMode === 'ipvs' ? ` (strictARP ${opts.strictArp})` : ''}${realCount > 0 ? `, ${realCount} real (kubelet + containerd)` : ''}${opts.ferrolb ? ', ferrolb controller and a speaker per node' : ''}`);
  } catch (err) {
    process.stderr.write(`lab: up failed; tearing down\n`);
    await down(() => {}, { force: true });
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// ---- down ----------------------------------------------------------------------

function netnsInodes(): Map<number, string> {
  const out = new Map<number, string>();
  for (const n of labNetns()) {
    try {
      out.set(statSync(join('/run/netns', n)).ino, n);
    } catch {
      // deleted meanwhile
    }
  }
  return out;
}

/** Every process that belongs to the lab, found three independent ways. */
export function labProcesses(): number[] {
  const found = new Set<number>();
  try {
    for (const f of readdirSync(paths.pids)) {
      const pid = Number(readFileSync(join(paths.pids, f), 'utf8').trim());
      if (pid > 1 && running(pid)) found.add(pid);
    }
  } catch {
    // no pid files: a crash before the first daemon, or already down
  }
  const inodes = netnsInodes();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(stateDir + '/') || cmdline.split('\0').includes(stateDir)) {
        found.add(pid);
        continue;
      }
      const net = readlinkSync(`/proc/${pid}/ns/net`); // "net:[4026532283]"
      const ino = Number(net.slice(5, -1));
      if (inodes.has(ino)) found.add(pid);
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  for (const pid of ancestors()) found.delete(pid);
  return [...found];
}

// A killed process whose parent has not reaped it yet is a zombie: it holds nothing
// (no sockets, no namespace), so it counts as gone.
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function stopProcesses(): Promise<number> {
  // SIGKILL at once: nothing in the lab has state worth a graceful exit (etcd's data is
  // deleted next), and the API server's graceful shutdown alone takes seconds.
  let total = 0;
  // Bounded sweeps: a process may fork (socat forks per connection) while we kill, so
  // look again until a sweep finds nothing.
  for (let sweep = 0; sweep < 5; sweep++) {
    const pids = labProcesses();
    if (pids.length === 0) return total;
    total += pids.length;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (let i = 0; i < 30 && pids.some(running); i++) await sleep(50);
  }
  const stuck = labProcesses();
  if (stuck.length > 0) throw new LabError('stuck', `lab processes survive SIGKILL: ${stuck.join(', ')}`);
  return total;
}

export async function down(say: (line: string) => void, opts: { force?: boolean } = {}): Promise<void> {
  requireRoot();
  if (!opts.force) requireNotHeldByTests();
  const started = Date.now();
  const stopped = await stopProcesses();
  // Real nodes' containers live in cgroups of their own, outside the lab's namespaces.
  const real = await cleanupRealNodes();
  // Pods first, the LAN last: deleting a namespace deletes its veth ends.
  const names = labNetns().sort((a, b) => rank(a) - rank(b));
  for (const n of names) run('ip', ['netns', 'del', n]);
  const left = labNetns();
  if (left.length > 0) throw new LabError('netns-left', `could not delete namespaces: ${left.join(', ')}`);
  // Every firewall table the lab's kube-proxies made lives in a node namespace and went
  // with it; the lab adds none to the host's own namespace.
  rmSync(stateDir, { recursive: true, force: true });
  say(`lab: down in ${((Date.now() - started) / 1000).toFixed(1)} s (${stopped} processes stopped, ${names.length} namespaces removed${real.cgroups > 0 ? `, ${real.processes} container processes stopped, ${real.cgroups} cgroups removed` : ''})`);
}

function rank(netns: string): number {
  if (netns.startsWith(`${netnsPrefix}pod-`)) return 0;
  if (netns === lanNetns) return 2;
  return 1;
}

