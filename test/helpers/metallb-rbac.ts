// What MetalLB v0.16.1's native manifest (config/manifests/metallb-native.yaml in
// metallb/metallb) grants its two ServiceAccounts, written here as facts about its
// interface: ferrolb's image must run under them unchanged (issue 14: "a MetalLB
// manifest with only the image changed runs ferrolb"). docs/COMPATIBILITY.md "RBAC"
// compares them with ferrolb's own, verb by verb. Used by test/deploy/rbac-usage.test.ts
// (every request ferrolb sends under MetalLB's flags is granted, or its refusal is
// handled) and by test/lab/migrate.test.ts (the pods run bound to these in the lab).
//
// Each rule is [apiGroup, resources, verbs, resourceNames?], comma-separated.
type Rule = readonly [group: string, resources: string, verbs: string, names?: string];

const CONFIG_KINDS = 'ipaddresspools,l2advertisements,bgpadvertisements,bfdprofiles,communities';

/** Role `controller` in the namespace, bound to the controller. */
const controllerRole: Rule[] = [
  ['', 'secrets', 'create,delete,get,list,patch,update,watch'],
  ['', 'secrets', 'list', 'memberlist'],
  ['apps', 'deployments', 'get', 'controller'],
  ['metallb.io', 'bgppeers', 'get,list'],
  ['metallb.io', CONFIG_KINDS, 'get,list,watch'],
  ['metallb.io', 'ipaddresspools/status', 'update'],
];

/** Role `pod-lister` in the namespace, bound to the controller and the speaker. */
const podLister: Rule[] = [
  ['', 'pods', 'list,get'],
  ['', 'secrets', 'get,list,watch'],
  ['', 'configmaps', 'get,list,watch'],
  ['metallb.io', `${CONFIG_KINDS},bgppeers`, 'get,list,watch'],
  ['metallb.io', 'servicebgpstatuses,servicebgpstatuses/status', '*'],
];

const CRDS = 'bfdprofiles,bgpadvertisements,bgppeers,ipaddresspools,l2advertisements,communities,configurationstates'.split(',').map((p) => `${p}.metallb.io`).join(',');
const ALL = 'create,delete,get,list,patch,update,watch';

/** ClusterRole `metallb-system:controller`. (Its PodSecurityPolicy `use` is left out: the kind is gone since 1.25.) */
const controllerCluster: Rule[] = [
  ['', 'services,namespaces', 'get,list,watch'],
  ['', 'nodes', 'list'],
  ['', 'services/status', 'update'],
  ['', 'events', 'create,patch'],
  ['admissionregistration.k8s.io', 'validatingwebhookconfigurations', ALL, 'metallb-webhook-configuration'],
  ['admissionregistration.k8s.io', 'validatingwebhookconfigurations', 'list,watch'],
  ['apiextensions.k8s.io', 'customresourcedefinitions', ALL, CRDS],
  ['apiextensions.k8s.io', 'customresourcedefinitions', 'list,watch'],
  ['metallb.io', 'configurationstates', ALL],
  ['metallb.io', 'configurationstates/status', 'get,patch,update'],
];

/** ClusterRole `metallb-system:speaker`. */
const speakerCluster: Rule[] = [
  ['metallb.io', 'servicel2statuses,servicel2statuses/status,configurationstates,configurationstates/status', '*'],
  ['', 'services,endpoints,nodes,namespaces', 'get,list,watch'],
  ['discovery.k8s.io', 'endpointslices', 'get,list,watch'],
  ['', 'events', 'create,patch'],
];

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
const rules = (rs: readonly Rule[]): RbacRule[] =>
  rs.map(([g, r, v, n]) => ({ apiGroups: [g], resources: r.split(','), verbs: v.split(','), ...(n !== undefined ? { resourceNames: n.split(',') } : {}) }));

const RBAC_V1 = 'rbac.authorization.k8s.io/v1';
const sa = (name: string, namespace: string) => ({ kind: 'ServiceAccount', name, namespace });
const ref = (kind: string, name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });

/**
 * What MetalLB's `-prometheus` manifests add to both ClusterRoles (its
 * config/prometheus-native/rbac-patch.yaml): the reviews behind its HTTPS metrics.
 */
const metricsReviews: Rule[] = [
  ['authentication.k8s.io', 'tokenreviews', 'create'],
  ['authorization.k8s.io', 'subjectaccessreviews', 'create'],
];

/**
 * MetalLB's Roles, ClusterRoles and their bindings, as API objects for `namespace`, bound
 * to ServiceAccounts `controller` and `speaker` as MetalLB names them (ferrolb's too);
 * `prometheus`: as its metallb-native-prometheus.yaml has them.
 */
export function metallbRBAC(namespace: string, opts: { prometheus?: boolean } = {}): Record<string, unknown>[] {
  const reviews = opts.prometheus === true ? metricsReviews : [];
  const role = (name: string, rs: Rule[]) => ({ apiVersion: RBAC_V1, kind: 'Role', metadata: { name, namespace }, rules: rules(rs) });
  const clusterRole = (name: string, rs: Rule[]) => ({ apiVersion: RBAC_V1, kind: 'ClusterRole', metadata: { name }, rules: rules(rs) });
  return [
    role('controller', controllerRole),
    role('pod-lister', podLister),
    clusterRole('metallb-system:controller', [...reviews, ...controllerCluster]),
    clusterRole('metallb-system:speaker', [...reviews, ...speakerCluster]),
    { apiVersion: RBAC_V1, kind: 'RoleBinding', metadata: { name: 'controller', namespace }, roleRef: ref('Role', 'controller'), subjects: [sa('controller', namespace)] },
    { apiVersion: RBAC_V1, kind: 'RoleBinding', metadata: { name: 'pod-lister', namespace }, roleRef: ref('Role', 'pod-lister'), subjects: [sa('controller', namespace), sa('speaker', namespace)] },
    { apiVersion: RBAC_V1, kind: 'ClusterRoleBinding', metadata: { name: 'metallb-system:controller' }, roleRef: ref('ClusterRole', 'metallb-system:controller'), subjects: [sa('controller', namespace)] },
    { apiVersion: RBAC_V1, kind: 'ClusterRoleBinding', metadata: { name: 'metallb-system:speaker' }, roleRef: ref('ClusterRole', 'metallb-system:speaker'), subjects: [sa('speaker', namespace)] },
  ];
}
