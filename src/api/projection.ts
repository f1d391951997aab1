// What the informers' caches keep of each API object: the fields ferrolb's readers use,
// nothing else. The speaker caches every Service, EndpointSlice and Node of the cluster
// on every node, and the controller every Service; a cached API object costs several
// times what the planners read (managedFields, targetRefs, a Node's image list, the
// kubectl last-applied annotation, ...). Each function takes an object as the API server
// sends it and returns a new one of the same shape with only those fields, so the
// readers' types (V1Service, EndpointSliceObject, NodeObject) are unchanged.
// Pure; src/k8s/informer.ts applies them (its `project` option) before caching.
import type { Labels } from './selector.ts';
import type { ObjectMeta } from './metallb.ts';
import { ANNOTATION_PREFIX, ENDPOINT_SLICE_SERVICE_LABEL, LEGACY_ANNOTATION_PREFIX, type V1Service } from './service.ts';
import type { EndpointSliceEndpoint, EndpointSliceObject, NodeObject } from './cluster-view.ts';

/** The metadata every cached object keeps: identity, change tracking, deletion. */
function meta(m: ObjectMeta | undefined, labels: Labels | undefined, annotations?: Readonly<Record<string, string>>): ObjectMeta {
  const out: ObjectMeta = {};
  if (m?.name !== undefined) out.name = m.name;
  if (m?.namespace !== undefined) out.namespace = m.namespace;
  if (m?.uid !== undefined) out.uid = m.uid;
  if (m?.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  if (m?.creationTimestamp !== undefined) out.creationTimestamp = m.creationTimestamp;
  if (m?.deletionTimestamp !== undefined) out.deletionTimestamp = m.deletionTimestamp;
  if (labels !== undefined) out.labels = labels;
  if (annotations !== undefined) out.annotations = annotations;
  return out;
}

/** Only the metallb.io/ and metallb.universe.tf/ annotations: no reader looks at others. */
function metallbAnnotations(annotations: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
  if (annotations === undefined) return undefined;
  let out: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(annotations)) {
    if (k.startsWith(ANNOTATION_PREFIX) || k.startsWith(LEGACY_ANNOTATION_PREFIX)) (out ??= {})[k] = v;
  }
  return out;
}

/** Copies the listed keys that are present (not undefined) from `from`. */
function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

const SERVICE_SPEC_FIELDS = ['type', 'loadBalancerClass', 'loadBalancerIP', 'ipFamilyPolicy', 'ipFamilies', 'clusterIP', 'clusterIPs', 'externalTrafficPolicy', 'selector'] as const;
const SERVICE_PORT_FIELDS = ['name', 'protocol', 'port', 'targetPort', 'nodePort'] as const;
const INGRESS_FIELDS = ['ip', 'hostname', 'ipMode'] as const;

/**
 * A Service as the controller (readService, serviceWrites) and the speaker
 * (serviceViewFromObjects) read it: the fields of V1Service, and of the annotations only
 * metallb.io's. The controller's writes are merge patches of named fields, never a
 * write-back of the cached object, so nothing dropped here is ever lost.
 */
export function projectService<T extends V1Service>(svc: T): T {
  const out: V1Service = { metadata: meta(svc.metadata, svc.metadata?.labels, metallbAnnotations(svc.metadata?.annotations)) };
  if (svc.spec !== undefined) {
    const spec: NonNullable<V1Service['spec']> = pick(svc.spec, SERVICE_SPEC_FIELDS);
    if (svc.spec.ports !== undefined) spec.ports = svc.spec.ports.map((p) => pick(p, SERVICE_PORT_FIELDS));
    out.spec = spec;
  }
  const ingress = svc.status?.loadBalancer?.ingress;
  out.status = { loadBalancer: ingress ? { ingress: ingress.map((i) => pick(i, INGRESS_FIELDS)) } : {} };
  return out as T;
}

/**
 * An EndpointSlice as serviceViewFromObjects reads it: its service label, address type
 * and each endpoint's node and conditions (no targetRef, zone, hints or ports).
 */
export function projectEndpointSlice<T extends EndpointSliceObject>(slice: T): T {
  const service = slice.metadata.labels?.[ENDPOINT_SLICE_SERVICE_LABEL];
  const endpoints = slice.endpoints?.map((ep): EndpointSliceEndpoint => {
    const c = ep.conditions;
    return {
      addresses: ep.addresses,
      ...(c !== undefined ? { conditions: pick(c, ['ready', 'serving', 'terminating']) } : {}),
      ...(ep.nodeName !== undefined ? { nodeName: ep.nodeName } : {}),
    };
  });
  return {
    metadata: meta(slice.metadata, service !== undefined ? { [ENDPOINT_SLICE_SERVICE_LABEL]: service } : undefined),
    addressType: slice.addressType,
    ...(endpoints !== undefined ? { endpoints } : slice.endpoints === null ? { endpoints: null } : {}),
  } as EndpointSliceObject as T;
}

/** The parts of a v1 Node the speaker reads beyond NodeObject's: addresses and spec. */
export interface NodeFields extends NodeObject {
  readonly spec?: object;
  readonly status?: NodeObject['status'] & { readonly addresses?: readonly { readonly type?: string; readonly address?: string }[] };
}

/**
 * A Node as the speaker reads it: name and labels (the election, selectors), the
 * conditions' type and status (NetworkUnavailable), the addresses (membership peers, the
 * BGP next hop) and its spec whole (small: unschedulable, taints, pod CIDRs). Dropped
 * above all: status.images, tens of kilobytes on a busy node.
 */
export function projectNode<T extends NodeFields>(node: T): T {
  const status: { conditions?: { type?: string; status?: string }[]; addresses?: { type?: string; address?: string }[] } = {};
  if (node.status?.conditions !== undefined) status.conditions = node.status.conditions.map((c) => pick(c, ['type', 'status']));
  if (node.status?.addresses !== undefined) status.addresses = node.status.addresses.map((a) => pick(a, ['type', 'address']));
  return {
    metadata: meta(node.metadata as ObjectMeta | undefined, node.metadata?.labels),
    ...(node.spec !== undefined ? { spec: node.spec } : {}),
    status,
  } as NodeFields as T;
}

/** A Namespace as the controller reads it: its labels (serviceSelectors' namespaces) and deletion. */
export function projectNamespace<T extends { metadata?: ObjectMeta }>(ns: T): T {
  return { metadata: meta(ns.metadata, ns.metadata?.labels) } as T;
}

/** The index the speaker reads EndpointSlices by: "namespace/service" from the slice's label. */
export function sliceServiceKey(slice: EndpointSliceObject): string | undefined {
  const service = slice.metadata.labels?.[ENDPOINT_SLICE_SERVICE_LABEL];
  return service ? `${slice.metadata.namespace}/${service}` : undefined;
}
