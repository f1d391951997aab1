// Real nodes (`lab/lab up --real-nodes 1`): node-2 runs a real kubelet v1.37.2 with
// Debian's containerd and runc and Debian's CNI plugins, in its network namespace. A pod
// bound to it runs the lab's own hostname image (built locally, imported without a
// registry), turns Ready by the kubelet's own probe, and answers at its pod IP (from the
// other node) and through a NodePort on either node (from the client); a hostNetwork pod
// sees the node's LAN address; and `lab down` leaves no container, shim, mount, cgroup,
// namespace or process.
//
// Needs root and the Debian packages containerd, runc and containernetworking-plugins
// (scripts/setup.sh installs them). Without them the suite is skipped, except under
// CI=true, where a skipped lab suite would hide a broken machine: there it fails.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { curlFrom, eventually, freshNamespace, isRoot, kubectl, kubectlJson, labOk, leftovers, nothingLeft, repoDir, stateDir, useLab } from '../helpers/lab.ts';

const realNodeIp = '198.18.0.12'; // node-2
const hostnameImage = 'lab.ferrolb.io/hostname:1';

function missing(): string | undefined {
  if (!isRoot()) return 'the lab needs root';
  for (const tool of ['containerd', 'runc', 'ctr']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install containerd runc)`;
  }
  if (!existsSync('/usr/lib/cni/bridge')) return 'the CNI plugins are not installed (apt-get install containernetworking-plugins)';
  return undefined;
}

// Paths a kubelet or containerd would create on the machine by default; the lab keeps
// them inside each node's private mount namespace, and down removes the mount points.
const machinePaths = ['/var/lib/kubelet', '/var/log/containers', '/var/log/pods', '/usr/libexec/kubernetes', '/var/lib/containerd', '/run/containerd', '/etc/kubernetes', '/var/lib/cni'];
const machinePathsBefore = machinePaths.filter((p) => existsSync(p));

const why = missing();
const ci = process.env['CI'] === 'true';

if (why && ci) {
  describe('real nodes', () => {
    it('can run under CI', () => {
      assert.fail(`the real-node lab suite cannot run here (${why}); under CI=true that is a failure, not a skip`);
    });
  });
} else {
  describe('real nodes', { skip: why ?? false }, () => {
    before(() => {
      // A cold machine builds the kubelet first (minutes); outside `up`'s timeout.
      const build = spawnSync('bash', [join(repoDir, 'lab', 'build-node.sh'), 'kubelet'], { encoding: 'utf8', timeout: 60 * 60_000 });
      if (build.status !== 0) throw new Error(`lab/build-node.sh failed: ${build.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    });
    useLab({ up: ['--nodes', '2', '--real-nodes', '1'] });

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
          nodeName: 'node-2', // no kube-scheduler in the lab yet; the agent schedules only onto its own nodes
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
}

function kubectlApply(obj: unknown): void {
  const file = join(stateDir, `apply-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(obj));
  kubectl('apply', '-f', file);
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
