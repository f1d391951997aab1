// The allocator: which service holds which IPs, from which pool. Pure and
// deterministic: no I/O, no clock; the same calls in the same order give the same
// result. Cost per call is O(log n) in the addresses in use (plus the number of pools a
// service may draw from), never proportional to a pool's size.
import { formatIP, type Family, type IP } from '../net/ip.ts';
import { AddressSpace } from './address-space.ts';
import type { ServiceRequest, ServicePort } from '../api/service-request.ts';
import { anySelectorMatches } from '../api/selector.ts';
import type { Pool } from '../config/model.ts';

export interface Assignment {
  readonly pool: string;
  /** In the service's family order. */
  readonly ips: readonly IP[];
}

export type AllocationFailure = { readonly ok: false; readonly message: string };
export type AllocationResult = { readonly ok: true; readonly assignment: Assignment } | AllocationFailure;

export interface PoolUsage {
  readonly assignedIPv4: number;
  readonly assignedIPv6: number;
  readonly availableIPv4: bigint;
  readonly availableIPv6: bigint;
}

/** What decides whether a service may join an IP that others hold. */
interface Holder {
  readonly key: string;
  readonly sharingKey: string;
  readonly backendKey: string;
  readonly ports: readonly ServicePort[];
}

interface PoolState {
  readonly pool: Pool;
  readonly spaces: Partial<Record<Family, AddressSpace>>;
}

interface Held {
  readonly holder: Holder;
  readonly assignment: Assignment;
}

const FAMILIES: readonly Family[] = ['IPv4', 'IPv6'];
const CANDIDATE_CACHE_LIMIT = 10_000;

function labelsKey(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return keys.sort().map((k) => `${k}=${labels[k]}`).join(',');
}

export class Allocator {
  #pools = new Map<string, PoolState>();
  /** Per family, every pool entry sorted by first address: the pool of an IP by binary search. */
  #entries: Record<Family, { first: bigint; last: bigint; pool: PoolState }[]> = { IPv4: [], IPv6: [] };
  readonly #holders: Record<Family, Map<bigint, Holder[]>> = { IPv4: new Map(), IPv6: new Map() };
  readonly #services = new Map<string, Held>();
  /** sharing key → IPs held by at least one service with that key. */
  readonly #shared = new Map<string, Map<string, IP>>();
  /** candidatePools results by namespace and labels; emptied when the pools change. */
  readonly #candidates = new Map<string, readonly Pool[]>();

  constructor(pools: readonly Pool[] = []) {
    this.setPools(pools);
  }

  /**
   * Replaces the pools. Assignments are kept as they are (the caller re-checks each
   * service with `isValid` and releases those that no longer fit); usage is recounted.
   */
  setPools(pools: readonly Pool[]): void {
    this.#pools = new Map();
    this.#candidates.clear();
    this.#entries = { IPv4: [], IPv6: [] };
    for (const pool of [...pools].sort((a, b) => cmp(a.name, b.name))) {
      const spaces: Partial<Record<Family, AddressSpace>> = {};
      const state: PoolState = { pool, spaces };
      for (const family of FAMILIES) {
        const ranges = pool.ranges.filter((r) => r.family === family);
        if (ranges.length === 0) continue;
        spaces[family] = new AddressSpace(family, ranges, pool.avoidBuggyIPs, (v) => this.#holders[family].has(v));
        for (const r of ranges) this.#entries[family].push({ first: r.first, last: r.last, pool: state });
      }
      this.#pools.set(pool.name, state);
    }
    for (const family of FAMILIES) {
      this.#entries[family].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
      for (const value of this.#holders[family].keys()) {
        const space = this.#spaceOf({ family, value });
        if (space?.admits(value)) space.markUsed(value);
      }
    }
  }

  get pools(): readonly Pool[] {
    return [...this.#pools.values()].map((s) => s.pool);
  }

  /** The pool an address belongs to (whether or not it may be handed out). */
  poolOf(ip: IP): Pool | undefined {
    return this.#entryOf(ip)?.pool.pool;
  }

  #entryOf(ip: IP): { pool: PoolState } | undefined {
    const entries = this.#entries[ip.family];
    let lo = 0;
    let hi = entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = entries[mid]!;
      if (ip.value < e.first) hi = mid - 1;
      else if (ip.value > e.last) lo = mid + 1;
      else return e;
    }
    return undefined;
  }

  #spaceOf(ip: IP): AddressSpace | undefined {
    return this.#entryOf(ip)?.pool.spaces[ip.family];
  }

  assignment(key: string): Assignment | undefined {
    return this.#services.get(key)?.assignment;
  }

  /** Services holding an IP, by key. */
  holdersOf(ip: IP): readonly string[] {
    return (this.#holders[ip.family].get(ip.value) ?? []).map((h) => h.key);
  }

  get serviceCount(): number {
    return this.#services.size;
  }

  usage(poolName: string): PoolUsage | undefined {
    const state = this.#pools.get(poolName);
    if (!state) return undefined;
    const v4 = state.spaces.IPv4;
    const v6 = state.spaces.IPv6;
    return {
      assignedIPv4: v4?.inUse ?? 0,
      assignedIPv6: v6?.inUse ?? 0,
      availableIPv4: v4?.available ?? 0n,
      availableIPv6: v6?.available ?? 0n,
    };
  }

  /**
   * Whether a pool may serve a service (docs/COMPATIBILITY.md "IPAddressPool"): in a listed
   * namespace (by name or selector) when any are listed, AND matching a service
   * selector when any are listed. A pool without serviceAllocation serves everyone.
   */
  admitsService(pool: Pool, svc: ServiceRequest): boolean {
    const sa = pool.serviceAllocation;
    if (!sa) return true;
    if (sa.namespaces.length > 0 || sa.namespaceSelectors.length > 0) {
      const inNamespace = sa.namespaces.includes(svc.namespace) || anySelectorMatches(sa.namespaceSelectors, svc.namespaceLabels);
      if (!inNamespace) return false;
    }
    if (sa.serviceSelectors.length > 0 && !anySelectorMatches(sa.serviceSelectors, svc.labels)) return false;
    return true;
  }

  /**
   * Pools a service may draw from without asking for one, in the order they are tried:
   * pools whose serviceAllocation matches, by priority (lower first; 0 = unset ranks
   * after every set priority), then auto-assign pools without serviceAllocation. Ties
   * are broken by pool name, where MetalLB leaves them to map order.
   */
  candidatePools(svc: ServiceRequest): readonly Pool[] {
    // Services of one namespace with the same labels draw from the same pools: cache the
    // ordered list, so 1,000 pools with selectors are filtered once, not per service.
    const cacheKey = svc.namespace + '\0' + labelsKey(svc.namespaceLabels) + '\0' + labelsKey(svc.labels);
    const cached = this.#candidates.get(cacheKey);
    if (cached) return cached;
    if (this.#candidates.size >= CANDIDATE_CACHE_LIMIT) this.#candidates.clear();
    const rank = (p: Pool): number => {
      const sa = p.serviceAllocation;
      if (!sa) return Number.MAX_SAFE_INTEGER;
      return sa.priority > 0 ? sa.priority : Number.MAX_SAFE_INTEGER - 1;
    };
    const list = [...this.#pools.values()]
      .map((s) => s.pool)
      .filter((p) => p.autoAssign && this.admitsService(p, svc))
      .sort((a, b) => rank(a) - rank(b) || cmp(a.name, b.name));
    this.#candidates.set(cacheKey, list);
    return list;
  }

  /**
   * Why the service may not hold these IPs, or undefined when it may. This is the one
   * rule for requested IPs, for restoring status IPs and for re-checking assignments:
   * all IPs in one pool that admits the service, allocatable there, at most one per
   * family, and shareable with every other holder.
   */
  checkIPs(svc: ServiceRequest, ips: readonly IP[]): { pool: Pool } | { message: string } {
    if (ips.length === 0) return { message: 'no IP given' };
    const families = new Set(ips.map((ip) => ip.family));
    if (families.size !== ips.length) return { message: `more than one ${ips[0]!.family} address requested` };
    let pool: PoolState | undefined;
    for (const ip of ips) {
      const entry = this.#entryOf(ip);
      if (!entry) return { message: `${formatIP(ip)} is not in any IPAddressPool` };
      if (pool && entry.pool !== pool) {
        return { message: `${ips.map(formatIP).join(' and ')} are not in the same IPAddressPool` };
      }
      pool = entry.pool;
      const name = pool.pool.name;
      if (svc.requestedPool !== undefined && svc.requestedPool !== name) {
        return { message: `${formatIP(ip)} is in pool "${name}", not in the requested pool "${svc.requestedPool}"` };
      }
      if (!pool.spaces[ip.family]!.admits(ip.value)) {
        return { message: `${formatIP(ip)} is not allocatable: pool "${name}" has avoidBuggyIPs and it ends in .0 or .255` };
      }
      if (!this.admitsService(pool.pool, svc)) {
        return { message: `pool "${name}" does not serve ${svc.key} (its serviceAllocation does not match)` };
      }
      const conflict = this.#sharingConflict(svc, ip);
      if (conflict) return { message: conflict };
    }
    return { pool: pool!.pool };
  }

  #sharingConflict(svc: ServiceRequest, ip: IP): string | undefined {
    for (const h of this.#holders[ip.family].get(ip.value) ?? []) {
      if (h.key === svc.key) continue;
      if (svc.sharingKey === '' || h.sharingKey !== svc.sharingKey) {
        return `${formatIP(ip)} is already in use by ${h.key}` + (h.sharingKey === '' || svc.sharingKey === '' ? '' : ' with a different sharing key');
      }
      if (h.backendKey !== svc.backendKey) {
        return `${formatIP(ip)} is shared by ${h.key}, which selects different pods with externalTrafficPolicy Local`;
      }
      if (portsConflict(h.ports, svc.ports)) {
        return `${formatIP(ip)} is shared by ${h.key}, which already uses the same protocol and port`;
      }
    }
    return undefined;
  }

  /** Records IPs for a service after checkIPs approved them, replacing what it held. */
  assign(svc: ServiceRequest, ips: readonly IP[]): AllocationResult {
    const check = this.checkIPs(svc, ips);
    if ('message' in check) return { ok: false, message: check.message };
    this.release(svc.key);
    const assignment: Assignment = { pool: check.pool.name, ips: [...ips] };
    const holder: Holder = { key: svc.key, sharingKey: svc.sharingKey, backendKey: svc.backendKey, ports: svc.ports };
    for (const ip of ips) {
      const holders = this.#holders[ip.family].get(ip.value);
      if (holders) holders.push(holder);
      else {
        this.#holders[ip.family].set(ip.value, [holder]);
        this.#spaceOf(ip)!.markUsed(ip.value);
      }
      if (svc.sharingKey !== '') {
        let m = this.#shared.get(svc.sharingKey);
        if (!m) this.#shared.set(svc.sharingKey, (m = new Map()));
        m.set(keyOf(ip), ip);
      }
    }
    this.#services.set(svc.key, { holder, assignment });
    return { ok: true, assignment };
  }

  /** Frees what a service holds (no-op when it holds nothing). */
  release(key: string): Assignment | undefined {
    const held = this.#services.get(key);
    if (!held) return undefined;
    this.#services.delete(key);
    for (const ip of held.assignment.ips) {
      const holders = this.#holders[ip.family].get(ip.value) ?? [];
      const rest = holders.filter((h) => h.key !== key);
      if (rest.length > 0) this.#holders[ip.family].set(ip.value, rest);
      else {
        this.#holders[ip.family].delete(ip.value);
        const space = this.#spaceOf(ip);
        if (space?.admits(ip.value)) space.markFree(ip.value);
      }
      const sk = held.holder.sharingKey;
      if (sk !== '' && !rest.some((h) => h.sharingKey === sk)) {
        const m = this.#shared.get(sk);
        m?.delete(keyOf(ip));
        if (m?.size === 0) this.#shared.delete(sk);
      }
    }
    return held.assignment;
  }

  /**
   * Chooses and records IPs for a service that holds none (docs/COMPATIBILITY.md
   * "Controller: assigning IPs"): requested IPs > requested pool > matching pools by priority > any other
   * auto-assign pool. Within a pool, a service with a sharing key joins the lowest
   * compatible IP already shared under that key, else takes the lowest free address.
   */
  allocate(svc: ServiceRequest): AllocationResult {
    if (svc.requestedIPs.length > 0) return this.assign(svc, svc.requestedIPs);
    let pools: readonly Pool[];
    if (svc.requestedPool !== undefined) {
      const state = this.#pools.get(svc.requestedPool);
      if (!state) return { ok: false, message: `pool "${svc.requestedPool}" does not exist` };
      if (!this.admitsService(state.pool, svc)) {
        return { ok: false, message: `pool "${svc.requestedPool}" does not serve ${svc.key} (its serviceAllocation does not match)` };
      }
      pools = [state.pool];
    } else {
      pools = this.candidatePools(svc);
      if (pools.length === 0) return { ok: false, message: `no IPAddressPool serves ${svc.key}` };
    }
    for (const families of familyChoices(svc)) {
      for (const pool of pools) {
        const ips = this.#pick(pool, families, svc);
        if (ips) return this.assign(svc, ips);
      }
    }
    const wanted = familyChoices(svc)[0]!.join(' and ');
    const where = pools.length === 1 ? `pool "${pools[0]!.name}"` : `pools ${pools.map((p) => `"${p.name}"`).join(', ')}`;
    return { ok: false, message: `no available ${wanted} address in ${where}` };
  }

  /**
   * Adds the missing family to a PreferDualStack service that holds one IP, from the
   * pool it already uses; returns undefined when that pool has none to give.
   */
  complete(svc: ServiceRequest): Assignment | undefined {
    const held = this.#services.get(svc.key)?.assignment;
    if (!held || svc.ipFamilyPolicy !== 'PreferDualStack' || held.ips.length !== 1) return undefined;
    const missing = FAMILIES.find((f) => f !== held.ips[0]!.family)!;
    const pool = this.#pools.get(held.pool)?.pool;
    if (!pool) return undefined;
    const extra = this.#pick(pool, [missing], svc);
    if (!extra) return undefined;
    const ips = orderByFamily([...held.ips, ...extra], svc.ipFamilies);
    const result = this.assign(svc, ips);
    return result.ok ? result.assignment : undefined;
  }

  #pick(pool: Pool, families: readonly Family[], svc: ServiceRequest): IP[] | undefined {
    const state = this.#pools.get(pool.name)!;
    const ips: IP[] = [];
    for (const family of families) {
      const space = state.spaces[family];
      if (!space) return undefined;
      const ip = this.#sharedCandidate(state, family, svc) ?? freeIP(space);
      if (!ip) return undefined;
      ips.push(ip);
    }
    return ips;
  }

  #sharedCandidate(state: PoolState, family: Family, svc: ServiceRequest): IP | undefined {
    if (svc.sharingKey === '') return undefined;
    let best: IP | undefined;
    for (const ip of this.#shared.get(svc.sharingKey)?.values() ?? []) {
      if (ip.family !== family || this.#entryOf(ip)?.pool !== state) continue;
      if (!state.spaces[family]!.admits(ip.value)) continue;
      if (this.#sharingConflict(svc, ip)) continue;
      if (!best || ip.value < best.value) best = ip;
    }
    return best;
  }
}

function freeIP(space: AddressSpace): IP | undefined {
  const value = space.lowestFree();
  return value === undefined ? undefined : { family: space.family, value };
}

/**
 * The family sets to try, in order. SingleStack: the primary family. RequireDualStack:
 * both, from one pool. PreferDualStack: both from one pool if any pool can, else the
 * primary family, else the other (docs/COMPATIBILITY.md "What a Service asks for").
 */
export function familyChoices(svc: ServiceRequest): Family[][] {
  const order = svc.ipFamilies.length > 0 ? [...svc.ipFamilies] : ['IPv4' as Family];
  const primary = order[0]!;
  const both = orderByFamily(
    FAMILIES.map((f) => ({ family: f, value: 0n })),
    order,
  ).map((ip) => ip.family);
  switch (svc.ipFamilyPolicy) {
    case 'SingleStack':
      return [[primary]];
    case 'RequireDualStack':
      return [both];
    case 'PreferDualStack':
      return [both, [primary], [both.find((f) => f !== primary)!]];
  }
}

/** Sorts IPs so their families follow the service's family order (spec.ipFamilies). */
export function orderByFamily(ips: readonly IP[], order: readonly Family[]): IP[] {
  const rank = (f: Family): number => {
    const i = order.indexOf(f);
    return i < 0 ? (f === 'IPv4' ? 2 : 3) : i;
  };
  return [...ips].sort((a, b) => rank(a.family) - rank(b.family));
}

function keyOf(ip: IP): string {
  return ip.family + ip.value.toString(16);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether two port lists use the same protocol/port pair (which forbids sharing an IP). */
function portsConflict(a: readonly ServicePort[], b: readonly ServicePort[]): boolean {
  const seen = new Set(a.map((p) => `${p.protocol}/${p.port}`));
  return b.some((p) => seen.has(`${p.protocol}/${p.port}`));
}
