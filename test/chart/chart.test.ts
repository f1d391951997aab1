// charts/ferrolb with the helm the project builds (tools/helm/build.sh; scripts/setup.sh
// builds it): lint clean under --strict; the default render is deploy/ferrolb-native.yaml
// less its Namespace; every value lands where it says, as flags ferrolb accepts; wrong
// values are refused with their path. Installing into a cluster is tested in the lab.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { repoDir } from '../../scripts/gen-native.ts';

const chart = join(repoDir, 'charts', 'ferrolb');
const helmBin = ((): string | undefined => {
  const r = spawnSync('bash', [join(repoDir, 'tools', 'helm', 'build.sh'), '--path'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
})();

interface Run { status: number | null; stdout: string; stderr: string }
function helm(...args: string[]): Run {
  // Fails rather than skips: scripts/setup.sh builds helm, so a missing one is a broken set-up.
  if (helmBin === undefined) throw new Error('helm is not built: run bash tools/helm/build.sh (scripts/setup.sh does)');
  const r = spawnSync(helmBin, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HELM_CACHE_HOME: '/tmp/ferrolb-helm-test/cache', HELM_CONFIG_HOME: '/tmp/ferrolb-helm-test/config', HELM_DATA_HOME: '/tmp/ferrolb-helm-test/data' } });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } };
// YAML 1.1 as Kubernetes reads it (0444 is octal there).
const parseObjects = (text: string): Obj[] => parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS() as Obj).filter((o) => o !== null);
const key = (o: Obj): string => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** `helm template` of the chart with these extra arguments; fails the test when helm does. */
function render(...args: string[]): Obj[] {
  const r = helm('template', 'ferrolb', chart, '--namespace', 'metallb-system', ...args);
  assert.equal(r.status, 0, `helm template ${args.join(' ')}: ${r.stderr}`);
  return parseObjects(r.stdout);
}
function one(objs: Obj[], kind: string, name: string): Obj {
  const found = objs.filter((o) => o.kind === kind && o.metadata.name === name);
  assert.equal(found.length, 1, `${kind} ${name}: ${found.length} rendered`);
  return found[0]!;
}

interface Container { name: string; image: string; imagePullPolicy?: string; args: string[]; ports: { name: string; containerPort: number }[]; resources?: unknown }
interface PodSpec { containers: Container[]; tolerations?: unknown[]; nodeSelector?: Record<string, string>; affinity?: unknown; priorityClassName?: string; imagePullSecrets?: unknown[]; volumes?: { secret?: { secretName: string } }[] }
const pod = (o: Obj) => (o as unknown as { spec: { template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec } } }).spec.template;
const controller = (objs: Obj[]) => pod(one(objs, 'Deployment', 'controller'));
const speaker = (objs: Obj[]) => pod(one(objs, 'DaemonSet', 'speaker'));

/** The first place two values differ, as a path, or undefined when they are equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

/** Objects by kind/namespace/name; a difference is named by object and field path. */
function compare(rendered: Obj[], expected: Obj[]): string[] {
  const problems: string[] = [];
  const want = new Map(expected.map((o) => [key(o), o]));
  const got = new Map(rendered.map((o) => [key(o), o]));
  if (got.size !== rendered.length) problems.push('the chart renders an object twice');
  for (const [k, o] of want) {
    const r = got.get(k);
    if (r === undefined) problems.push(`${k}: in deploy/ferrolb-native.yaml, not rendered by the chart`);
    else {
      const d = firstDifference(r, o);
      if (d !== undefined) problems.push(`${k}: chart vs deploy/ferrolb-native.yaml differ at ${d}`);
    }
  }
  for (const k of got.keys()) if (!want.has(k)) problems.push(`${k}: rendered by the chart, not in deploy/ferrolb-native.yaml`);
  return problems;
}

/** Runs a container's args as ferrolb would get them: it must get past parsing them, to loading the kubeconfig. */
function ferrolbAccepts(args: readonly string[]): { ok: boolean; stderr: string } {
  const expanded = args.map((a) => a.replace(/\$\((\w+)\)/g, (_, v: string) => (v === 'METALLB_HOST' ? '127.0.0.1' : 'metallb-system')));
  const env = { ...process.env, PATH: `${join(repoDir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };
  const r = spawnSync(join(repoDir, 'bin', 'ferrolb.js'), [...expanded, '--kubeconfig', '/nonexistent/kubeconfig'], { encoding: 'utf8', env, timeout: 30_000 });
  return { ok: r.status === 1 && /cannot load kubeconfig \/nonexistent\/kubeconfig/.test(r.stderr), stderr: r.stderr };
}

const nativeObjects = (): Obj[] => parseObjects(readFileSync(join(repoDir, 'deploy', 'ferrolb-native.yaml'), 'utf8'));

describe('charts/ferrolb', () => {
  it('helm lint --strict passes with no warning, with default values and with every optional object on', () => {
    for (const sets of [[], ['--set', 'prometheus.serviceMonitor.enabled=true,prometheus.podMonitor.enabled=true,prometheus.prometheusRule.enabled=true,loadBalancerClass=example.com/internal']]) {
      const r = helm('lint', '--strict', chart, '--namespace', 'metallb-system', ...sets);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout + r.stderr, /\[(WARNING|ERROR)\]/);
    }
  });

  it('helm template with default values is deploy/ferrolb-native.yaml less its Namespace (Helm installs into the release namespace)', () => {
    const expected = nativeObjects();
    const namespaces = expected.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    assert.deepEqual(namespaces, ['metallb-system']);
    // Helm's hooks (the pre-delete Job) have no place in a file for kubectl.
    const rendered = render('--include-crds', '--no-hooks');
    const problems = compare(rendered, expected.filter((o) => o.kind !== 'Namespace'));
    assert.deepEqual(problems, [], `update charts/ferrolb/templates/ (or run npm run gen:native) so that the default render is the one file:\n${problems.join('\n')}`);
    // Without --include-crds the CRDs are not templates: crds/, as Helm's convention wants.
    assert.ok(!render().some((o) => o.kind === 'CustomResourceDefinition'));
  });

  it('the comparison sees a one-field difference, and names the object and the field', () => {
    const expected = nativeObjects().filter((o) => o.kind !== 'Namespace');
    const problems = compare(render('--include-crds', '--no-hooks', '--set', 'controller.logLevel=debug'), expected);
    assert.deepEqual(problems, ['Deployment metallb-system/controller: chart vs deploy/ferrolb-native.yaml differ at spec.template.spec.containers[0].args[5]: "--log-level=debug" vs "--log-level=info"']);
    const fewer = compare(render(), expected);
    assert.ok(fewer.includes('CustomResourceDefinition /ipaddresspools.metallb.io: in deploy/ferrolb-native.yaml, not rendered by the chart'), fewer.join('\n'));
    assert.ok(fewer.includes('Job metallb-system/ferrolb-uninstall: rendered by the chart, not in deploy/ferrolb-native.yaml'), fewer.join('\n'));
  });

  it('helm uninstall runs the controller\'s clean-up first: a pre-delete Job, as the controller, whose arguments ferrolb accepts', () => {
    const job = one(render(), 'Job', 'ferrolb-uninstall') as Obj & { spec: { template: { spec: PodSpec & { serviceAccountName: string; restartPolicy: string } } } };
    assert.equal(job.metadata.annotations?.['helm.sh/hook'], 'pre-delete');
    assert.equal(job.metadata.annotations?.['helm.sh/hook-delete-policy'], 'before-hook-creation,hook-succeeded');
    // Not a controller pod: the webhook Service and the tests select component=controller.
    assert.deepEqual(job.metadata.labels, { app: 'ferrolb', component: 'uninstall' });
    const pod = job.spec.template.spec;
    assert.equal(pod.serviceAccountName, 'controller');
    assert.equal(pod.restartPolicy, 'Never');
    const c = pod.containers[0]!;
    assert.equal(c.image, 'ferrolb:dev');
    assert.deepEqual(c.args, ['controller', '--uninstall', '--namespace=$(POD_NAMESPACE)', '--deployment=controller']);
    const run = ferrolbAccepts(c.args);
    assert.ok(run.ok, run.stderr);
    // The image and scheduling values reach it as they reach the controller.
    const custom = one(render('--set', 'image.tag=v2,controller.nodeSelector.zone=a'), 'Job', 'ferrolb-uninstall') as typeof job;
    assert.equal(custom.spec.template.spec.containers[0]!.image, 'ferrolb:v2');
    assert.deepEqual(custom.spec.template.spec.nodeSelector, { 'kubernetes.io/os': 'linux', zone: 'a' });
  });

  it('installs into the release namespace: nothing names metallb-system', () => {
    const r = helm('template', 'ferrolb', chart, '--namespace', 'lb', '--include-crds');
    assert.equal(r.status, 0, r.stderr);
    const objs = parseObjects(r.stdout);
    for (const o of objs) {
      if (!['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration'].includes(o.kind)) assert.equal(o.metadata.namespace, 'lb', key(o));
    }
    assert.doesNotMatch(r.stdout, /metallb-system/);
    const vwc = one(objs, 'ValidatingWebhookConfiguration', 'ferrolb-webhook-configuration') as unknown as { metadata: { annotations: Record<string, string> }; webhooks: { clientConfig: { service: { namespace: string } } }[] };
    assert.equal(vwc.metadata.annotations['cert-manager.io/inject-ca-from'], 'lb/ferrolb-webhook-cert');
    assert.deepEqual(new Set(vwc.webhooks.map((w) => w.clientConfig.service.namespace)), new Set(['lb']));
    const binding = one(objs, 'ClusterRoleBinding', 'ferrolb:speaker') as unknown as { subjects: { namespace: string }[] };
    assert.equal(binding.subjects[0]!.namespace, 'lb');
  });

  it('non-default values reach the objects, and the flags they set are ones ferrolb accepts', () => {
    const values = [
      'image.repository=registry.example:5000/ferrolb', 'image.tag=v0.1.0', 'image.pullPolicy=Always',
      'imagePullSecrets[0].name=regcred', 'loadBalancerClass=example.com/internal',
      'controller.logLevel=debug', 'speaker.logLevel=all',
      'speaker.memberlist.mlBindPort=7947', 'speaker.memberlist.secretName=lb-memberlist',
      'prometheus.metricsPort=9100', 'prometheus.scrapeAnnotations=false',
      'speaker.tolerations[0].key=dedicated', 'speaker.tolerations[0].operator=Equal', 'speaker.tolerations[0].value=edge', 'speaker.tolerations[0].effect=NoExecute',
      'controller.tolerations[0].key=infra', 'controller.tolerations[0].operator=Exists',
      'speaker.nodeSelector.node-role/edge=true', 'controller.priorityClassName=system-cluster-critical', 'speaker.priorityClassName=system-node-critical',
      'controller.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=infra',
      'controller.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists',
      'webhook.failurePolicy=Fail', 'speaker.gratuitousARPInterval=60', 'speaker.bgpDrainTime=30',
    ];
    const objs = render('--set-string', 'speaker.nodeSelector.node-role/edge=true', '--set', values.filter((v) => !v.startsWith('speaker.nodeSelector')).join(','));
    const c = controller(objs);
    const s = speaker(objs);
    const [cc, sc] = [c.spec.containers[0]!, s.spec.containers[0]!];
    for (const x of [cc, sc]) {
      assert.equal(x.image, 'registry.example:5000/ferrolb:v0.1.0');
      assert.equal(x.imagePullPolicy, 'Always');
    }
    for (const p of [c, s]) {
      assert.deepEqual(p.spec.imagePullSecrets, [{ name: 'regcred' }]);
      assert.equal(p.metadata.annotations, undefined, 'scrapeAnnotations=false leaves no annotations');
    }
    assert.deepEqual(cc.args, ['controller', '--namespace=$(POD_NAMESPACE)', '--deployment=controller', '--metrics-addr=0.0.0.0:9100', '--webhook-port=9443', '--log-level=debug', '--lb-class=example.com/internal', '--ml-secret-name=lb-memberlist']);
    assert.deepEqual(sc.args, ['speaker', '--namespace=$(POD_NAMESPACE)', '--metrics-addr=$(METALLB_HOST):9100', '--ml-bind-port=7947', '--log-level=all', '--gratuitous-arp-interval=60', '--bgp-drain-time=30', '--lb-class=example.com/internal']);
    assert.equal((s.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds, 35, 'the grace period covers the BGP drain');
    assert.deepEqual(sc.ports.map((p) => [p.name, p.containerPort]), [['monitoring', 9100], ['memberlist-udp', 7947]]);
    assert.deepEqual(cc.ports.map((p) => [p.name, p.containerPort]), [['monitoring', 9100], ['webhook', 9443]]);
    assert.deepEqual(s.spec.volumes?.map((v) => v.secret?.secretName), ['lb-memberlist']);
    // The control-plane tolerations stay (tolerateMaster), the value's are added.
    assert.deepEqual(s.spec.tolerations, [
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'dedicated', operator: 'Equal', value: 'edge', effect: 'NoExecute' },
    ]);
    assert.deepEqual(c.spec.tolerations, [{ key: 'infra', operator: 'Exists' }]);
    assert.deepEqual(s.spec.nodeSelector, { 'kubernetes.io/os': 'linux', 'node-role/edge': 'true' });
    assert.deepEqual(c.spec.nodeSelector, { 'kubernetes.io/os': 'linux' });
    assert.deepEqual(c.spec.affinity, { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'infra', operator: 'Exists' }] }] } } });
    assert.equal(s.spec.affinity, undefined);
    assert.equal(c.spec.priorityClassName, 'system-cluster-critical');
    assert.equal(s.spec.priorityClassName, 'system-node-critical');
    const vwc = one(objs, 'ValidatingWebhookConfiguration', 'ferrolb-webhook-configuration') as unknown as { webhooks: { failurePolicy: string }[] };
    assert.deepEqual(vwc.webhooks.map((w) => w.failurePolicy), Array(6).fill('Fail'));
    for (const name of ['ferrolb-controller-metrics', 'ferrolb-speaker-metrics']) {
      assert.deepEqual((one(objs, 'Service', name) as unknown as { spec: { ports: { port: number }[] } }).spec.ports.map((p) => p.port), [9100]);
    }
    for (const x of [cc, sc]) {
      const r = ferrolbAccepts(x.args);
      assert.ok(r.ok, `${x.name} ${x.args.join(' ')}: ${r.stderr}`);
    }
    // And the check itself refuses a flag ferrolb does not have.
    assert.equal(ferrolbAccepts([...cc.args, '--no-such-flag=1']).ok, false);
  });

  it('resources, tolerateMaster and pull policy: merged into, dropped with null, left out when empty', () => {
    // Helm merges a map value into the default; null removes it.
    const objs = render('--set', 'speaker.tolerateMaster=false,controller.resources.requests.cpu=100m,controller.resources.limits.memory=1Gi,speaker.resources=null');
    assert.equal(speaker(objs).spec.tolerations, undefined);
    assert.deepEqual(controller(objs).spec.containers[0]!.resources, { requests: { cpu: '100m', memory: '96Mi' }, limits: { memory: '1Gi' } });
    assert.equal(speaker(objs).spec.containers[0]!.resources, undefined);
    assert.equal(controller(render()).spec.containers[0]!.imagePullPolicy, undefined, 'no pullPolicy: Kubernetes\' default');
  });

  it('prometheus.serviceMonitor, podMonitor and prometheusRule each add their objects, and only when enabled', () => {
    const monitoring = (objs: Obj[]) => objs.filter((o) => ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'].includes(o.kind)).map(key).sort();
    assert.deepEqual(monitoring(render()), []);
    const sm = render('--set', 'prometheus.serviceMonitor.enabled=true,prometheus.serviceMonitor.interval=30s,prometheus.serviceMonitor.additionalLabels.release=kube-prometheus');
    assert.deepEqual(monitoring(sm), ['ServiceMonitor metallb-system/ferrolb-controller', 'ServiceMonitor metallb-system/ferrolb-speaker']);
    const smc = one(sm, 'ServiceMonitor', 'ferrolb-speaker') as unknown as { metadata: { labels: Record<string, string> }; spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; interval?: string }[] } };
    assert.equal(smc.metadata.labels['release'], 'kube-prometheus');
    assert.deepEqual(smc.spec.endpoints, [{ port: 'monitoring', path: '/metrics', interval: '30s' }]);
    // It selects exactly the speaker's metrics Service.
    const services = sm.filter((o) => o.kind === 'Service' && Object.entries(smc.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v));
    assert.deepEqual(services.map((o) => o.metadata.name), ['ferrolb-speaker-metrics']);
    assert.deepEqual(monitoring(render('--set', 'prometheus.podMonitor.enabled=true')), ['PodMonitor metallb-system/ferrolb']);
    assert.deepEqual(monitoring(render('--set', 'prometheus.prometheusRule.enabled=true')), ['PrometheusRule metallb-system/ferrolb']);
  });

  it('prometheus.secureMetricsPort: HTTPS metrics there with tokens checked, a plain health port for the probes, the RBAC both need, https monitors', () => {
    const objs = render('--set', 'prometheus.secureMetricsPort=9120,prometheus.controllerMetricsTLSSecret=controller-metrics-tls,prometheus.serviceMonitor.enabled=true,prometheus.serviceAccount=prometheus-k8s,prometheus.namespace=monitoring');
    const c = controller(objs);
    const s = speaker(objs);
    const args = (p: typeof c) => p.spec.containers[0]!.args.filter((a) => /^--(metrics|health)-/.test(a));
    // The controller's certificate from its Secret, the speaker's self-signed (no Secret given).
    assert.deepEqual(args(c), ['--metrics-addr=0.0.0.0:9120', '--health-addr=0.0.0.0:7472', '--metrics-cert-dir=/etc/metrics']);
    assert.deepEqual(args(s), ['--metrics-addr=$(METALLB_HOST):9120', '--health-addr=$(METALLB_HOST):7472', '--metrics-secure']);
    assert.deepEqual(c.spec.volumes?.map((v) => v.secret?.secretName), ['controller-metrics-tls']);
    // ferrolb takes these flags: the speaker gets as far as the kubeconfig; the controller
    // first reads its certificate, which is not on this machine.
    const sr = ferrolbAccepts(s.spec.containers[0]!.args);
    assert.ok(sr.ok, sr.stderr);
    assert.match(ferrolbAccepts(c.spec.containers[0]!.args).stderr, /^ferrolb controller: ETLSCERT: cannot read \/etc\/metrics\/tls\.crt: ENOENT$/m);
    for (const p of [c, s]) {
      const container = p.spec.containers[0]! as Container & { readinessProbe: { httpGet: { port: string } } };
      assert.deepEqual(container.ports.filter((x) => x.name !== 'webhook' && x.name !== 'memberlist-udp'), [{ name: 'monitoring', containerPort: 9120 }, { name: 'health', containerPort: 7472 }]);
      assert.equal(container.readinessProbe.httpGet.port, 'health', 'the probes carry no token: they use the plain health port');
      assert.deepEqual(p.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9120', 'prometheus.io/scheme': 'https' });
    }
    const sm = one(objs, 'ServiceMonitor', 'ferrolb-speaker') as unknown as { spec: { endpoints: unknown[] } };
    assert.deepEqual(sm.spec.endpoints, [{ port: 'monitoring', path: '/metrics', scheme: 'https', bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token', tlsConfig: { insecureSkipVerify: true } }]);
    assert.equal((one(objs, 'Service', 'ferrolb-controller-metrics') as unknown as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port, 9120);
    // The reviews the components make, and the get /metrics that Prometheus' token needs.
    type Role = { rules: { apiGroups?: string[]; resources?: string[]; nonResourceURLs?: string[]; verbs: string[] }[] };
    type Binding = { roleRef: { name: string }; subjects: { name: string; namespace: string }[] };
    assert.deepEqual((one(objs, 'ClusterRole', 'ferrolb:metrics-auth') as unknown as Role).rules, [
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
    assert.deepEqual((one(objs, 'ClusterRoleBinding', 'ferrolb:metrics-auth') as unknown as Binding).subjects.map((x) => `${x.namespace}/${x.name}`), ['metallb-system/controller', 'metallb-system/speaker']);
    assert.deepEqual((one(objs, 'ClusterRole', 'ferrolb:metrics-reader') as unknown as Role).rules, [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    assert.deepEqual((one(objs, 'ClusterRoleBinding', 'ferrolb:metrics-reader') as unknown as Binding).subjects.map((x) => `${x.namespace}/${x.name}`), ['metallb-system/ferrolb-metrics-reader', 'monitoring/prometheus-k8s']);
    // The PodMonitor sends the reader's token.
    const pm = one(render('--set', 'prometheus.secureMetricsPort=9120,prometheus.podMonitor.enabled=true'), 'PodMonitor', 'ferrolb') as unknown as { spec: { podMetricsEndpoints: unknown[] } };
    assert.deepEqual(pm.spec.podMetricsEndpoints, [{ port: 'monitoring', path: '/metrics', scheme: 'https', authorization: { credentials: { name: 'ferrolb-metrics-token', key: 'token' } }, tlsConfig: { insecureSkipVerify: true } }]);
    // None of it without secureMetricsPort.
    const plain = render();
    assert.deepEqual(plain.filter((o) => /metrics-(auth|reader|token)/.test(o.metadata.name)), []);
    assert.ok(!controller(plain).spec.containers[0]!.args.some((a) => a.startsWith('--health-addr') || a.startsWith('--metrics-secure')));
  });

  it('the PrometheusRule alerts on metrics ferrolb exports', () => {
    const rule = one(render('--set', 'prometheus.prometheusRule.enabled=true'), 'PrometheusRule', 'ferrolb') as unknown as { spec: { groups: { rules: { alert: string; expr: string }[] }[] } };
    const exported = new Set([...readFileSync(join(repoDir, 'src', 'observability', 'metrics.ts'), 'utf8').matchAll(/name: '(ferrolb_[a-z0-9_]+)'/g)].map((m) => m[1]!));
    assert.ok(exported.size > 10, 'metric names found in src/observability/metrics.ts');
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    assert.ok(rules.length >= 5);
    for (const r of rules) {
      const used = [...r.expr.matchAll(/\bferrolb_[a-z0-9_]+/g)].map((m) => m[0]);
      assert.ok(used.length > 0, `${r.alert} uses no ferrolb metric`);
      for (const m of used) assert.ok(exported.has(m), `${r.alert}: ${m} is not a metric ferrolb exports`);
    }
  });

  it('bad values are refused by helm, naming the value', () => {
    const cases: [string[], RegExp][] = [
      [['--set-string', 'speaker.memberlist.mlBindPort=7946'], /at '\/speaker\/memberlist\/mlBindPort': got string, want integer/],
      [['--set', 'prometheus.metricsPort=70000'], /at '\/prometheus\/metricsPort': maximum: got 70,000, want 65,535/],
      [['--set', 'speaker.excludeInterfaces.enabled=true'], /at '\/speaker': additional properties 'excludeInterfaces' not allowed/],
      [['--set', 'crds.validationFailurePolicy=Fail'], /at '': additional properties 'crds' not allowed/],
      [['--set', 'webhook.failurePolicy=Never'], /at '\/webhook\/failurePolicy': value must be one of 'Fail', 'Ignore'/],
      [['--set', 'controller.logLevel=verbose'], /at '\/controller\/logLevel': value must be one of 'all', 'trace', 'debug', 'info', 'warn', 'error', 'fatal', 'none'/],
      [['--set', 'speaker.tolerateMaster=yes please'], /at '\/speaker\/tolerateMaster': got string, want boolean/],
      [['--set', 'speaker.bgpDrainTime=301'], /at '\/speaker\/bgpDrainTime': maximum: got 301, want 300/],
      [['--set', 'speaker.gratuitousARPInterval=0'], /at '\/speaker\/gratuitousARPInterval': minimum: got 0, want 1/],
      [['--set', 'speaker.tolerations[0].operator=Matches'], /at '\/speaker\/tolerations\/0\/operator': value must be one of 'Exists', 'Equal'/],
      [['--set', 'controller.resources.requests.cpu=25 m'], /at '\/controller\/resources\/requests\/cpu'/],
      [['--set', 'image.tag=dev build'], /at '\/image\/tag': 'dev build' does not match pattern/],
      [['--set', 'speaker.memberlist.secretName=Ferrolb_Key'], /at '\/speaker\/memberlist\/secretName': 'Ferrolb_Key' does not match pattern/],
      [['--set', 'prometheus.serviceMonitor.interval=30 seconds'], /at '\/prometheus\/serviceMonitor\/interval'/],
      [['--set-json', 'controller.nodeSelector={"zone":1}'], /at '\/controller\/nodeSelector\/zone': got number, want string/],
      // null removes a value in Helm; one the templates cannot do without is required.
      [['--set', 'speaker.memberlist.secretName=null'], /at '\/speaker\/memberlist': missing property 'secretName'/],
    ];
    for (const [args, message] of cases) {
      const r = helm('template', 'ferrolb', chart, '--namespace', 'metallb-system', ...args);
      assert.notEqual(r.status, 0, `${args.join(' ')} was accepted`);
      assert.match(r.stderr, message, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('any value set to null renders, or is refused by the schema: never a template error', () => {
    const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as unknown;
    const paths = [...new Set([...leaves(values, ''), ...leaves(values, '').map((p) => p.split('.').slice(0, -1).join('.')).filter((p) => p !== '')])];
    // Every optional object on, so that its templates meet the null too.
    const on = join(mkdtempSync(join(tmpdir(), 'ferrolb-chart-')), 'on.yaml');
    writeFileSync(on, 'prometheus: {serviceMonitor: {enabled: true}, podMonitor: {enabled: true}, prometheusRule: {enabled: true}}\n');
    for (const path of paths) {
      const r = helm('template', 'ferrolb', chart, '--namespace', 'metallb-system', '--values', on, '--set', `${path}=null`);
      if (r.status !== 0) assert.match(r.stderr, /values don't meet the specifications of the schema[\s\S]*missing property/, `${path}=null: ${r.stderr}`);
    }
  });

  it('a MetalLB values file is refused with every key ferrolb does not have, at once', () => {
    const r = helm('template', 'ferrolb', chart, '--namespace', 'metallb-system', '--values', join(repoDir, 'test', 'chart', 'metallb-values.yaml'));
    assert.notEqual(r.status, 0);
    for (const m of [/at '': additional properties 'crds' not allowed/, /at '\/speaker': additional properties 'frr' not allowed/, /at '\/controller': additional properties 'image' not allowed/]) assert.match(r.stderr, m, r.stderr);
  });

  it('values.yaml lists every key the schema allows, and docs/INSTALL.md documents each', () => {
    const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')) as Schema;
    const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as unknown;
    const missing: string[] = [];
    walkSchema(schema, schema, values, '', missing);
    assert.deepEqual(missing, []);
    const install = readFileSync(join(repoDir, 'docs', 'INSTALL.md'), 'utf8');
    const undocumented = leaves(values, '').filter((p) => !install.includes(`| \`${p}\` |`));
    assert.deepEqual(undocumented, [], 'docs/INSTALL.md values table');
  });
});

interface Schema { $ref?: string; properties?: Record<string, Schema>; definitions?: Record<string, Schema> }
const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Where the schema lists properties, values.yaml must have exactly them (an empty {} default is a free map). */
function walkSchema(root: Schema, s: Schema, value: unknown, path: string, out: string[]): void {
  const node = s.$ref ? root.definitions![s.$ref.replace('#/definitions/', '')]! : s;
  if (!node.properties || (isMap(value) && Object.keys(value).length === 0)) return;
  if (!isMap(value)) {
    out.push(`${path}: values.yaml has no object here`);
    return;
  }
  for (const k of Object.keys(node.properties)) if (!(k in value)) out.push(`${path}${k}: in values.schema.json, not in values.yaml`);
  for (const k of Object.keys(value)) if (!(k in node.properties)) out.push(`${path}${k}: in values.yaml, not in values.schema.json`);
  for (const [k, sub] of Object.entries(node.properties)) if (k in value) walkSchema(root, sub, value[k], `${path}${k}.`, out);
}

/** The documented values: leaves of values.yaml, a `resources` block counting as one. */
function leaves(value: unknown, path: string): string[] {
  if (!isMap(value) || Object.keys(value).length === 0 || path.endsWith('resources')) return [path];
  return Object.entries(value).flatMap(([k, v]) => leaves(v, path === '' ? k : `${path}.${k}`));
}
