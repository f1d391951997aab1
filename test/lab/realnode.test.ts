// Real nodes (`lab/lab up --real-nodes 1`): node-2 runs a real kubelet v1.37.2 with
// Debian's containerd and runc and Debian's CNI plugins, in its network namespace. A pod
// bound to it runs the lab's own hostname image (built locally, imported without a
// registry), turns Ready by the kubelet's own probe, and answers at its pod IP (from the
// other node) and through a NodePort on either node (from the client); a hostNetwork pod
// sees the node's LAN address; the ferrolb image, built from the repository's Dockerfile
// by buildah (lab/build-image.sh), runs `ferrolb --help` as its non-root user; and
// `lab down` leaves no container, shim, mount, cgroup, namespace or process.
//
// Needs root and the Debian packages containerd, runc, containernetworking-plugins,
// buildah and mmdebstrap (scripts/setup.sh installs them). Without them the suite is skipped, except under
// CI=true, where a skipped lab suite would hide a broken machine: there it fails.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { curlFrom, eventually, freshNamespace, kubectl, kubectlJson, labOk, leftovers, nothingLeft, stateDir, useLab, describeLab } from '../helpers/lab.ts';
import { buildRealNodeInputs, needsRealNodes, kubectlApply } from '../helpers/realnodes.ts';

const realNodeIp = '198.18.0.12'; // node-2
const hostnameImage = 'lab.ferrolb.io/hostname:1';
const ferrolbImage = 'lab.ferrolb.io/ferrolb:dev';

// Paths a kubelet or containerd would create on the machine by default; the lab keeps
// them inside each node's private mount namespace, and down removes the mount points.
const machinePaths = ['/var/lib/kubelet', '/var/log/containers', '/var/log/pods', '/usr/libexec/kubernetes', '/var/lib/containerd', '/run/containerd', '/etc/kubernetes', '/var/lib/cni'];
const machinePathsBefore = machinePaths.filter((p) => existsSync(p));

describeLab('real nodes', { needs: [needsRealNodes] }, () => {
  before(buildRealNodeInputs);
  useLab({ up: ['--nodes', '2', '--real-nodes', '1', '--ferrolb-image'] });

  it('node-2 is registered by its own kubelet (v1.37.2, containerd) and Ready; node-1 stays the agent\'s', () => {
    interface NodeList { items: { metadata: { name: string }; status: { nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string }; addresses: { type: string; address: string }[]; conditions: { type: string; status: string }[] } }[] }
    const nodes = kubectlJson<NodeList>('get', 'nodes').items;
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ['node-1', 'node-2']);
    const real = nodes.find((n) => n.metadata.name === 'node-2')!;
    assert.equal(real.status.nodeInfo.kubeletVersion, 'v1.37.2');
    assert.match(real.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
    assert.ok(real.status.addresses.some((a) => a.type === 'InternalIP' && a.address === realNodeIp));
    assert.equal(real.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    const played = nodes.find((n) => n.metadata.name === 'node-1')!;
    assert.equal(played.status.nodeInfo.containerRuntimeVersion, 'lab://1');
  });

  it('a pod on the real node runs the local image, is Ready by its probe, and answers at its IP and through a NodePort', async () => {
    const ns = freshNamespace('realnode');
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: ns, labels: { app: 'web' } },
      spec: {
        nodeName: 'node-2', // bound to the real node: this test is about its kubelet
        containers: [{
          name: 'web',
          image: hostnameImage,
          imagePullPolicy: 'Never',
          ports: [{ containerPort: 80 }],
          readinessProbe: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 1 },
        }],
      },
    };
    kubectlApply(pod);
    interface Pod { status: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { ready: boolean; started?: boolean; imageID: string }[] } }
    const ready = await eventually('the pod Ready by its readiness probe', 60_000, () => {
      const p = kubectlJson<Pod>('get', 'pod', 'web', '-n', ns);
      return p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    }, 500);
    assert.equal(ready.status.phase, 'Running');
    const ip = ready.status.podIP ?? '';
    // node-2's /26 of the pod range: 198.18.64.64/26, gateway .65 (cbr0).
    assert.match(ip, /^198\.18\.64\.(6[6-9]|[7-9]\d|1[01]\d|12[0-6])$/);
    // Pod ranges are routed between nodes (the client reaches pods through Services).
    assert.equal(await eventually('an answer from the pod IP, from node-1', 10_000, () => curlFrom('node-1', `http://${ip}/`)), 'web');

    kubectl('expose', 'pod', 'web', '--port', '80', '--type', 'NodePort', '-n', ns);
    const nodePort = Number(kubectl('get', 'service', 'web', '-n', ns, '-o', 'jsonpath={.spec.ports[0].nodePort}'));
    for (const node of ['198.18.0.11', realNodeIp]) {
      assert.equal(await eventually(`an answer through ${node}:${nodePort}`, 20_000, () => curlFrom('client', `http://${node}:${nodePort}/`)), 'web');
    }
    kubectl('delete', 'namespace', ns, '--wait=false');
  });

  it('the real kube-scheduler spreads a Deployment over the played and the real node; a NodePort reaches every pod', async () => {
    const ns = freshNamespace('realnode-deploy');
    kubectlApply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'spread', namespace: ns, labels: { app: 'spread' } },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'spread' } },
        template: {
          metadata: { labels: { app: 'spread' } },
          spec: {
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }],
            containers: [{ name: 'web', image: hostnameImage, ports: [{ containerPort: 80 }], readinessProbe: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 1 } }],
          },
        },
      },
    });
    interface PodList { items: { metadata: { name: string }; spec: { nodeName?: string }; status: { conditions?: { type: string; status: string }[] } }[] }
    const pods = await eventually('4 Ready pods', 60_000, () => {
      const list = kubectlJson<PodList>('get', 'pods', '-n', ns, '-l', 'app=spread').items;
      const ready = list.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === 4 ? ready : undefined;
    }, 500);
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec.nodeName ?? '', (perNode.get(p.spec.nodeName ?? '') ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(perNode), { 'node-1': 2, 'node-2': 2 });
    kubectl('expose', 'deployment', 'spread', '--port', '80', '--type', 'NodePort', '-n', ns);
    const nodePort = Number(kubectl('get', 'service', 'spread', '-n', ns, '-o', 'jsonpath={.spec.ports[0].nodePort}'));
    const want = pods.map((p) => p.metadata.name).sort();
    const seen = new Set<string>();
    await eventually('answers from all 4 pods through the NodePort', 30_000, () => {
      const a = curlFrom('client', `http://${realNodeIp}:${nodePort}/`);
      if (a) seen.add(a);
      return want.every((w) => seen.has(w)) ? true : undefined;
    }, 50);
    kubectl('delete', 'namespace', ns, '--wait=false');
  });

  it('a hostNetwork pod runs in the node\'s network namespace and sees its LAN address', async () => {
    const ns = freshNamespace('realnode-host');
    kubectlApply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hostnet', namespace: ns },
      spec: {
        nodeName: 'node-2',
        hostNetwork: true,
        containers: [{
          name: 'web',
          image: hostnameImage,
          imagePullPolicy: 'Never',
          env: [{ name: 'PORT', value: '18080' }],
          readinessProbe: { httpGet: { path: '/healthz', port: 18080 }, periodSeconds: 1 },
        }],
      },
    });
    const ip = await eventually('the hostNetwork pod Ready', 60_000, () => {
      const p = kubectlJson<{ status: { podIP?: string; conditions?: { type: string; status: string }[] } }>('get', 'pod', 'hostnet', '-n', ns);
      return p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p.status.podIP : undefined;
    }, 500);
    assert.equal(ip, realNodeIp);
    const addrs = (await eventually('the pod\'s addresses', 10_000, () => curlFrom('client', `http://${realNodeIp}:18080/addrs`))).split('\n');
    assert.ok(addrs.includes(realNodeIp), `addresses seen by the pod: ${addrs.join(' ')}`);
    assert.ok(addrs.includes('198.18.64.65'), 'the node\'s pod bridge cbr0 is in the same namespace');
    kubectl('delete', 'namespace', ns, '--wait=false');
  });

  it('the real DaemonSet controller puts a hostNetwork pod on every node; the real node\'s runs in its namespace', async () => {
    const ns = freshNamespace('realnode-ds');
    kubectlApply({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'hostds', namespace: ns },
      spec: {
        selector: { matchLabels: { app: 'hostds' } },
        template: {
          metadata: { labels: { app: 'hostds' } },
          spec: {
            hostNetwork: true,
            containers: [{ name: 'web', image: hostnameImage, env: [{ name: 'PORT', value: '18081' }], readinessProbe: { httpGet: { path: '/healthz', port: 18081 }, periodSeconds: 1 } }],
          },
        },
      },
    });
    interface Ds { status?: { desiredNumberScheduled?: number; numberReady?: number } }
    await eventually('the DaemonSet ready on both nodes', 60_000, () => {
      const s = kubectlJson<Ds>('get', 'daemonset', 'hostds', '-n', ns).status;
      return s?.desiredNumberScheduled === 2 && s.numberReady === 2 ? true : undefined;
    }, 500);
    interface PodList { items: { spec: { nodeName?: string }; status: { podIP?: string } }[] }
    const pods = kubectlJson<PodList>('get', 'pods', '-n', ns, '-l', 'app=hostds').items;
    assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), ['node-1', 'node-2']);
    assert.equal(pods.find((p) => p.spec.nodeName === 'node-2')?.status.podIP, realNodeIp);
    const addrs = (await eventually('the real node\'s DaemonSet pod', 10_000, () => curlFrom('client', `http://${realNodeIp}:18081/addrs`))).split('\n');
    assert.ok(addrs.includes(realNodeIp), `addresses seen by the pod: ${addrs.join(' ')}`);
    kubectl('delete', 'namespace', ns, '--wait=false');
  });

  it('the ferrolb image, built from the Dockerfile, runs `ferrolb --help` as the Dockerfile\'s user 65534', async () => {
    const ns = freshNamespace('realnode-image');
    const run = (name: string, extra: Record<string, unknown>) => kubectlApply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns },
      spec: { nodeName: 'node-2', restartPolicy: 'Never', containers: [{ name: 'ferrolb', image: ferrolbImage, imagePullPolicy: 'Never', ...extra }] },
    });
    run('help', { args: ['--help'] });
    run('whoami', { command: ['node', '-e', 'console.log(`${process.getuid()}:${process.getgid()}`)'] });
    for (const name of ['help', 'whoami']) {
      await eventually(`pod ${name} Succeeded`, 60_000, () => {
        const p = kubectlJson<{ status: { phase?: string } }>('get', 'pod', name, '-n', ns);
        if (p.status.phase === 'Failed') throw new Error(`pod ${name} failed: ${podLog(ns, name)}`);
        return p.status.phase === 'Succeeded' ? true : undefined;
      }, 500);
    }
    assert.match(podLog(ns, 'help'), /Usage: ferrolb <command>/);
    assert.equal(podLog(ns, 'whoami').trim(), '65534:65534');
    kubectl('delete', 'namespace', ns, '--wait=false');
  });

  it('the speaker\'s securityContext (deploy/ferrolb.yaml) gives the container NET_RAW alone: its packet socket opens; without NET_RAW it does not', async () => {
    const ns = freshNamespace('realnode-caps');
    // What the speaker needs from its capabilities: an AF_PACKET socket on the node's
    // interface, through the image's own addon. Prints the effective capability set.
    const probe = [
      "const caps = require('fs').readFileSync('/proc/self/status', 'utf8').match(/CapEff:\\s*(\\w+)/)[1];",
      "try { const a = require('/app/build/native/packet.node'); const h = a.open('eth0', () => {}); a.close(h); console.log(`CapEff ${caps} packet socket open`); }",
      "catch (e) { console.log(`CapEff ${caps} ${e.code ?? e.message}`); }",
      'process.exit(0);',
    ].join(' ');
    const pod = (name: string, add: string[]) => kubectlApply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns },
      spec: {
        nodeName: 'node-2',
        hostNetwork: true,
        restartPolicy: 'Never',
        containers: [{
          name: 'ferrolb',
          image: ferrolbImage,
          imagePullPolicy: 'Never',
          command: ['node', '-e', probe],
          securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add } },
        }],
      },
    });
    pod('speaker', ['NET_RAW']);
    pod('nocaps', []);
    for (const name of ['speaker', 'nocaps']) {
      await eventually(`pod ${name} Succeeded`, 60_000, () => {
        const p = kubectlJson<{ status: { phase?: string } }>('get', 'pod', name, '-n', ns);
        if (p.status.phase === 'Failed') throw new Error(`pod ${name} failed: ${podLog(ns, name)}`);
        return p.status.phase === 'Succeeded' ? true : undefined;
      }, 500);
    }
    // CAP_NET_RAW is bit 13.
    assert.equal(podLog(ns, 'speaker').trim(), 'CapEff 0000000000002000 packet socket open');
    assert.match(podLog(ns, 'nocaps').trim(), /^CapEff 0000000000000000 (EPERM|socket\(AF_PACKET\).*)$/);
    kubectl('delete', 'namespace', ns, '--wait=false');
  });

  it('lab deploy makes a Deployment the real controllers roll out (ReplicaSet, probes), and lab pod stop crashes a real container, which its kubelet restarts', async () => {
    const ns = freshNamespace('realnode-lab');
    assert.match(labOk(['deploy', 'web', '--replicas', '2', '--namespace', ns]), /2\/2 pods ready/);
    interface RS { metadata: { ownerReferences?: { kind: string; name: string }[] } }
    const sets = kubectlJson<{ items: RS[] }>('get', 'replicasets', '-n', ns).items;
    assert.deepEqual(sets.map((r) => r.metadata.ownerReferences?.[0]?.kind), ['Deployment'], 'kube-controller-manager made one ReplicaSet');
    kubectlApply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'crash', namespace: ns },
      spec: {
        nodeName: 'node-2',
        containers: [{ name: 'web', image: hostnameImage, imagePullPolicy: 'Never', readinessProbe: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: 1 } }],
      },
    });
    interface Pod { status: { conditions?: { type: string; status: string }[]; containerStatuses?: { restartCount: number }[] } }
    const pod = () => kubectlJson<Pod>('get', 'pod', 'crash', '-n', ns);
    const isReady = (p: Pod) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    await eventually('the pod Ready', 60_000, () => (isReady(pod()) ? true : undefined), 500);
    assert.match(labOk(['pod', 'stop', 'crash', '--namespace', ns]), /killed on node-2; the kubelet restarts it/);
    const restarted = await eventually('the container restarted by the kubelet and Ready again', 60_000, () => {
      const p = pod();
      return (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && isReady(p) ? p : undefined;
    }, 500);
    assert.equal(restarted.status.containerStatuses?.[0]?.restartCount, 1);
    kubectl('delete', 'namespace', ns, '--wait=false');
  });

  it('lab down leaves no container, shim, mount, cgroup, namespace or process', async () => {
    // A pod that is still running when down comes: down must stop it without the kubelet.
    const ns = freshNamespace('realnode-down');
    kubectlApply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'last', namespace: ns },
      spec: { nodeName: 'node-2', containers: [{ name: 'web', image: hostnameImage, imagePullPolicy: 'Never' }] },
    });
    await eventually('the last pod Running', 60_000, () => {
      const p = kubectlJson<{ status: { phase?: string } }>('get', 'pod', 'last', '-n', ns);
      return p.status.phase === 'Running' ? true : undefined;
    }, 500);
    const running = containerProcesses();
    assert.ok(running.some((p) => p.endsWith(' /hostname')) && running.some((p) => p.endsWith(' /pause')), `container processes: ${running.join(', ')}`);
    labOk(['down'], 60_000);
    assert.deepEqual(leftovers(), nothingLeft);
    assert.deepEqual(containerProcesses(), []);
    assert.deepEqual(labCgroups(), []);
    assert.deepEqual(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(stateDir) || l.includes('lab-netns') || l.includes('lab-containerd')), []);
    assert.deepEqual(readdirSync('/run/netns').filter((n) => n.startsWith('cni-')), []);
    assert.deepEqual(machinePaths.filter((p) => existsSync(p)), machinePathsBefore);
  });
});

/** A container's output, through `kubectl logs` (the API server calls the node's kubelet). */
function podLog(ns: string, pod: string): string {
  return kubectl('logs', '-n', ns, pod);
}

/** Processes of containers and their runtime: by executable, independent of the lab's code. */
function containerProcesses(): string[] {
  const out: string[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (['/pause', '/hostname', 'containerd', '/usr/bin/containerd', '/usr/bin/containerd-shim-runc-v2', 'runc'].includes(argv0) || argv0.endsWith('/kubelet')) {
        out.push(`${pid} ${argv0}`);
      }
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function labCgroups(): string[] {
  const out: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    try {
      for (const d of readdirSync(join('/sys/fs/cgroup', h))) if (d.startsWith('ferrolb-')) out.push(join(h, d));
    } catch {
      // not a directory
    }
  }
  return out;
}
