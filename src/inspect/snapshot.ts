// What `ferrolb status` and `ferrolb doctor` read: one consistent-enough picture of
// the cluster, taken with plain lists (no watches). The only I/O of those commands;
// everything they conclude is computed from this by pure code.
import type { KubeClient, KubeObject } from '../k8s/client.ts';
import { isStatus } from '../k8s/client.ts';
import { CONFIGURATION_KINDS, V1BETA1, V1BETA2 } from '../api/metallb.ts';
import { PLURAL } from '../api/metallb.ts';
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
  /** Events with reason AllocationFailed or AddressConflict, any namespace. */
  readonly events: readonly EventObject[];
  /** When the snapshot was taken (ms since the epoch). */
  readonly takenAt: number;
}

/** Reasons of the Events `doctor` and `status` explain things with. */
export const EVENT_REASONS = ['AllocationFailed', 'AddressConflict'] as const;

export async function takeSnapshot(client: KubeClient, namespace: string, now: () => number = Date.now): Promise<Snapshot> {
  const ns = encodeURIComponent(namespace);
  let crdsInstalled = true;
  try {
    await client.get(`/apis/${V1BETA1}`);
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
    crdsInstalled = false;
  }
  const items = async <T>(path: string): Promise<T[]> => (await client.list<T>(path)).items;
  const metallb = async <T>(apiVersion: string, plural: string): Promise<T[]> => (crdsInstalled ? items<T>(`/apis/${apiVersion}/namespaces/${ns}/${plural}`) : []);
  const configLists = await Promise.all(
    CONFIGURATION_KINDS.map(async (kind) => {
      const apiVersion = kind === 'BGPPeer' ? V1BETA2 : V1BETA1;
      // List items may lack apiVersion and kind: the path says what they are.
      return (await metallb<KubeObject>(apiVersion, PLURAL[kind])).map((o) => ({ ...o, apiVersion, kind }));
    }),
  );
  const [services, slices, nodes, configurationStates, l2Statuses, bgpStatuses, kubeProxy, ...eventLists] = await Promise.all([
    items<V1Service & KubeObject>('/api/v1/services'),
    items<EndpointSliceObject & KubeObject>('/apis/discovery.k8s.io/v1/endpointslices'),
    items<NodeObject & KubeObject>('/api/v1/nodes'),
    metallb<ConfigurationStateObject>(V1BETA1, 'configurationstates'),
    metallb<StatusObject>(V1BETA1, 'servicel2statuses'),
    metallb<StatusObject>(V1BETA1, 'servicebgpstatuses'),
    client.get<{ data?: Record<string, string> }>('/api/v1/namespaces/kube-system/configmaps/kube-proxy').catch((err: unknown) => {
      if (isStatus(err, 404) || isStatus(err, 403)) return undefined;
      throw err;
    }),
    ...EVENT_REASONS.map((reason) => items<EventObject>(`/api/v1/events?fieldSelector=${encodeURIComponent(`reason=${reason}`)}`)),
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
