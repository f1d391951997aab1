// What the allocator needs to know of a Service: its identity, what it asks for, and
// what decides whether it may share an IP. Built from a v1 Service by ./service.ts.
import type { Family, IP } from '../net/ip.ts';
import type { Labels } from './selector.ts';

export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  readonly protocol: Protocol;
  readonly port: number;
}

export interface ServiceRequest {
  /** namespace/name: the key of the service everywhere. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** Labels of the service's Namespace object, for serviceAllocation.namespaceSelectors. */
  readonly namespaceLabels: Labels;
  /** From metallb.io/loadBalancerIPs or spec.loadBalancerIP; at most one per family. */
  readonly requestedIPs: readonly IP[];
  /** metallb.io/address-pool. */
  readonly requestedPool?: string;
  /** metallb.io/allow-shared-ip; '' = does not share. */
  readonly sharingKey: string;
  /** '' for externalTrafficPolicy Cluster; the pod selector for Local (docs/COMPATIBILITY.md "Sharing an IP"). */
  readonly backendKey: string;
  readonly ports: readonly ServicePort[];
  readonly ipFamilyPolicy: IPFamilyPolicy;
  /** Families in preference order (spec.ipFamilies); SingleStack uses the first only. */
  readonly ipFamilies: readonly Family[];
}
