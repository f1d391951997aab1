// deploy/rbac/ against what the code does: every request the controller and the speaker
// can send must be granted (else a 403 in production), and every verb granted must be one
// a request uses (else the grant is more than least privilege). The requests are derived
// from the code, not listed by hand:
// - which typed operations of src/k8s/operations.ts each component calls: the names it
//   imports, over the import graph from its command (src/cli/controller.ts,
//   src/cli/speaker.ts);
// - what each operation sends: it is run against a recording client (method and path);
// - which collections each component lists and watches: the paths of the
//   `new WatchedResource(...)` in its files, evaluated with src/k8s/paths.ts.
// Only the arguments each operation is called with (which kind, which Secret) are the
// test's: callsOf below, and the test fails when a component imports an operation callsOf
// does not cover, so a new operation cannot slip past it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../src/k8s/client.ts';
import * as op from '../../src/k8s/operations.ts';
import * as paths from '../../src/k8s/paths.ts';
import { CONFIGURATION_KINDS } from '../../src/api/metallb.ts';
import { CERT_SECRET } from '../../src/webhook/certificates.ts';
import { repoDir } from '../helpers/lab.ts';
import { metallbRBAC } from '../helpers/metallb-rbac.ts';

type Component = 'controller' | 'speaker';
const NS = 'metallb-system';
const WEB = { namespace: 'web', name: 'a' };
/** The objects a component names, as ferrolb's own manifests name them. */
interface Names {
  readonly memberlist: string;
  readonly certSecret: string;
  readonly webhookConfiguration: string;
  readonly deployment: string;
  /** The controller's Lease; undefined when election is off (under MetalLB's manifests). */
  readonly lease?: string;
}
const FERROLB_NAMES: Names = {
  memberlist: 'ferrolb-memberlist', // --ml-secret-name's default (src/cli/controller.ts)
  certSecret: CERT_SECRET,
  webhookConfiguration: 'ferrolb-webhook-configuration',
  deployment: 'controller', // --deployment in deploy/ and the chart
  lease: 'ferrolb-controller', // src/controller/controller.ts LEASE_NAME
};
/** What MetalLB's manifests name (METALLB_ML_SECRET_NAME, METALLB_DEPLOYMENT) or imply (src/cli/metallb-flags.ts). */
const METALLB_NAMES: Names = { memberlist: 'memberlist', certSecret: 'metallb-webhook-cert', webhookConfiguration: 'metallb-webhook-configuration', deployment: 'controller' };
const event = { metadata: { generateName: 'a.', namespace: 'web' } } as op.CoreEvent;
const tls = { type: 'kubernetes.io/tls', data: {} };
type Calls = Partial<Record<keyof typeof op, ((c: KubeClient) => Promise<unknown>)[]>>;

/** How each component calls each operation it imports (the arguments its call sites pass). */
function callsOf(n: Names): Record<Component, Calls> {
  const lease: op.LeaseObject = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: n.lease ?? '', namespace: NS }, spec: {} };
  const leases: Calls = n.lease === undefined
    ? { getLease: [], createLease: [], replaceLease: [], deleteLease: [] }
    : { getLease: [(c) => op.getLease(c, NS, lease.metadata.name)], createLease: [(c) => op.createLease(c, lease)], replaceLease: [(c) => op.replaceLease(c, lease)], deleteLease: [(c) => op.deleteLease(c, NS, lease.metadata.name)] };
  return {
    controller: {
      patchServiceStatus: [(c) => op.patchServiceStatus(c, WEB, [], {})],
      patchObjectStatus: [(c) => op.patchObjectStatus(c, 'IPAddressPool', NS, 'pool', {}), (c) => op.patchObjectStatus(c, 'ConfigurationState', NS, 'controller', {})],
      getStatusObject: [(c) => op.getStatusObject(c, 'ConfigurationState', NS, 'controller')],
      createStatusObject: [(c) => op.createStatusObject(c, 'ConfigurationState', NS, { name: 'controller' })],
      deleteStatusObjects: op.STATUS_KINDS.map((k) => (c: KubeClient) => op.deleteStatusObjects(c, k, NS)),
      readSecret: [(c) => op.readSecret(c, NS, n.certSecret)],
      // Created when missing (the certificate, the memberlist key), the certificate replaced when renewed.
      writeSecret: [(c) => op.writeSecret(c, NS, n.certSecret, tls), (c) => op.writeSecret(c, NS, n.certSecret, tls, { metadata: { resourceVersion: '1' } }), (c) => op.writeSecret(c, NS, n.memberlist, tls)],
      deleteSecret: [(c) => op.deleteSecret(c, NS, n.certSecret), (c) => op.deleteSecret(c, NS, n.memberlist)],
      createEvent: [(c) => op.createEvent(c, event)],
      patchEventCount: [(c) => op.patchEventCount(c, 'web', 'a.1', 2, '')],
      ...leases,
      deleteDeploymentForeground: [(c) => op.deleteDeploymentForeground(c, NS, n.deployment)],
      deploymentExists: [(c) => op.deploymentExists(c, NS, n.deployment)],
      setWebhookCABundle: [(c) => op.setWebhookCABundle(c, n.webhookConfiguration, 'pem')],
      setConversionCABundle: [(c) => op.setConversionCABundle(c, 'bgppeers.metallb.io', NS, 'pem')],
    },
    speaker: {
      patchObjectStatus: (['ServiceL2Status', 'ServiceBGPStatus', 'ConfigurationState'] as const).map((k) => (c: KubeClient) => op.patchObjectStatus(c, k, NS, 'x', {})),
      listStatusObjects: (['ServiceL2Status', 'ServiceBGPStatus'] as const).map((k) => (c: KubeClient) => op.listStatusObjects(c, k, NS, 'metallb.io/node=n1')),
      deleteStatusObject: (['ServiceL2Status', 'ServiceBGPStatus'] as const).map((k) => (c: KubeClient) => op.deleteStatusObject(c, k, NS, 'x')),
      createStatusObject: (['ServiceL2Status', 'ServiceBGPStatus', 'ConfigurationState'] as const).map((k) => (c: KubeClient) => op.createStatusObject(c, k, NS, { name: 'x' })),
      getStatusObject: [(c) => op.getStatusObject(c, 'ConfigurationState', NS, 'speaker-n1')],
      createEvent: [(c) => op.createEvent(c, event)],
      patchEventCount: [(c) => op.patchEventCount(c, 'web', 'a.1', 2, '')],
    },
  };
}

/**
 * Requests the code sends that deploy/rbac/ deliberately does not grant, each handled
 * where it is made: the conversion webhook's caBundle on the BGPPeer CRD is set only
 * when a CRD is installed with a conversion webhook in ferrolb's namespace; without the
 * RBAC to read it, setConversionCABundle answers `absent` (a 403 is expected there).
 */
const TOLERATED_DENIALS = ['controller get apiextensions.k8s.io/customresourcedefinitions bgppeers.metallb.io', 'controller update apiextensions.k8s.io/customresourcedefinitions bgppeers.metallb.io'];

interface Request {
  readonly verb: string;
  readonly group: string;
  readonly resource: string; // with /subresource
  readonly namespace?: string;
  readonly name?: string;
}
const show = (c: Component, r: Request) => `${c} ${r.verb} ${r.group || 'core'}/${r.resource}${r.name !== undefined ? ` ${r.name}` : ''}${r.namespace !== undefined ? ` in ${r.namespace}` : ''}`;

/** An API path and method as the RBAC request attributes the API server checks. */
function attributes(method: string, path: string): Request {
  const [p] = path.split('?') as [string];
  const parts = p.split('/').filter(Boolean);
  const group = parts[0] === 'api' ? '' : parts[1]!;
  let rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, sub] = rest as [string, string | undefined, string | undefined];
  const collection = name === undefined;
  const verb = { GET: collection ? 'list' : 'get', WATCH: 'watch', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: collection ? 'deletecollection' : 'delete' }[method]!;
  // create is checked without a name: the object does not exist yet.
  return { verb, group, resource: sub !== undefined ? `${resource}/${sub}` : resource, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined && verb !== 'create' ? { name } : {}) };
}

/** Runs an operation against a client that records what it sends and answers like a server would. */
async function record(run: (c: KubeClient) => Promise<unknown>): Promise<{ method: string; path: string }[]> {
  const sent: { method: string; path: string }[] = [];
  const call = (method: string) => async (path: string) => {
    sent.push({ method, path });
    if (method === 'GET' && path.includes('validatingwebhookconfigurations')) return { webhooks: [{ clientConfig: {} }] };
    if (method === 'GET' && path.includes('customresourcedefinitions')) return { spec: { conversion: { strategy: 'Webhook', webhook: { clientConfig: { service: { namespace: NS } } } } } };
    if (method === 'GET' && /\?labelSelector=/.test(path)) return { items: [] };
    return { metadata: { name: 'a.1' } };
  };
  const client = { get: call('GET'), create: call('POST'), replace: call('PUT'), mergePatch: call('PATCH'), delete: call('DELETE') } as unknown as KubeClient;
  await run(client);
  return sent;
}

// --- The import graph ------------------------------------------------------------------

/** The files a command runs (value imports only: `import type` runs nothing), under src/. */
function closure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'(\.[^']+\.ts)'/gms)) {
      const next = resolve(dirname(file), m[1]!);
      if (existsSync(next) && next.startsWith(join(repoDir, 'src'))) visit(next);
    }
  };
  visit(join(repoDir, entry));
  return [...seen];
}

/** Operation names imported from operations.ts, over the files. */
function importedOperations(files: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/^import\s+\{([^}]*)\}\s+from\s+'[^']*\/operations\.ts'/gm)) {
      for (const n of m[1]!.split(',').map((s) => s.trim()).filter((s) => s && !s.startsWith('type '))) if (typeof (op as Record<string, unknown>)[n] === 'function') names.add(n);
    }
  }
  return names;
}

/** The collections the files' WatchedResources list and watch, their path expressions evaluated with paths.ts. */
function watchedCollections(files: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/new WatchedResource(?:<[^>]*>)?\(\s*[\w.#]+\s*,\s*((?:`[^`]*`|\([^()]*\)|[^,`()])+?)\s*[,)]/g)) {
      const expression = m[1]!;
      const kinds = /\bkind\b/.test(expression) ? CONFIGURATION_KINDS : [undefined];
      for (const kind of kinds) {
        const evaluate = new Function('COLLECTION', 'secretPath', 'metallbPath', 'deploymentPath', 'opts', 'namespace', 'kind', 'selector', `return ${expression};`) as (...a: unknown[]) => string;
        out.push(evaluate(paths.COLLECTION, paths.secretPath, paths.metallbPath, paths.deploymentPath, { namespace: NS }, NS, kind, 'metadata.name%3Dcontroller'));
      }
    }
  }
  return out;
}

/** Every request a component can send, derived as the header says. */
async function used(component: Component, names: Names = FERROLB_NAMES): Promise<{ requests: Request[]; uncovered: string[] }> {
  const files = closure(`src/cli/${component}.ts`);
  const imported = importedOperations(files);
  const calls = callsOf(names)[component];
  const uncovered = [...imported].filter((n) => !(n in calls));
  const requests: Request[] = [];
  for (const n of imported) for (const run of calls[n as keyof typeof op] ?? []) for (const s of await record(run)) requests.push(attributes(s.method, s.path));
  for (const path of watchedCollections(files)) requests.push(attributes('GET', path), attributes('WATCH', path));
  // The secure metrics endpoint's reviews (src/k8s/access-review.ts), when the command can serve one.
  if (files.some((f) => f.endsWith('access-review.ts'))) for (const path of Object.values(paths.REVIEW)) requests.push(attributes('POST', path));
  return { requests, uncovered };
}

// --- The RBAC ----------------------------------------------------------------------------

interface Rule {
  readonly apiGroups?: string[];
  readonly resources?: string[];
  readonly resourceNames?: string[];
  readonly nonResourceURLs?: string[];
  readonly verbs: string[];
}
interface Grant {
  readonly kind: 'Role' | 'ClusterRole';
  readonly name: string;
  readonly namespace?: string;
  readonly rules: Rule[];
}

function grantsOf(docs: { kind: string; metadata: { name: string; namespace?: string }; rules?: Rule[]; roleRef?: { name: string }; subjects?: { name: string }[] }[], component: Component): Grant[] {
  const bound = new Set(docs.filter((d) => /Binding$/.test(d.kind) && d.subjects?.some((s) => s.name === component)).map((d) => `${d.kind.replace('Binding', '')} ${d.roleRef!.name}`));
  return docs.filter((d) => (d.kind === 'Role' || d.kind === 'ClusterRole') && bound.has(`${d.kind} ${d.metadata.name}`)).map((d) => ({ kind: d.kind as Grant['kind'], name: d.metadata.name, ...(d.metadata.namespace !== undefined ? { namespace: d.metadata.namespace } : {}), rules: d.rules ?? [] }));
}

const yamlDocs = (text: string) => parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);
const deployRBAC = () => [...yamlDocs(readFileSync(join(repoDir, 'deploy', 'rbac', 'controller.yaml'), 'utf8')), ...yamlDocs(readFileSync(join(repoDir, 'deploy', 'rbac', 'speaker.yaml'), 'utf8'))];

/** The chart's RBAC for secure metrics (templates/metrics-rbac.yaml), rendered with secureMetricsPort. */
function secureMetricsRBAC() {
  const helm = spawnSync('bash', [join(repoDir, 'tools', 'helm', 'build.sh'), '--path'], { encoding: 'utf8' }).stdout.trim();
  const r = spawnSync(helm, ['template', 'ferrolb', join(repoDir, 'charts', 'ferrolb'), '-n', NS, '--set', 'prometheus.secureMetricsPort=9120', '--show-only', 'templates/metrics-rbac.yaml'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return yamlDocs(r.stdout);
}

function matches(rule: Rule, r: Request): boolean {
  return (rule.apiGroups ?? []).includes(r.group) && (rule.resources ?? []).includes(r.resource) && (rule.verbs.includes(r.verb) || rule.verbs.includes('*')) && (rule.resourceNames === undefined || (r.name !== undefined && rule.resourceNames.includes(r.name)));
}
function granted(grants: Grant[], r: Request): boolean {
  return grants.some((g) => (g.kind === 'ClusterRole' || (r.namespace !== undefined && g.namespace === r.namespace)) && g.rules.some((rule) => matches(rule, r)));
}

/**
 * Each (rule, resource, verb, name) a grant gives, as a request; a `get` on a resource
 * whose list the component uses counts as used: list discloses every object get would,
 * so dropping it would narrow nothing (and `kubectl get NAME` keeps working for people
 * who borrow the account to debug).
 */
function grantedPieces(grants: Grant[]): { grant: string; request: Request }[] {
  const out: { grant: string; request: Request }[] = [];
  for (const g of grants) {
    for (const rule of g.rules) {
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs) {
            for (const name of rule.resourceNames ?? [undefined]) {
              out.push({ grant: `${g.kind} ${g.name}`, request: { verb, group, resource, ...(g.namespace !== undefined ? { namespace: g.namespace } : {}), ...(name !== undefined ? { name } : {}) } });
            }
          }
        }
      }
    }
  }
  return out;
}
function usedBy(requests: Request[], piece: Request, clusterWide: boolean): boolean {
  return requests.some((r) =>
    r.group === piece.group && r.resource === piece.resource &&
    (clusterWide || r.namespace === piece.namespace) &&
    (piece.name === undefined || r.name === piece.name) &&
    (r.verb === piece.verb || (piece.verb === 'get' && r.verb === 'list')));
}

describe('RBAC against the code (deploy/rbac/, the chart\'s secure-metrics RBAC)', () => {
  for (const component of ['controller', 'speaker'] as const) {
    it(`${component}: every request its code can send is granted, and every verb granted is used`, async () => {
      const { requests, uncovered } = await used(component);
      assert.deepEqual(uncovered, [], `${component} calls operations this test does not know how it calls: add them to callsOf`);
      assert.ok(requests.length > 10, `${component}: requests derived (${requests.length})`);
      const reviews = new Set<string>(Object.values(paths.REVIEW).map((p) => attributes('POST', p).resource));
      const grants = grantsOf(deployRBAC(), component);
      const metricsGrants = grantsOf(secureMetricsRBAC(), component);
      // Missing: a request nothing grants (the reviews: only the chart's secure-metrics RBAC).
      const missing = requests
        .filter((r) => !granted(reviews.has(r.resource) ? metricsGrants : grants, r))
        .map((r) => show(component, r))
        .filter((s) => !TOLERATED_DENIALS.some((t) => s.startsWith(t)));
      assert.deepEqual([...new Set(missing)], [], `${component}: requests the RBAC does not grant`);
      // Unused: a verb on a resource (or a name) that no request uses.
      const unused = [...grantedPieces(grants), ...grantedPieces(metricsGrants)]
        .filter((p) => !usedBy(requests, p.request, p.grant.startsWith('ClusterRole')))
        .map((p) => `${p.grant}: ${show(component, p.request)}`);
      assert.deepEqual(unused, [], `${component}: grants no request uses`);
    });
  }

  it('can fail: a grant dropped is found missing, a grant added is found unused', async () => {
    const { requests } = await used('speaker');
    const grants = grantsOf(deployRBAC(), 'speaker');
    const slices = requests.find((r) => r.resource === 'endpointslices' && r.verb === 'watch')!;
    assert.ok(granted(grants, slices));
    const without = grants.map((g) => ({ ...g, rules: g.rules.map((rule) => ({ ...rule, verbs: rule.verbs.filter((v) => !(rule.resources?.includes('endpointslices') && v === 'watch')) })) }));
    assert.ok(!granted(without, slices), 'the speaker without watch on endpointslices');
    const extra = [...grants, { kind: 'ClusterRole' as const, name: 'extra', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }] }];
    assert.deepEqual(grantedPieces(extra).filter((p) => !usedBy(requests, p.request, true)).map((p) => show('speaker', p.request)), ['speaker delete core/pods']);
  });

  it('the derivation sees the informers and the operations of each component', async () => {
    const c = (await used('controller')).requests.map((r) => show('controller', r));
    const s = (await used('speaker')).requests.map((r) => show('speaker', r));
    for (const want of ['controller watch core/services', 'controller watch core/namespaces', 'controller watch apps/deployments in metallb-system', 'controller watch metallb.io/ipaddresspools in metallb-system', 'controller patch core/services/status a in web', 'controller delete coordination.k8s.io/leases ferrolb-controller in metallb-system']) assert.ok(c.includes(want), want);
    for (const want of ['speaker watch core/nodes', 'speaker watch discovery.k8s.io/endpointslices', 'speaker watch core/secrets in metallb-system', 'speaker create metallb.io/servicel2statuses in metallb-system', 'speaker create authentication.k8s.io/tokenreviews']) assert.ok(s.includes(want), want);
    assert.ok(!s.some((x) => x.includes('leases')), 'the speaker takes no Lease');
  });
});

/**
 * A PATCH RBAC refuses is written as GET of the object + PUT of the same path
 * (KubeClient.mergePatch): granted when both of those are.
 */
function grantedOrFallback(grants: Grant[], r: Request): boolean {
  if (granted(grants, r)) return true;
  if (r.verb !== 'patch') return false;
  return granted(grants, { ...r, verb: 'get', resource: r.resource.replace(/\/status$/, '') }) && granted(grants, { ...r, verb: 'update' });
}

/**
 * What ferrolb sends under MetalLB's flags that MetalLB's RBAC refuses, and why each
 * refusal costs nothing a user of that manifest relies on (docs/COMPATIBILITY.md "RBAC").
 */
const REFUSED_UNDER_METALLB: Record<Component, Record<string, string>> = {
  controller: {
    // The watch that tells removal from a restart; MetalLB's manifest is removed with its
    // namespace, which the controller also watches. A refused watch retries (with backoff).
    'controller list apps/deployments in metallb-system': 'removal is told from the namespace',
    'controller watch apps/deployments in metallb-system': 'removal is told from the namespace',
    // `ferrolb controller --uninstall`: the chart's pre-delete hook, not in MetalLB's manifests.
    'controller delete apps/deployments controller in metallb-system': 'only the chart\'s hook',
    // Clean removal clears these; under MetalLB's manifest they go with the namespace.
    'controller deletecollection metallb.io/servicel2statuses in metallb-system': 'go with the namespace',
    'controller deletecollection metallb.io/configurationstates in metallb-system': 'go with the namespace',
    // Secure metrics' reviews: MetalLB's native manifest grants none either (its
    // -prometheus manifests and chart do), so MetalLB's own scrapes there are refused too.
    'controller create authentication.k8s.io/tokenreviews': 'not granted to MetalLB either',
    'controller create authorization.k8s.io/subjectaccessreviews': 'not granted to MetalLB either',
  },
  speaker: {
    'speaker create authentication.k8s.io/tokenreviews': 'not granted to MetalLB either',
    'speaker create authorization.k8s.io/subjectaccessreviews': 'not granted to MetalLB either',
  },
};

describe("under MetalLB's RBAC (its v0.16.1 native manifest, only the image changed)", () => {
  for (const component of ['controller', 'speaker'] as const) {
    it(`${component}: every request it sends under MetalLB's flags is granted (a refused patch through get + update), but the refusals listed and handled`, async () => {
      const { requests } = await used(component, METALLB_NAMES);
      const grants = grantsOf(metallbRBAC(NS) as Parameters<typeof grantsOf>[0], component);
      assert.ok(grants.length >= 2, `${component}: MetalLB's roles bound (${grants.length})`);
      const refused = [...new Set(requests.filter((r) => !grantedOrFallback(grants, r)).map((r) => show(component, r)))].sort();
      assert.deepEqual(refused, Object.keys(REFUSED_UNDER_METALLB[component]).sort());
    });
  }

  it('can fail: the Service status write needs update on services/status and get on services', async () => {
    const { requests } = await used('controller', METALLB_NAMES);
    const write = requests.find((r) => r.resource === 'services/status' && r.verb === 'patch')!;
    const grants = grantsOf(metallbRBAC(NS) as Parameters<typeof grantsOf>[0], 'controller');
    assert.ok(!granted(grants, write) && grantedOrFallback(grants, write), 'refused as a patch, granted as get + update');
    const noGet = grants.map((g) => ({ ...g, rules: g.rules.map((rule) => (rule.resources?.includes('services') ? { ...rule, resources: rule.resources.filter((x) => x !== 'services') } : rule)) }));
    assert.ok(!grantedOrFallback(noGet, write), 'without get on services');
    // Written to the object itself (a metadata patch, not /status), MetalLB's RBAC would refuse it.
    assert.ok(!grantedOrFallback(grants, { ...write, resource: 'services' }));
  });
});
