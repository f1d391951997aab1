// Telling ferrolb's removal from a restart, and undoing what the controller wrote.
//
// A restart (a rolling upgrade, a deleted pod, a node drained) must clear nothing: the
// next controller restores every assignment from the Services' status, and clearing it
// would move or drop IPs. A removal (`helm uninstall`, `kubectl delete -f
// deploy/ferrolb-native.yaml`, `kubectl delete namespace metallb-system`) must leave
// every Service `<pending>`, as it was before ferrolb, and none of the objects ferrolb
// made for itself. Only two things say "removal" without doubt: the controller's
// namespace terminating, and its own Deployment deleted (not orphaned: `kubectl delete
// --cascade=orphan` keeps the pods, to recreate the Deployment).
//
// Why the watch and not SIGTERM: both installers delete the controller's RBAC and
// ServiceAccount within milliseconds of the first deletion (kubectl in file order: the
// Namespace, the CRDs, then the ServiceAccounts; helm by kind: Services, Deployment,
// DaemonSet, then the bindings), long before the kubelet stops the pod. By SIGTERM the
// controller may no longer write anything, so it acts on the watch event of the first
// deletion instead, with every request sent at once (docs/INSTALL.md "Removing ferrolb").
import type { KubeClient, KubeObject } from '../k8s/client.ts';
import type { Clock } from '../time/clock.ts';
import { isStatus } from '../k8s/client.ts';
import type { ChangeType } from '../k8s/informer.ts';
import { deleteDeploymentForeground, deleteLease, deleteSecret, deleteStatusObjects, deploymentExists, patchServiceStatus, STATUS_KINDS } from '../k8s/operations.ts';
import { POOL_ANNOTATION } from '../api/service.ts';
import { PLURAL } from '../api/metallb.ts';

/**
 * Watches the controller's namespace and Deployment for a removal. Each method takes
 * one watch event and returns why ferrolb is being removed, or undefined.
 */
export class RemovalSignals {
  /** UIDs of Deployments deleted with propagation Orphan: their DELETED event is no removal. */
  readonly #orphaned = new Set<string>();

  namespace(type: ChangeType, ns: KubeObject): string | undefined {
    const name = ns.metadata?.name ?? '';
    if (type === 'delete') return `namespace ${name} deleted`;
    if (ns.metadata?.deletionTimestamp) return `namespace ${name} is terminating`;
    return undefined;
  }

  deployment(type: ChangeType, d: KubeObject): string | undefined {
    const meta = d.metadata ?? {};
    const name = `Deployment ${meta.namespace ?? ''}/${meta.name ?? ''}`;
    // The API server puts the `orphan` finalizer on an object deleted with propagation
    // Orphan until the garbage collector has released its dependents.
    if ((meta.finalizers ?? []).includes('orphan')) {
      this.#orphaned.add(meta.uid ?? '');
      return undefined;
    }
    if (type === 'delete') return this.#orphaned.has(meta.uid ?? '') ? undefined : `${name} deleted`;
    // Foreground deletion: the Deployment stays, terminating, until its pods are gone.
    if (meta.deletionTimestamp) return `${name} is being deleted`;
    return undefined;
  }
}

export interface Traces {
  readonly namespace: string;
  /** Services whose status.loadBalancer.ingress or pool annotation the controller wrote. */
  readonly services: readonly { namespace: string; name: string }[];
  /** Secrets the controller created: the memberlist key, the webhook's certificate. */
  readonly secrets: readonly string[];
  /** The Lease of the controllers' election; none when election is off (MetalLB's manifests grant no Leases). */
  readonly lease?: string;
}

/**
 * Undoes what ferrolb wrote, every request at once (the RBAC that allows them is being
 * deleted too): each Service's IPs and pool annotation, the status objects of the
 * controller and the speakers (ServiceL2Status, ServiceBGPStatus, ConfigurationState), the
 * Secrets the controller made, its Lease. Returns what failed, one line each; a 404 is
 * success (already gone).
 */
export async function removeTraces(client: KubeClient, t: Traces): Promise<string[]> {
  const ns = t.namespace;
  const requests: [string, () => Promise<unknown>][] = [];
  // One request per Service, first (they get the connections already open): a Service's
  // status update keeps metadata changes (only spec is reset), so its IPs and the pool
  // annotation go together or not at all.
  for (const s of t.services) {
    requests.push([`Service ${s.namespace}/${s.name}`, () => patchServiceStatus(client, s, [], { [POOL_ANNOTATION]: null })]);
  }
  for (const kind of STATUS_KINDS) requests.push([`${PLURAL[kind]} in ${ns}`, () => deleteStatusObjects(client, kind, ns)]);
  for (const name of t.secrets) requests.push([`Secret ${ns}/${name}`, () => deleteSecret(client, ns, name)]);
  const lease = t.lease;
  if (lease !== undefined) requests.push([`Lease ${ns}/${lease}`, () => deleteLease(client, ns, lease)]);
  const results = await Promise.allSettled(requests.map(([, send]) => send()));
  return results.flatMap((r, i) => (r.status === 'rejected' && !isStatus(r.reason, 404) ? [`${requests[i]![0]}: ${String(r.reason)}`] : []));
}

/**
 * `ferrolb controller --uninstall`, the chart's pre-delete hook: deletes the controller's
 * Deployment in the foreground (it stays until its pods are gone) and waits until it
 * is gone. The controller sees the deletion at once and clears up before its pods stop,
 * while the installer has deleted nothing else yet: the one removal that cannot lose
 * the race with the RBAC deletion. Already gone is done.
 */
export async function deleteControllerDeployment(client: KubeClient, namespace: string, name: string, clock: Clock, timeoutMs: number): Promise<void> {
  if (!(await deleteDeploymentForeground(client, namespace, name))) return;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    if (!(await deploymentExists(client, namespace, name))) return;
    if (clock.now() >= deadline) throw new Error(`Deployment ${namespace}/${name} still exists ${Math.round(timeoutMs / 1000)} s after its deletion`);
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 500));
  }
}
