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
// test's: CALLS below, and the test fails when a component imports an operation CALLS
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

type Component = 'controller' | 'speaker';
const NS = 'metallb-system';
const WEB = { namespace: 'web', name: 'a' };
const MEMBERLIST = 'ferrolb-memberlist'; // --ml-secret-name's default (src/cli/controller.ts)
const LEASE = 'ferrolb-controller'; // src/controller/controller.ts LEASE_NAME
const DEPLOYMENT = 'controller'; // --deployment in deploy/ and the chart
const WEBHOOK_CONFIGURATION = 'ferrolb-webhook-configuration';
const event = { metadata: { generateName: 'a.', namespace: 'web' } } as op.CoreEvent;
const lease: op.LeaseObject = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: LEASE, namespace: NS }, spec: {} };
const tls = { type: 'kubernetes.io/tls', data: {} };

/** How each component calls each operation it imports (the arguments its call sites pass). */
const CALLS: Record<Component, Partial<Record<keyof typeof op, ((c: KubeClient) => Promise<unknown>)[]>>> = {
  controller: {
    patchServiceAnnotations: [(c) => op.patchServiceAnnotations(c, WEB, {})],
    patchServiceStatus: [(c) => op.patchServiceStatus(c, WEB, [])],
    patchObjectStatus: [(c) => op.patchObjectStatus(c, 'IPAddressPool', NS, 'pool', {}), (c) => op.patchObjectStatus(c, 'ConfigurationState', NS, 'controller', {})],
    getStatusObject: [(c) => op.getStatusObject(c, 'ConfigurationState', NS, 'controller')],
    createStatusObject: [(c) => op.createStatusObject(c, 'ConfigurationState', NS, { name: 'controller' })],
    deleteStatusObjects: op.STATUS_KINDS.map((k) => (c: KubeClient) => op.deleteStatusObjects(c, k, NS)),
    readSecret: [(c) => op.readSecret(c, NS, CERT_SECRET)],
    // Created when missing (the certificate, the memberlist key), the certificate replaced when renewed.
    writeSecret: [(c) => op.writeSecret(c, NS, CERT_SECRET, tls), (c) => op.writeSecret(c, NS, CERT_SECRET, tls, { metadata: { resourceVersion: '1' } }), (c) => op.writeSecret(c, NS, MEMBERLIST, tls)],
    deleteSecret: [(c) => op.deleteSecret(c, NS, CERT_SECRET), (c) => op.deleteSecret(c, NS, MEMBERLIST)],
    createEvent: [(c) => op.createEvent(c, event)],
    patchEventCount: [(c) => op.patchEventCount(c, 'web', 'a.1', 2, '')],
    getLease: [(c) => op.getLease(c, NS, LEASE)],
    createLease: [(c) => op.createLease(c, lease)],
    replaceLease: [(c) => op.replaceLease(c, lease)],
    deleteLease: [(c) => op.deleteLease(c, NS, LEASE)],
    deleteDeploymentForeground: [(c) => op.deleteDeploymentForeground(c, NS, DEPLOYMENT)],
    deploymentExists: [(c) => op.deploymentExists(c, NS, DEPLOYMENT)],
    setWebhookCABundle: [(c) => op.setWebhookCABundle(c, WEBHOOK_CONFIGURATION, 'pem')],
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
async function used(component: Component): Promise<{ requests: Request[]; uncovered: string[] }> {
  const files = closure(`src/cli/${component}.ts`);
  const imported = importedOperations(files);
  const calls = CALLS[component];
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
      assert.deepEqual(uncovered, [], `${component} calls operations this test does not know how it calls: add them to CALLS`);
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
