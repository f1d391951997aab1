// `lab/lab`: the command line of the lab. Every failure is one line on stderr and a
// non-zero exit; usage errors exit 2.
import { routerControl, routerKinds, type RouterKind } from './router.ts';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { client, hosts, identities, kubeconfigPath, lanNetns, maxNodes, paths, podRange, proxyModes, router, type Host, type Identity, type ProxyMode, nodeHost } from './layout.ts';
import { LabError, isAlive, run, waitFor } from './run.ts';
import { down, labProcesses, readInfo, requireRoot, up } from './lifecycle.ts';
import { netnsExists, setLink } from './network.ts';
import { Kube, isStatus } from './kube.ts';
import { tlsMaterial } from './certs.ts';
import { apiserverReady, kubeProxyHealthy } from './controlplane.ts';
import { podPidFile } from './agent/pod-runtime.ts';
import { ctr, images, normalizeImageRef, tagImage } from './realnode.ts';
import { deafen, frozenCount, heal, partitions, signalNode } from './faults.ts';

const usage = `usage: lab/lab COMMAND [ARGS]
  up [--nodes N] [--proxy-mode nftables|iptables|ipvs] [--strict-arp true|false] [--ferrolb] [--real-nodes K] [--router R]
                         start the lab (builds the binaries first if a pin changed);
                         --ferrolb also installs and runs ferrolb's controller and speakers;
                         --real-nodes K: the last K nodes run a real kubelet and containerd
                         (default: all of them; 0: every node played by the lab's agent,
                         which starts in seconds and is what most tests use);
                         --ferrolb-image: build the Dockerfile's image (buildah) and load it there;
                         --router bird|frr|gobgp: the BGP router (default bird)
  down                   stop everything and remove every namespace, process and file
  status                 hosts, addresses, processes, health
  kubeconfig [admin|controller|speaker]
                         print the path of that identity's kubeconfig
  kubectl ARGS...        kubectl as admin
  exec HOST CMD...       run a command in a lab host (client, router, node-1, ...)
  deploy NAME [--replicas N] [--namespace NS]
                         a Deployment whose pods answer HTTP on port 80 with their name
  pod stop NAME [--namespace NS]
                         crash a pod's container: it turns not ready (a real node's kubelet restarts it)
  link HOST up|down      cut or restore a host's LAN link
  partition A B [--one-way] [--all]
                         A stops hearing B's membership heartbeats (and B A's, unless
                         --one-way); the LAN stays up. --all drops every packet instead
  heal [HOST...]         remove the partitions of those hosts (default: every host)
  freeze NODE | thaw NODE
                         SIGSTOP / SIGCONT every process of a node (speaker, kube-proxy,
                         kubelet, pods): a hung machine whose NIC is still up
  image tag SRC DST      give an image on every real node a second name (ctr images tag),
                         e.g. ferrolb:dev ferrolb:next for an upgrade to a new tag`;

class UsageError extends LabError {
  constructor(message: string) {
    super('usage', message);
  }
}

// `lab/lab status | head`: once the reader has gone, the rest of the output has no one to
// read it. Stop writing instead of dying on an unhandled EPIPE with a stack trace, and
// finish the command (an `up` or `down` cut short would leave half a lab).
let readerGone = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  readerGone = true;
});

function say(line: string): void {
  if (!readerGone) process.stdout.write(line + '\n');
}

function info() {
  const i = readInfo();
  if (!i) throw new LabError('not-up', 'the lab is not up; run lab/lab up');
  return i;
}

function hostByName(name: string | undefined): Host {
  const i = info();
  const all = hosts(i.nodes);
  const h = all.find((x) => x.name === name);
  if (!h) throw new UsageError(`unknown host "${name ?? ''}"; hosts: ${all.map((x) => x.name).join(', ')}`);
  return h;
}

function parse(args: string[], options: ParseArgsOptionsConfig, positionals = 0): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true }) as { values: Record<string, string | boolean | undefined>; positionals: string[] };
    if (r.positionals.length > positionals) throw new Error(`unexpected argument "${r.positionals[positionals]}"`);
    return r;
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

function intOption(v: unknown, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(String(v)) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${String(v)}"`);
  return n;
}

function passthrough(cmd: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: env ?? process.env });
  if (r.error) throw new LabError('exec-failed', `${cmd}: ${r.error.message}`);
  return r.status ?? 128 + 1;
}

async function cmdUp(args: string[]): Promise<number> {
  const { values } = parse(args, {
    nodes: { type: 'string' },
    'proxy-mode': { type: 'string' },
    'strict-arp': { type: 'string' },
    ferrolb: { type: 'boolean' },
    'real-nodes': { type: 'string' },
    'ferrolb-image': { type: 'boolean' },
    router: { type: 'string' },
  });
  const routerKind = values['router'] as RouterKind | undefined;
  if (routerKind !== undefined && !routerKinds.includes(routerKind)) throw new UsageError(`--router must be one of ${routerKinds.join(', ')}, not "${String(routerKind)}"`);
  const nodes = intOption(values['nodes'], 'nodes', 1, maxNodes, 3);
  // Real nodes by default, as a local cluster (kind, kubeadm) gives; the played ones are
  // a flag away for tests that want seconds, not tens of seconds.
  const realNodes = intOption(values['real-nodes'], 'real-nodes', 0, nodes, nodes);
  const proxyMode = (values['proxy-mode'] ?? 'nftables') as ProxyMode;
  if (!proxyModes.includes(proxyMode)) throw new UsageError(`--proxy-mode must be one of ${proxyModes.join(', ')}, not "${String(proxyMode)}"`);
  const sa = values['strict-arp'] ?? 'false';
  if (sa !== 'true' && sa !== 'false') throw new UsageError(`--strict-arp must be true or false, not "${String(sa)}"`);
  await up({ nodes, proxyMode, strictArp: sa === 'true', ferrolb: values['ferrolb'] === true, realNodes, ferrolbImage: values['ferrolb-image'] === true, ...(routerKind ? { router: routerKind } : {}) }, say);
  say(`
  kubectl:     lab/lab kubectl get nodes
  a workload:  lab/lab deploy hostname-deployment --replicas 3
               lab/lab kubectl expose deployment hostname-deployment --port 80 --type LoadBalancer
  from the LAN: lab/lab exec client curl -s http://${nodeHost(1).v4}:NODEPORT
  hosts:       router ${router.v4}, client ${client.v4}, node-1..${nodes} ${nodeHost(1).v4}..${nodeHost(nodes).v4}
  pools free:  198.18.0.200-198.18.0.254, 198.18.1.0/24 (and 2001:db8:18::200-2ff)
  stop:        lab/lab down`);
  return 0;
}

async function cmdDeploy(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { replicas: { type: 'string' }, namespace: { type: 'string', short: 'n' } }, 1);
  const name = positionals[0];
  if (!name || !/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(name)) throw new UsageError(`deploy needs a NAME of lowercase letters, digits and '-' (at most 42), not "${name ?? ''}"`);
  const replicas = intOption(values['replicas'], 'replicas', 0, 60, 1);
  const namespace = String(values['namespace'] ?? 'default');
  info();
  const kube = new Kube(tlsMaterial('admin'));
  try {
    try {
      await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
    // The shape `kubectl create deployment NAME --image=...` makes: label app=NAME,
    // one container named after the deployment. The image is the lab's hostname server
    // (lab/images/hostname), loaded into every real node; on a played node the agent's
    // pod server stands in for it, answering the same way. Real kubelets probe it.
    await kube.create(`/apis/apps/v1/namespaces/${namespace}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels: { app: name } },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [{
              name,
              image: images.hostname,
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 1 },
            }],
          },
        },
      },
    }).catch((err: unknown) => {
      if (isStatus(err, 409)) throw new LabError('exists', `deployment ${namespace}/${name} already exists`);
      throw err;
    });
    say(`deployment.apps/${name} created`);
    // Wait for the pods, so the next command (expose, curl) finds them serving.
    // Real nodes start containers in seconds; the first pod of a cold node takes longer.
    await waitFor(`${replicas} ready pods of ${namespace}/${name}`, info().realNodes ? 120_000 : 30_000, async () => {
      const d = await kube.get<{ status?: { readyReplicas?: number } }>(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
      return (d.status?.readyReplicas ?? 0) === replicas ? true : undefined;
    }, 200);
    say(`${replicas}/${replicas} pods ready`);
  } finally {
    kube.close();
  }
  return 0;
}

async function cmdStatus(): Promise<number> {
  const i = readInfo();
  if (!i) {
    const procs = labProcesses().length;
    say(`lab: down${procs > 0 ? ` (but ${procs} lab processes remain: run lab/lab down)` : ''}`);
    return procs > 0 ? 1 : 0;
  }
  say(`lab: up since ${i.startedAt}, ${i.nodes} nodes, kube-proxy ${i.proxyMode}${i.proxyMode === 'ipvs' ? ` strictARP=${i.strictArp}` : ''}`);
  say(`binaries: ${i.binDir}`);
  say('hosts:');
  for (const h of hosts(i.nodes)) {
    const link = run('ip', ['-n', lanNetns, '-br', 'link', 'show', h.name]).stdout.trim().split(/\s+/)[1] ?? 'missing';
    const frozen = h.role === 'node' ? frozenCount(h) : 0;
    const extra = h.role === 'node' ? `  pods ${podRange(h.index).cidr}  kube-proxy ${kubeProxyHealthy(h) ? 'healthy' : 'NOT healthy'}${frozen > 0 ? `  FROZEN (${frozen} processes stopped)` : ''}` : '';
    say(`  ${h.name.padEnd(8)} ${h.v4.padEnd(13)} ${h.v6.padEnd(18)} link ${link.toLowerCase()}${extra}`);
    for (const rule of partitions(h)) say(`           partitioned: ${rule}`);
  }
  say('processes:');
  const daemons = ['etcd', 'kube-apiserver', 'relay-host', 'agent', ...Array.from({ length: i.nodes }, (_, k) => `kube-proxy-node-${k + 1}`)];
  if (i.router) daemons.push(...routerControl(i.router).daemons);
  for (let k = i.nodes - (i.realNodes ?? 0) + 1; k <= i.nodes; k++) daemons.push(`containerd-node-${k}`, `kubelet-node-${k}`);
  if (i.realNodes) daemons.push('kube-scheduler', 'kube-controller-manager');
  if (i.ferrolb) daemons.push('ferrolb-controller', ...Array.from({ length: i.nodes }, (_, k) => `ferrolb-speaker-node-${k + 1}`));
  for (const f of daemons) {
    let pid = 0;
    try {
      pid = Number(readFileSync(join(paths.pids, `${f}.pid`), 'utf8').trim());
    } catch {
      // never started
    }
    say(`  ${f.padEnd(18)} ${pid > 0 && isAlive(pid) ? `running (pid ${pid})` : 'NOT running'}`);
  }
  const kube = new Kube(tlsMaterial('admin'));
  try {
    const ok = await apiserverReady(kube).catch(() => undefined);
    say(`api server: ${ok ? 'ready' : 'NOT ready'} at https://127.0.0.1:16443`);
  } finally {
    kube.close();
  }
  say(`kubeconfigs: ${identities.map((id) => kubeconfigPath(id)).join(' ')}`);
  return 0;
}

/**
 * Stops a pod's server as if it crashed. A played pod's server is not restarted, so the
 * pod stays not Ready. A real node's container is killed (SIGKILL, through its node's
 * containerd); its kubelet restarts it (restartPolicy Always), so the pod is not Ready
 * until the restarted container passes its readiness probe again, as in a cluster.
 */
async function cmdPod(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { namespace: { type: 'string', short: 'n' } }, 2);
  if (positionals[0] !== 'stop' || !positionals[1]) throw new UsageError('usage: lab/lab pod stop NAME [--namespace NS]');
  const lab = info();
  const ns = String(values['namespace'] ?? 'default');
  const name = positionals[1];
  const file = podPidFile(ns, name);
  if (existsSync(file)) {
    process.kill(Number(readFileSync(file, 'utf8').trim()), 'SIGTERM');
    say(`pod ${ns}/${name}: server stopped; it turns not ready within a second`);
    return 0;
  }
  const kube = new Kube(tlsMaterial('admin'));
  let pod: { spec: { nodeName?: string }; status?: { containerStatuses?: { name: string; containerID?: string; state?: { running?: unknown } }[] } };
  try {
    pod = await kube.get(`/api/v1/namespaces/${ns}/pods/${name}`);
  } catch (err) {
    if (isStatus(err, 404)) throw new LabError('no-pod', `no pod ${ns}/${name} in the lab`);
    throw err;
  } finally {
    kube.close();
  }
  const node = Array.from({ length: lab.realNodes ?? 0 }, (_, k) => nodeHost(lab.nodes - k)).find((n) => n.name === pod.spec.nodeName);
  const running = (pod.status?.containerStatuses ?? []).filter((c) => c.state?.running && c.containerID?.startsWith('containerd://'));
  if (!node || running.length === 0) throw new LabError('no-pod', `pod ${ns}/${name} has no running container on a real node (node ${pod.spec.nodeName ?? 'none'})`);
  for (const c of running) ctr(node, ['tasks', 'kill', '--signal', 'SIGKILL', c.containerID!.slice('containerd://'.length)]);
  say(`pod ${ns}/${name}: container${running.length > 1 ? 's' : ''} ${running.map((c) => c.name).join(', ')} killed on ${node.name}; the kubelet restarts ${running.length > 1 ? 'them' : 'it'}, and the pod is not ready until the readiness probe passes again`);
  return 0;
}

/** `image tag SRC DST` on every real node: a new tag for an upgrade, without a registry. */
function cmdImage(args: string[]): number {
  const [sub, src, dst, ...rest] = args;
  if (sub !== 'tag' || !src || !dst || rest.length > 0) throw new UsageError('usage: lab/lab image tag SRC DST');
  requireRoot();
  const lab = info();
  const real = Array.from({ length: lab.realNodes ?? 0 }, (_, k) => nodeHost(lab.nodes - k)).reverse();
  if (real.length === 0) throw new LabError('no-real-nodes', 'image tag needs real nodes (lab/lab up --real-nodes K); played nodes run no images');
  for (const node of real) tagImage(node, src, dst);
  say(`${normalizeImageRef(dst)}: the image of ${normalizeImageRef(src)}, on ${real.map((n) => n.name).join(', ')}`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'up':
      return cmdUp(args);
    case 'down':
      parse(args, {});
      await down(say);
      return 0;
    case 'status':
      parse(args, {});
      return cmdStatus();
    case 'kubeconfig': {
      if (args.length > 1) throw new UsageError('usage: lab/lab kubeconfig [admin|controller|speaker]');
      const id = (args[0] ?? 'admin') as Identity;
      if (!(identities as readonly string[]).includes(id)) throw new UsageError(`unknown identity "${id}"; identities: ${identities.join(', ')}`);
      info();
      say(kubeconfigPath(id));
      return 0;
    }
    case 'kubectl': {
      const i = info();
      return passthrough(join(i.binDir, 'kubectl'), args, { ...process.env, KUBECONFIG: kubeconfigPath('admin') });
    }
    case 'exec': {
      const [name, ...command] = args;
      requireRoot();
      const h = hostByName(name);
      if (command.length === 0) throw new UsageError('usage: lab/lab exec HOST CMD...');
      if (!netnsExists(h.netns)) throw new LabError('not-up', `host ${h.name} has no namespace (${h.netns}); run lab/lab down and up again`);
      // ip netns exec keeps the environment and the working directory.
      return passthrough('ip', ['netns', 'exec', h.netns, ...command]);
    }
    case 'deploy':
      return cmdDeploy(args);
    case 'pod':
      return cmdPod(args);
    case 'image':
      return cmdImage(args);
    case 'link': {
      requireRoot();
      const [name, state, ...rest] = args;
      const h = hostByName(name);
      if ((state !== 'up' && state !== 'down') || rest.length > 0) throw new UsageError('usage: lab/lab link HOST up|down');
      setLink(h, state === 'up');
      say(`${h.name}: LAN link ${state}`);
      return 0;
    }
    case 'partition': {
      requireRoot();
      const { values, positionals } = parse(args, { 'one-way': { type: 'boolean' }, all: { type: 'boolean' } }, 2);
      if (positionals.length !== 2 || positionals[0] === positionals[1]) throw new UsageError('usage: lab/lab partition A B [--one-way] [--all]');
      const [a, b] = positionals.map((n) => hostByName(n)) as [Host, Host];
      const all = values['all'] === true;
      deafen(a, b, all);
      if (values['one-way'] !== true) deafen(b, a, all);
      const what = all ? 'every packet' : 'membership heartbeats';
      say(values['one-way'] === true ? `${a.name} no longer hears ${b.name} (${what}); ${b.name} still hears ${a.name}` : `${a.name} and ${b.name} no longer hear each other (${what})`);
      return 0;
    }
    case 'heal': {
      requireRoot();
      const i = info();
      const list = args.length > 0 ? args.map((n) => hostByName(n)) : hosts(i.nodes);
      for (const h of list) heal(h);
      say(`healed: ${list.map((h) => h.name).join(', ')}`);
      return 0;
    }
    case 'freeze':
    case 'thaw': {
      requireRoot();
      if (args.length !== 1) throw new UsageError(`usage: lab/lab ${cmd} NODE`);
      const h = hostByName(args[0]);
      const n = signalNode(h, cmd === 'freeze');
      say(`${h.name}: ${n} processes ${cmd === 'freeze' ? 'stopped (SIGSTOP)' : 'continued (SIGCONT)'}`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      say(usage);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${cmd}"; run lab/lab help`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`lab: ${msg}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
