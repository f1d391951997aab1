// Typed operations for everything ferrolb writes to the API server, and the reads a
// write needs (a resourceVersion to carry, whether the object exists). The components
// call these and never build a path or pick a verb themselves, so each write is said in
// one place: which subresource, which patch type, and what an expected refusal means
// (404 gone, 409 already there or changed since).
//
// Errors keep KubeClient's shape (ApiError with the HTTP status; apiFailure gives the
// RuntimeError code), and merge patches keep its PUT fallback for MetalLB's Roles
// (KubeClient.mergePatch). Retrying is the caller's: each component has its own backoff.
import { isStatus, type KubeClient, type KubeObject } from './client.ts';
import {
  customResourceDefinitionPath,
  deploymentPath,
  eventPath,
  leasePath,
  metallbPath,
  secretPath,
  servicePath,
  validatingWebhookConfigurationPath,
} from './paths.ts';
import { V1BETA1, type MetalLBKind } from '../api/metallb.ts';
import type { ObjectMeta } from '../api/metallb.ts';

export interface NamespacedName {
  readonly namespace: string;
  readonly name: string;
}

/** Annotation values to set; null removes one (RFC 7386). */
export type AnnotationPatch = Readonly<Record<string, string | null>>;

// --- Services -------------------------------------------------------------------------

/**
 * Writes what the controller decides for a Service, in one request to its status
 * subresource: status.loadBalancer.ingress (an empty list clears it; undefined leaves it
 * alone) and annotations (null removes one, RFC 7386). An update of a Service's status
 * keeps metadata changes (the API server resets only spec), which is how MetalLB's
 * controller writes its pool annotation: its Roles grant services/status `update` and no
 * write on services themselves, and ferrolb runs under them unchanged.
 */
export function patchServiceStatus(client: KubeClient, svc: NamespacedName, ingress: readonly { readonly ip: string }[] | undefined, annotations?: AnnotationPatch): Promise<unknown> {
  return client.mergePatch(`${servicePath(svc.namespace, svc.name)}/status`, {
    ...(annotations !== undefined ? { metadata: { annotations } } : {}),
    ...(ingress !== undefined ? { status: { loadBalancer: { ingress: ingress.length > 0 ? ingress : null } } } : {}),
  });
}

// --- metallb.io objects: pool status and the status objects ---------------------------

/** The kinds ferrolb creates to report its state (the configuration kinds are the user's). */
export type StatusObjectKind = 'ServiceL2Status' | 'ServiceBGPStatus' | 'ConfigurationState';
export const STATUS_KINDS: readonly StatusObjectKind[] = ['ServiceL2Status', 'ServiceBGPStatus', 'ConfigurationState'];

/** Merge-patches the status subresource of a metallb.io object (an IPAddressPool, a status object). */
export function patchObjectStatus(client: KubeClient, kind: MetalLBKind, namespace: string, name: string, status: unknown): Promise<unknown> {
  return client.mergePatch(`${metallbPath(kind, namespace, name)}/status`, { status });
}

/** The objects of a status kind that match a label selector, in one answer (a node's own). */
export async function listStatusObjects<T extends KubeObject>(client: KubeClient, kind: StatusObjectKind, namespace: string, labelSelector: string): Promise<T[]> {
  const list = await client.get<{ items: T[] }>(`${metallbPath(kind, namespace)}?labelSelector=${encodeURIComponent(labelSelector)}`);
  return list.items;
}

/** One status object, or undefined when there is none. */
export function getStatusObject(client: KubeClient, kind: StatusObjectKind, namespace: string, name: string): Promise<KubeObject | undefined> {
  return noneIsUndefined(client.get<KubeObject>(metallbPath(kind, namespace, name)));
}

/**
 * Creates a status object with `metadata` (name, labels, owners) and no status: the
 * status subresource ignores status on create, patchObjectStatus writes it. One that
 * exists already (409) is left as it is.
 */
export async function createStatusObject(client: KubeClient, kind: StatusObjectKind, namespace: string, metadata: ObjectMeta & { readonly name: string }): Promise<void> {
  try {
    await client.create(metallbPath(kind, namespace), { apiVersion: V1BETA1, kind, metadata });
  } catch (err) {
    if (!isStatus(err, 409)) throw err;
  }
}

/** Deletes one status object; already gone is done. */
export async function deleteStatusObject(client: KubeClient, kind: StatusObjectKind, namespace: string, name: string): Promise<void> {
  try {
    await client.delete(metallbPath(kind, namespace, name));
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
  }
}

/** Deletes every object of a status kind in the namespace (deletecollection). */
export function deleteStatusObjects(client: KubeClient, kind: StatusObjectKind, namespace: string): Promise<unknown> {
  return client.delete(metallbPath(kind, namespace));
}

// --- Secrets --------------------------------------------------------------------------

export interface SecretObject extends KubeObject {
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

/** The Secret, or undefined when there is none. */
export function readSecret(client: KubeClient, namespace: string, name: string): Promise<SecretObject | undefined> {
  return noneIsUndefined(client.get<SecretObject>(secretPath(namespace, name)));
}

/** `data`: base64 values, as the API holds them. */
export interface SecretContent {
  readonly type: string;
  readonly data: Readonly<Record<string, string>>;
}

/**
 * Writes a Secret: creates it when `read` is undefined (there was none), else replaces
 * the one read, carrying its resourceVersion and keeping its type (a Secret's type
 * cannot change). False when another writer came first (409: created meanwhile, or
 * changed since it was read); the caller decides whether to read again.
 */
export async function writeSecret(client: KubeClient, namespace: string, name: string, content: SecretContent, read?: SecretObject): Promise<boolean> {
  if (read === undefined) {
    return conflictIsFalse(client.create(secretPath(namespace), { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: content.type, data: content.data }));
  }
  const metadata = { name, namespace, resourceVersion: read.metadata?.resourceVersion };
  return conflictIsFalse(client.replace(secretPath(namespace, name), { apiVersion: 'v1', kind: 'Secret', metadata, type: read.type ?? content.type, data: content.data }));
}

export function deleteSecret(client: KubeClient, namespace: string, name: string): Promise<unknown> {
  return client.delete(secretPath(namespace, name));
}

// --- Events (core v1) -----------------------------------------------------------------

export interface CoreEvent {
  readonly metadata: { readonly generateName: string; readonly namespace: string };
  readonly involvedObject: Readonly<Record<string, string>>;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly firstTimestamp: string;
  readonly lastTimestamp: string;
  readonly source: { readonly component: string };
  readonly reportingComponent: string;
  readonly reportingInstance: string;
}

/** Creates an Event; returns the name the API server generated. */
export async function createEvent(client: KubeClient, event: CoreEvent): Promise<string> {
  const created = await client.create<{ metadata: { name: string } }>(eventPath(event.metadata.namespace), { apiVersion: 'v1', kind: 'Event', ...event });
  return created.metadata.name;
}

/** A repeat of an Event: its count and last time. */
export function patchEventCount(client: KubeClient, namespace: string, name: string, count: number, lastTimestamp: string): Promise<unknown> {
  return client.mergePatch(eventPath(namespace, name), { count, lastTimestamp });
}

// --- Leases (coordination.k8s.io/v1) --------------------------------------------------

export interface LeaseObject {
  readonly apiVersion: 'coordination.k8s.io/v1';
  readonly kind: 'Lease';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion?: string };
  readonly spec: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string;
    readonly renewTime?: string;
    readonly leaseTransitions?: number;
  };
}

/** The Lease, or undefined when there is none. */
export function getLease(client: KubeClient, namespace: string, name: string): Promise<LeaseObject | undefined> {
  return noneIsUndefined(client.get<LeaseObject>(leasePath(namespace, name)));
}

/** Creates the Lease; false when another candidate created it first (409). */
export async function createLease(client: KubeClient, lease: LeaseObject): Promise<boolean> {
  return conflictIsFalse(client.create(leasePath(lease.metadata.namespace), lease));
}

/** Replaces the Lease read at the resourceVersion in `lease`; false when it changed since (409). */
export async function replaceLease(client: KubeClient, lease: LeaseObject): Promise<boolean> {
  return conflictIsFalse(client.replace(leasePath(lease.metadata.namespace, lease.metadata.name), lease));
}

/** The answer, or undefined when there is no such object (404). */
async function noneIsUndefined<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
}

async function conflictIsFalse(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (isStatus(err, 409)) return false;
    throw err;
  }
}

export function deleteLease(client: KubeClient, namespace: string, name: string): Promise<unknown> {
  return client.delete(leasePath(namespace, name));
}

// --- Deployments ----------------------------------------------------------------------

/**
 * Deletes a Deployment in the foreground: it stays, terminating, until its pods are
 * gone. False when there was none.
 */
export async function deleteDeploymentForeground(client: KubeClient, namespace: string, name: string): Promise<boolean> {
  return (await noneIsUndefined(client.delete(deploymentPath(namespace, name), { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground' }))) !== undefined;
}

export async function deploymentExists(client: KubeClient, namespace: string, name: string): Promise<boolean> {
  return (await noneIsUndefined(client.get(deploymentPath(namespace, name)))) !== undefined;
}

// --- Webhook trust (caBundle) ---------------------------------------------------------

/** `absent`: nothing to update (not there, not ours, or not readable); `forbidden`: no RBAC to update it. */
export type CABundleResult = 'updated' | 'current' | 'absent' | 'forbidden';

const bundleOf = (caPem: string) => Buffer.from(caPem).toString('base64');

/**
 * Makes every webhook of a ValidatingWebhookConfiguration trust `caPem`. A PUT carrying
 * the resourceVersion just read: a concurrent edit makes it fail (409), for the caller's
 * next check to try again.
 */
export async function setWebhookCABundle(client: KubeClient, configuration: string, caPem: string): Promise<CABundleResult> {
  const path = validatingWebhookConfigurationPath(configuration);
  let config: { webhooks?: { clientConfig?: { caBundle?: string } }[] } & Record<string, unknown>;
  try {
    config = await client.get(path);
  } catch (err) {
    if (isStatus(err, 404)) return 'absent'; // not registered (yet): nothing to trust
    throw err;
  }
  const bundle = bundleOf(caPem);
  const webhooks = config.webhooks ?? [];
  if (webhooks.every((w) => w.clientConfig?.caBundle === bundle)) return 'current';
  for (const w of webhooks) w.clientConfig = { ...w.clientConfig, caBundle: bundle };
  await client.replace(path, config);
  return 'updated';
}

/**
 * A CRD converted by a webhook that is a Service of `serviceNamespace` trusts `caPem`
 * too. Without the CRD, with strategy None, another namespace's webhook, or without the
 * RBAC to read it: `absent`; without the RBAC to update it: `forbidden`.
 */
export async function setConversionCABundle(client: KubeClient, crd: string, serviceNamespace: string, caPem: string): Promise<CABundleResult> {
  const path = customResourceDefinitionPath(crd);
  type CRD = { spec?: { conversion?: { strategy?: string; webhook?: { clientConfig?: { caBundle?: string; service?: { namespace?: string } } } } } } & Record<string, unknown>;
  let object: CRD;
  try {
    object = await client.get<CRD>(path);
  } catch (err) {
    if (isStatus(err, 404) || isStatus(err, 403)) return 'absent';
    throw err;
  }
  const conversion = object.spec?.conversion;
  const clientConfig = conversion?.webhook?.clientConfig;
  if (conversion?.strategy !== 'Webhook' || !clientConfig || clientConfig.service?.namespace !== serviceNamespace) return 'absent';
  const bundle = bundleOf(caPem);
  if (clientConfig.caBundle === bundle) return 'current';
  clientConfig.caBundle = bundle;
  try {
    await client.replace(path, object);
    return 'updated';
  } catch (err) {
    if (isStatus(err, 403)) return 'forbidden';
    throw err;
  }
}
