// The controller's convergence over a fixed set of services, as `ferrolb plan` shows
// it: restore every existing assignment first, then reconcile each service in creation
// order, then retry the pending ones while IPs were freed (as the controller re-queues
// pending services whenever an IP is released).
import { Allocator, type Assignment } from '../ipam/allocator.ts';
import { readService, type ServiceEvent, type V1Service } from '../api/service.ts';
import { reconcileService, restoreService, type ReconcileOptions, type ServiceOutcome } from '../ipam/reconcile.ts';
import type { Config } from '../config/model.ts';
import type { Labels } from '../api/selector.ts';

export interface PlannedService {
  readonly namespace: string;
  readonly name: string;
  readonly outcome: ServiceOutcome;
  /** Every event the controller would emit for this service, in order. */
  readonly events: readonly ServiceEvent[];
}

export interface Plan {
  readonly services: readonly PlannedService[];
  readonly allocator: Allocator;
}

export function simulate(
  config: Config,
  services: readonly V1Service[],
  namespaceLabels: ReadonlyMap<string, Labels>,
  opts: ReconcileOptions = {},
): Plan {
  const alloc = new Allocator(config.pools);
  const views = services.map((s) => readService(s, namespaceLabels.get(s.metadata?.namespace ?? 'default') ?? {}));
  for (const v of views) restoreService(alloc, v, opts);
  const outcomes: ServiceOutcome[] = [];
  const events: ServiceEvent[][] = views.map(() => []);
  views.forEach((v, i) => {
    outcomes[i] = reconcileService(alloc, v, opts);
    events[i]!.push(...outcomes[i]!.events);
  });
  // A ClearAssignment frees an IP that an earlier pending service may now take. Each
  // round either assigns at least one more service or stops: bounded by the count.
  for (let round = 0; round < views.length; round++) {
    let progressed = false;
    views.forEach((v, i) => {
      const o = outcomes[i]!;
      if (o.kind !== 'failed' || o.reason !== 'AllocationFailed') return;
      const retry = reconcileService(alloc, { ...v, warnings: [] }, opts);
      if (retry.kind === 'assigned') {
        outcomes[i] = retry;
        events[i]!.push(...retry.events);
        progressed = true;
      }
    });
    if (!progressed) break;
  }
  return {
    allocator: alloc,
    services: views.map((v, i) => ({ namespace: v.namespace, name: v.name, outcome: outcomes[i]!, events: events[i]! })),
  };
}

export function assignmentOf(o: ServiceOutcome): Assignment | undefined {
  return o.kind === 'assigned' ? o.assignment : o.kind === 'failed' ? o.kept : undefined;
}
