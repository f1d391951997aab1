// What the cluster's load balancing looks like, computed from a Snapshot: the
// configuration's verdict, each pool's use and advertisements, and for each
// LoadBalancer service its IPs, who announces them (what the speakers report in
// ServiceL2Status/ServiceBGPStatus) and who should (the speakers' own pure plans, run
// here with every node assumed alive). Pure; `status` prints it, `doctor` judges it.
import { parse as parseYAML } from 'yaml';
import type { KubeObject } from '../k8s/client.ts';
import { buildConfig } from '../config/build.ts';
import { objectDocuments } from '../config/documents.ts';
import { formatConfigError } from '../config/errors.ts';
import type { Config } from '../config/model.ts';
import { advertisementSelectsPool } from '../config/select.ts';
import { anySelectorMatches } from '../api/selector.ts';
import { ENDPOINT_SLICE_SERVICE_LABEL, POOL_ANNOTATION } from '../api/service.ts';
import { planL2, type L2Plan } from '../planning/l2-plan.ts';
import { nodeViewFromObject, serviceViewFromObjects, type NodeView } from '../api/cluster-view.ts';
import { planBGP } from '../planning/bgp-plan.ts';
import { parseUnreachable, type Unreachable } from '../speaker/membership/reachability.ts';
import { MEMBERS_REACHABLE } from '../k8s/configuration-state.ts';
import type { EventObject, Snapshot } from './snapshot.ts';
import { FAILURE_REASON, type FailureReason } from '../k8s/events.ts';
import { runtimeErrorCode, type RuntimeErrorCode } from '../observability/errors.ts';

export interface ComponentState {
  /** ConfigurationState name: `controller` or `speaker-<node>`. */
  readonly name: string;
  readonly result: string;
  readonly lastError: string;
  /** A speaker's membership view: the peers it does not hear (undefined: not reported). */
  readonly unreachable?: readonly Unreachable[];
}

export interface PoolView {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly assigned: number;
  readonly available: number;
  readonly l2Advertisements: readonly string[];
  readonly bgpAdvertisements: readonly string[];
}

export interface ServiceReport {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly pool?: string;
  /** Set when this ferrolb does not serve the service (another loadBalancerClass). */
  readonly otherClass?: string;
  /** What the speakers report. */
  readonly l2: readonly { readonly node: string; readonly interfaces: readonly string[] }[];
  readonly bgp: readonly { readonly node: string; readonly peers: readonly string[] }[];
  /** What the speakers' plans say should happen, with every node's speaker alive. */
  readonly expected: {
    /** The node elected for each IP announced in L2 mode. */
    readonly l2: readonly { readonly ip: string; readonly node: string }[];
    /** Nodes that should announce over BGP (to at least one peer). */
    readonly bgpNodes: readonly string[];
    /** Why an IP is announced by nobody in L2 mode. */
    readonly l2Reasons: readonly string[];
  };
  /** The newest AllocationFailed message, for a pending service. */
  readonly pendingReason?: string;
}

export interface ClusterView {
  readonly namespace: string;
  readonly crdsInstalled: boolean;
  /** The configuration as the controller and speakers build it from the API objects. */
  readonly config?: Config;
  readonly configErrors: readonly string[];
  readonly components: readonly ComponentState[];
  readonly pools: readonly PoolView[];
  readonly services: readonly ServiceReport[];
  readonly nodes: readonly NodeView[];
  /** AddressConflict events: another host answering for an announced IP. */
  readonly conflicts: readonly { readonly service: string; readonly message: string; readonly at: string; readonly count: number }[];
  readonly kubeProxy?: KubeProxyView;
  /** Runtime failures the components told in Events: the newest per object, reason and reporter. */
  readonly failures: readonly RuntimeFailure[];
}

export interface RuntimeFailure {
  readonly reason: FailureReason;
  /** The object the Event is about: a Service, an IPAddressPool, a BGPPeer. */
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Who failed: the speaker's node, the controller's identity. */
  readonly reporter: string;
  readonly code: RuntimeErrorCode;
  /** The Event's message: the code, what failed and why. */
  readonly message: string;
  readonly at: string;
  readonly count: number;
}

export interface KubeProxyView {
  /** As configured; '' means the platform default (iptables on Linux). */
  readonly mode: string;
  readonly strictARP: boolean;
  /** Set when config.conf could not be read. */
  readonly error?: string;
}

export interface AnalyzeOptions {
  /** The loadBalancerClass this ferrolb serves (--lb-class); undefined = the default class. */
  readonly loadBalancerClass?: string;
}

export function analyze(snap: Snapshot, opts: AnalyzeOptions = {}): ClusterView {
  const built = buildConfig(objectDocuments(snap.configObjects), { namespace: snap.namespace });
  const config = built.config;
  const nodes = snap.nodes.map(nodeViewFromObject).sort((a, b) => compare(a.name, b.name));
  const expected = config ? plannedAnnouncements(snap, config, nodes, opts) : undefined;
  return {
    namespace: snap.namespace,
    failures: runtimeFailures(snap.events),
    crdsInstalled: snap.crdsInstalled,
    ...(config ? { config } : {}),
    configErrors: built.errors.map(formatConfigError),
    components: componentViews(snap),
    pools: config ? poolViews(snap, config) : [],
    services: serviceReports(snap, expected, opts),
    nodes,
    conflicts: conflictViews(snap),
    ...(snap.kubeProxyConfigMap ? { kubeProxy: kubeProxyView(snap.kubeProxyConfigMap) } : {}),
  };
}

/** What the speakers should announce, by the planners they run, with every node's speaker taken as live. */
interface Planned {
  readonly l2: L2Plan;
  /** Service key -> the nodes that should announce it over BGP. */
  readonly bgpNodes: ReadonlyMap<string, ReadonlySet<string>>;
}

function plannedAnnouncements(snap: Snapshot, config: Config, nodes: readonly NodeView[], opts: AnalyzeOptions): Planned {
  const slicesByService = new Map<string, KubeObject[]>();
  for (const slice of snap.slices) {
    const service = slice.metadata?.labels?.[ENDPOINT_SLICE_SERVICE_LABEL];
    if (!service) continue;
    const key = `${slice.metadata?.namespace}/${service}`;
    slicesByService.set(key, [...(slicesByService.get(key) ?? []), slice]);
  }
  const served = snap.services.filter((s) => (s.spec?.loadBalancerClass ?? undefined) === opts.loadBalancerClass);
  const views = served
    .filter((s) => (s.status?.loadBalancer?.ingress ?? []).length > 0)
    .map((s) => serviceViewFromObjects(s, (slicesByService.get(keyOf(s)) ?? []) as never[]));
  const unique = [...new Map(views.map((v) => [v.key, v])).values()];
  const l2 = planL2({ config, services: unique, nodes, liveNodes: new Set(nodes.map((n) => n.name)) });
  const bgpNodes = new Map<string, Set<string>>();
  if (config.bgpPeers.length > 0) {
    for (const node of nodes) {
      for (const peer of planBGP({ config, services: unique, node })) {
        for (const services of peer.services.values()) {
          for (const s of services) bgpNodes.set(s, (bgpNodes.get(s) ?? new Set()).add(node.name));
        }
      }
    }
  }
  return { l2, bgpNodes };
}

function serviceReports(snap: Snapshot, expected: Planned | undefined, opts: AnalyzeOptions): ServiceReport[] {
  const reported = (list: Snapshot['l2Statuses'], key: string) => list.filter((o) => `${o.status?.serviceNamespace}/${o.status?.serviceName}` === key);
  const failures = newestByObject(snap.events.filter((e) => e.reason === 'AllocationFailed'));
  return snap.services
    .map((s): ServiceReport => {
      const key = keyOf(s);
      const ips = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').filter((x) => x);
      const cls = s.spec?.loadBalancerClass ?? undefined;
      const pool = s.metadata?.annotations?.[POOL_ANNOTATION];
      const pendingReason = ips.length === 0 ? failures.get(key)?.message : undefined;
      return {
        namespace: s.metadata?.namespace ?? '',
        name: s.metadata?.name ?? '',
        ips,
        ...(pool !== undefined ? { pool } : {}),
        ...(cls !== opts.loadBalancerClass ? { otherClass: cls ?? '(default)' } : {}),
        l2: reported(snap.l2Statuses, key)
          .map((o) => ({ node: o.status?.node ?? '', interfaces: (o.status?.interfaces ?? []).map((i) => i.name ?? '') }))
          .sort((a, b) => compare(a.node, b.node)),
        bgp: reported(snap.bgpStatuses, key)
          .map((o) => ({ node: o.status?.node ?? '', peers: o.status?.peers ?? [] }))
          .sort((a, b) => compare(a.node, b.node)),
        expected: {
          l2: (expected?.l2.announcements ?? []).filter((a) => a.services.includes(key)).map((a) => ({ ip: a.ip, node: a.node })),
          bgpNodes: [...(expected?.bgpNodes.get(key) ?? [])].sort(compare),
          l2Reasons: [...new Set((expected?.l2.unannounced ?? []).filter((u) => u.service === key).map((u) => u.reason))],
        },
        ...(pendingReason !== undefined ? { pendingReason } : {}),
      };
    })
    .sort((a, b) => compare(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
}

function poolViews(snap: Snapshot, config: Config): PoolView[] {
  return config.pools.map((p) => {
    const obj = snap.pools.find((o) => o.metadata?.name === p.name);
    const st = obj?.status ?? {};
    const spec = (obj as { spec?: { addresses?: string[] } } | undefined)?.spec;
    return {
      name: p.name,
      addresses: spec?.addresses ?? [],
      assigned: (st.assignedIPv4 ?? 0) + (st.assignedIPv6 ?? 0),
      available: (st.availableIPv4 ?? 0) + (st.availableIPv6 ?? 0),
      l2Advertisements: config.l2Advertisements.filter((a) => advertisementSelectsPool(a, p)).map((a) => a.name),
      bgpAdvertisements: config.bgpAdvertisements.filter((a) => advertisementSelectsPool(a, p)).map((a) => a.name),
    };
  });
}

function componentViews(snap: Snapshot): ClusterView['components'] {
  return snap.configurationStates
    .map((c) => {
      const members = c.status?.conditions?.find((k) => k.type === MEMBERS_REACHABLE);
      return {
        name: c.metadata?.name ?? '',
        result: c.status?.result ?? 'Unknown',
        lastError: c.status?.lastError ?? '',
        ...(members ? { unreachable: members.status === 'False' ? parseUnreachable(members.message ?? '') : [] } : {}),
      };
    })
    .sort((a, b) => compare(a.name, b.name));
}

function conflictViews(snap: Snapshot): ClusterView['conflicts'] {
  return [...newestByObject(snap.events.filter((e) => e.reason === 'AddressConflict')).entries()].map(([service, e]) => ({
    service,
    message: e.message ?? '',
    at: eventTime(e),
    count: e.series?.count ?? e.count ?? 1,
  }));
}

/** kubeadm's kube-proxy ConfigMap holds the KubeProxyConfiguration in `config.conf`. */
export function kubeProxyView(data: Readonly<Record<string, string>>): KubeProxyView {
  const text = data['config.conf'];
  if (text === undefined) return { mode: '', strictARP: false, error: 'the ConfigMap has no config.conf key' };
  let doc: unknown;
  try {
    doc = parseYAML(text);
  } catch (err) {
    return { mode: '', strictARP: false, error: `config.conf is not YAML: ${(err as Error).message}` };
  }
  const conf = (doc ?? {}) as { mode?: unknown; ipvs?: { strictARP?: unknown } };
  return { mode: typeof conf.mode === 'string' ? conf.mode : '', strictARP: conf.ipvs?.strictARP === true };
}

/** Nodes a selector list picks (all nodes when the list is empty). */
export function selectedNodes(selectors: Parameters<typeof anySelectorMatches>[0], nodes: readonly NodeView[]): NodeView[] {
  return selectors.length === 0 ? [...nodes] : nodes.filter((n) => anySelectorMatches(selectors, n.labels));
}

const FAILURE_REASONS: ReadonlySet<string> = new Set(Object.values(FAILURE_REASON));

/** Events of a runtime failure whose message carries its code (src/k8s/events.ts recordFailure). */
function runtimeFailures(events: readonly EventObject[]): RuntimeFailure[] {
  const newest = new Map<string, EventObject>();
  for (const e of events) {
    if (!FAILURE_REASONS.has(e.reason ?? '') || runtimeErrorCode(e.message ?? '') === undefined) continue;
    const o = e.involvedObject ?? {};
    const key = [e.reason, o.kind, o.namespace, o.name, e.reportingInstance].join('\0');
    const prev = newest.get(key);
    if (!prev || eventTime(e) > eventTime(prev)) newest.set(key, e);
  }
  return [...newest.values()]
    .map((e) => ({
      reason: e.reason as FailureReason,
      kind: e.involvedObject?.kind ?? '',
      namespace: e.involvedObject?.namespace ?? '',
      name: e.involvedObject?.name ?? '',
      reporter: e.reportingInstance ?? '',
      code: runtimeErrorCode(e.message ?? '')!,
      message: e.message ?? '',
      at: eventTime(e),
      count: e.series?.count ?? e.count ?? 1,
    }))
    .sort((a, b) => compare(`${a.reason}/${a.kind}/${a.namespace}/${a.name}/${a.reporter}`, `${b.reason}/${b.kind}/${b.namespace}/${b.name}/${b.reporter}`));
}

function newestByObject(events: readonly EventObject[]): Map<string, EventObject> {
  const out = new Map<string, EventObject>();
  for (const e of events) {
    const key = `${e.involvedObject?.namespace ?? ''}/${e.involvedObject?.name ?? ''}`;
    const prev = out.get(key);
    if (!prev || eventTime(e) > eventTime(prev)) out.set(key, e);
  }
  return out;
}

function eventTime(e: EventObject): string {
  return e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
}

function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
