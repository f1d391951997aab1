// Which node announces which load-balancer IP in L2 mode (docs/COMPATIBILITY.md "Speaker, L2
// mode", "L2Advertisement"). Pure: no I/O, no clock, no globals. Every speaker
// runs it on the same snapshot and reaches the same answer, so exactly one node answers
// ARP/NDP for each IP without any coordination beyond membership (liveNodes).
//
// Everything that could depend on input order is sorted first (services by key, nodes by
// name, advertisements by name, IPs numerically), and every tie is broken by a total
// order, so shuffling the inputs never changes the plan.
import { advertisementSelectsPool, poolContains } from '../config/select.ts';
import { hash as digest } from 'node:crypto';
import { anySelectorMatches, selectorMatches } from '../api/selector.ts';
import { nodeExcluded, sameNodeView, type EndpointView, type L2ServiceView, type NodeView } from '../api/cluster-view.ts';
import type { Config, L2Advertisement, Pool } from '../config/model.ts';
import { formatIP, ipKey, parseIP, type IP } from '../net/ip.ts';

// ---------------------------------------------------------------------------------
// Inputs and output

export interface L2PlanInput {
  readonly config: Config;
  readonly services: readonly L2ServiceView[];
  /** Node names are unique (as in an informer cache). */
  readonly nodes: readonly NodeView[];
  /** Nodes whose speaker is alive (membership). */
  readonly liveNodes: ReadonlySet<string>;
}

export interface IPAnnouncement {
  /** Canonical text (formatIP(parseIP(x))). */
  readonly ip: string;
  /** The elected node. */
  readonly node: string;
  /** Keys of the services announced on this IP, sorted. */
  readonly services: readonly string[];
  /**
   * Union of the interfaces of the applicable advertisements that select the elected
   * node, sorted; [] = every suitable interface (also when any one of those
   * advertisements leaves `interfaces` empty).
   */
  readonly interfaces: readonly string[];
}

export interface UnannouncedIP {
  /** Canonical text when the entry parses, else as written. */
  readonly ip: string;
  readonly service: string;
  readonly reason: string;
}

export interface L2Plan {
  /** Sorted by IP: IPv4 before IPv6, numerically within a family. */
  readonly announcements: readonly IPAnnouncement[];
  /** Why an IP of a service is not announced, per service key (sorted by service, then IP), for status/events/logs. */
  readonly unannounced: readonly UnannouncedIP[];
}

/** The reason given when a service has no ready or serving endpoint anywhere. */
export const NO_READY_ENDPOINTS = 'no ready endpoints';

// ---------------------------------------------------------------------------------
// Small pure helpers (exported for the speaker's logs and for tests)

/** A string that sorts IPs as the plan does: IPv4 before IPv6, then numerically. */
export function ipOrderKey(ip: IP): string {
  return (ip.family === 'IPv4' ? '4' : '6') + ip.value.toString(16).padStart(32, '0');
}

/** MetalLB's L2 election hash: sha256(nodeName + "#" + ip), as lower-case hex (sorts as bytes). */
export function electionHash(nodeName: string, ip: string): string {
  // One-shot hash (strings are hashed as UTF-8): about 5x faster than createHash here.
  return digest('sha256', `${nodeName}#${ip}`, 'hex');
}

// ---------------------------------------------------------------------------------
// The plan

/**
 * One service's claim on one IP once rules 1-2 hold and it has a usable endpoint: what
 * rule 3 needs besides liveness.
 */
interface Claim {
  readonly service: string;
  /** Indices into the sorted advertisement list: those that apply to (pool, service). */
  readonly ads: readonly number[];
  /** The known nodes those advertisements select (NodeIndex.selectedBy). */
  readonly selected: SelectedNodes;
  readonly endpoints: ServiceEndpoints;
}

/** An IP held by at least one service for which rules 1 and 2 hold. */
interface IPGroup {
  /** ipKey of the IP. */
  readonly key: string;
  readonly ip: IP;
  readonly text: string;
  readonly order: string;
  /** The oldest createdAt among the services listing the IP ('' is the oldest). */
  readonly age: string;
  /**
   * Where the IP may have its home (rule 5): the known nodes (Node objects, not
   * excluded) that the applicable advertisements select, intersected over the services
   * for which rules 1-2 hold; sorted by name, possibly empty. Liveness, network
   * condition and endpoints play no part.
   */
  readonly homeNodes: readonly string[];
  /**
   * The advertisements that apply to (pool, service) for some service on the IP for
   * which rules 1-2 hold, each once: their preferredNodeSelectors score the nodes.
   */
  readonly ads: ReadonlySet<number>;
  /** The services with a usable endpoint for which rules 1-2 hold, by service key. */
  readonly claims: readonly Claim[];
  /** hashRank(node, text) per node, filled as asked (the hashes are most of a plan's cost). */
  readonly hashes: Map<string, number>;
}

interface Election {
  readonly group: IPGroup;
  /** The claims for which rule 3 holds (the IP is announced for these). */
  readonly claims: readonly Claim[];
  readonly candidates: readonly string[];
}

interface PoolSpan {
  readonly first: bigint;
  readonly last: bigint;
  readonly pool: Pool;
}

/**
 * Everything of a plan that liveness does not change: rules 1-2, the endpoints' part of
 * rule 3, and the homes of rule 5 (which never read liveness, by design). A membership
 * change, the standby's plans and a failover reuse it; an informer change rebuilds it.
 */
interface StablePart {
  readonly config: Config;
  readonly services: readonly L2ServiceView[];
  readonly nodeViews: readonly NodeView[];
  readonly index: ConfigIndex;
  readonly nodes: NodeIndex;
  /** Sorted by IP order: the announcements come out in this order. */
  readonly groups: readonly IPGroup[];
  /** Reasons that do not depend on liveness (rules 1-2, no ready endpoints). */
  readonly unannounced: readonly UnannouncedIP[];
  /** The home of each IP with home nodes, by IPGroup.order. */
  readonly homes: ReadonlyMap<string, string>;
}

/** A status entry that parses: its key, canonical text and order, computed once per view. */
interface ParsedIP {
  readonly ip: IP;
  readonly key: string;
  readonly text: string;
  readonly order: string;
}

/** One entry of a service's IPs after rules 1-2 and rule 3's endpoints (claimView). */
type ViewEntry =
  | { readonly raw: string; readonly parsed?: undefined }
  | { readonly parsed: ParsedIP; readonly reason: string; readonly home?: undefined }
  | { readonly parsed: ParsedIP; readonly home: { readonly ads: readonly number[]; readonly selected: SelectedNodes }; readonly claim?: Claim };

export function planL2(input: L2PlanInput): L2Plan {
  return new L2Planner().plan(input);
}

/**
 * planL2 with memory. It keeps the last plan's liveness-free part (StablePart) and
 * reuses it while the configuration, the service views and the nodes are the same (the
 * same objects for the first two, as the speaker keeps them; equal views for the
 * nodes). While the configuration and the nodes stay the same it also keeps what rules
 * 1-2 and the endpoints say of each service view and each IP's group (rule 4's
 * services, ages, home nodes, and the election hashes), so a changed service costs its
 * own claims, the groups of its IPs, one merge of the sorted groups and the homes. Its
 * plans are planL2's, whatever the sequence of inputs (l2-plan.test.ts, "L2Planner").
 * The speaker keeps one: a plan after a membership change, each standby step and each
 * failover then cost the election's second step.
 */
export class L2Planner {
  #stable: StablePart | undefined;
  /** The plans made, as a generation stamp for ViewRecord.seen. */
  #plans = 0;
  /** Per service view of #stable's input, valid for its configuration and nodes. */
  #views = new Map<L2ServiceView, ViewRecord>();
  /** Per ipKey: the views of #stable's input listing the IP, each with its entry for it. */
  #members = new Map<string, Member[]>();
  /** Per ipKey: the group of each IP with a home slot (IPGroup). */
  #groups = new Map<string, IPGroup>();

  plan(input: L2PlanInput): L2Plan {
    const stable = this.#stableFor(input);
    return planLive(stable, input.liveNodes);
  }

  #stableFor(input: L2PlanInput): StablePart {
    const was = this.#stable;
    const sameBasis = was !== undefined && was.config === input.config && sameNodeViews(was.nodeViews, input.nodes);
    if (sameBasis && sameElements(was.services, input.services)) return was;
    // A new basis starts from nothing but the election hashes, which only name nodes and IPs.
    const retired = sameBasis ? undefined : this.#groups;
    if (!sameBasis) {
      this.#views = new Map();
      this.#members = new Map();
      this.#groups = new Map();
    }
    const basis: Basis = sameBasis ? was : indexBasis(input);
    const seen = ++this.#plans;
    const touched = new Set<string>();
    const unannounced: UnannouncedIP[] = [];
    for (const svc of input.services) {
      let record = this.#views.get(svc);
      if (record === undefined) {
        this.#views.set(svc, (record = viewRecord(svc, basis, seen)));
        for (const entry of record.entries) if (entry.parsed !== undefined) this.#join(svc, entry, touched);
      }
      record.seen = seen;
      for (const u of record.unannounced) unannounced.push(u);
    }
    // Views not in this input are gone (a Map may lose entries while it is iterated).
    for (const [svc, record] of this.#views) {
      if (record.seen === seen) continue;
      this.#views.delete(svc);
      for (const entry of record.entries) if (entry.parsed !== undefined) this.#leave(svc, entry.parsed.key, touched);
    }
    const regrouped: IPGroup[] = [];
    for (const key of touched) {
      const members = this.#members.get(key);
      const old = this.#groups.get(key) ?? retired?.get(key);
      const group = members === undefined ? undefined : groupOf(key, members, old?.hashes ?? new Map());
      if (group === undefined) this.#groups.delete(key);
      else this.#groups.set(key, group);
      if (group !== undefined) regrouped.push(group);
    }
    const kept = sameBasis ? was.groups.filter((g) => !touched.has(g.key)) : [];
    const groups = mergeByOrder(kept, regrouped.sort(byOrder));
    const homes = placeHomes(groups, (group, names) => basis.nodes.preferred(group, names));
    const stable: StablePart = { config: input.config, services: input.services, nodeViews: input.nodes, index: basis.index, nodes: basis.nodes, groups, unannounced, homes };
    this.#stable = stable;
    return stable;
  }

  #join(svc: L2ServiceView, entry: ParsedEntry, touched: Set<string>): void {
    const key = entry.parsed.key;
    const members = this.#members.get(key);
    if (members === undefined) this.#members.set(key, [{ svc, entry }]);
    else members.push({ svc, entry });
    touched.add(key);
  }

  #leave(svc: L2ServiceView, key: string, touched: Set<string>): void {
    const members = this.#members.get(key)!.filter((m) => m.svc !== svc);
    if (members.length === 0) this.#members.delete(key);
    else this.#members.set(key, members);
    touched.add(key);
  }
}

/** What a plan keeps of one service view while the basis is the same (L2Planner). */
interface ViewRecord {
  readonly entries: readonly ViewEntry[];
  /** The view's own reasons: entries that are not IPs, fail rules 1-2, or have no usable endpoint. */
  readonly unannounced: readonly UnannouncedIP[];
  /** The last plan whose input held the view. */
  seen: number;
}

type ParsedEntry = Extract<ViewEntry, { readonly parsed: ParsedIP }>;

/** A view listing an IP, with its entry for the IP. */
interface Member {
  readonly svc: L2ServiceView;
  readonly entry: ParsedEntry;
}

/** The configuration and the nodes, indexed: what a service's claims are relative to. */
interface Basis {
  readonly index: ConfigIndex;
  readonly nodes: NodeIndex;
}

function indexBasis(input: L2PlanInput): Basis {
  const index = indexConfig(input.config);
  return { index, nodes: new NodeIndex(input.nodes, index.ads) };
}

function viewRecord(svc: L2ServiceView, basis: Basis, seen: number): ViewRecord {
  const entries = claimView(svc, basis);
  const unannounced: UnannouncedIP[] = [];
  for (const e of entries) {
    if (e.parsed === undefined) unannounced.push({ ip: e.raw, service: svc.key, reason: `"${e.raw}" is not an IP address` });
    else if (e.home === undefined) unannounced.push({ ip: e.parsed.text, service: svc.key, reason: e.reason });
    else if (e.claim === undefined) unannounced.push({ ip: e.parsed.text, service: svc.key, reason: NO_READY_ENDPOINTS });
  }
  return { entries, unannounced, seen };
}

/**
 * Rule 4's group of one IP from the views listing it, or none when rules 1-2 hold for
 * none of them. Its age is the oldest createdAt of those views, whatever their rules say.
 */
function groupOf(key: string, members: readonly Member[], hashes: Map<string, number>): IPGroup | undefined {
  let age: string | undefined;
  let homeNodes: readonly string[] | undefined;
  const ads = new Set<number>();
  const claims: Claim[] = [];
  for (const { svc, entry } of members) {
    if (age === undefined || svc.createdAt < age) age = svc.createdAt;
    if (entry.home === undefined) continue;
    if (homeNodes === undefined) homeNodes = entry.home.selected.known;
    else {
      const allowed = new Set(entry.home.selected.known);
      homeNodes = homeNodes.filter((n) => allowed.has(n));
    }
    for (const i of entry.home.ads) ads.add(i);
    if (entry.claim) claims.push(entry.claim);
  }
  if (homeNodes === undefined) return undefined;
  // Claims in service-key order (the views come in any order).
  if (claims.length > 1) claims.sort((a, b) => compare(a.service, b.service));
  const { ip, text, order } = members[0]!.entry.parsed;
  return { key, ip, text, order, age: age!, homeNodes, ads, claims, hashes };
}

/** Two lists sorted by IP order, merged (the groups kept and the groups rebuilt). */
function mergeByOrder(a: readonly IPGroup[], b: readonly IPGroup[]): IPGroup[] {
  if (b.length === 0) return [...a];
  const out: IPGroup[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(compare(a[i]!.order, b[j]!.order) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

function byOrder(a: IPGroup, b: IPGroup): number {
  return compare(a.order, b.order);
}

/** Rule 3's liveness part, rule 4 and rule 5's second step, on a stable part. */
function planLive(stable: StablePart, live: ReadonlySet<string>): L2Plan {
  const { index, nodes } = stable;
  const unannounced: UnannouncedIP[] = [...stable.unannounced];
  const eligible = nodes.eligible(live);
  const elections = candidateSets(stable.groups, (claim) => candidatesOf(claim, eligible(claim.selected), index), unannounced);
  const winners = serve(elections, stable.homes, (group, names) => nodes.preferred(group, names));
  const announcements: IPAnnouncement[] = [];
  for (const e of elections) {
    const node = winners.get(e.group.order)!;
    announcements.push({
      ip: e.group.text,
      node,
      services: e.claims.map((c) => c.service),
      interfaces: interfacesFor(node, e.claims, index.ads, (i) => nodes.ofAd(i)),
    });
  }
  unannounced.sort((a, b) => compare(a.service, b.service) || compare(unannouncedOrder(a.ip), unannouncedOrder(b.ip)) || compare(a.reason, b.reason));
  return { announcements, unannounced };
}

/** The configuration, indexed once per plan. */
interface ConfigIndex {
  readonly poolsByName: ReadonlyMap<string, Pool>;
  /** Each family's ranges, sorted by start, for poolOf. */
  readonly spans: { readonly IPv4: readonly PoolSpan[]; readonly IPv6: readonly PoolSpan[] };
  /** Sorted by name; advertisements are referred to by their index here. */
  readonly ads: readonly L2Advertisement[];
  readonly adsOfPool: ReadonlyMap<string, readonly number[]>;
}

function indexConfig(config: Config): ConfigIndex {
  const pools = [...config.pools].sort(byName);
  const spans = { IPv4: [] as PoolSpan[], IPv6: [] as PoolSpan[] };
  for (const pool of pools) for (const r of pool.ranges) spans[r.family].push({ first: r.first, last: r.last, pool });
  for (const list of Object.values(spans)) list.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const ads = [...config.l2Advertisements].sort(byName);
  const adsOfPool = new Map<string, number[]>();
  for (const pool of pools) adsOfPool.set(pool.name, ads.flatMap((ad, i) => (advertisementSelectsPool(ad, pool) ? [i] : [])));
  return { poolsByName: new Map(pools.map((p) => [p.name, p])), spans, ads, adsOfPool };
}

/** The known nodes a set of advertisements selects (`key` names the set). */
interface SelectedNodes {
  readonly key: string;
  readonly known: readonly string[];
}

/**
 * Rule 3's node side, the parts that do not depend on the service, and rule 5's
 * preferences. Known: Node objects without the exclusion label (homes are placed on
 * these, rule 5). Eligible: known, with a live speaker and the network available
 * (candidates). Each answer is computed once, when first asked.
 */
class NodeIndex {
  readonly #known: readonly NodeView[];
  readonly #labels: ReadonlyMap<string, NodeView['labels']>;
  readonly #networkUnavailable: ReadonlySet<string>;
  readonly #ads: readonly L2Advertisement[];
  readonly #ofAd: (ReadonlySet<string> | undefined)[] = [];
  readonly #selected = new Map<string, SelectedNodes>();
  readonly #scores: (ReadonlyMap<string, number> | undefined)[] = [];

  constructor(nodes: readonly NodeView[], ads: readonly L2Advertisement[]) {
    const known: NodeView[] = [];
    const seen = new Set<string>();
    for (const node of [...nodes].sort(byName)) {
      if (seen.has(node.name)) continue;
      seen.add(node.name);
      if (nodeExcluded(node)) continue;
      known.push(node);
    }
    this.#known = known;
    this.#labels = new Map(known.map((n) => [n.name, n.labels]));
    this.#networkUnavailable = new Set(known.filter((n) => n.networkUnavailable).map((n) => n.name));
    this.#ads = ads;
  }

  ofAd(i: number): ReadonlySet<string> {
    let set = this.#ofAd[i];
    if (set === undefined) {
      const sel = this.#ads[i]!.nodeSelectors;
      set = new Set(this.#known.filter((n) => sel.length === 0 || anySelectorMatches(sel, n.labels)).map((n) => n.name));
      this.#ofAd[i] = set;
    }
    return set;
  }

  /** Known nodes selected by at least one of a set of advertisements. */
  selectedBy(adSet: readonly number[]): SelectedNodes {
    const key = adSet.join(',');
    let out = this.#selected.get(key);
    if (out === undefined) {
      const sets = adSet.map((i) => this.ofAd(i));
      out = { key, known: this.#known.filter((n) => sets.some((s) => s.has(n.name))).map((n) => n.name) };
      this.#selected.set(key, out);
    }
    return out;
  }

  /** For one live set: the eligible nodes among a selection (a live speaker, the network available), once per selection. */
  eligible(live: ReadonlySet<string>): (selected: SelectedNodes) => readonly string[] {
    const memo = new Map<string, readonly string[]>();
    return (selected) => {
      let out = memo.get(selected.key);
      if (out === undefined) memo.set(selected.key, (out = selected.known.filter((n) => live.has(n) && !this.#networkUnavailable.has(n))));
      return out;
    };
  }

  /**
   * preferredNodeSelectors (MetalLB main): a node's score for an advertisement is the
   * sum of the weights of the preferences its labels match, counted only when the
   * advertisement's nodeSelectors select it.
   */
  #scoresOfAd(i: number): ReadonlyMap<string, number> {
    let scores = this.#scores[i];
    if (scores === undefined) {
      const prefs = this.#ads[i]!.preferredNodeSelectors ?? [];
      const out = new Map<string, number>();
      if (prefs.length > 0) {
        for (const name of this.ofAd(i)) {
          let total = 0;
          for (const p of prefs) if (selectorMatches(p.preference, this.#labels.get(name)!)) total += p.weight;
          if (total > 0) out.set(name, total);
        }
      }
      this.#scores[i] = scores = out;
    }
    return scores;
  }

  /**
   * An IP's score for a node is the sum over the advertisements that apply to it (each
   * once). Only the nodes with the highest score among those available are in the
   * running for the IP.
   */
  preferred(group: IPGroup, nodes: readonly string[]): readonly string[] {
    if (nodes.length === 0) return nodes;
    let scored: ReadonlyMap<string, number>[] | undefined;
    for (const i of group.ads) {
      const m = this.#scoresOfAd(i);
      if (m.size > 0) (scored ??= []).push(m);
    }
    if (scored === undefined) return nodes;
    const score = (n: string): number => scored.reduce((sum, m) => sum + (m.get(n) ?? 0), 0);
    const best = Math.max(...nodes.map(score));
    return nodes.filter((n) => score(n) === best);
  }
}

/**
 * Rules 1-2 and rule 3's endpoints for each IP of one service, in the order of its
 * status (each IP once): an entry that is not an IP; one that fails rule 1 or 2 (why);
 * or one whose IP has a home slot, with the service's claim on it when it has a usable
 * endpoint (NO_READY_ENDPOINTS is reported otherwise).
 */
function claimView(svc: L2ServiceView, basis: Basis): ViewEntry[] {
  const endpoints = serviceEndpoints(svc);
  const entries: ViewEntry[] = [];
  const done = new Set<string>();
  for (const raw of svc.ips) {
    const ip = parseIP(raw);
    const key = ip ? ipKey(ip) : `raw:${raw}`;
    if (done.has(key)) continue;
    done.add(key);
    if (!ip) {
      entries.push({ raw });
      continue;
    }
    const parsed: ParsedIP = { ip, key, text: formatIP(ip), order: ipOrderKey(ip) };
    const outcome = claimIP(svc, parsed, endpoints, basis);
    entries.push(typeof outcome === 'string' ? { parsed, reason: outcome } : { parsed, home: outcome.home, claim: outcome.claim });
  }
  return entries;
}

/** A service's endpoints as rule 3 reads them: usable ones, and for Local the nodes that hold them. */
interface ServiceEndpoints {
  readonly usable: readonly EndpointView[];
  /** Local only: nodes with an endpoint that is ready or serving. */
  readonly localNodes: ReadonlySet<string> | undefined;
  /** Local only: nodes with a ready endpoint. */
  readonly readyNodes: ReadonlySet<string> | undefined;
}

function serviceEndpoints(svc: L2ServiceView): ServiceEndpoints {
  const usable = svc.endpoints.filter((e) => e.ready || e.serving);
  const nodesOf = (eps: readonly EndpointView[]) => new Set(eps.flatMap((e) => (e.nodeName !== undefined ? [e.nodeName] : [])));
  const local = svc.externalTrafficPolicy === 'Local';
  return { usable, localNodes: local ? nodesOf(usable) : undefined, readyNodes: local ? nodesOf(usable.filter((e) => e.ready)) : undefined };
}

/**
 * Rules 1-2 and rule 3's endpoints for one (service, IP): the advertisements that apply
 * and the nodes they select (the IP's home slot), with the service's claim when it has a
 * usable endpoint; or why the IP is not announced for the service.
 */
function claimIP(svc: L2ServiceView, p: ParsedIP, endpoints: ServiceEndpoints, { index: config, nodes }: Basis): { home: { ads: readonly number[]; selected: SelectedNodes }; claim?: Claim } | string {
  const { ip, text } = p;
  // Rule 1: the pool holding the IP. Pools never overlap, so the annotation can only
  // confirm the range lookup; a stale or wrong annotation is ignored.
  const named = svc.poolName !== undefined ? config.poolsByName.get(svc.poolName) : undefined;
  const pool = named !== undefined && poolContains(named, ip) ? named : poolOf(config.spans[ip.family], ip.value);
  if (pool === undefined) return `${text} is in no IPAddressPool of the configuration`;
  // Rule 2: the advertisements of (pool, service).
  const poolAds = config.adsOfPool.get(pool.name) ?? [];
  if (poolAds.length === 0) return `no L2Advertisement selects pool ${pool.name}`;
  const applicable = poolAds.filter((i) => {
    const sel = config.ads[i]!.serviceSelectors;
    return sel.length === 0 || anySelectorMatches(sel, svc.labels);
  });
  if (applicable.length === 0) return `no L2Advertisement of pool ${pool.name} selects this service`;
  // The IP has a home slot from here on, whether or not it can be announced now
  // (rule 5): a service losing its endpoints does not reshuffle the others.
  const home = { ads: applicable, selected: nodes.selectedBy(applicable) };
  // Rule 3, endpoints; the candidate nodes depend on liveness (candidatesOf).
  if (endpoints.usable.length === 0) return { home };
  return { home, claim: { service: svc.key, ads: applicable, selected: home.selected, endpoints } };
}

/** Rule 3's candidates of a claim among the eligible nodes its advertisements select, or why there are none. */
function candidatesOf(claim: Claim, base: readonly string[], config: ConfigIndex): readonly string[] | string {
  const { localNodes, readyNodes } = claim.endpoints;
  // Local: nodes with a ready endpoint first. A node whose endpoints are terminating
  // but still serve is a candidate only when no eligible node has a ready one, so a
  // drain or a rollout moves the IP while the old pod still answers what arrives
  // during the move (make-before-break), not after it is gone.
  const ready = readyNodes === undefined ? [] : base.filter((n) => readyNodes.has(n));
  const candidates = localNodes === undefined ? base : ready.length > 0 ? ready : base.filter((n) => localNodes.has(n));
  if (candidates.length > 0) return candidates;
  const names = claim.ads.map((i) => config.ads[i]!.name).join(', ');
  return localNodes === undefined || base.length === 0
    ? `no eligible node (live speaker, network available, not excluded from load balancers, selected by L2Advertisement ${names})`
    : 'no eligible node holds a ready endpoint (externalTrafficPolicy Local)';
}

/** Rule 4: one candidate set per IP, the intersection over the services sharing it. */
function candidateSets(groups: readonly IPGroup[], candidatesOfClaim: (claim: Claim) => readonly string[] | string, unannounced: UnannouncedIP[]): Election[] {
  const elections: Election[] = [];
  for (const group of groups) {
    const claims: Claim[] = [];
    // Claims arrive in service-key order; the intersection keeps name order.
    let candidates: readonly string[] | undefined;
    for (const claim of group.claims) {
      const mine = candidatesOfClaim(claim);
      if (typeof mine === 'string') {
        unannounced.push({ ip: group.text, service: claim.service, reason: mine });
        continue;
      }
      claims.push(claim);
      if (candidates === undefined) candidates = mine;
      else {
        const allowed = new Set(mine);
        candidates = candidates.filter((n) => allowed.has(n));
      }
    }
    if (candidates === undefined) continue; // every service on it is reported already
    if (candidates.length === 0) {
      const keys = claims.map((c) => c.service).join(', ');
      for (const claim of claims) {
        unannounced.push({ ip: group.text, service: claim.service, reason: `the services sharing ${group.text} (${keys}) have no eligible node in common` });
      }
      continue;
    }
    elections.push({ group, claims, candidates });
  }
  return elections;
}

/** The nodes among `nodes` (sorted by name) with the highest preference score for the IP. */
type Preferred = (group: IPGroup, nodes: readonly string[]) => readonly string[];

/**
 * Rule 5. MetalLB gives each IP to the first candidate in sha256(node + "#" + ip)
 * order (after the highest preferredNodeSelectors score): stateless and agreed by every
 * speaker, but uneven (with 10 nodes and 1,000 IPs a node is up to 29 IPs away from
 * the mean; bench/l2-spread.ts). ferrolb keeps the hash order as the tie-break
 * and fixes every node's load in advance, in two steps (placeHomes, then serve), so
 * that the spread is even to within one IP and speaker restarts and node failures move
 * no other IP:
 *
 * 1. Homes (stable facts only: services, their ages and IPs, the configuration, Node
 *    objects and their labels; never liveness, NetworkUnavailable or endpoints). An
 *    IP's home nodes (IPGroup.homeNodes) are narrowed to those with the highest
 *    preference score (all of them without preferences). The homed IPs are taken in
 *    placement order: oldest first (the oldest creationTimestamp among the IP's
 *    services; '' is the oldest), then fewest home nodes, then by IP. Two-level cap:
 *    with m homed IPs and U distinct home nodes, f = floor(m / U) and r = m mod U, a
 *    node has room while it holds fewer than f, or exactly f while fewer than r nodes
 *    hold more than f. Each IP takes the first of its home nodes in hash order with
 *    room; if none has (only when home-node sets differ), the least loaded one, first
 *    in hash order among equals.
 * 2. Serving nodes. An IP whose home is one of its best-scored candidates (rules 3-4)
 *    is announced there. The others ("displaced": home node down, NetworkUnavailable,
 *    no endpoint there under Local, or a better-scored candidate outside the homes)
 *    are taken in the same order and go to the first of their best-scored candidates
 *    in hash order with room under the same two-level cap over A = the announced IPs
 *    and L = the nodes that are a best-scored candidate of some IP (F = floor(A / L)),
 *    loads counting the IPs at home; if none has room, the least loaded.
 *
 * Proofs ("uniform" = every IP has the same n home nodes and no preferences, as with one
 * advertisement for every node; "all up" = every home node is also a candidate of
 * every IP, so that nothing is displaced and the plan is the homes).
 *
 * - Evenness. Uniform: U = n, and while fewer than m IPs are placed some node has
 *   room (were none, every node would hold at least f and r of them more, m in all),
 *   so no IP needs the fallback; after the last, every node holds f, or f + 1 for r
 *   of them: within one of the mean m / n. All up, these are the loads.
 *   With some nodes down and every live node a candidate of every IP: A = m, and the
 *   live nodes start at f or f + 1 <= F + 1 with at most A mod L of them above F (when
 *   F = f, the r nodes at f + 1 are live nodes and r <= A mod L); the same counting
 *   shows every displaced IP finds a node within the two-level cap, and at the end
 *   every live node holds F or F + 1.
 * - A node going down (speaker stopped or dead, or NetworkUnavailable) changes no home:
 *   only its IPs move, plus IPs already displaced. When it comes back, exactly the IPs
 *   homed on it move, back to it (again plus displaced ones): at most its cap, f + 1.
 * - Creations move IPs only toward their MetalLB node (measured by property (f), not
 *   proved: the induction below needs caps fixed per node, and here which r nodes may
 *   hold f + 1 is decided as the IPs come). For caps fixed per node it holds: let A be
 *   the homes with caps c for a list in which every IP found a node below its cap, and
 *   B the homes for the same list minus some IPs plus IPs placed after all of them,
 *   with caps c' >= c node by node. If an earlier IP i had B(i) = a != A(i) for the
 *   home a of a later IP j, a is before A(i) in i's hash order (induction), so a was
 *   at c(a) when A placed i, hence when it placed j: impossible. So B puts on a,
 *   before j, only IPs A put there, fewer than c(a) <= c'(a), and B takes a or a node
 *   before it. A creation (m + 1) gives one more node room for f + 1 and takes room
 *   from none; deleting the newest undoes its creation (the homes are a function of
 *   the IPs present); deleting an older one may move IPs either way.
 * - What is not promised: a Node object added or removed (or its labels changed)
 *   changes n, the caps and every IP's hash order, and moves some IPs (README.md,
 *   "Churn"). Every creation and deletion may move a few other IPs (README.md). Timestamps have one-second resolution: services created in the same
 *   second are ordered by home nodes and IP, so "newer" means a later second.
 * - Preferences: the IPs of an advertisement that prefers a single node all go there
 *   (MetalLB's rule; its caps are exceeded through the fallback), and evenness holds
 *   only among nodes of equal score.
 *
 * Deterministic: every input is in the shared snapshot and every tie has a total order.
 * Cost: one sha256 per (IP, home node), one more per (displaced IP, candidate), each
 * kept while the IP is in use (L2Planner), a linear scan per IP, and two sorts of the
 * IPs.
 *
 * Step 1: the home of each IP with home nodes, by IPGroup.order.
 */
function placeHomes(groups: readonly IPGroup[], preferred: Preferred): Map<string, string> {
  const homed = groups
    .map((g) => ({ g, nodes: preferred(g, g.homeNodes) }))
    .filter((x) => x.nodes.length > 0)
    .sort((a, b) => compare(a.g.age, b.g.age) || a.nodes.length - b.nodes.length || compare(a.g.order, b.g.order));
  const homeNodes = new Set<string>();
  for (const x of homed) for (const n of x.nodes) homeNodes.add(n);
  const base = homeNodes.size === 0 ? 0 : Math.floor(homed.length / homeNodes.size);
  const extras = homed.length - base * homeNodes.size; // nodes that may hold base + 1
  let full = 0; // nodes holding more than base
  const homes = new Map<string, string>();
  const homeLoads = new Map<string, number>();
  for (const { g, nodes } of homed) {
    const node = pick(nodes, g, homeLoads, (load) => load < base || (load === base && full < extras));
    const load = (homeLoads.get(node) ?? 0) + 1;
    homeLoads.set(node, load);
    if (load === base + 1) full++;
    homes.set(g.order, node);
  }
  return homes;
}

/** Step 2 (see placeHomes): the serving node of each elected IP, by IPGroup.order. */
function serve(elections: readonly Election[], homes: ReadonlyMap<string, string>, preferred: Preferred): Map<string, string> {
  const winners = new Map<string, string>();
  const loads = new Map<string, number>();
  const candidates = new Set<string>();
  const displaced: { readonly e: Election; readonly nodes: readonly string[] }[] = [];
  for (const e of elections) {
    const best = preferred(e.group, e.candidates);
    for (const n of best) candidates.add(n);
    const home = homes.get(e.group.order);
    if (home !== undefined && best.includes(home)) {
      winners.set(e.group.order, home);
      loads.set(home, (loads.get(home) ?? 0) + 1);
    } else {
      displaced.push({ e, nodes: best });
    }
  }
  if (displaced.length === 0) return winners;
  const floor = Math.floor(elections.length / candidates.size);
  const over = elections.length - floor * candidates.size; // nodes that may hold floor + 1
  let above = 0; // candidate nodes holding more than floor
  for (const n of candidates) if ((loads.get(n) ?? 0) > floor) above++;
  displaced.sort((a, b) => compare(a.e.group.age, b.e.group.age) || a.nodes.length - b.nodes.length || compare(a.e.group.order, b.e.group.order));
  for (const { e, nodes } of displaced) {
    const node = pick(nodes, e.group, loads, (load) => load < floor || (load === floor && above < over));
    const load = (loads.get(node) ?? 0) + 1;
    loads.set(node, load);
    if (load === floor + 1) above++;
    winners.set(e.group.order, node);
  }
  return winners;
}

/**
 * The first of `nodes` in hash order for the group's IP whose load `room` accepts; if
 * none, the least loaded, first in hash order among equals.
 */
function pick(nodes: readonly string[], group: IPGroup, loads: ReadonlyMap<string, number>, room: (load: number) => boolean): string {
  let first: { node: string; rank: number } | undefined;
  let least: { node: string; rank: number; load: number } | undefined;
  for (const node of nodes) {
    let rank = group.hashes.get(node);
    if (rank === undefined) group.hashes.set(node, (rank = hashRank(node, group.text)));
    const load = loads.get(node) ?? 0;
    if (room(load) && (first === undefined || hashBefore(group.text, rank, node, first.rank, first.node))) first = { node, rank };
    if (least === undefined || load < least.load || (load === least.load && hashBefore(group.text, rank, node, least.rank, least.node))) {
      least = { node, rank, load };
    }
  }
  return (first ?? least)!.node;
}

/**
 * The first 28 bits of electionHash(node, ip): a small integer (V8 stores it unboxed),
 * so that the hashes kept for every (IP, node) cost a map entry each, not a 64-byte
 * string. Hash order is this rank, then the whole hash when two ranks are equal.
 */
function hashRank(node: string, ip: string): number {
  return Number.parseInt(electionHash(node, ip).slice(0, 7), 16);
}

/** Hash order for `ip` (by rank, then by the whole hash), ties (never seen in practice) by node name. */
function hashBefore(ip: string, rankA: number, nodeA: string, rankB: number, nodeB: string): boolean {
  if (rankA !== rankB) return rankA < rankB;
  return (compare(electionHash(nodeA, ip), electionHash(nodeB, ip)) || compare(nodeA, nodeB)) < 0;
}

/** The same elements in the same order (identity). */
function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The same node views in the same order (sameNodeView). */
function sameNodeViews(a: readonly NodeView[], b: readonly NodeView[]): boolean {
  return a.length === b.length && a.every((x, i) => sameNodeView(x, b[i]!));
}

/**
 * Interfaces for the elected node: the union over the advertisements that apply to the
 * IP's services and whose nodeSelectors select that node (an advertisement for other
 * nodes says nothing about this one). One such advertisement with no interfaces means
 * every suitable interface, which the union cannot narrow: [].
 */
function interfacesFor(
  node: string,
  claims: readonly Claim[],
  ads: readonly L2Advertisement[],
  nodesOfAd: (i: number) => ReadonlySet<string>,
): string[] {
  const out = new Set<string>();
  const used = new Set<number>();
  for (const claim of claims) {
    for (const i of claim.ads) {
      if (used.has(i) || !nodesOfAd(i).has(node)) continue;
      used.add(i);
      const ifs = ads[i]!.interfaces;
      if (ifs.length === 0) return [];
      for (const name of ifs) out.add(name);
    }
  }
  return [...out].sort(compare);
}



/** Binary search over one family's ranges, sorted by start (ranges never overlap). */
function poolOf(spans: readonly PoolSpan[], value: bigint): Pool | undefined {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = spans[mid]!;
    if (value < s.first) hi = mid - 1;
    else if (value > s.last) lo = mid + 1;
    else return s.pool;
  }
  return undefined;
}

function unannouncedOrder(text: string): string {
  const ip = parseIP(text);
  return ip ? ipOrderKey(ip) : `x${text}`;
}

function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return compare(a.name, b.name);
}

/** Code-unit order: the same on every speaker, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
