// The parts of a v1 Service that a load balancer reads, and the metallb.io annotations,
// under both the current `metallb.io/` prefix and the legacy `metallb.universe.tf/`
// one (docs/COMPATIBILITY.md "What a Service asks for").
import { parseIP, formatIP, type Family, type IP } from '../net/ip.ts';
import type { IPFamilyPolicy, Protocol, ServicePort, ServiceRequest } from './service-request.ts';
import type { Labels } from './selector.ts';
import type { ObjectMeta } from './metallb.ts';

export const ANNOTATION_PREFIX = 'metallb.io/';
export const LEGACY_ANNOTATION_PREFIX = 'metallb.universe.tf/';

export const Annotation = {
  loadBalancerIPs: 'loadBalancerIPs',
  addressPool: 'address-pool',
  allowSharedIP: 'allow-shared-ip',
  ipAllocatedFromPool: 'ip-allocated-from-pool',
} as const;
export type AnnotationName = (typeof Annotation)[keyof typeof Annotation];

/** The annotation the controller writes (always under the current prefix): the pool the IPs came from. */
export const POOL_ANNOTATION = ANNOTATION_PREFIX + Annotation.ipAllocatedFromPool;

/** Kubernetes' well-known label linking an EndpointSlice to its Service. */
export const ENDPOINT_SLICE_SERVICE_LABEL = 'kubernetes.io/service-name';

/** A v1 Service as read from the API server or a manifest (only the fields ferrolb reads). */
export interface V1Service {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    type?: string;
    loadBalancerClass?: string;
    loadBalancerIP?: string;
    ipFamilyPolicy?: string;
    ipFamilies?: string[];
    clusterIP?: string;
    clusterIPs?: string[];
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
    ports?: { name?: string; protocol?: string; port?: number; targetPort?: number | string; nodePort?: number }[];
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string; ipMode?: string }[] } };
}

export interface ServiceEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** A Service as the load balancer sees it: what it asks for, or why its spec is unusable. */
export interface ServiceView {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly type: string;
  readonly loadBalancerClass?: string;
  /** IPs in status.loadBalancer.ingress: an existing assignment. */
  readonly statusIPs: readonly IP[];
  /** Absent when the spec or annotations are unusable; `specError` then says why. */
  readonly request?: ServiceRequest;
  readonly specError?: string;
  /** Warnings to emit as Events (deprecated annotation prefix, ignored status entries). */
  readonly warnings: readonly ServiceEvent[];
}

/** Reads an annotation under either prefix; the current prefix wins when both are set. */
export function readAnnotation(
  annotations: Readonly<Record<string, string>>,
  name: AnnotationName,
): { value: string; legacy: boolean } | undefined {
  const current = annotations[ANNOTATION_PREFIX + name];
  if (current !== undefined) return { value: current, legacy: false };
  const legacy = annotations[LEGACY_ANNOTATION_PREFIX + name];
  if (legacy !== undefined) return { value: legacy, legacy: true };
  return undefined;
}

const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
const POLICIES: readonly IPFamilyPolicy[] = ['SingleStack', 'PreferDualStack', 'RequireDualStack'];

/**
 * Reads a Service into what the allocator needs. Never throws: unusable input becomes
 * `specError` (the message of a LoadBalancerFailed event).
 */
export function readService(svc: V1Service, namespaceLabels: Labels = {}): ServiceView {
  const namespace = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const key = `${namespace}/${name}`;
  const spec = svc.spec ?? {};
  const annotations = svc.metadata?.annotations ?? {};
  const warnings: ServiceEvent[] = [];
  const base = {
    key,
    namespace,
    name,
    type: spec.type ?? 'ClusterIP',
    ...(spec.loadBalancerClass !== undefined ? { loadBalancerClass: spec.loadBalancerClass } : {}),
    statusIPs: readStatusIPs(svc, warnings),
    warnings,
  };
  const fail = (specError: string): ServiceView => ({ ...base, specError });

  const read = (n: AnnotationName): string | undefined => {
    const a = readAnnotation(annotations, n);
    if (a?.legacy) {
      warnings.push({
        type: 'Warning',
        reason: 'deprecatedAnnotation',
        message: `annotation ${LEGACY_ANNOTATION_PREFIX}${n} is deprecated, use ${ANNOTATION_PREFIX}${n}`,
      });
    }
    return a?.value;
  };

  const policyText = spec.ipFamilyPolicy ?? 'SingleStack';
  if (!POLICIES.includes(policyText as IPFamilyPolicy)) return fail(`spec.ipFamilyPolicy "${policyText}" is not SingleStack, PreferDualStack or RequireDualStack`);
  const ipFamilyPolicy = policyText as IPFamilyPolicy;
  const families = readFamilies(spec, ipFamilyPolicy);
  if (typeof families === 'string') return fail(families);

  const ipsAnnotation = read(Annotation.loadBalancerIPs);
  let requestedIPs: IP[] = [];
  if (ipsAnnotation !== undefined && spec.loadBalancerIP) {
    return fail('both the loadBalancerIPs annotation and spec.loadBalancerIP are set; use only the annotation');
  }
  const requestedText = ipsAnnotation ?? spec.loadBalancerIP ?? '';
  const source = ipsAnnotation !== undefined ? 'loadBalancerIPs annotation' : 'spec.loadBalancerIP';
  if (requestedText.trim() !== '') {
    // A comma-separated list: spaces after a comma are the list's, not the address's.
    for (const part of requestedText.split(',')) {
      const ip = parseIP(part.trim());
      if (!ip) return fail(`${source}: "${part.trim()}" is not an IP address`);
      requestedIPs.push(ip);
    }
    if (requestedIPs.length > 2) return fail(`${source}: ${requestedIPs.length} addresses given; at most one IPv4 and one IPv6`);
    if (requestedIPs.length === 2 && requestedIPs[0]!.family === requestedIPs[1]!.family) {
      return fail(`${source}: two ${requestedIPs[0]!.family} addresses given; at most one per family`);
    }
    const wrong = requestedIPs.find((ip) => !families.includes(ip.family));
    if (wrong && ipFamilyPolicy === 'SingleStack') {
      return fail(`${source}: ${formatIP(wrong)} is ${wrong.family} but the service is ${families[0]} SingleStack`);
    }
    if (ipFamilyPolicy === 'SingleStack' && requestedIPs.length > 1) {
      return fail(`${source}: two addresses given but the service is SingleStack`);
    }
    if (ipFamilyPolicy === 'RequireDualStack' && requestedIPs.length !== 2) {
      return fail(`${source}: one address given but the service is RequireDualStack; give one of each family`);
    }
    requestedIPs = orderIPs(requestedIPs, families);
  }

  const ports: ServicePort[] = [];
  for (const [i, p] of (spec.ports ?? []).entries()) {
    const protocol = (p.protocol ?? 'TCP') as Protocol;
    if (!PROTOCOLS.includes(protocol)) return fail(`spec.ports[${i}].protocol "${p.protocol}" is not TCP, UDP or SCTP`);
    if (!Number.isInteger(p.port) || (p.port as number) < 1 || (p.port as number) > 65535) {
      return fail(`spec.ports[${i}].port ${JSON.stringify(p.port)} is not a port number`);
    }
    ports.push({ protocol, port: p.port as number });
  }

  const pool = read(Annotation.addressPool);
  const sharingKey = read(Annotation.allowSharedIP) ?? '';
  // docs/COMPATIBILITY.md "Sharing an IP": with externalTrafficPolicy Local, services may share an IP only
  // when they select the same pods, since the announcing node must hold their endpoints.
  const backendKey = spec.externalTrafficPolicy === 'Local' ? canonicalSelector(spec.selector ?? {}) : '';
  const request: ServiceRequest = {
    key,
    namespace,
    name,
    labels: svc.metadata?.labels ?? {},
    namespaceLabels,
    requestedIPs,
    ...(pool !== undefined && pool.trim() !== '' ? { requestedPool: pool.trim() } : {}),
    sharingKey,
    backendKey,
    ports,
    ipFamilyPolicy,
    ipFamilies: families,
  };
  return { ...base, request };
}

function readFamilies(spec: NonNullable<V1Service['spec']>, policy: IPFamilyPolicy): Family[] | string {
  const out: Family[] = [];
  for (const f of spec.ipFamilies ?? []) {
    if (f !== 'IPv4' && f !== 'IPv6') return `spec.ipFamilies: "${f}" is not IPv4 or IPv6`;
    if (!out.includes(f)) out.push(f);
  }
  if (out.length === 0) {
    // Manifests written by hand often omit ipFamilies: the cluster IP tells the family.
    const clusterIP = spec.clusterIPs?.[0] ?? spec.clusterIP;
    const ip = clusterIP && clusterIP !== 'None' ? parseIP(clusterIP) : undefined;
    out.push(ip?.family ?? 'IPv4');
  }
  if (policy !== 'SingleStack' && out.length === 1) out.push(out[0] === 'IPv4' ? 'IPv6' : 'IPv4');
  return policy === 'SingleStack' ? out.slice(0, 1) : out;
}

function orderIPs(ips: IP[], families: readonly Family[]): IP[] {
  return [...ips].sort((a, b) => families.indexOf(a.family) - families.indexOf(b.family));
}

function readStatusIPs(svc: V1Service, warnings: ServiceEvent[]): IP[] {
  const out: IP[] = [];
  for (const entry of svc.status?.loadBalancer?.ingress ?? []) {
    if (entry.ip === undefined) continue;
    const ip = parseIP(entry.ip);
    if (!ip) {
      warnings.push({ type: 'Warning', reason: 'LoadBalancerFailed', message: `status.loadBalancer.ingress has "${entry.ip}", not an IP address; ignored` });
      continue;
    }
    if (!out.some((o) => o.family === ip.family && o.value === ip.value)) out.push(ip);
  }
  return out;
}

/** The pod selector as one string, independent of key order. */
export function canonicalSelector(selector: Readonly<Record<string, string>>): string {
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}
