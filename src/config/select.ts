// Which pools an advertisement covers and which pool holds an IP: the two questions
// the L2 election, the BGP plan and `doctor` all ask of a Config.
import { anySelectorMatches } from '../api/selector.ts';
import type { IP } from '../net/ip.ts';
import type { Pool } from './model.ts';

/** The pool fields of L2Advertisement and BGPAdvertisement. */
export interface PoolSelection {
  readonly ipAddressPools: readonly string[];
  readonly ipAddressPoolSelectors: Parameters<typeof anySelectorMatches>[0];
}

/** MetalLB's rule: an advertisement naming no pool and no pool selector covers every pool. */
export function advertisementSelectsPool(ad: PoolSelection, pool: Pool): boolean {
  if (ad.ipAddressPools.length === 0 && ad.ipAddressPoolSelectors.length === 0) return true;
  return ad.ipAddressPools.includes(pool.name) || anySelectorMatches(ad.ipAddressPoolSelectors, pool.labels);
}

export function poolContains(pool: Pool, ip: IP): boolean {
  return pool.ranges.some((r) => r.family === ip.family && r.first <= ip.value && ip.value <= r.last);
}

/**
 * Whether an advertisement announces a Service's IPs from a pool: it selects the pool,
 * and the Service when it has serviceSelectors (MetalLB's rule for both kinds).
 */
export function advertisementAnnounces(
  ad: PoolSelection & { readonly serviceSelectors: Parameters<typeof anySelectorMatches>[0] },
  pool: Pool,
  serviceLabels: Parameters<typeof anySelectorMatches>[1],
): boolean {
  return advertisementSelectsPool(ad, pool) && (ad.serviceSelectors.length === 0 || anySelectorMatches(ad.serviceSelectors, serviceLabels));
}
