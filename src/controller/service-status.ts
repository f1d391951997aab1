// What must change on a Service object for it to show a reconcile outcome: its
// status.loadBalancer.ingress and the metallb.io/ip-allocated-from-pool annotation.
// Pure, so the writes the controller makes are tested without an API server.
import { formatIP } from '../net/ip.ts';
import { POOL_ANNOTATION, type V1Service } from '../api/service.ts';
import type { ServiceOutcome } from '../ipam/reconcile.ts';

export interface ServiceWrites {
  /** New status.loadBalancer.ingress (empty = clear), when it differs. */
  readonly ingress?: readonly { ip: string }[];
  /** New pool annotation (null = remove), when it differs. */
  readonly poolAnnotation?: string | null;
}

export function serviceWrites(svc: V1Service, outcome: ServiceOutcome): ServiceWrites {
  const currentIPs = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '');
  const currentPool = svc.metadata?.annotations?.[POOL_ANNOTATION];
  let ips: string[];
  let pool: string | undefined;
  switch (outcome.kind) {
    case 'assigned':
      ips = outcome.assignment.ips.map(formatIP);
      pool = outcome.assignment.pool;
      break;
    case 'failed':
      ips = outcome.kept ? outcome.kept.ips.map(formatIP) : [];
      pool = outcome.kept?.pool;
      // An unusable spec leaves what the service shows alone (nothing is taken away).
      if (outcome.reason === 'LoadBalancerFailed') return {};
      break;
    case 'skipped':
      // Another class's service is not ours to touch. One that stopped being a
      // LoadBalancer loses what we gave it (recognised by our pool annotation).
      if (!outcome.reason.startsWith('type is') || currentPool === undefined) return {};
      ips = [];
      pool = undefined;
      break;
  }
  const writes: { ingress?: { ip: string }[]; poolAnnotation?: string | null } = {};
  if (ips.join(',') !== currentIPs.join(',')) writes.ingress = ips.map((ip) => ({ ip }));
  if ((pool ?? null) !== (currentPool ?? null)) writes.poolAnnotation = pool ?? null;
  return writes;
}
