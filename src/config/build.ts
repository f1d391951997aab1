// Raw metallb.io documents → one validated, immutable Config, enforcing every rule of
// docs/COMPATIBILITY.md. Pure: no I/O, no clock. Every error is collected (never only the
// first) and names the file, line, kind, namespace/name and field at fault.
//
// One builder per kind (build-*.ts), as MetalLB's config package has one function per
// kind, all reporting into one ErrorCollector; this file runs them in the order their
// references need (aliases and profiles before peers, pools and peers before
// advertisements), then the checks across kinds, and sorts what was found.
import type { MetalLBKind } from '../api/metallb.ts';
import type { Config } from './model.ts';
import type { ConfigError } from './errors.ts';
import { isWarning } from './errors.ts';
import type { SourceDocument } from './documents.ts';
import { ErrorCollector, type Entry } from './collector.ts';
import { readDocuments } from './read-documents.ts';
import { buildCommunityAliases } from './build-communities.ts';
import { buildBFDProfiles, checkEchoMode } from './build-bfd-profiles.ts';
import { buildPools } from './build-pools.ts';
import { buildPeers } from './build-peers.ts';
import { buildBGPAdvertisements, buildL2Advertisements, checkLocalPrefConflicts } from './build-advertisements.ts';
import { compare } from './raw.ts';

export const DEFAULT_NAMESPACE = 'metallb-system';

/** What the builder needs to know of a Secret: enough to check a BGPPeer passwordSecret. */
export interface SecretInfo {
  readonly name: string;
  readonly namespace: string;
  readonly type?: string;
  /** Keys of `data` and `stringData`. */
  readonly keys: readonly string[];
}

export interface BuildOptions {
  /** The load balancer's namespace; configuration elsewhere is ignored. */
  readonly namespace?: string;
  /**
   * Secrets of the namespace, to check passwordSecret references. v1 Secret documents
   * among the inputs are added to these. When neither gives any, references are not
   * checked (a note says so).
   */
  readonly secrets?: readonly SecretInfo[];
}

/** An accepted metallb.io object. */
export interface ObjectRef {
  readonly kind: MetalLBKind;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly file?: string;
  readonly line?: number;
}

export interface BuildResult {
  /** Present only when there is no error (warnings do not prevent it). */
  readonly config?: Config;
  /** Severity error only; sorted by file (in input order) and line. */
  readonly errors: ConfigError[];
  /**
   * Severity warning, sorted as errors are: references to objects that do not exist
   * (yet), whose referrer does not take part until they do (RULES.md "Order
   * independence"), and what is read but not acted on.
   */
  readonly warnings: ConfigError[];
  readonly notes: string[];
  /** The metallb.io objects read from the load balancer's namespace, in input order. */
  readonly objects: ObjectRef[];
}

export function buildConfig(documents: readonly SourceDocument[], options: BuildOptions = {}): BuildResult {
  const lbNamespace = options.namespace ?? DEFAULT_NAMESPACE;
  const c = new ErrorCollector();
  const { entries, objects, secrets } = readDocuments(c, documents, lbNamespace, options.secrets ?? []);
  const ofKind = (kind: MetalLBKind): Entry[] => entries.filter((e) => e.kind === kind).sort((a, b) => compare(a.name, b.name));

  const aliases = buildCommunityAliases(c, ofKind('Community'));
  const bfdProfiles = buildBFDProfiles(ofKind('BFDProfile'));
  const bfdByName = new Map(bfdProfiles.map((p) => [p.name, p]));
  const pools = buildPools(c, ofKind('IPAddressPool'));
  const poolByName = new Map(pools.map((p) => [p.name, p]));
  const peerEntries = ofKind('BGPPeer');
  const peers = buildPeers(c, peerEntries, { lbNamespace, secrets, bfdByName });
  const l2Advertisements = buildL2Advertisements(c, ofKind('L2Advertisement'), { lbNamespace, pools, poolByName });
  const bgpFacts = buildBGPAdvertisements(c, ofKind('BGPAdvertisement'), {
    lbNamespace,
    pools,
    poolByName,
    aliases,
    peerNames: new Set(peers.map((p) => p.name)),
  });
  checkLocalPrefConflicts(c, pools, bgpFacts);
  checkEchoMode(c, peers, new Map(peerEntries.map((e) => [e.name, e])), bfdByName, bgpFacts);

  // Errors in reading order: files in input order, then by line.
  const fileRank = new Map<string, number>();
  for (const doc of documents) if (doc.file !== undefined && !fileRank.has(doc.file)) fileRank.set(doc.file, fileRank.size);
  const rank = (x: ConfigError): number => (x.file !== undefined ? (fileRank.get(x.file) ?? fileRank.size) : fileRank.size + 1);
  const sorted = c.errors
    .map((x, i) => ({ x, i }))
    .sort((a, b) => rank(a.x) - rank(b.x) || (a.x.line ?? 0) - (b.x.line ?? 0) || a.i - b.i)
    .map(({ x }) => x);
  const warnings = sorted.filter(isWarning);
  const failures = sorted.filter((x) => !isWarning(x));

  if (failures.length > 0) return { errors: failures, warnings, notes: c.notes, objects };
  const byName = <T extends { name: string }>(xs: T[]): T[] => xs.sort((a, b) => compare(a.name, b.name));
  const dormantNames = (kind: MetalLBKind): Set<string> => new Set([...c.dormant].filter((d) => d.kind === kind).map((d) => d.name));
  const dormantPeers = dormantNames('BGPPeer');
  const dormantAdvertisements = dormantNames('BGPAdvertisement');
  const config: Config = deepFreeze({
    pools: byName(pools),
    l2Advertisements: byName(l2Advertisements),
    bgpAdvertisements: byName(bgpFacts.map((f) => f.advertisement).filter((a) => !dormantAdvertisements.has(a.name))),
    bgpPeers: byName(peers.filter((p) => !dormantPeers.has(p.name))),
    bfdProfiles: byName(bfdProfiles),
  });
  return { config, errors: [], warnings, notes: c.notes, objects };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
