// The Helm chart (charts/ferrolb) installed, upgraded and uninstalled the way its users
// run helm, against the lab's API server with three real nodes (kubelet, containerd, the
// real scheduler and controller-manager) and the image built from the Dockerfile: the
// release's pods Ready, an L2 and a BGP LoadBalancer Service served through it, a
// restart and `helm upgrade` with a changed value (rolling both workloads) never
// clearing a Service's IP, and `helm uninstall` removing every object of the release,
// leaving the CRDs (Helm's convention: crds/ is installed, never deleted) and nothing
// else of ferrolb: every Service <pending>, no status object, Secret, Lease or webhook
// configuration, no ARP answer, no BGP route at the router (docs/INSTALL.md
// "Removing ferrolb").
import { before, it } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { eventually, kubectl, kubectlJson, lab, labBin, repoDir, useLab, describeLab } from '../helpers/lab.ts';
import { arpAnswered, buildRealNodeInputs, configureL2AndBGP, needsRealNodes, ferrolbPods, ferrolbRunning, helm, helmBin, ingressIP, routerRoute, wgetFromClient, type Pod } from '../helpers/realnodes.ts';

const chart = join(repoDir, 'charts', 'ferrolb');
const system = 'metallb-system';
const ns = 'helm-app';
const nodes = 3;

interface Obj { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }

/** kind/namespace/name of each object helm says the release holds. */
function releaseObjects(): Obj[] {
  const r = helm('get', 'manifest', 'ferrolb', '-n', system);
  assert.equal(r.status, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj).filter((o) => o !== null);
}

/** Whether `kubectl get` finds the object (any error but NotFound fails the test). */
function exists(o: Obj): boolean {
  const r = lab(['kubectl', 'get', o.kind.toLowerCase(), o.metadata.name, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : []), '-o', 'name']);
  if (r.status === 0) return true;
  assert.match(r.stderr, /NotFound|not found/, r.stderr);
  return false;
}

/**
 * Records every value the Services' first ingress IP takes, as `kubectl get -w` reports
 * each change: a restart that cleared an IP, even for a moment, shows up as ''.
 */
function watchIngress(): { stop: () => Promise<string[]> } {
  const w = spawn(labBin, ['kubectl', 'get', 'services', '-n', ns, '-w', '-o', 'jsonpath={.metadata.name}={.status.loadBalancer.ingress[0].ip}{"\\n"}'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  w.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return {
    stop: async () => {
      w.kill();
      await new Promise((r) => w.once('exit', r));
      return out.split('\n').filter(Boolean);
    },
  };
}

const crds = (): string[] => kubectl('get', 'crds', '-o', 'name').split('\n').filter((n) => n.endsWith('.metallb.io')).sort();

describeLab('the Helm chart on real nodes: install, upgrade, uninstall', { needs: [needsRealNodes] }, () => {
  before(() => {
    buildRealNodeInputs();
    assert.ok(helmBin, 'helm is not built: run bash tools/helm/build.sh (scripts/setup.sh does)');
  });
  useLab({ up: ['--nodes', String(nodes), '--real-nodes', String(nodes), '--ferrolb-image'] });

  let ip = '';
  let bgpIP = '';
  let installed: { controller: Pod; speakers: Pod[] };

  it('helm install: a Ready controller and a Ready speaker per node; a LoadBalancer Service gets an IP that answers from the client', async () => {
    // The chart's NOTES and docs/INSTALL.md: the speakers need the privileged level
    // where Pod Security admission enforces one; the label goes on before the pods.
    kubectl('create', 'namespace', system);
    kubectl('label', 'namespace', system, 'pod-security.kubernetes.io/enforce=privileged');
    const r = helm('install', 'ferrolb', chart, '-n', system, '--create-namespace');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /STATUS: deployed/);
    assert.match(r.stdout, /ferrolb is installed in namespace metallb-system/);
    installed = await ferrolbRunning(nodes);
    assert.deepEqual(installed.speakers.map((p) => p.spec.nodeName).sort(), ['node-1', 'node-2', 'node-3']);
    assert.equal(crds().length, 9, crds().join(' '));

    kubectl('create', 'namespace', ns);
    kubectl('create', 'deployment', 'web', '-n', ns, '--image=lab.ferrolb.io/hostname:1', '--replicas=2', '--port=80');
    kubectl('expose', 'deployment', 'web', '-n', ns, '--port=80', '--type=LoadBalancer');
    kubectl('expose', 'deployment', 'web', '-n', ns, '--name=web-bgp', '--port=80', '--type=LoadBalancer');
    kubectl('annotate', 'service', 'web-bgp', '-n', ns, 'metallb.io/address-pool=bgp');
    configureL2AndBGP(system);
    ip = await eventually('the EXTERNAL-IP', 60_000, () => ingressIP('web', ns), 500);
    assert.equal(ip, '198.18.0.200');
    assert.match(await eventually('an answer at the EXTERNAL-IP', 90_000, () => wgetFromClient(`http://${ip}/`), 200), /^web-/);
    bgpIP = await eventually('the BGP service\'s EXTERNAL-IP', 60_000, () => ingressIP('web-bgp', ns), 500);
    assert.equal(bgpIP, '198.18.1.0');
    // BIRD learnt it from every node (ECMP) and the client reaches it through the router.
    assert.equal((await eventually('the route at the router via three nodes', 60_000, () => {
      const r = routerRoute(bgpIP);
      return (r.match(/nexthop via/g) ?? []).length === 3 ? r : undefined;
    }, 500)).includes('198.18.0.11'), true);
    assert.match(await eventually('an answer at the BGP EXTERNAL-IP', 60_000, () => wgetFromClient(`http://${bgpIP}/`), 200), /^web-/);
  });

  it('a restart is not a removal: the controller\'s pod deleted, its successor keeps every IP and none is cleared meanwhile', async () => {
    const watch = watchIngress();
    kubectl('delete', 'pod', '-n', system, installed.controller.metadata.name, '--wait=true');
    const now = await ferrolbRunning(nodes);
    assert.notEqual(now.controller.metadata.uid, installed.controller.metadata.uid);
    // The new controller restored the assignments and is writing (a new Service gets an IP).
    kubectl('expose', 'deployment', 'web', '-n', ns, '--name=web-new', '--port=80', '--type=LoadBalancer');
    assert.equal(await eventually('an IP for a Service created after the restart', 60_000, () => ingressIP('web-new', ns), 500), '198.18.0.201');
    kubectl('delete', 'service', 'web-new', '-n', ns);
    const seen = await watch.stop();
    assert.deepEqual([...new Set(seen.filter((l) => !l.startsWith('web-new=')))].sort(), [`web-bgp=${bgpIP}`, `web=${ip}`]);
  });

  it('helm upgrade with a changed value rolls the controller and every speaker; no Service\'s IP is cleared or moved', async () => {
    const watch = watchIngress();
    const r = helm('upgrade', 'ferrolb', chart, '-n', system, '--set', 'controller.logLevel=debug', '--set', 'speaker.logLevel=debug');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /REVISION: 2/);
    const after = await eventually('new pods with --log-level=debug', 180_000, async () => {
      const now = await ferrolbRunning(nodes);
      const debug = (p: Pod) => p.spec.containers?.[0]?.args?.includes('--log-level=debug') ?? false;
      return debug(now.controller) && now.speakers.every(debug) ? now : undefined;
    }, 1000);
    const uids = (p: { controller: Pod; speakers: Pod[] }) => [p.controller, ...p.speakers].map((x) => x.metadata.uid);
    for (const uid of uids(after)) assert.ok(!uids(installed).includes(uid), 'every pod was replaced');
    assert.match(await eventually('an answer after the upgrade', 60_000, () => wgetFromClient(`http://${ip}/`), 200), /^web-/);
    assert.match(await eventually('an answer at the BGP IP after the upgrade', 60_000, () => wgetFromClient(`http://${bgpIP}/`), 200), /^web-/);
    assert.deepEqual([...new Set(await watch.stop())].sort(), [`web-bgp=${bgpIP}`, `web=${ip}`]);
    assert.match(helm('history', 'ferrolb', '-n', system).stdout, /2\s+.*deployed\s+ferrolb-0\.1\.0/);
  });

  it('helm uninstall removes every object of the release and keeps the CRDs', async () => {
    const objects = releaseObjects();
    // What the chart installs (templates/), each named: a change to the chart must show here.
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      'ClusterRole/ferrolb:controller', 'ClusterRole/ferrolb:speaker',
      'ClusterRoleBinding/ferrolb:controller', 'ClusterRoleBinding/ferrolb:speaker',
      'DaemonSet/speaker', 'Deployment/controller',
      'Role/ferrolb:controller', 'Role/ferrolb:speaker',
      'RoleBinding/ferrolb:controller', 'RoleBinding/ferrolb:speaker',
      'Service/ferrolb-controller-metrics', 'Service/ferrolb-speaker-metrics', 'Service/ferrolb-webhook-service',
      'ServiceAccount/controller', 'ServiceAccount/speaker',
      'ValidatingWebhookConfiguration/ferrolb-webhook-configuration',
    ]);
    for (const o of objects) assert.ok(exists(o), `${o.kind} ${o.metadata.name} exists before the uninstall`);
    const crdsBefore = crds();
    const r = helm('uninstall', 'ferrolb', '-n', system, '--wait', '--timeout', '120s');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /release "ferrolb" uninstalled/);
    for (const o of objects) assert.equal(exists(o), false, `${o.kind} ${o.metadata.name} is left after the uninstall`);
    await eventually('no ferrolb pod left', 60_000, () => (ferrolbPods('controller').length + ferrolbPods('speaker').length === 0 ? true : undefined), 1000);
    assert.equal(helm('list', '-n', system, '-q').stdout.trim(), '');
    // Helm's convention for crds/: kept, with the configuration in them.
    assert.deepEqual(crds(), crdsBefore);
    assert.deepEqual(kubectlJson<{ items: unknown[] }>('get', 'ipaddresspools', '-n', system).items.length, 2);
  });

  it('after helm uninstall nothing of ferrolb is left but the CRDs and the configuration: Services <pending>, no status, Secret, Lease, finalizer, ARP answer or BGP route', async () => {
    // The Services, as before ferrolb: no IP, no pool annotation, no finalizer.
    const services = kubectlJson<{ items: { metadata: { name: string; annotations?: Record<string, string>; finalizers?: string[] }; status: { loadBalancer?: { ingress?: unknown[] } } }[] }>('get', 'services', '-n', ns).items;
    assert.deepEqual(services.map((s) => s.metadata.name).sort(), ['web', 'web-bgp']);
    for (const s of services) {
      assert.deepEqual(s.status.loadBalancer?.ingress ?? [], [], `${s.metadata.name} still has an IP`);
      assert.equal(s.metadata.annotations?.['metallb.io/ip-allocated-from-pool'], undefined, `${s.metadata.name} keeps the pool annotation`);
      assert.deepEqual(s.metadata.finalizers ?? [], []);
    }
    assert.match(kubectl('get', 'service', 'web', '-n', ns, '--no-headers'), /LoadBalancer\s+\S+\s+<pending>/);
    // In metallb-system only the configuration the user applied (in the CRDs Helm keeps).
    // kube-root-ca.crt is the controller-manager's, in every namespace. The pre-delete
    // Job's pod goes with the Job shortly after it succeeded (background deletion).
    const kinds = 'servicel2statuses,servicebgpstatuses,configurationstates,secrets,leases,configmaps,jobs,pods';
    await eventually('only kube-root-ca.crt left in metallb-system', 30_000, () => {
      const left = kubectl('get', kinds, '-n', system, '-o', 'name').split('\n').filter(Boolean);
      return left.length === 1 && left[0] === 'configmap/kube-root-ca.crt' ? true : undefined;
    }, 1000).catch((err: unknown) => assert.fail(`${String(err)}: ${kubectl('get', kinds, '-n', system, '-o', 'name')}`));
    assert.deepEqual(kubectl('get', 'ipaddresspools,l2advertisements,bgpadvertisements,bgppeers', '-n', system, '-o', 'name').split('\n').filter(Boolean).sort(),
      ['bgpadvertisement.metallb.io/bgp', 'bgppeer.metallb.io/router', 'ipaddresspool.metallb.io/bgp', 'ipaddresspool.metallb.io/lan', 'l2advertisement.metallb.io/lan']);
    for (const kind of ['validatingwebhookconfigurations', 'clusterroles', 'clusterrolebindings']) {
      assert.deepEqual(kubectl('get', kind, '-o', 'name').split('\n').filter((n) => /ferrolb|metallb/.test(n)), [], kind);
    }
    assert.deepEqual(kubectlJson<{ metadata: { finalizers?: string[] } }>('get', 'namespace', system).metadata.finalizers ?? [], []);
    // Announcements stopped: no node answers ARP for the L2 IP, the router has no route.
    await eventually(`no ARP reply for ${ip}`, 30_000, () => (arpAnswered(ip) ? undefined : true), 1000);
    await eventually(`no route for ${bgpIP} at the router`, 30_000, () => (routerRoute(bgpIP) === '' ? true : undefined), 500);
    assert.equal(wgetFromClient(`http://${bgpIP}/`), undefined);
  });
});
