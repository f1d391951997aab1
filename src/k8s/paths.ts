// Every API path ferrolb uses, built in one place: the typed operations of
// operations.ts, the informers' collections and `status`/`doctor`'s lists take them
// from here, and nothing outside src/k8s spells a path. Names are not
// escaped: Kubernetes names are DNS labels or subdomains, which need none.
import { PLURAL, V1BETA1, V1BETA2, type MetalLBKind } from '../api/metallb.ts';

/** Cluster-wide collections the components watch or list. */
export const COLLECTION = {
  services: '/api/v1/services',
  namespaces: '/api/v1/namespaces',
  nodes: '/api/v1/nodes',
  endpointSlices: '/apis/discovery.k8s.io/v1/endpointslices',
  events: '/api/v1/events',
} as const;

/** Reviews the API server answers without storing them (a secure /metrics endpoint's checks). */
export const REVIEW = {
  tokenReviews: '/apis/authentication.k8s.io/v1/tokenreviews',
  subjectAccessReviews: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
} as const;

export function servicePath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${namespace}/services/${name}`;
}

export function configMapPath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${namespace}/configmaps/${name}`;
}

/** The Secrets of a namespace, or one of them. */
export function secretPath(namespace: string, name?: string): string {
  return `/api/v1/namespaces/${namespace}/secrets${name !== undefined ? `/${name}` : ''}`;
}

export function eventPath(namespace: string, name?: string): string {
  return `/api/v1/namespaces/${namespace}/events${name !== undefined ? `/${name}` : ''}`;
}

export function leasePath(namespace: string, name?: string): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases${name !== undefined ? `/${name}` : ''}`;
}

export function deploymentPath(namespace: string, name?: string): string {
  return `/apis/apps/v1/namespaces/${namespace}/deployments${name !== undefined ? `/${name}` : ''}`;
}

/** The metallb.io API group at the version ferrolb reads (BGPPeer is served at v1beta2). */
export function metallbGroupPath(): string {
  return `/apis/${V1BETA1}`;
}

/** A metallb.io collection in a namespace, or one object of it. */
export function metallbPath(kind: MetalLBKind, namespace: string, name?: string): string {
  const version = kind === 'BGPPeer' ? V1BETA2 : V1BETA1;
  return `/apis/${version}/namespaces/${namespace}/${PLURAL[kind]}${name !== undefined ? `/${name}` : ''}`;
}

export function validatingWebhookConfigurationPath(name: string): string {
  return `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${name}`;
}

export function customResourceDefinitionPath(name: string): string {
  return `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;
}
