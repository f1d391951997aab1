// The slices of the Kubernetes API the agent reads and writes, and the few questions
// every role asks of them.
import type { KubeObject } from '../kube.ts';

export type { KubeObject };

export interface ContainerPort { name?: string; containerPort: number; protocol?: string }
export interface Container { name: string; image?: string; ports?: ContainerPort[] }
export interface PodSpec { nodeName?: string; containers: Container[]; [k: string]: unknown }
export interface PodTemplate { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec }

export interface Pod extends KubeObject {
  spec: PodSpec;
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

export interface Deployment extends KubeObject {
  spec: { replicas?: number; selector: { matchLabels?: Record<string, string> }; template: PodTemplate };
  status?: Record<string, unknown>;
}

export interface ServicePort { name?: string; protocol?: string; port: number; targetPort?: number | string; appProtocol?: string }
export interface Service extends KubeObject {
  spec: { type?: string; selector?: Record<string, string>; ports?: ServicePort[]; clusterIP?: string };
}

export interface Endpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  targetRef?: { kind: string; namespace: string; name: string; uid: string };
}
export interface EndpointSlice extends KubeObject {
  addressType: string;
  endpoints: Endpoint[] | null;
  ports: { name: string; protocol: string; port: number; appProtocol?: string }[] | null;
}

export interface Namespace extends KubeObject { spec?: { finalizers?: string[] }; status?: { phase?: string } }

/** The EndpointSlices' managed-by label value: the agent touches only its own slices. */
export const managedBy = 'lab.ferrolb.io';

export const ns = (o: KubeObject): string => o.metadata.namespace ?? 'default';

export function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function isReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function ownerUid(o: KubeObject, kind: string): string | undefined {
  return o.metadata.ownerReferences?.find((r) => r.kind === kind && r.controller)?.uid;
}

export const podPath = (p: Pod): string => `/api/v1/namespaces/${ns(p)}/pods/${p.metadata.name}`;
