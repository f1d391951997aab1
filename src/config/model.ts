// The validated, immutable configuration: what the metallb.io resources in the load
// balancer's namespace mean once every rule of docs/COMPATIBILITY.md holds. The controller, the
// speakers and the offline commands (validate, plan) all work from this one shape.
import type { AddressRange } from '../net/range.ts';
import type { LabelSelector, Labels } from '../api/selector.ts';

export interface ServiceAllocation {
  /** Lower wins; 0 (unset) ranks after every set priority. */
  readonly priority: number;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

export interface Pool {
  readonly name: string;
  readonly labels: Labels;
  /** Entries as written, each parsed; validation guarantees no two overlap, in any pool. */
  readonly ranges: readonly AddressRange[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation?: ServiceAllocation;
}

/** MetalLB main's soft node preference for the L2 election (PreferredSchedulingTerm's shape). */
export interface PreferredNodeSelector {
  /** 1..100; the weights of every preference a node matches add up. */
  readonly weight: number;
  /** An empty selector matches every node. */
  readonly preference: LabelSelector;
}

export interface L2Advertisement {
  readonly name: string;
  readonly ipAddressPools: readonly string[];
  readonly ipAddressPoolSelectors: readonly LabelSelector[];
  readonly nodeSelectors: readonly LabelSelector[];
  readonly interfaces: readonly string[];
  readonly serviceSelectors: readonly LabelSelector[];
  /**
   * Always set by buildConfig (optional only so that hand-built Configs in the election's
   * tests need not spell it). The L2 election runs only the best-scored nodes
   * (src/planning/README.md, rule 5).
   */
  readonly preferredNodeSelectors?: readonly PreferredNodeSelector[];
}

/** RFC 1997 community (32 bits: high 16 ASN, low 16 value) or RFC 8092 large community. */
export type BGPCommunity =
  | { readonly kind: 'standard'; readonly value: number }
  | { readonly kind: 'large'; readonly globalAdmin: number; readonly localData1: number; readonly localData2: number };

export interface BGPAdvertisement {
  readonly name: string;
  readonly aggregationLength: number;
  readonly aggregationLengthV6: number;
  readonly localPref?: number;
  /** Resolved: Community aliases replaced by their values. */
  readonly communities: readonly BGPCommunity[];
  readonly ipAddressPools: readonly string[];
  readonly ipAddressPoolSelectors: readonly LabelSelector[];
  readonly nodeSelectors: readonly LabelSelector[];
  /** BGPPeer names; empty = every peer. */
  readonly peers: readonly string[];
  readonly serviceSelectors: readonly LabelSelector[];
}

export interface SecretReference {
  readonly name: string;
  readonly namespace: string;
}

export interface BGPPeer {
  readonly name: string;
  readonly myASN: number;
  /** Exactly one of peerASN and dynamicASN is set. */
  readonly peerASN?: number;
  readonly dynamicASN?: 'internal' | 'external';
  /** The ASN presented to this peer instead of myASN, when set. */
  readonly localASN?: number;
  /** Exactly one of peerAddress and interface (unnumbered BGP) is set. */
  readonly peerAddress?: string;
  readonly interface?: string;
  readonly sourceAddress?: string;
  readonly peerPort: number;
  readonly routerID?: string;
  /** Seconds; 0 = no keepalives and no hold timer (RFC 4271 4.2). */
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /** Seconds; undefined = implementation default. */
  readonly connectTime?: number;
  readonly password?: string;
  readonly passwordSecret?: SecretReference;
  readonly bfdProfile?: string;
  readonly ebgpMultiHop: boolean;
  readonly enableGracefulRestart: boolean;
  readonly nodeSelectors: readonly LabelSelector[];
  readonly vrf?: string;
  readonly dualStackAddressFamily: boolean;
}

export interface BFDProfile {
  readonly name: string;
  /** Milliseconds. */
  readonly receiveInterval: number;
  readonly transmitInterval: number;
  readonly detectMultiplier: number;
  readonly echoInterval: number;
  readonly echoMode: boolean;
  readonly passiveMode: boolean;
  readonly minimumTtl: number;
}

export interface Config {
  /** Every array is sorted by name, so iteration order never depends on input order. */
  readonly pools: readonly Pool[];
  readonly l2Advertisements: readonly L2Advertisement[];
  readonly bgpAdvertisements: readonly BGPAdvertisement[];
  readonly bgpPeers: readonly BGPPeer[];
  readonly bfdProfiles: readonly BFDProfile[];
}

export const EMPTY_CONFIG: Config = Object.freeze({
  pools: [],
  l2Advertisements: [],
  bgpAdvertisements: [],
  bgpPeers: [],
  bfdProfiles: [],
});
