// Replacing a running MetalLB with ferrolb without moving any IP (docs/MIGRATING.md), on
// three real nodes. The cluster is left as MetalLB leaves it once its workloads are
// deleted (MetalLB's controller clears nothing when it stops): the metallb-system
// namespace, the metallb.io CRDs as MetalLB's manifest applies them (BGPPeer converted
// by MetalLB's webhook), the configuration, and Services carrying what MetalLB's
// controller writes (controller/service.go in metallb/metallb): status.loadBalancer.ingress
// with `ip` only, the pool in metallb.io/ip-allocated-from-pool (or, written by older
// releases, metallb.universe.tf/ip-allocated-from-pool), and the annotations users set
// under either prefix. The IPs are not the first free ones, so any reassignment shows.
// Then `kubectl apply -f deploy/ferrolb-native.yaml`: every IP kept, never cleared or
// changed meanwhile, no IPAllocated or ClearAssignment event, traffic at the L2 and BGP IPs.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { eventually, kubectl, kubectlJson, lab, labBin, repoDir, useLab, describeLab } from '../helpers/lab.ts';
import { buildRealNodeInputs, configureL2AndBGP, needsRealNodes, ferrolbRunning, kubectlApply, kubectlStdin, routerRoute, wgetFromClient } from '../helpers/realnodes.ts';
import { metallbRBAC } from '../helpers/metallb-rbac.ts';

const system = 'metallb-system';
const ns = 'apps';
const nodes = 3;
/** MetalLB's BGPPeer CRD converts v1beta1 <-> v1beta2 through its webhook Service. */
const METALLB_CONVERSION = { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1', 'v1beta1'], clientConfig: { service: { name: 'metallb-webhook-service', namespace: system, path: '/convert' } } } };

interface Svc {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { loadBalancerIP?: string };
  status: { loadBalancer?: { ingress?: { ip: string }[] } };
}

/** What MetalLB left: name, IP in its status, annotations, spec.loadBalancerIP, port. */
const metallbServices: { name: string; ip: string; annotations: Record<string, string>; loadBalancerIP?: string; port: number }[] = [
  { name: 'plain', ip: '198.18.0.230', annotations: { 'metallb.io/ip-allocated-from-pool': 'lan' }, port: 80 },
  // Written by MetalLB before the metallb.io/ prefix.
  { name: 'old-release', ip: '198.18.0.215', annotations: { 'metallb.universe.tf/ip-allocated-from-pool': 'lan' }, port: 80 },
  // Two Services sharing one IP on different ports (the sharing key under the legacy prefix).
  { name: 'shared-a', ip: '198.18.0.240', annotations: { 'metallb.universe.tf/allow-shared-ip': 'web', 'metallb.io/ip-allocated-from-pool': 'lan' }, port: 80 },
  { name: 'shared-b', ip: '198.18.0.240', annotations: { 'metallb.universe.tf/allow-shared-ip': 'web', 'metallb.io/ip-allocated-from-pool': 'lan' }, port: 8080 },
  // Asked for by annotation, and by the deprecated spec field.
  { name: 'requested', ip: '198.18.0.250', annotations: { 'metallb.universe.tf/loadBalancerIPs': '198.18.0.250', 'metallb.io/ip-allocated-from-pool': 'lan' }, port: 80 },
  { name: 'spec-ip', ip: '198.18.0.222', annotations: { 'metallb.io/ip-allocated-from-pool': 'lan' }, loadBalancerIP: '198.18.0.222', port: 80 },
  // A pool asked for under the legacy prefix; BGP mode.
  { name: 'bgp', ip: '198.18.1.7', annotations: { 'metallb.universe.tf/address-pool': 'bgp', 'metallb.io/ip-allocated-from-pool': 'bgp' }, port: 80 },
];

const ips = (): Record<string, string> => Object.fromEntries(kubectlJson<{ items: Svc[] }>('get', 'services', '-n', ns).items.map((s) => [s.metadata.name, (s.status.loadBalancer?.ingress ?? []).map((i) => i.ip).join(',')]));
const expected = Object.fromEntries(metallbServices.map((s) => [s.name, s.ip]));

describeLab('replacing MetalLB: services keep the IPs MetalLB gave them', { needs: [needsRealNodes] }, () => {
  before(buildRealNodeInputs);
  useLab({ up: ['--nodes', String(nodes), '--real-nodes', String(nodes), '--ferrolb-image'] });

  it('the cluster as MetalLB leaves it: namespace, CRDs with its BGPPeer conversion webhook, configuration, Services with status and annotations', async () => {
    kubectlApply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: system, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } });
    // Standing in for MetalLB's CRDs: ferrolb's own, which declare the same kinds,
    // versions and fields (docs/COMPATIBILITY.md), with the one difference that matters
    // here: MetalLB's BGPPeer converts between v1beta1 and v1beta2 through MetalLB's
    // webhook, which is gone with its controller.
    for (const file of ['metallb.io_ipaddresspools.yaml', 'metallb.io_l2advertisements.yaml', 'metallb.io_bgpadvertisements.yaml', 'metallb.io_bgppeers.yaml', 'metallb.io_bfdprofiles.yaml', 'metallb.io_communities.yaml']) {
      const crd = parse(readFileSync(join(repoDir, 'deploy', 'crds', file), 'utf8')) as { spec: Record<string, unknown> };
      if (file === 'metallb.io_bgppeers.yaml') {
        crd.spec['conversion'] = METALLB_CONVERSION;
      }
      kubectlApply(crd);
    }
    kubectl('wait', '--for=condition=Established', '--timeout=30s', 'crd', '--all');
    configureL2AndBGP(system);
    kubectl('create', 'namespace', ns);
    kubectl('create', 'deployment', 'web', '-n', ns, '--image=lab.ferrolb.io/hostname:1', '--replicas=2', '--port=80');
    for (const s of metallbServices) {
      kubectlApply({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: s.name, namespace: ns, annotations: s.annotations },
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: s.port, targetPort: 80, protocol: 'TCP' }], ...(s.loadBalancerIP ? { loadBalancerIP: s.loadBalancerIP } : {}) },
      });
      // What MetalLB's controller writes into status: the IP, nothing else.
      kubectl('patch', 'service', s.name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: s.ip }] } } }));
    }
    assert.deepEqual(ips(), expected);
  });

  it('kubectl apply -f deploy/ferrolb-native.yaml: every IP kept, none cleared or changed meanwhile, no new assignment', async () => {
    // Every value each Service's IPs take, from before the install until it is done.
    const watch = spawn(labBin, ['kubectl', 'get', 'services', '-n', ns, '-w', '-o', 'jsonpath={.metadata.name}={.status.loadBalancer.ingress[*].ip}{"\\n"}'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let seen = '';
    watch.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    kubectl('apply', '-f', join(repoDir, 'deploy', 'ferrolb-native.yaml'));
    await ferrolbRunning(nodes, 180_000);
    // Done when the controller has judged every Service: the current pool annotation on each.
    await eventually('the pool annotation on every Service', 60_000, () => {
      const svcs = kubectlJson<{ items: Svc[] }>('get', 'services', '-n', ns).items;
      return svcs.every((s) => s.metadata.annotations?.['metallb.io/ip-allocated-from-pool'] === (s.metadata.name === 'bgp' ? 'bgp' : 'lan')) ? true : undefined;
    }, 500);
    assert.equal(kubectl('get', 'configurationstate', 'controller', '-n', system, '-o', 'jsonpath={.status.result}'), 'Valid');
    assert.deepEqual(ips(), expected);
    watch.kill();
    await new Promise((r) => watch.once('exit', r));
    const values = [...new Set(seen.split('\n').filter(Boolean))].sort();
    assert.deepEqual(values, Object.entries(expected).map(([n, ip]) => `${n}=${ip}`).sort(), 'a Service\'s IPs changed during the install');
    const reasons = kubectlJson<{ items: { reason: string; involvedObject: { name: string }; message: string }[] }>('get', 'events', '-n', ns).items
      .filter((e) => ['IPAllocated', 'ClearAssignment', 'AllocationFailed'].includes(e.reason))
      .map((e) => `${e.involvedObject.name}: ${e.reason} ${e.message}`);
    assert.deepEqual(reasons, []);
    // ferrolb's CRDs replaced MetalLB's conversion webhook (kubectl apply drops what the
    // last apply set and this one does not); BGPPeers read at both versions.
    assert.equal(kubectl('get', 'crd', 'bgppeers.metallb.io', '-o', 'jsonpath={.spec.conversion.strategy}'), 'None');
    kubectl('get', 'bgppeers.v1beta1.metallb.io', '-n', system);
  });

  it('the kept IPs are announced: the client reaches the L2 IPs and, through the router, the BGP one', async () => {
    for (const ip of ['198.18.0.230', '198.18.0.215', '198.18.0.240', '198.18.0.250', '198.18.0.222']) {
      assert.match(await eventually(`an answer at ${ip}`, 90_000, () => wgetFromClient(`http://${ip}/`), 200), /^web-/);
    }
    assert.match(await eventually('an answer at 198.18.0.240:8080', 30_000, () => wgetFromClient('http://198.18.0.240:8080/'), 200), /^web-/);
    await eventually('the BGP route at the router', 60_000, () => routerRoute('198.18.1.7') || undefined, 500);
    assert.match(await eventually('an answer at 198.18.1.7', 60_000, () => wgetFromClient('http://198.18.1.7/'), 200), /^web-/);
  });

  it("the speakers as MetalLB's DaemonSet runs them, only the image changed: flags only, its environment (the pod IP to bind, the key directory); members agree, the IPs answer", async () => {
    // What MetalLB's speaker manifest passes besides its image (docs/METALLB.md "Command
    // lines and manifests"); ferrolb's manifest mounts the memberlist Secret at the same
    // /etc/ml_secret_key.
    const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
    const patch = [
      { op: 'replace', path: '/spec/template/spec/containers/0/args', value: ['--port=7472', '--log-level=info'] },
      {
        op: 'replace',
        path: '/spec/template/spec/containers/0/env',
        value: [
          fieldEnv('METALLB_NODE_NAME', 'spec.nodeName'),
          fieldEnv('METALLB_POD_NAME', 'metadata.name'),
          fieldEnv('METALLB_HOST', 'status.hostIP'),
          fieldEnv('METALLB_ML_BIND_ADDR', 'status.podIP'),
          { name: 'METALLB_ML_LABELS', value: 'app=metallb,component=speaker' },
          { name: 'METALLB_ML_SECRET_KEY_PATH', value: '/etc/ml_secret_key' },
        ],
      },
    ];
    kubectl('patch', 'daemonset', 'speaker', '-n', system, '--type=json', '-p', JSON.stringify(patch));
    const { speakers } = await eventually('three Ready speakers with MetalLB\'s arguments', 180_000, async () => {
      const running = await ferrolbRunning(nodes, 5_000).catch(() => undefined);
      return running && running.speakers.every((p) => JSON.stringify(p.spec.containers?.[0]?.args) === '["--port=7472","--log-level=info"]') ? running : undefined;
    }, 1000);
    for (const p of speakers) {
      const log = kubectl('logs', '-n', system, p.metadata.name);
      // The component from the environment, the key from the directory, heartbeats authenticated.
      assert.match(log, /"msg":"speaker starting"/);
      assert.match(log, /"authenticated":true/);
      // Bound to the pod IP (IPv4, hostNetwork: the node's address), every peer heard.
      const members = await eventually(`${p.spec.nodeName} hears all three`, 30_000, () => {
        const lines = kubectl('logs', '-n', system, p.metadata.name).split('\n').filter((l) => l.includes('"msg":"members"'));
        const last = lines.at(-1);
        return last && (JSON.parse(last) as { live: string[] }).live.length === nodes ? last : undefined;
      }, 1000);
      assert.ok(members.includes(p.spec.nodeName!), members);
    }
    for (const ip of ['198.18.0.230', '198.18.0.240']) {
      assert.match(await eventually(`an answer at ${ip}`, 60_000, () => wgetFromClient(`http://${ip}/`), 200), /^web-/);
    }
    assert.deepEqual(ips(), expected, 'no IP moved');
  });

  it("the controller as MetalLB's Deployment runs it, only the image changed: flags only, its environment; it keeps every IP and assigns a new Service", async () => {
    // What MetalLB's controller manifest passes besides its image (docs/METALLB.md).
    const patch = [
      { op: 'replace', path: '/spec/template/spec/containers/0/args', value: ['--port=7472', '--log-level=info', '--tls-min-version=VersionTLS12'] },
      {
        op: 'replace',
        path: '/spec/template/spec/containers/0/env',
        value: [
          { name: 'METALLB_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'METALLB_ML_SECRET_NAME', value: 'memberlist' },
          { name: 'METALLB_DEPLOYMENT', value: 'controller' },
        ],
      },
    ];
    kubectl('patch', 'deployment', 'controller', '-n', system, '--type=json', '-p', JSON.stringify(patch));
    const { controller } = await eventually('a Ready controller with MetalLB\'s arguments', 180_000, async () => {
      const running = await ferrolbRunning(nodes, 5_000).catch(() => undefined);
      return running && running.controller.spec.containers?.[0]?.args?.[0] === '--port=7472' ? running : undefined;
    }, 1000);
    const log = kubectl('logs', '-n', system, controller.metadata.name);
    assert.match(log, /"msg":"controller starting"/);
    // Its memberlist Secret under MetalLB's name, created as MetalLB's controller does.
    await eventually('Secret memberlist', 30_000, () => (kubectl('get', 'secret', '-n', system, 'memberlist', '-o', 'jsonpath={.data.secretkey}') || undefined), 1000);
    kubectlApply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'after-switch', namespace: ns }, spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] } });
    const ip = await eventually('an IP for a new Service', 60_000, () => ips()['after-switch'] || undefined, 500);
    assert.match(ip, /^198\.18\.0\.\d+$/);
    assert.ok(!Object.values(expected).includes(ip), `${ip} is not one of the kept IPs`);
    const { ['after-switch']: _new, ...kept } = ips();
    assert.deepEqual(kept, expected, 'no kept IP moved');
    assert.match(await eventually(`an answer at ${ip}`, 60_000, () => wgetFromClient(`http://${ip}/`), 200), /^web-/);
  });

  it("all of MetalLB's manifest but the image: only its RBAC, its webhook Service, configuration and Secret, its BGPPeer conversion; the webhook checks and converts, a new Service gets its IP and pool annotation, the speakers report it", async () => {
    // MetalLB's Roles and bindings in place of ferrolb's (test/helpers/metallb-rbac.ts),
    // so the pods have nothing MetalLB's own would not.
    for (const o of metallbRBAC(system)) kubectlApply(o);
    kubectl('delete', 'clusterrolebinding', 'ferrolb:controller', 'ferrolb:speaker');
    kubectl('delete', 'rolebinding', '-n', system, 'ferrolb:controller', 'ferrolb:speaker');
    // The webhook objects under MetalLB's names: ferrolb's own renamed, without the
    // caBundle (MetalLB's controller fills it in), and MetalLB's empty Opaque Secret.
    const rename = (text: string) => text.replaceAll('ferrolb-webhook-service', 'metallb-webhook-service').replaceAll('ferrolb-webhook-configuration', 'metallb-webhook-configuration');
    for (const o of parseAllDocuments(rename(readFileSync(join(repoDir, 'deploy', 'webhook', 'webhook.yaml'), 'utf8'))).map((d) => d.toJS() as { kind: string; metadata: { annotations?: Record<string, string> } })) {
      delete o.metadata.annotations;
      kubectlApply(o);
    }
    // The controller of the step before made that Secret itself (type kubernetes.io/tls):
    // stopped, its Secret replaced by MetalLB's, and started again.
    const before = new Set(kubectlJson<{ items: { metadata: { name: string } }[] }>('get', 'pods', '-n', system).items.map((p) => p.metadata.name));
    kubectl('scale', '-n', system, 'deployment/controller', '--replicas=0');
    await eventually('no controller pod', 120_000, () => (kubectl('get', 'pods', '-n', system, '-l', 'component=controller', '-o', 'name').trim() === '' ? true : undefined), 1000);
    kubectl('delete', 'secret', '-n', system, 'metallb-webhook-cert', '--ignore-not-found');
    kubectlApply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'metallb-webhook-cert', namespace: system }, type: 'Opaque' });
    kubectl('delete', 'validatingwebhookconfiguration', 'ferrolb-webhook-configuration');
    kubectl('scale', '-n', system, 'deployment/controller', '--replicas=1');
    kubectl('rollout', 'restart', '-n', system, 'daemonset/speaker');
    const { controller } = await eventually('new Ready pods under MetalLB\'s RBAC', 240_000, async () => {
      const running = await ferrolbRunning(nodes, 5_000).catch(() => undefined);
      return running && ![running.controller, ...running.speakers].some((p) => before.has(p.metadata.name)) ? running : undefined;
    }, 1000);
    // The certificate in MetalLB's Secret, its CA in MetalLB's configuration.
    await eventually('a certificate in Secret metallb-webhook-cert', 60_000, () => kubectl('get', 'secret', '-n', system, 'metallb-webhook-cert', '-o', 'jsonpath={.data.tls\\.crt}') || undefined, 1000);
    await eventually('the CA in metallb-webhook-configuration', 60_000, () => kubectl('get', 'validatingwebhookconfiguration', 'metallb-webhook-configuration', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}') || undefined, 1000);
    // Called through metallb-webhook-service with that certificate, it refuses an overlap
    // (failurePolicy Ignore would let it through if the call failed).
    const bad = `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: overlapping, namespace: ${system}}\nspec: {addresses: [198.18.0.250-198.18.0.252]}\n`;
    const refused = await eventually('the webhook answering', 60_000, () => {
      const r = kubectlStdin(bad, 'apply');
      return r.status !== 0 ? r : undefined;
    }, 1000);
    assert.match(refused.stderr, /admission webhook "ipaddresspoolsvalidationwebhook\.metallb\.io" denied the request: .*overlaps/);
    // MetalLB's BGPPeer CRD converts through the controller (/convert on the same Service):
    // the controller writes its CA there too, and a read in the version not stored
    // (v1beta1; the API server stores v1beta2) succeeds only if the conversion answered.
    kubectl('patch', 'crd', 'bgppeers.metallb.io', '--type=merge', '-p', JSON.stringify({ spec: { conversion: METALLB_CONVERSION } }));
    await eventually('the CA in the BGPPeer CRD\'s conversion webhook', 90_000, () => kubectl('get', 'crd', 'bgppeers.metallb.io', '-o', 'jsonpath={.spec.conversion.webhook.clientConfig.caBundle}') || undefined, 1000);
    let lastRefusal = '';
    const converted = await eventually('BGPPeers read as v1beta1 through the conversion', 60_000, () => {
      const r = lab(['kubectl', 'get', 'bgppeers.v1beta1.metallb.io', '-n', system, '-o', 'json'], 30_000);
      lastRefusal = r.stderr;
      return r.status === 0 ? (JSON.parse(r.stdout) as { items: { apiVersion: string; metadata: { name: string }; spec: { peerAddress: string; peerASN: number } }[] }).items : undefined;
    }, 1000).catch((err: unknown) => {
      throw new Error(`${String(err)}; kubectl said: ${lastRefusal}`);
    });
    assert.deepEqual(converted.map((p) => [p.apiVersion, p.metadata.name, p.spec.peerAddress, p.spec.peerASN]), [['metallb.io/v1beta1', 'router', '198.18.0.1', 64512]]);
    // And the other way: a peer written as v1beta1 (checked by the webhook at v1beta2,
    // converted first) is stored, and read back, as v1beta2. No router listens at its address.
    kubectlApply({ apiVersion: 'metallb.io/v1beta1', kind: 'BGPPeer', metadata: { name: 'written-v1beta1', namespace: system }, spec: { myASN: 64513, peerASN: 64600, peerAddress: '198.18.0.99', holdTime: '90s' } });
    const stored = kubectlJson<{ apiVersion: string; spec: { peerASN: number; holdTime: string } }>('get', 'bgppeers.v1beta2.metallb.io', '-n', system, 'written-v1beta1');
    assert.deepEqual([stored.apiVersion, stored.spec.peerASN, stored.spec.holdTime], ['metallb.io/v1beta2', 64600, '90s']);
    kubectl('delete', 'bgppeer', '-n', system, 'written-v1beta1');
    // The controller's write (IPs and pool annotation in one update of services/status).
    kubectlApply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'under-metallb-rbac', namespace: ns }, spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] } });
    const ip = await eventually('an IP for a Service made under MetalLB\'s RBAC', 60_000, () => ips()['under-metallb-rbac'] || undefined, 500);
    const svc = kubectlJson<Svc>('get', 'service', '-n', ns, 'under-metallb-rbac');
    assert.equal(svc.metadata.annotations?.['metallb.io/ip-allocated-from-pool'], 'lan');
    assert.match(await eventually(`an answer at ${ip}`, 60_000, () => wgetFromClient(`http://${ip}/`), 200), /^web-/);
    // The speaker that announces it reports so (ServiceL2Status under MetalLB's ClusterRole).
    await eventually('a ServiceL2Status for it', 60_000, () => kubectlJson<{ items: { status?: { serviceName?: string } }[] }>('get', 'servicel2statuses', '-n', system).items.find((o) => o.status?.serviceName === 'under-metallb-rbac'), 1000);
    const { ['under-metallb-rbac']: _new, ['after-switch']: _earlier, ...kept } = ips();
    assert.deepEqual(kept, expected, 'no kept IP moved');
    // Nothing refused but the Deployment watch MetalLB's Roles do not grant
    // (test/deploy/rbac-usage.test.ts lists why); a 429 while the API server re-reads the
    // patched CRD is a wait, not a refusal.
    const refusals = kubectl('logs', '-n', system, controller.metadata.name).split('\n').filter((l) => l.includes('"code":"EAPIREFUSED"') && !l.includes('"status":429'));
    assert.deepEqual(refusals.filter((l) => !l.includes('/deployments')), [], 'refusals other than the Deployment watch');
  });

  it("MetalLB v0.16's metrics: --port=9120 over HTTPS, probes on 17472; scrapes refused (503) under its native RBAC, each token reviewed by the API server under its -prometheus RBAC", async () => {
    const probe = { httpGet: { path: '/readyz', port: 17472 }, periodSeconds: 5 };
    kubectl('patch', 'daemonset', 'speaker', '-n', system, '--type=json', '-p', JSON.stringify([
      { op: 'replace', path: '/spec/template/spec/containers/0/args', value: ['--port=9120', '--log-level=info'] },
      { op: 'replace', path: '/spec/template/spec/containers/0/readinessProbe', value: probe },
    ]));
    const { speakers } = await eventually('three Ready speakers with --port=9120', 180_000, async () => {
      const running = await ferrolbRunning(nodes, 5_000).catch(() => undefined);
      return running && running.speakers.every((p) => p.spec.containers?.[0]?.args?.[0] === '--port=9120') ? running : undefined;
    }, 1000);
    // A reader as Prometheus is one (get on the /metrics URL), and an account without that.
    kubectlApply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'scraper', namespace: 'default' } });
    kubectlApply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'stranger', namespace: 'default' } });
    kubectlApply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'scraper' }, rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] });
    kubectlApply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'scraper' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'scraper' }, subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace: 'default' }] });
    const token = (sa: string) => kubectl('create', 'token', sa, '-n', 'default').trim();
    const node = speakers[0]!.spec.nodeName!;
    const scrape = (bearer?: string) => {
      const r = lab(['exec', node, 'curl', '-sk', '-m', '5', '-w', '\\n%{http_code}', ...(bearer !== undefined ? ['-H', `Authorization: Bearer ${bearer}`] : []), 'https://127.0.0.1:9120/metrics'], 15_000);
      const lines = r.stdout.trimEnd().split('\n');
      return { code: lines.at(-1), body: lines.slice(0, -1).join('\n') };
    };
    // Under the native manifest's RBAC the speaker may not review tokens (nor may MetalLB's own).
    assert.equal(scrape(token('scraper')).code, '503', 'no RBAC for TokenReviews: unavailable, not a pass');
    for (const o of metallbRBAC(system, { prometheus: true })) kubectlApply(o);
    assert.equal(scrape().code, '401', 'no token');
    assert.equal(scrape('not-a-token').code, '401', 'a token the API server does not know');
    assert.equal(scrape(token('stranger')).code, '403', 'a token without get on /metrics');
    const ok = await eventually('a scrape with the reader\'s token', 30_000, () => {
      const r = scrape(token('scraper'));
      return r.code === '200' ? r : undefined;
    }, 1000);
    assert.match(ok.body, /^ferrolb_speaker_members_live 3$/m);
    // Plain HTTP on that port is refused; the probes' port answers without a token.
    assert.notEqual(lab(['exec', node, 'curl', '-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9120/metrics'], 15_000).stdout, '200');
    assert.equal(lab(['exec', node, 'curl', '-s', '-m', '5', 'http://127.0.0.1:17472/readyz'], 15_000).status, 0);
  });
});
