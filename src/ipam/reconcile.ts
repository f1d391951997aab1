// What the controller decides for one Service, given the allocator's state. Pure: the
// controller applies the outcome to the API server; `ferrolb plan` prints it.
import { formatIP, type IP } from '../net/ip.ts';
import { Allocator, type Assignment } from './allocator.ts';
import type { ServiceEvent, ServiceView } from '../api/service.ts';
import type { ServiceRequest } from '../api/service-request.ts';

export interface ReconcileOptions {
  /** --lb-class: handle only services of this class; unset = only services without one. */
  readonly loadBalancerClass?: string;
}

export type ServiceOutcome =
  /** Not ours: not type LoadBalancer, or another loadBalancerClass. Holds nothing. */
  | { readonly kind: 'skipped'; readonly reason: string; readonly events: readonly ServiceEvent[] }
  /** Holds these IPs (kept or newly allocated). */
  | { readonly kind: 'assigned'; readonly assignment: Assignment; readonly events: readonly ServiceEvent[] }
  /** Holds nothing, or keeps what it held when its own spec is unusable. */
  | {
      readonly kind: 'failed';
      readonly reason: 'AllocationFailed' | 'LoadBalancerFailed';
      readonly message: string;
      readonly kept?: Assignment;
      readonly events: readonly ServiceEvent[];
    };

/** Why a service is not the load balancer's business, or undefined when it is. */
export function skipReason(svc: ServiceView, opts: ReconcileOptions): string | undefined {
  if (svc.type !== 'LoadBalancer') return `type is ${svc.type}`;
  if (opts.loadBalancerClass === undefined) {
    if (svc.loadBalancerClass !== undefined) return `loadBalancerClass is "${svc.loadBalancerClass}"; this load balancer handles services without a class`;
  } else if (svc.loadBalancerClass !== opts.loadBalancerClass) {
    return svc.loadBalancerClass === undefined
      ? `no loadBalancerClass; this load balancer handles class "${opts.loadBalancerClass}"`
      : `loadBalancerClass is "${svc.loadBalancerClass}", not "${opts.loadBalancerClass}"`;
  }
  return undefined;
}

/**
 * Why IPs a service holds no longer fit it, or undefined when they still do: the
 * family policy, a changed request, and every rule of Allocator.checkIPs.
 */
export function invalidReason(alloc: Allocator, req: ServiceRequest, ips: readonly IP[]): string | undefined {
  const families = ips.map((ip) => ip.family);
  if (families.some((f) => !req.ipFamilies.includes(f))) {
    return `${ips.map(formatIP).join(', ')} does not match the service's families ${req.ipFamilies.join(', ')}`;
  }
  if (req.ipFamilyPolicy === 'SingleStack' && ips.length !== 1) return 'the service is SingleStack but holds two addresses';
  if (req.ipFamilyPolicy === 'RequireDualStack' && ips.length !== 2) return 'the service is RequireDualStack but holds one address';
  if (req.requestedIPs.length > 0) {
    const same = req.requestedIPs.length === ips.length && req.requestedIPs.every((r) => ips.some((ip) => ip.family === r.family && ip.value === r.value));
    if (!same) return `the service requests ${req.requestedIPs.map(formatIP).join(', ')}`;
  }
  const check = alloc.checkIPs(req, ips);
  return 'message' in check ? check.message : undefined;
}

/**
 * Start-up restore (docs/COMPATIBILITY.md "Controller: assigning IPs"): records the IPs a service already
 * shows in its status when they are still valid, and nothing else. Run for every
 * service before the first `reconcileService`, so no new allocation can take an IP that
 * a later service in the list already holds. Idempotent.
 */
export function restoreService(alloc: Allocator, svc: ServiceView, opts: ReconcileOptions): boolean {
  if (skipReason(svc, opts) || !svc.request || svc.statusIPs.length === 0) return false;
  if (alloc.assignment(svc.key)) return true;
  if (invalidReason(alloc, svc.request, svc.statusIPs)) return false;
  return alloc.assign(svc.request, svc.statusIPs).ok;
}

/** Converges one service: keep what is valid, clear what is not, allocate what is missing. */
export function reconcileService(alloc: Allocator, svc: ServiceView, opts: ReconcileOptions): ServiceOutcome {
  const events: ServiceEvent[] = [...svc.warnings];
  const skip = skipReason(svc, opts);
  if (skip) {
    alloc.release(svc.key);
    return { kind: 'skipped', reason: skip, events: [] };
  }
  if (!svc.request) {
    // The service's own spec is unusable: say so and leave its IPs alone, so a typo in
    // an annotation does not take a working IP away.
    const message = svc.specError ?? 'unusable spec';
    const kept = alloc.assignment(svc.key);
    events.push({ type: 'Warning', reason: 'LoadBalancerFailed', message });
    return { kind: 'failed', reason: 'LoadBalancerFailed', message, ...(kept ? { kept } : {}), events };
  }
  const req = svc.request;
  const held = alloc.assignment(svc.key)?.ips ?? svc.statusIPs;
  if (held.length > 0) {
    const why = invalidReason(alloc, req, held);
    if (!why) {
      const kept = alloc.assign(req, held);
      if (kept.ok) {
        const completed = alloc.complete(req) ?? kept.assignment;
        if (completed !== kept.assignment) events.push(allocatedEvent(completed));
        else if (!sameIPs(svc.statusIPs, held)) events.push(allocatedEvent(completed));
        return { kind: 'assigned', assignment: completed, events };
      }
    }
    alloc.release(svc.key);
    events.push({
      type: 'Warning',
      reason: 'ClearAssignment',
      message: `current IP ${held.map(formatIP).join(', ')} is not valid any more: ${why ?? 'conflict'}`,
    });
  }
  const result = alloc.allocate(req);
  if (!result.ok) {
    const message = `Failed to allocate IP for "${svc.key}": ${result.message}`;
    events.push({ type: 'Warning', reason: 'AllocationFailed', message });
    return { kind: 'failed', reason: 'AllocationFailed', message, events };
  }
  events.push(allocatedEvent(result.assignment));
  return { kind: 'assigned', assignment: result.assignment, events };
}

function allocatedEvent(a: Assignment): ServiceEvent {
  return { type: 'Normal', reason: 'IPAllocated', message: `Assigned IP [${a.ips.map(formatIP).join(' ')}] from pool ${a.pool}` };
}

function sameIPs(a: readonly IP[], b: readonly IP[]): boolean {
  return a.length === b.length && a.every((x, i) => x.family === b[i]!.family && x.value === b[i]!.value);
}
