// ferrolb installed the way a user installs it, on a lab whose three nodes are all real
// (kubelet, containerd, the real scheduler and controller-manager): one `kubectl apply -f
// deploy/ferrolb-native.yaml`, the image built from the repository's Dockerfile, the
// controller a Deployment and the speakers a DaemonSet authenticated by their projected
// ServiceAccount tokens, the webhook reached through its Service. Then the tutorial
// (../shared/seed, steps #2-#12) on top: a pending LoadBalancer Service, the pool and
// L2Advertisement, the EXTERNAL-IP, wget from the client reaching all three pods, and
// `kubectl delete -f` taking ferrolb away again.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { curlFrom, eventually, kubectl, kubectlJson, labBin, repoDir, useLab, describeLab } from '../helpers/lab.ts';
import { arpAnswered, buildRealNodeInputs, needsRealNodes, ferrolbPods, ingressIP, kubectlStdin, podReady as ready, wgetFromClient, type Pod } from '../helpers/realnodes.ts';

const nativeFile = join(repoDir, 'deploy', 'ferrolb-native.yaml');
const ns = 'tutorial';
const nodes = ['node-1', 'node-2', 'node-3'];

/** The tutorial's routing-config.yaml with the lab's free addresses in place of 10.0.0.3-254. */
function routingConfig(): string {
  const text = readFileSync(join(repoDir, 'examples', 'tutorial', 'routing-config.yaml'), 'utf8');
  assert.match(text, /10\.0\.0\.3-10\.0\.0\.254/);
  return text.replace('10.0.0.3-10.0.0.254', '198.18.0.200-198.18.0.254');
}

describeLab('install as pods, and the tutorial', { needs: [needsRealNodes] }, () => {
  before(buildRealNodeInputs);
  useLab({ up: ['--nodes', '3', '--real-nodes', '3', '--ferrolb-image'] });

  it('before ferrolb: the tutorial\'s LoadBalancer Service stays <pending>, its NodePort works', async () => {
    kubectl('create', 'namespace', ns);
    kubectl('create', 'deployment', 'hostname-deployment', '-n', ns, '--image=lab.ferrolb.io/hostname:1', '--replicas=3', '--port=80');
    kubectl('expose', 'deployment', 'hostname-deployment', '-n', ns, '--port=80', '--type=LoadBalancer');
    await eventually('3 Ready pods of hostname-deployment', 90_000, () => {
      const pods = kubectlJson<{ items: Pod[] }>('get', 'pods', '-n', ns, '-l', 'app=hostname-deployment').items;
      return pods.filter(ready).length === 3 ? true : undefined;
    }, 500);
    const line = kubectl('get', 'service', 'hostname-deployment', '-n', ns, '--no-headers');
    assert.match(line, /LoadBalancer\s+\S+\s+<pending>/);
    // Placed by the real kube-scheduler on the real nodes, Ready by the kubelets' probes.
    const pods = kubectlJson<{ items: Pod[] }>('get', 'pods', '-n', ns, '-l', 'app=hostname-deployment').items;
    assert.ok(pods.every((p) => nodes.includes(p.spec.nodeName ?? '')), pods.map((p) => p.spec.nodeName).join(' '));
    // Endpoints from the real EndpointSlice controller.
    const slices = kubectlJson<{ items: { metadata: { labels?: Record<string, string> }; endpoints?: { addresses: string[] }[] }[] }>('get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=hostname-deployment').items;
    assert.deepEqual(slices.map((e) => e.metadata.labels?.['endpointslice.kubernetes.io/managed-by']), ['endpointslice-controller.k8s.io']);
    assert.deepEqual(slices[0]!.endpoints?.flatMap((e) => e.addresses).sort(), pods.map((p) => p.status.podIP).sort());
    // A NodePort on every node reaches the pods (kube-proxy on each).
    const nodePort = kubectl('get', 'service', 'hostname-deployment', '-n', ns, '-o', 'jsonpath={.spec.ports[0].nodePort}');
    for (const nodeIp of ['198.18.0.11', '198.18.0.12', '198.18.0.13']) {
      assert.match(await eventually(`an answer through ${nodeIp}:${nodePort}`, 20_000, () => curlFrom('client', `http://${nodeIp}:${nodePort}/`)), /^hostname-deployment-/);
    }
  });

  it('one kubectl apply installs ferrolb: a Ready controller and one Ready speaker per node, on their ServiceAccount tokens', async () => {
    const applied = kubectl('apply', '-f', nativeFile);
    assert.match(applied, /namespace\/metallb-system created/);
    assert.match(applied, /daemonset.apps\/speaker created/);
    // The install race (docs/WEBHOOK.md): the tutorial's pool in the same second, long
    // before the controller's pod is Ready. Stored at once (failurePolicy Ignore), or
    // refused by kubectl while the new CRDs are not served yet; never a hang.
    const started = Date.now();
    const race = kubectlStdin(routingConfig(), 'apply');
    assert.ok(Date.now() - started < 15_000, `the pool's apply took ${Date.now() - started} ms`);
    if (race.status !== 0) {
      assert.match(race.stderr, /ensure CRDs are installed first|no matches for kind/);
      await eventually('routing-config.yaml applied on a retry', 30_000, () => (kubectlStdin(routingConfig(), 'apply').status === 0 ? true : undefined), 1000);
    }
    const speakers = await eventually('one Ready speaker on every node', 120_000, () => {
      const pods = ferrolbPods('speaker');
      return pods.length === 3 && pods.every(ready) ? pods : undefined;
    }, 1000);
    assert.deepEqual(speakers.map((p) => p.spec.nodeName).sort(), nodes);
    for (const p of speakers) {
      // hostNetwork: the speaker answers ARP in the node's own namespace.
      assert.equal(p.spec.hostNetwork, true);
      assert.equal(p.status.podIP, p.status.hostIP);
    }
    const [controller] = await eventually('the controller Ready', 60_000, () => {
      const pods = ferrolbPods('controller');
      return pods.length === 1 && pods.every(ready) ? pods : undefined;
    }, 1000);
    for (const p of [controller!, ...speakers]) {
      assert.equal(p.spec.serviceAccountName, p.metadata.labels?.['component']);
      assert.ok(p.spec.volumes?.some((v) => v.projected?.sources.some((s) => s.serviceAccountToken)), `${p.metadata.name} has a projected ServiceAccount token`);
    }
    // In-cluster configuration: the `kubernetes` Service's address, the token, the CA.
    for (const p of [controller!, speakers[0]!]) {
      assert.match(kubectl('logs', '-n', 'metallb-system', p.metadata.name), /"server":"https:\/\/198\.18\.128\.1\/"/);
    }
    // What only the controller's identity may do, done: the memberlist Secret and the
    // webhook's certificate, its CA injected into the webhook configuration.
    kubectl('get', 'secret', '-n', 'metallb-system', 'ferrolb-memberlist');
    await eventually('the caBundle injected', 30_000, () => kubectl('get', 'validatingwebhookconfiguration', 'ferrolb-webhook-configuration', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}') || undefined);
  });

  it('the tutorial\'s pool and L2Advertisement: EXTERNAL-IP assigned, wget from the client reaches all three pods', async () => {
    // Applied during the install (above), checked by the controller when it loaded it.
    const results = await eventually('every component reporting its configuration', 30_000, () => {
      const r = kubectl('get', 'configurationstates', '-n', 'metallb-system', '-o', 'jsonpath={.items[*].status.result}').split(' ').filter(Boolean);
      return r.length === 4 ? r : undefined; // the controller and three speakers
    }, 1000);
    assert.deepEqual(results, ['Valid', 'Valid', 'Valid', 'Valid']);
    const ip = await eventually('the EXTERNAL-IP', 30_000, () => ingressIP('hostname-deployment', ns), 500);
    assert.equal(ip, '198.18.0.200');
    assert.match(kubectl('get', 'service', 'hostname-deployment', '-n', ns, '--no-headers'), /LoadBalancer\s+\S+\s+198\.18\.0\.200\s/);
    const names = kubectlJson<{ items: Pod[] }>('get', 'pods', '-n', ns, '-l', 'app=hostname-deployment').items.map((p) => p.metadata.name).sort();
    const seen = new Set<string>();
    await eventually('answers from all three pods at the EXTERNAL-IP', 60_000, () => {
      const answer = wgetFromClient(`http://${ip}/`);
      if (answer !== undefined) seen.add(answer);
      return names.every((n) => seen.has(n)) ? true : undefined;
    }, 50);
    assert.deepEqual([...seen].sort(), names);
    // The client learnt the address from one node's speaker (L2 mode).
    const neigh = spawnSync('ip', ['-n', 'flb-client', 'neigh', 'show', ip], { encoding: 'utf8' }).stdout;
    assert.match(neigh, /lladdr ([0-9a-f]{2}:){5}[0-9a-f]{2}/);
  });

  it('the webhook, called through its Service, refuses an overlapping pool and says why', () => {
    const bad = 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: overlapping, namespace: metallb-system}\nspec: {addresses: [198.18.0.250-198.18.0.252]}\n';
    const r = kubectlStdin(bad, 'apply');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /admission webhook "ipaddresspoolsvalidationwebhook\.metallb\.io" denied the request: .*overlaps/);
  });

  it('deleting the Service frees its address for the next one', async () => {
    kubectl('delete', 'service', 'hostname-deployment', '-n', ns);
    kubectl('expose', 'deployment', 'hostname-deployment', '-n', ns, '--name=second', '--port=80', '--type=LoadBalancer');
    assert.equal(await eventually('the freed address given again', 30_000, () => ingressIP('second', ns), 500), '198.18.0.200');
  });

  it('kubectl delete -f removes ferrolb: no namespace, webhook configuration, cluster roles or announcements left; the Service is <pending> again', async () => {
    kubectl('delete', '-f', nativeFile, '--wait=true', '--timeout=120s');
    // The controller saw its namespace terminating and cleared what it wrote, before
    // kubectl reached its ServiceAccount and RBAC (docs/INSTALL.md "Removing ferrolb").
    const svc = kubectlJson<{ metadata: { annotations?: Record<string, string>; finalizers?: string[] }; status: { loadBalancer?: { ingress?: unknown[] } } }>('get', 'service', 'second', '-n', ns);
    assert.deepEqual(svc.status.loadBalancer?.ingress ?? [], []);
    assert.equal(svc.metadata.annotations?.['metallb.io/ip-allocated-from-pool'], undefined);
    assert.deepEqual(svc.metadata.finalizers ?? [], []);
    assert.match(kubectl('get', 'service', 'second', '-n', ns, '--no-headers'), /LoadBalancer\s+\S+\s+<pending>/);
    await eventually('namespace metallb-system gone', 120_000, () => (kubectl('get', 'namespaces', '-o', 'name').includes('namespace/metallb-system') ? undefined : true), 1000);
    assert.equal(kubectl('get', 'validatingwebhookconfigurations', '-o', 'name').includes('ferrolb'), false);
    assert.deepEqual(kubectl('get', 'clusterroles', '-o', 'name').split('\n').filter((n) => /metallb|ferrolb/.test(n)), []);
    assert.deepEqual(kubectl('get', 'crds', '-o', 'name').split('\n').filter((n) => n.includes('metallb.io')), []);
    // No speaker answers for the address any more.
    await eventually('no ARP reply for 198.18.0.200', 30_000, () => {
      return arpAnswered('198.18.0.200') ? undefined : true;
    }, 1000);
  });

  it('the install file and the pool in one kubectl apply: done on the first or second run, never a hang; the pending Service gets an address', async () => {
    const both = (): { status: number | null; stderr: string; ms: number } => {
      const started = Date.now();
      const r = spawnSync(labBin, ['kubectl', 'apply', '-f', nativeFile, '-f', '-'], { input: routingConfig(), encoding: 'utf8', timeout: 120_000 });
      return { status: r.status, stderr: r.stderr, ms: Date.now() - started };
    };
    const first = both();
    assert.ok(first.ms < 60_000, `kubectl apply took ${first.ms} ms`);
    if (first.status !== 0) {
      // kubectl maps every kind before the CRDs it creates are served.
      assert.match(first.stderr, /ensure CRDs are installed first|no matches for kind/);
      const second = both();
      assert.equal(second.status, 0, second.stderr);
    }
    // `second` was <pending> since the removal; the first free address is its old one.
    await eventually('the speakers Ready again', 120_000, () => {
      const pods = ferrolbPods('speaker');
      return pods.length === 3 && pods.every(ready) ? true : undefined;
    }, 1000);
    assert.equal(await eventually('the address of `second`', 30_000, () => ingressIP('second', ns), 500), '198.18.0.200');
    const seen = await eventually('an answer at 198.18.0.200', 30_000, () => wgetFromClient('http://198.18.0.200/'), 200);
    assert.match(seen, /^hostname-deployment-/);
  });
});
