// What `ferrolb status` and `ferrolb doctor` read: one consistent-enough picture of
// the cluster, taken with plain lists (no watches). The only I/O of those commands;
// everything they conclude is computed from this by pure code.
import type { KubeClient, KubeObject } from '../k8s/client.ts';
import { isStatus } from '../k8s/client.ts';
import { FAILURE_REASON } from '../k8s/events.ts';
import { COLLECTION, configMapPath, metallbGroupPath, metallbPath } from '../k8s/paths.ts';
import { CONFIGURATION_KINDS, V1BETA1, V1BETA2, type MetalLBKind } from '../api/metallb.ts';
import type { V1Service } from '../api/service.ts';
import type { EndpointSliceObject, NodeObject } from '../api/cluster-view.ts';

export interface StatusObject extends KubeObject {
  readonly status?: { node?: string; serviceName?: string; serviceNamespace?: string; interfaces?: { name?: string }[]; peers?: string[] };
}

export interface ConfigurationStateObject extends KubeObject {
  readonly status?: { result?: string; lastError?: string; conditions?: readonly { type?: string; status?: string; message?: string }[] };
}

export interface PoolObject extends KubeObject {
  readonly status?: { assignedIPv4?: number; assignedIPv6?: number; availableIPv4?: number; availableIPv6?: number };
}

export interface EventObject extends KubeObject {
  readonly reason?: string;
  readonly message?: string;
  readonly type?: string;
  readonly count?: number;
  readonly lastTimestamp?: string;
  readonly eventTime?: string;
  readonly series?: { lastObservedTime?: string; count?: number };
  readonly involvedObject?: { kind?: string; namespace?: string; name?: string };
  /** Who recorded it: the speaker's node, the controller's identity. */
  readonly reportingInstance?: string;
}

export interface Snapshot {
  /** The load balancer's namespace. */
  readonly namespace: string;
  /** False when the metallb.io API is not served (CRDs not installed). */
  readonly crdsInstalled: boolean;
  /** metallb.io configuration objects of the namespace, with apiVersion and kind set. */
  readonly configObjects: readonly KubeObject[];
  readonly pools: readonly PoolObject[];
  readonly services: readonly (V1Service & KubeObject)[];
  readonly slices: readonly (EndpointSliceObject & KubeObject)[];
  readonly nodes: readonly (NodeObject & KubeObject)[];
  readonly configurationStates: readonly ConfigurationStateObject[];
  readonly l2Statuses: readonly StatusObject[];
  readonly bgpStatuses: readonly StatusObject[];
  /** kube-system/kube-proxy `data`, as kubeadm writes it; undefined when absent. */
  readonly kubeProxyConfigMap?: Readonly<Record<string, string>>;
  /** Events with one of EVENT_REASONS, any namespace. */
  readonly events: readonly EventObject[];
  /** When the snapshot was taken (ms since the epoch). */
  readonly takenAt: number;
}

/** Reasons of the Events `doctor` and `status` explain things with (runtime failures too). */
export const EVENT_REASONS = ['AllocationFailed', 'AddressConflict', ...Object.values(FAILURE_REASON)] as const;

export async function takeSnapshot(client: KubeClient, namespace: string, now: () => number = Date.now): Promise<Snapshot> {
  const ns = encodeURIComponent(namespace);
  let crdsInstalled = true;
  try {
    await client.get(metallbGroupPath());
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
    crdsInstalled = false;
  }
  const items = async <T>(path: string): Promise<T[]> => (await client.list<T>(path)).items;
  const metallb = async <T>(kind: MetalLBKind): Promise<T[]> => (crdsInstalled ? items<T>(metallbPath(kind, ns)) : []);
  const configLists = await Promise.all(
    CONFIGURATION_KINDS.map(async (kind) => {
      const apiVersion = kind === 'BGPPeer' ? V1BETA2 : V1BETA1;
      // List items may lack apiVersion and kind: the path says what they are.
      return (await metallb<KubeObject>(kind)).map((o) => ({ ...o, apiVersion, kind }));
    }),
  );
  const [services, slices, nodes, configurationStates, l2Statuses, bgpStatuses, kubeProxy, ...eventLists] = await Promise.all([
    items<V1Service & KubeObject>(COLLECTION.services),
    items<EndpointSliceObject & KubeObject>(COLLECTION.endpointSlices),
    items<NodeObject & KubeObject>(COLLECTION.nodes),
    metallb<ConfigurationStateObject>('ConfigurationState'),
    metallb<StatusObject>('ServiceL2Status'),
    metallb<StatusObject>('ServiceBGPStatus'),
    client.get<{ data?: Record<string, string> }>(configMapPath('kube-system', 'kube-proxy')).catch((err: unknown) => {
      if (isStatus(err, 404) || isStatus(err, 403)) return undefined;
      throw err;
    }),
    ...EVENT_REASONS.map((reason) => items<EventObject>(`${COLLECTION.events}?fieldSelector=${encodeURIComponent(`reason=${reason}`)}`)),
  ]);
  const configObjects = configLists.flat();
  return {
    namespace,
    crdsInstalled,
    configObjects,
    pools: configObjects.filter((o) => o.kind === 'IPAddressPool') as PoolObject[],
    services: services.filter((s) => s.spec?.type === 'LoadBalancer'),
    slices,
    nodes,
    configurationStates,
    l2Statuses,
    bgpStatuses,
    ...(kubeProxy ? { kubeProxyConfigMap: kubeProxy.data ?? {} } : {}),
    events: eventLists.flat(),
    takenAt: now(),
  };
}
