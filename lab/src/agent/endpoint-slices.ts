// The EndpointSlice controller (process mode only): one slice per Service with a
// selector, `NAME-lab`, labelled kubernetes.io/service-name and managed-by
// lab.ferrolb.io, following discovery.k8s.io/v1: a pod that is not ready stays in its
// slice with `ready: false, serving: false`, as in a real cluster.
//
// Its work is proportional to the Services it looks at. With thousands of Services (a
// controller benchmark) a full pass per event would make the agent the busiest process
// on the machine, so events mark what they affect, and a full pass runs every 10 s to
// retry failures and catch anything missed.
import { isStatus, type Kube } from '../kube.ts';
import { isReady, managedBy, matches, ns, type Endpoint, type EndpointSlice, type KubeObject, type Pod, type Service } from './api.ts';
import type { Cache } from './cache.ts';
import { log, type Attempt } from './log.ts';

export const sliceSelector = encodeURIComponent(`endpointslice.kubernetes.io/managed-by=${managedBy}`);

const slicesPath = (namespace: string) => `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`;

function groupByNamespace(pods: Pod[]): Map<string, Pod[]> {
  const byNamespace = new Map<string, Pod[]>();
  for (const p of pods) {
    const list = byNamespace.get(ns(p));
    if (list) list.push(p);
    else byNamespace.set(ns(p), [p]);
  }
  return byNamespace;
}

// A named targetPort resolves against the pod's container ports; the lab resolves it
// once per Service, from the first pod (its pods share one template).
function slicePorts(svc: Service, first: Pod | undefined): NonNullable<EndpointSlice['ports']> {
  return (svc.spec.ports ?? []).flatMap((sp) => {
    let port = typeof sp.targetPort === 'number' ? sp.targetPort : sp.port;
    if (typeof sp.targetPort === 'string') {
      const named = first?.spec.containers?.flatMap((c) => c.ports ?? []).find((cp) => cp.name === sp.targetPort);
      if (!named) return [];
      port = named.containerPort;
    }
    return [{ name: sp.name ?? '', protocol: sp.protocol ?? 'TCP', port, ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) }];
  });
}

function endpointOf(p: Pod): Endpoint {
  const terminating = Boolean(p.metadata.deletionTimestamp);
  const ready = isReady(p);
  return {
    addresses: [p.status!.podIP!],
    // discovery.k8s.io/v1: `ready` is false while terminating; `serving` tells
    // whether a terminating endpoint still passes its readiness check.
    conditions: { ready: ready && !terminating, serving: ready, terminating },
    // In the order the API server writes the fields, so that an unchanged slice
    // compares equal to the one read back and is not written again.
    targetRef: { kind: 'Pod', namespace: ns(p), name: p.metadata.name, uid: p.metadata.uid ?? '' },
    nodeName: p.spec.nodeName ?? '',
  };
}

/** The slice `name` of `svc` for its selected `pods`. */
export function sliceFor(svc: Service, name: string, pods: Pod[]): EndpointSlice {
  const withIp = pods.filter((p) => p.status?.podIP && p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed');
  const endpoints = withIp.map(endpointOf).sort((a, b) => (a.addresses[0]! < b.addresses[0]! ? -1 : 1));
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: ns(svc),
      labels: {
        'kubernetes.io/service-name': svc.metadata.name,
        'endpointslice.kubernetes.io/managed-by': managedBy,
        ...(svc.spec.clusterIP === 'None' ? { 'service.kubernetes.io/headless': '' } : {}),
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid ?? '', controller: true }],
    },
    addressType: 'IPv4',
    endpoints,
    ports: slicePorts(svc, withIp[0]),
  };
}

const sameContent = (a: EndpointSlice, b: EndpointSlice) =>
  JSON.stringify([a.endpoints ?? [], a.ports ?? []]) === JSON.stringify([b.endpoints ?? [], b.ports ?? []]);

export class EndpointSliceController {
  readonly #kube: Kube;
  readonly #slices: Cache<EndpointSlice>;
  readonly #attempt: Attempt;
  #dirtyServices = new Set<string>();
  #dirtyNamespaces = new Set<string>();
  #fullDue = true;
  #lastFull = 0;

  constructor(kube: Kube, slices: Cache<EndpointSlice>, attempt: Attempt) {
    this.#kube = kube;
    this.#slices = slices;
    this.#attempt = attempt;
  }

  // ---- what events mark ----

  podChanged(p: KubeObject): void {
    this.#dirtyNamespaces.add(ns(p));
  }

  serviceChanged(svc: KubeObject): void {
    this.#dirtyServices.add(`${ns(svc)}/${svc.metadata.name}`);
  }

  sliceChanged(s: KubeObject): void {
    const svc = s.metadata.labels?.['kubernetes.io/service-name'];
    if (svc) this.#dirtyServices.add(`${ns(s)}/${svc}`);
    else this.#fullDue = true;
  }

  /**
   * Which Services the next pass looks at: every one on a full pass, else the marked
   * ones. Taken before the tick reads its caches, so an event that arrives after that
   * read stays marked for the next tick instead of being spent on a pass that did not
   * see it.
   */
  takeMarks(): ((svc: Service) => boolean) | undefined {
    const full = this.#fullDue || Date.now() - this.#lastFull > 10_000;
    const services = this.#dirtyServices;
    const namespaces = this.#dirtyNamespaces;
    this.#dirtyServices = new Set();
    this.#dirtyNamespaces = new Set();
    if (!full) return (svc) => services.has(`${ns(svc)}/${svc.metadata.name}`) || namespaces.has(ns(svc));
    this.#fullDue = false;
    this.#lastFull = Date.now();
    return undefined;
  }

  // ---- the pass ----

  /** `look` from takeMarks(); pods the kubelet reports in this tick are marked by their watch events. */
  async reconcile(services: Service[], pods: Pod[], slices: EndpointSlice[], look: ((svc: Service) => boolean) | undefined): Promise<void> {
    const wanted = new Set<string>();
    const sliceByKey = new Map(slices.map((s) => [`${ns(s)}/${s.metadata.name}`, s]));
    const podsByNamespace = groupByNamespace(pods);
    for (const svc of services) {
      const selector = svc.spec.selector;
      if (!selector || Object.keys(selector).length === 0 || svc.spec.type === 'ExternalName') continue;
      const name = `${svc.metadata.name}-lab`;
      wanted.add(`${ns(svc)}/${name}`);
      if (look && !look(svc)) continue;
      const desired = sliceFor(svc, name, (podsByNamespace.get(ns(svc)) ?? []).filter((p) => matches(selector, p.metadata.labels)));
      await this.#attempt(`endpointslice ${ns(svc)}/${name}`, () => this.#write(desired, sliceByKey.get(`${ns(svc)}/${name}`)));
    }
    for (const s of slices) {
      if (!wanted.has(`${ns(s)}/${s.metadata.name}`)) await this.#attempt(`endpointslice ${ns(s)}/${s.metadata.name}`, () => this.#delete(s));
    }
  }

  async #write(desired: EndpointSlice, existing: EndpointSlice | undefined): Promise<void> {
    const { name, namespace } = desired.metadata;
    const what = `endpointslice ${namespace}/${name}`;
    if (!existing) {
      this.#slices.upsert(await this.#kube.create<EndpointSlice>(slicesPath(namespace!), desired));
      log(`${what}: created with ${desired.endpoints?.length ?? 0} endpoints`);
    } else if (!sameContent(existing, desired)) {
      desired.metadata.resourceVersion = existing.metadata.resourceVersion;
      this.#slices.upsert(await this.#kube.replace<EndpointSlice>(`${slicesPath(namespace!)}/${name}`, desired));
      const ready = (desired.endpoints ?? []).filter((e) => e.conditions.ready).length;
      log(`${what}: ${desired.endpoints?.length ?? 0} endpoints, ${ready} ready`);
    }
  }

  async #delete(s: EndpointSlice): Promise<void> {
    try {
      await this.#kube.delete(`${slicesPath(ns(s))}/${s.metadata.name}`);
      this.#slices.forget(s);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }
}
