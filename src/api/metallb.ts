// The metallb.io resources as users write them: field names and shapes exactly as
// MetalLB's CRDs (v0.16 line) define them, so MetalLB configuration applies unchanged.
// These are the raw, unvalidated shapes; src/config/build.ts turns them into a Config.
import type { LabelSelector, Labels } from './selector.ts';

export const METALLB_GROUP = 'metallb.io';

export const V1BETA1 = 'metallb.io/v1beta1';
export const V1BETA2 = 'metallb.io/v1beta2';

/** The key of the memberlist Secret (--ml-secret-name) that holds the speakers' heartbeat key, as MetalLB names it. */
export const MEMBERLIST_KEY = 'secretkey';

export const KIND = {
  IPAddressPool: 'IPAddressPool',
  L2Advertisement: 'L2Advertisement',
  BGPAdvertisement: 'BGPAdvertisement',
  BGPPeer: 'BGPPeer',
  BFDProfile: 'BFDProfile',
  Community: 'Community',
  ServiceL2Status: 'ServiceL2Status',
  ServiceBGPStatus: 'ServiceBGPStatus',
  ConfigurationState: 'ConfigurationState',
} as const;

export type MetalLBKind = (typeof KIND)[keyof typeof KIND];

/** Every served apiVersion of every kind. BGPPeer v1beta2 is the stored version. */
export const SERVED_VERSIONS: Readonly<Record<MetalLBKind, readonly string[]>> = {
  IPAddressPool: [V1BETA1],
  L2Advertisement: [V1BETA1],
  BGPAdvertisement: [V1BETA1],
  BGPPeer: [V1BETA1, V1BETA2],
  BFDProfile: [V1BETA1],
  Community: [V1BETA1],
  ServiceL2Status: [V1BETA1],
  ServiceBGPStatus: [V1BETA1],
  ConfigurationState: [V1BETA1],
};

/** Kinds that carry configuration; the others are status written by ferrolb itself. */
export const CONFIGURATION_KINDS: readonly MetalLBKind[] = [
  'IPAddressPool',
  'L2Advertisement',
  'BGPAdvertisement',
  'BGPPeer',
  'BFDProfile',
  'Community',
];

export function isMetalLBKind(kind: string): kind is MetalLBKind {
  return Object.hasOwn(KIND, kind);
}

/** metav1.ObjectMeta, the fields a manifest may carry. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Readonly<Record<string, string>>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  finalizers?: readonly string[];
  ownerReferences?: readonly unknown[];
  managedFields?: readonly unknown[];
  selfLink?: string;
}

interface Resource<APIVersion extends string, Kind extends string> {
  apiVersion: APIVersion;
  kind: Kind;
  metadata: ObjectMeta;
}

// ---------------------------------------------------------------------------------
// IPAddressPool metallb.io/v1beta1

export interface ServiceAllocationSpec {
  /** Lower wins; unset or 0 ranks after every set priority. */
  priority?: number;
  namespaces?: readonly string[];
  namespaceSelectors?: readonly LabelSelector[];
  serviceSelectors?: readonly LabelSelector[];
}

export interface IPAddressPoolSpec {
  /** CIDRs (`10.0.0.0/24`) or inclusive ranges (`10.0.0.3-10.0.0.254`). */
  addresses: readonly string[];
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  serviceAllocation?: ServiceAllocationSpec;
}

export interface IPAddressPoolStatus {
  assignedIPv4?: number;
  assignedIPv6?: number;
  availableIPv4?: number;
  availableIPv6?: number;
}

export interface IPAddressPool extends Resource<typeof V1BETA1, 'IPAddressPool'> {
  spec: IPAddressPoolSpec;
  status?: IPAddressPoolStatus;
}

// ---------------------------------------------------------------------------------
// L2Advertisement metallb.io/v1beta1

export interface L2AdvertisementSpec {
  ipAddressPools?: readonly string[];
  ipAddressPoolSelectors?: readonly LabelSelector[];
  nodeSelectors?: readonly LabelSelector[];
  interfaces?: readonly string[];
  serviceSelectors?: readonly LabelSelector[];
}

export interface L2Advertisement extends Resource<typeof V1BETA1, 'L2Advertisement'> {
  spec?: L2AdvertisementSpec;
  status?: Record<string, never>;
}

// ---------------------------------------------------------------------------------
// BGPAdvertisement metallb.io/v1beta1

export interface BGPAdvertisementSpec {
  aggregationLength?: number;
  aggregationLengthV6?: number;
  localPref?: number;
  /** `a:b`, `large:a:b:c`, or the name of an alias in a Community resource. */
  communities?: readonly string[];
  ipAddressPools?: readonly string[];
  ipAddressPoolSelectors?: readonly LabelSelector[];
  nodeSelectors?: readonly LabelSelector[];
  peers?: readonly string[];
  serviceSelectors?: readonly LabelSelector[];
}

export interface BGPAdvertisement extends Resource<typeof V1BETA1, 'BGPAdvertisement'> {
  spec?: BGPAdvertisementSpec;
  status?: Record<string, never>;
}

// ---------------------------------------------------------------------------------
// BGPPeer metallb.io/v1beta2 (stored) and v1beta1 (deprecated)

export type DynamicASNMode = 'internal' | 'external';

/** core/v1 SecretReference. */
export interface SecretReference {
  name?: string;
  namespace?: string;
}

export interface BGPPeerSpecV1beta2 {
  myASN: number;
  /** Exactly one of peerASN and dynamicASN. */
  peerASN?: number;
  dynamicASN?: DynamicASNMode;
  /** The ASN presented to this peer instead of myASN (docs/COMPATIBILITY.md "BGPPeer"). */
  localASN?: number;
  /** Exactly one of peerAddress and interface (unnumbered BGP). */
  peerAddress?: string;
  interface?: string;
  sourceAddress?: string;
  peerPort?: number;
  /** Go duration strings ("90s", "1m30s"), as metav1.Duration serialises. */
  holdTime?: string;
  keepaliveTime?: string;
  connectTime?: string;
  routerID?: string;
  nodeSelectors?: readonly LabelSelector[];
  password?: string;
  passwordSecret?: SecretReference;
  bfdProfile?: string;
  enableGracefulRestart?: boolean;
  ebgpMultiHop?: boolean;
  vrf?: string;
  /** Deprecated in favour of dualStackAddressFamily; has no effect. */
  disableMP?: boolean;
  dualStackAddressFamily?: boolean;
}

export interface BGPPeerV1beta2 extends Resource<typeof V1BETA2, 'BGPPeer'> {
  spec: BGPPeerSpecV1beta2;
  status?: Record<string, never>;
}

/** v1beta1's own node selector shape: matchExpressions always carry values. */
export interface LegacyNodeSelector {
  matchLabels?: Labels;
  matchExpressions?: readonly { key: string; operator: string; values: readonly string[] }[];
}

export interface BGPPeerSpecV1beta1 {
  myASN: number;
  peerASN: number;
  peerAddress: string;
  sourceAddress?: string;
  peerPort?: number;
  holdTime?: string;
  keepaliveTime?: string;
  routerID?: string;
  nodeSelectors?: readonly LegacyNodeSelector[];
  password?: string;
  bfdProfile?: string;
  ebgpMultiHop?: boolean;
}

export interface BGPPeerV1beta1 extends Resource<typeof V1BETA1, 'BGPPeer'> {
  spec: BGPPeerSpecV1beta1;
  status?: Record<string, never>;
}

export type BGPPeer = BGPPeerV1beta1 | BGPPeerV1beta2;

/**
 * v1beta1 → v1beta2, as MetalLB's conversion webhook does: every v1beta1 field keeps
 * its name and meaning; node selectors become metav1.LabelSelectors; the fields v1beta1
 * lacks stay unset (so they take their v1beta2 defaults).
 */
export function convertBGPPeerSpec(spec: BGPPeerSpecV1beta1): BGPPeerSpecV1beta2 {
  const out: BGPPeerSpecV1beta2 = { myASN: spec.myASN, peerASN: spec.peerASN, peerAddress: spec.peerAddress };
  if (spec.sourceAddress !== undefined) out.sourceAddress = spec.sourceAddress;
  if (spec.peerPort !== undefined) out.peerPort = spec.peerPort;
  if (spec.holdTime !== undefined) out.holdTime = spec.holdTime;
  if (spec.keepaliveTime !== undefined) out.keepaliveTime = spec.keepaliveTime;
  if (spec.routerID !== undefined) out.routerID = spec.routerID;
  if (spec.password !== undefined) out.password = spec.password;
  if (spec.bfdProfile !== undefined) out.bfdProfile = spec.bfdProfile;
  if (spec.ebgpMultiHop !== undefined) out.ebgpMultiHop = spec.ebgpMultiHop;
  if (spec.nodeSelectors !== undefined) {
    out.nodeSelectors = spec.nodeSelectors.map((s): LabelSelector => {
      const sel: { matchLabels?: Labels; matchExpressions?: LabelSelector['matchExpressions'] } = {};
      if (s.matchLabels !== undefined) sel.matchLabels = s.matchLabels;
      if (s.matchExpressions !== undefined) {
        sel.matchExpressions = s.matchExpressions.map((e) => ({
          key: e.key,
          // The operator is validated on the converted selector, like any other.
          operator: e.operator as 'In',
          values: e.values,
        }));
      }
      return sel;
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------
// BFDProfile metallb.io/v1beta1

export interface BFDProfileSpec {
  /** Milliseconds, 10..60000, default 300. */
  receiveInterval?: number;
  transmitInterval?: number;
  /** 2..255, default 3. */
  detectMultiplier?: number;
  /** Milliseconds, 10..60000, default 50. */
  echoInterval?: number;
  echoMode?: boolean;
  passiveMode?: boolean;
  /** 1..254 (multi-hop sessions). */
  minimumTtl?: number;
}

export interface BFDProfile extends Resource<typeof V1BETA1, 'BFDProfile'> {
  spec?: BFDProfileSpec;
  status?: Record<string, never>;
}

// ---------------------------------------------------------------------------------
// Community metallb.io/v1beta1

export interface CommunityAlias {
  name?: string;
  value?: string;
}

export interface Community extends Resource<typeof V1BETA1, 'Community'> {
  spec?: { communities?: readonly CommunityAlias[] };
  status?: Record<string, never>;
}

// ---------------------------------------------------------------------------------
// Status kinds, written by ferrolb (speakers and controller), never read as config.

export interface ServiceL2Status extends Resource<typeof V1BETA1, 'ServiceL2Status'> {
  spec?: Record<string, never>;
  status?: {
    node?: string;
    serviceName?: string;
    serviceNamespace?: string;
    interfaces?: readonly { name?: string }[];
  };
}

export interface ServiceBGPStatus extends Resource<typeof V1BETA1, 'ServiceBGPStatus'> {
  spec?: Record<string, never>;
  status?: {
    node?: string;
    serviceName?: string;
    serviceNamespace?: string;
    peers?: readonly string[];
  };
}

export type ConfigurationStateResult = 'Valid' | 'Invalid' | 'Unknown';

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** Named `controller` (controller) or `speaker-<node>` (speakers). */
export interface ConfigurationState extends Resource<typeof V1BETA1, 'ConfigurationState'> {
  status?: {
    result?: ConfigurationStateResult;
    lastError?: string;
    conditions?: readonly Condition[];
  };
}

export type MetalLBResource =
  | IPAddressPool
  | L2Advertisement
  | BGPAdvertisement
  | BGPPeer
  | BFDProfile
  | Community
  | ServiceL2Status
  | ServiceBGPStatus
  | ConfigurationState;

/** Plural resource names, as MetalLB's CRDs name them (and RBAC rules must). */
export const PLURAL: Readonly<Record<MetalLBKind, string>> = {
  IPAddressPool: 'ipaddresspools',
  L2Advertisement: 'l2advertisements',
  BGPAdvertisement: 'bgpadvertisements',
  BGPPeer: 'bgppeers',
  BFDProfile: 'bfdprofiles',
  Community: 'communities',
  ServiceL2Status: 'servicel2statuses',
  ServiceBGPStatus: 'servicebgpstatuses',
  ConfigurationState: 'configurationstates',
};
