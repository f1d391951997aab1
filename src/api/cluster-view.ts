// The cluster's objects as the speaker's decisions read them: a Service with its
// EndpointSlices, a Node, reduced to the fields the L2 election, the BGP route planner
// and `ferrolb status`/`doctor` use. Pure; the informers hold the objects, these the views.
import type { Labels } from './selector.ts';
import { Annotation, ENDPOINT_SLICE_SERVICE_LABEL, readAnnotation, type V1Service } from './service.ts';

export interface NodeView {
  readonly name: string;
  readonly labels: Labels;
  readonly networkUnavailable: boolean;
}

/** Kubernetes well-known label: a node carrying it (any value) never announces. */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/**
 * A node labelled node.kubernetes.io/exclude-from-external-load-balancers (any value)
 * announces nothing, in BGP mode as in L2 (MetalLB's rule, docs/COMPATIBILITY.md); its
 * sessions stay up. It is a planned withdrawal: the speaker drains it first
 * (src/speaker/bgp/graceful-shutdown.ts).
 */
export function nodeExcluded(node: NodeView): boolean {
  return Object.hasOwn(node.labels, EXCLUDE_FROM_LB_LABEL);
}

/** Equal node views (name, condition, labels): the planners keep their work while the nodes are equal. */
export function sameNodeView(a: NodeView, b: NodeView): boolean {
  if (a === b) return true;
  if (a.name !== b.name || a.networkUnavailable !== b.networkUnavailable) return false;
  const keys = Object.keys(a.labels);
  return keys.length === Object.keys(b.labels).length && keys.every((k) => a.labels[k] === b.labels[k]);
}

export interface EndpointView {
  readonly nodeName?: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

export interface L2ServiceView {
  /** "namespace/name" */
  readonly key: string;
  readonly namespace: string;
  /** The Service's own labels (for L2Advertisement serviceSelectors). */
  readonly labels: Labels;
  /** status.loadBalancer.ingress[].ip, as written. */
  readonly ips: readonly string[];
  /** The metallb.io/ip-allocated-from-pool annotation, if any. */
  readonly poolName?: string;
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  /** From all of the service's EndpointSlices. */
  readonly endpoints: readonly EndpointView[];
  /**
   * metadata.creationTimestamp as written (RFC 3339, e.g. "2024-05-01T12:00:00Z"); ''
   * when absent (objects from static manifests), which counts as the oldest. The
   * election places older IPs first, so a new service moves older ones only when it
   * raises the home cap (see elect).
   */
  readonly createdAt: string;
}

/** The fields of a discovery.k8s.io/v1 EndpointSlice that the election reads. */
export interface EndpointSliceObject {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels?: Labels };
  readonly addressType: string;
  /** The API server may send null for a slice without endpoints. */
  readonly endpoints?: readonly EndpointSliceEndpoint[] | null;
}

export interface EndpointSliceEndpoint {
  readonly addresses: readonly string[];
  readonly conditions?: {
    readonly ready?: boolean | null;
    readonly serving?: boolean | null;
    readonly terminating?: boolean | null;
  };
  readonly nodeName?: string;
}

/** The fields of a v1 Node that the election reads. */
export interface NodeObject {
  readonly metadata?: { readonly name?: string; readonly labels?: Labels };
  readonly status?: { readonly conditions?: readonly { readonly type?: string; readonly status?: string }[] };
}

/**
 * A Service and its EndpointSlices as the election sees them. Slices that visibly belong
 * to another service (another namespace, or a `kubernetes.io/service-name` label naming
 * another service) are ignored; slices of every addressType count (the announcing node
 * only needs to hold a backend, whatever its address family).
 */
export function serviceViewFromObjects(svc: V1Service, slices: readonly EndpointSliceObject[]): L2ServiceView {
  const namespace = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const ips: string[] = [];
  for (const entry of svc.status?.loadBalancer?.ingress ?? []) {
    if (entry.ip !== undefined && entry.ip !== '') ips.push(entry.ip);
  }
  const pool = readAnnotation(svc.metadata?.annotations ?? {}, Annotation.ipAllocatedFromPool)?.value.trim();
  const endpoints: EndpointView[] = [];
  for (const slice of slices) {
    if (slice.metadata.namespace !== undefined && slice.metadata.namespace !== '' && slice.metadata.namespace !== namespace) continue;
    const owner = slice.metadata.labels?.[ENDPOINT_SLICE_SERVICE_LABEL];
    if (owner !== undefined && owner !== name) continue;
    for (const ep of slice.endpoints ?? []) {
      // EndpointConditions semantics, from the discovery.k8s.io/v1 API reference
      // (https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoint-slice-v1/):
      // - ready: "A nil value indicates an unknown state. In most cases consumers should
      //   interpret this unknown state as ready."
      // - serving: "If nil, consumers should defer to the ready condition."
      // - terminating: "A nil value indicates an unknown state. Consumers should
      //   interpret this unknown state to mean that the endpoint is not terminating."
      const ready = ep.conditions?.ready ?? true;
      const serving = ep.conditions?.serving ?? ready;
      const terminating = ep.conditions?.terminating ?? false;
      endpoints.push({
        ...(ep.nodeName !== undefined && ep.nodeName !== '' ? { nodeName: ep.nodeName } : {}),
        ready,
        serving,
        terminating,
      });
    }
  }
  return {
    key: `${namespace}/${name}`,
    namespace,
    labels: svc.metadata?.labels ?? {},
    ips,
    ...(pool !== undefined && pool !== '' ? { poolName: pool } : {}),
    externalTrafficPolicy: svc.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    endpoints,
    createdAt: svc.metadata?.creationTimestamp ?? '',
  };
}

/** A Node as the election sees it: networkUnavailable = condition NetworkUnavailable is "True". */
export function nodeViewFromObject(node: NodeObject): NodeView {
  const conditions = node.status?.conditions ?? [];
  return {
    name: node.metadata?.name ?? '',
    labels: node.metadata?.labels ?? {},
    networkUnavailable: conditions.some((c) => c.type === 'NetworkUnavailable' && c.status === 'True'),
  };
}
