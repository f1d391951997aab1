// Real nodes (`lab/lab up --real-nodes K`): the last K lab nodes run a real kubelet and
// a real CRI runtime (Debian's containerd with runc, Debian's CNI plugins) inside their
// network namespace, instead of being played by the agent. See docs/LAB.md.
//
// Each real node is an island that the machine never sees:
//   - one private mount namespace per node holds containerd, its shims and the
//     kubelet; every mount they make (image snapshots, sandbox /dev/shm, the kubelet's
//     rshared root dir, the pods' network namespace files and the shims' sockets, on
//     tmpfs mounts over /run/netns and /run/containerd)
//     lives only there and goes when the last process in it exits;
//   - the kernel tunables the kubelet insists on (vm.overcommit_memory=1, kernel.panic=10,
//     kernel.panic_on_oops=1, ...) are machine-wide; in that mount namespace the files
//     under /proc/sys are covered by bind mounts of files holding the wanted values,
//     so the kubelet is satisfied and the machine's settings stay untouched;
//   - its pods' cgroups sit under /ferrolb-<node> in each of the machine's cgroup v1
//     hierarchies (created here, removed by down; the machine's hierarchy is not
//     remounted or reshaped);
//   - state under /run/ferrolb-lab/nodes/<node>.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { paths, podRange, serviceCidr, serviceCidrV6, stateDir, type Host } from './layout.ts';
import { LabError, daemon, isAlive, must, run, sleep, waitFor } from './run.ts';

export const images = {
  pause: 'lab.ferrolb.io/pause:1',
  hostname: 'lab.ferrolb.io/hostname:1',
  ferrolb: 'lab.ferrolb.io/ferrolb:dev', // with up --ferrolb-image
  // deploy/ names it `ferrolb:dev`, what `docker build -t ferrolb:dev .` makes; the CRI
  // normalizes that reference to this.
  ferrolbAsDeployed: 'docker.io/library/ferrolb:dev',
} as const;

const cgroupFs = '/sys/fs/cgroup';

export function realNodeDir(node: Host): string {
  return join(stateDir, 'nodes', node.name);
}

/** The kubelet's cgroupRoot: one directory per v1 hierarchy, named after the node. */
export function cgroupRoot(node: Host): string {
  return `/ferrolb-${node.name}`;
}

const socket = (node: Host) => join(realNodeDir(node), 'containerd.sock');

/** Builds (or finds cached) kubelet and images: lab/build-node.sh. */
export function nodeBuild(labDir: string): { binDir: string; imageDir: string } {
  const r = spawnSync('bash', [join(labDir, 'build-node.sh'), 'kubelet', 'kube-scheduler', 'kube-controller-manager'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 60 * 60_000 });
  const lines = (r.stdout ?? '').trim().split('\n');
  const imageDir = lines.pop() ?? '';
  const binDir = lines.pop() ?? '';
  if (r.status !== 0 || !existsSync(join(binDir, 'kubelet')) || !existsSync(join(binDir, 'kube-scheduler')) || !existsSync(join(binDir, 'kube-controller-manager')) || !existsSync(join(imageDir, 'pause.tar'))) {
    throw new LabError('build-failed', `lab/build-node.sh failed (exit ${r.status}); see its output above`);
  }
  return { binDir, imageDir };
}

/** Builds (or finds cached) the ferrolb image from the repository's Dockerfile: lab/build-image.sh. */
export function ferrolbImageBuild(labDir: string): string {
  const r = spawnSync('bash', [join(labDir, 'build-image.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 60 * 60_000 });
  const archive = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !existsSync(archive)) throw new LabError('build-failed', `lab/build-image.sh failed (exit ${r.status}); see its output above`);
  return archive;
}

export function requireRuntime(): void {
  const tools: Record<string, string> = { containerd: 'containerd', ctr: 'containerd', runc: 'runc', unshare: 'util-linux', nsenter: 'util-linux' };
  const missing = Object.entries(tools).filter(([t]) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (!existsSync('/usr/lib/cni/bridge')) missing.push(['/usr/lib/cni/bridge', 'containernetworking-plugins']);
  if (missing.length > 0) {
    throw new LabError('missing-tool', `real nodes need ${missing.map(([t]) => t).join(', ')}; install with: apt-get install -y ${[...new Set(missing.map(([, p]) => p))].join(' ')}`);
  }
  if (!existsSync(join(cgroupFs, 'memory')) || !existsSync(join(cgroupFs, 'cpu'))) {
    throw new LabError('no-cgroup-v1', `real nodes expect cgroup v1 hierarchies under ${cgroupFs} (memory, cpu, ...); this machine has none`);
  }
}

/** The machine's v1 hierarchies (cpu, memory, ..., name=systemd) plus the unified one. */
function hierarchies(): string[] {
  try {
    return readdirSync(cgroupFs).filter((d) => {
      try {
        return statSync(join(cgroupFs, d)).isDirectory() && existsSync(join(cgroupFs, d, 'cgroup.procs'));
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

function createCgroups(node: Host): void {
  for (const h of hierarchies()) {
    if (h === 'unified') continue; // v1 node: the kubelet and runc use only the v1 hierarchies
    const dir = join(cgroupFs, h, cgroupRoot(node));
    mkdirSync(dir, { recursive: true });
    if (h === 'cpuset') {
      // A new cpuset is empty and accepts no task until given CPUs and memory nodes.
      for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, f), readFileSync(join(cgroupFs, h, f), 'utf8'));
    }
  }
}

// The values kubelet's container manager requires (setupKernelTunables).
const tunables: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'vm/panic_on_oom': '0',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'kernel/keys/root_maxkeys': '1000000',
  'kernel/keys/root_maxbytes': '25000000',
};

function writeContainerdConfig(node: Host): string {
  const dir = realNodeDir(node);
  const file = join(dir, 'containerd.toml');
  writeFileSync(file, `version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${socket(node)}"

[ttrpc]
  address = "${socket(node)}.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${images.pause}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  max_container_log_line_size = 16384
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni/net.d"
    max_conf_num = 1
`);
  return file;
}

function writeCniConfig(node: Host): void {
  const dir = realNodeDir(node);
  const range = podRange(node.index);
  mkdirSync(join(dir, 'cni', 'net.d'), { recursive: true });
  mkdirSync(join(dir, 'cni', 'ipam'), { recursive: true });
  // The node's pod bridge cbr0 already exists (network.ts) with the /26's first address;
  // the bridge plugin attaches pods to it, host-local hands out .2 and up.
  writeFileSync(join(dir, 'cni', 'net.d', '10-lab.conflist'), JSON.stringify({
    cniVersion: '0.4.0',
    name: 'lab',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cbr0',
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: range.cidr, gateway: range.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: join(dir, 'cni', 'ipam'),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2) + '\n');
}

function writeKubeletConfig(node: Host): string {
  const dir = realNodeDir(node);
  const file = join(dir, 'kubelet.yaml');
  writeFileSync(file, `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# Kubernetes 1.35+ refuses cgroup v1 unless told otherwise; this machine has only v1.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: ${cgroupRoot(node)}
cgroupsPerQOS: true
containerRuntimeEndpoint: unix://${socket(node)}
address: ${node.v4}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
  x509:
    clientCAFile: ${join(paths.pki, 'ca.crt')}
authorization:
  mode: AlwaysAllow
podCIDR: ${podRange(node.index).cidr}
podLogsDir: ${dir}/pod-logs
# Everything the kubelet writes stays in the node's directory (the default would create
# /usr/libexec/kubernetes/kubelet-plugins on the machine).
volumePluginDir: ${dir}/kubelet/volume-plugins
resolvConf: ""
failSwapOn: false
protectKernelDefaults: false
maxPods: 61
serializeImagePulls: false
# Images are never pulled (there is no registry): keep every imported one.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
imageMinimumGCAge: 87600h
evictionHard:
  memory.available: "50Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
  nodefs.inodesFree: "1%"
syncFrequency: 10s
fileCheckFrequency: 20s
nodeStatusReportFrequency: 10s
shutdownGracePeriod: 0s
`);
  return file;
}

// The script that becomes each node's private mount namespace. It runs under
// `nsenter --net=NODE unshare --mount --propagation private`, covers the kernel
// tunables and /run/netns, then execs the holder that keeps the namespace alive.
function namespaceScript(node: Host): string {
  const dir = realNodeDir(node);
  const lines = ['set -e', `mkdir -p ${dir}/sysctl`];
  for (const [k, v] of Object.entries(tunables)) {
    const f = `${dir}/sysctl/${k.replaceAll('/', '.')}`;
    lines.push(`echo ${v} > ${f}`, `mount --bind ${f} /proc/sys/${k}`);
  }
  // Pod network namespaces (containerd names them /run/netns/cni-...) stay in here.
  lines.push('mkdir -p /run/netns', 'mount -t tmpfs -o mode=755,size=1m lab-netns /run/netns');
  // So do the shims' sockets and runc's state, which containerd 1.6 keeps under
  // /run/containerd whatever its configured state directory.
  lines.push('mkdir -p /run/containerd', 'mount -t tmpfs -o mode=711,size=16m lab-containerd /run/containerd');
  // Paths the kubelet and libcni use whatever their configuration says (the device
  // manager's socket directory, the /var/log/containers symlinks, CNI's result cache)
  // are the node's own directories in here.
  for (const [path, own] of hardcodedDirs) lines.push(`mkdir -p ${dir}/${own}`, `mount --bind ${dir}/${own} ${path}`);
  lines.push(`echo ready > ${dir}/mntns.ready`, 'exec sleep 2147483647');
  return lines.join('\n');
}

const hardcodedDirs: [string, string][] = [
  ['/var/lib/kubelet', 'var-lib-kubelet'],
  ['/var/log/containers', 'var-log-containers'],
  ['/var/lib/cni', 'var-lib-cni'], // libcni's result cache, which containerd 1.6 does not move
];
// Mount points in the private mount namespace must exist on the machine's file system:
// those up had to create are listed here, and down removes them again (if empty).
const createdDirsFile = join(stateDir, 'nodes', 'created-dirs');

function createMountPoints(): void {
  const created: string[] = [];
  for (const d of ['/run/netns', '/run/containerd', ...hardcodedDirs.map(([p]) => p)]) {
    if (existsSync(d)) continue;
    mkdirSync(d, { recursive: true });
    created.push(d);
  }
  let before: string[] = [];
  try {
    before = readFileSync(createdDirsFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    // first real node
  }
  mkdirSync(join(stateDir, 'nodes'), { recursive: true });
  writeFileSync(createdDirsFile, [...before, ...created].join('\n') + '\n');
}

function removeMountPoints(): void {
  let dirs: string[] = [];
  try {
    dirs = readFileSync(createdDirsFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    return;
  }
  for (const d of dirs.reverse()) {
    try {
      rmdirSync(d); // only if empty: never removes anything but what up created
    } catch {
      // not empty, or gone
    }
  }
}

function holderPid(node: Host): number {
  return Number(readFileSync(join(paths.pids, `mntns-${node.name}.pid`), 'utf8').trim());
}

/** nsenter into the node's network and mount namespaces (the holder's), then CMD. */
function inNode(node: Host, cmd: string, args: readonly string[]): [string, string[]] {
  // nsenter and unshare (without --fork) exec in place: the daemon's pid is the shell,
  // then the sleep that holds the namespace.
  const holder = holderPid(node);
  return ['nsenter', [`--net=/run/netns/${node.netns}`, `--mount=/proc/${holder}/ns/mnt`, '--', cmd, ...args]];
}

export function ctr(node: Host, args: readonly string[], timeoutMs = 60_000): string {
  const [cmd, a] = inNode(node, 'ctr', ['--address', socket(node), '--namespace', 'k8s.io', ...args]);
  return must(cmd, a, { timeoutMs });
}

/**
 * An image reference as the CRI stores it: `ferrolb:dev` is `docker.io/library/ferrolb:dev`,
 * `org/app:1` is `docker.io/org/app:1`; one with a registry (a first part with a dot
 * or a port, or localhost) stays as it is. A reference without a tag gets `latest`.
 */
export function normalizeImageRef(ref: string): string {
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/.test(ref)) throw new LabError('bad-image', `"${ref}" is not an image reference (like ferrolb:dev or registry.example/ferrolb:v1)`);
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const named = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost') ? ref : `docker.io/${slash < 0 ? 'library/' : ''}${ref}`;
  const last = named.slice(named.lastIndexOf('/') + 1);
  return last.includes(':') || last.includes('@') ? named : `${named}:latest`;
}

/**
 * Gives an image already on a real node a second name in its containerd (`ctr images
 * tag`): the same image under a new tag, as a registry push of a new tag would offer
 * it, without a registry. Refuses, naming the node, when the source is not there.
 */
export function tagImage(node: Host, src: string, dst: string): void {
  const from = normalizeImageRef(src);
  const to = normalizeImageRef(dst);
  const [cmd, a] = inNode(node, 'ctr', ['--address', socket(node), '--namespace', 'k8s.io', 'images', 'ls', '-q']);
  const present = must(cmd, a, { timeoutMs: 30_000 }).split('\n');
  if (!present.includes(from)) throw new LabError('no-image', `${node.name} has no image ${from} (it has: ${present.filter((i) => i && !i.startsWith('sha256:')).join(', ')})`);
  ctr(node, ['images', 'tag', '--force', from, to]);
}

export async function startRealNode(node: Host, bins: { binDir: string; imageDir: string; extraImages?: string[] }, kubeconfig: string): Promise<void> {
  const dir = realNodeDir(node);
  for (const d of ['containerd', 'kubelet', 'pod-logs']) mkdirSync(join(dir, d), { recursive: true });
  createCgroups(node);
  createMountPoints();
  writeCniConfig(node);
  const containerdConfig = writeContainerdConfig(node);
  const kubeletConfig = writeKubeletConfig(node);

  daemon(`mntns-${node.name}`, 'nsenter', [`--net=/run/netns/${node.netns}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', namespaceScript(node)]);
  await waitFor(`the mount namespace of ${node.name}`, 10_000, () => {
    if (!isAlive(holderPid(node))) throw new LabError('daemon-died', `the mount namespace holder of ${node.name} exited (log: ${join(paths.logs, `mntns-${node.name}.log`)})`);
    return existsSync(join(dir, 'mntns.ready')) ? true : undefined;
  }, 50);

  const [c, ca] = inNode(node, 'containerd', ['--config', containerdConfig]);
  daemon(`containerd-${node.name}`, c, ca);
  await waitFor(`containerd on ${node.name}`, 30_000, () => {
    requireUp(`containerd-${node.name}`);
    return run(...inNode(node, 'ctr', ['--address', socket(node), 'version']), { timeoutMs: 5000 }).status === 0 ? true : undefined;
  }, 200);
  for (const image of ['pause', 'hostname']) {
    ctr(node, ['images', 'import', '--snapshotter', 'overlayfs', join(bins.imageDir, `${image}.tar`)]);
  }
  for (const archive of bins.extraImages ?? []) ctr(node, ['images', 'import', '--snapshotter', 'overlayfs', archive], 120_000);
  if ((bins.extraImages ?? []).length > 0) ctr(node, ['images', 'tag', '--force', images.ferrolb, images.ferrolbAsDeployed]);

  const [k, ka] = inNode(node, join(bins.binDir, 'kubelet'), [
    `--config=${kubeletConfig}`,
    `--kubeconfig=${kubeconfig}`,
    `--root-dir=${dir}/kubelet`,
    `--cert-dir=${dir}/kubelet/pki`,
    `--hostname-override=${node.name}`,
    `--node-ip=${node.v4}`,
    '--v=1',
  ]);
  daemon(`kubelet-${node.name}`, k, ka);
}

function requireUp(name: string): void {
  let pid = 0;
  try {
    pid = Number(readFileSync(join(paths.pids, `${name}.pid`), 'utf8').trim());
  } catch {
    return;
  }
  if (pid > 0 && !isAlive(pid)) {
    let last = '';
    try {
      last = readFileSync(join(paths.logs, `${name}.log`), 'utf8').trim().split('\n').slice(-3).join(' | ');
    } catch {
      // no log
    }
    throw new LabError('daemon-died', `${name} exited: ${last} (log: ${join(paths.logs, `${name}.log`)})`);
  }
}

/**
 * The real kube-scheduler (same pin), on the host, as system:kube-scheduler (the
 * bootstrap RBAC binds that user to what it needs). With real nodes it replaces the
 * agent's scheduler, for played and real nodes alike.
 */
export function startScheduler(binDir: string, kubeconfig: string): void {
  daemon('kube-scheduler', join(binDir, 'kube-scheduler'), [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--secure-port=10259',
    '--v=1',
  ]);
}

/**
 * The real kube-controller-manager (same pin) with every on-by-default controller, as
 * kubeadm runs it: Deployments and ReplicaSets, DaemonSets, EndpointSlices, namespaces,
 * garbage collection, ServiceAccounts and the kube-root-ca.crt ConfigMap that projected
 * tokens need, and node lifecycle (it lifts the node.kubernetes.io/not-ready taint that
 * admission puts on a registering kubelet's Node once the kubelet reports Ready). The
 * agent then plays none of these (agent/agent.ts).
 */
export function startControllerManager(binDir: string, kubeconfig: string): void {
  daemon('kube-controller-manager', join(binDir, 'kube-controller-manager'), [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--secure-port=10257',
    '--controllers=*',
    // As kubeadm runs it: each controller acts as its own ServiceAccount in kube-system
    // (tokens by the TokenRequest API), bound by the bootstrap RBAC roles.
    '--use-service-account-credentials=true',
    `--root-ca-file=${join(paths.pki, 'ca.crt')}`,
    `--service-account-private-key-file=${join(paths.pki, 'sa.key')}`,
    `--service-cluster-ip-range=${serviceCidr},${serviceCidrV6}`,
    // A lab's pods and Deployments come and go in seconds; the defaults batch nothing
    // either, but say so: EndpointSlices follow readiness at once.
    '--endpointslice-updates-batch-period=0s',
    '--v=1',
  ]);
}

export function controllerManagerHealthy(): boolean {
  requireUp('kube-controller-manager');
  const r = run('curl', ['-sk', '-m', '1', 'https://127.0.0.1:10257/healthz'], { timeoutMs: 3000 });
  return r.stdout.trim() === 'ok';
}

export function schedulerHealthy(): boolean {
  requireUp('kube-scheduler');
  const r = run('curl', ['-sk', '-m', '1', 'https://127.0.0.1:10259/healthz'], { timeoutMs: 3000 });
  return r.stdout.trim() === 'ok';
}

/** The kubelet answers ok on its healthz port (inside the node). */
export function kubeletHealthy(node: Host): boolean {
  requireUp(`kubelet-${node.name}`);
  requireUp(`containerd-${node.name}`);
  const r = run('ip', ['netns', 'exec', node.netns, 'curl', '-s', '-m', '1', 'http://127.0.0.1:10248/healthz'], { timeoutMs: 3000 });
  return r.stdout.trim() === 'ok';
}

// ---- down ------------------------------------------------------------------------

/** Lab cgroups left in any hierarchy (what down must remove), deepest first. */
export function labCgroups(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) walk(join(dir, e));
    out.push(dir);
  };
  for (const h of hierarchies()) {
    let tops: string[] = [];
    try {
      tops = readdirSync(join(cgroupFs, h)).filter((d) => d.startsWith('ferrolb-node-'));
    } catch {
      continue;
    }
    for (const t of tops) walk(join(cgroupFs, h, t));
  }
  return out;
}

function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Stops what real nodes leave that down's other sweeps cannot see: container processes
 * (their own network namespaces, no lab path on their command line), found by cgroup;
 * then removes the nodes' cgroups. Runs after the lab's processes (kubelet, containerd,
 * shims, mount-namespace holders) are killed, so nothing recreates them.
 */
export async function cleanupRealNodes(): Promise<{ processes: number; cgroups: number }> {
  let killed = 0;
  for (let sweep = 0; sweep < 10; sweep++) {
    const pids = new Set<number>();
    for (const dir of labCgroups()) for (const p of cgroupPids(dir)) pids.add(p);
    if (pids.size === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
        killed++;
      } catch {
        // gone
      }
    }
    await sleep(100);
  }
  const dirs = labCgroups();
  let removed = 0;
  for (const dir of dirs) {
    for (let i = 0; i < 20; i++) {
      try {
        rmdirSync(dir);
        removed++;
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
        await sleep(50); // a killed task leaves its cgroup a moment after it exits
      }
    }
  }
  removeMountPoints();
  const left = labCgroups();
  if (left.length > 0) throw new LabError('cgroups-left', `could not remove cgroups: ${left.slice(0, 3).join(', ')}`);
  return { processes: killed, cgroups: removed };
}
