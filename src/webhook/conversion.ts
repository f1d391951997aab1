// The CRD conversion webhook's decision (apiextensions.k8s.io ConversionReview): BGPPeer
// between metallb.io/v1beta1 and v1beta2. MetalLB's own CRDs declare `conversion:
// strategy: Webhook` with path /convert on the webhook Service, so with MetalLB's CRDs
// installed the API server asks this endpoint whenever a BGPPeer is read or written in
// the version it is not stored in. (ferrolb's CRDs use strategy None.)
//
// As MetalLB converts: the fields both versions have are copied by name (their meaning
// is the same; src/config/build.ts reads v1beta1 the same way); v1beta2-only fields
// (dynamicASN, interface, vrf, ...) do not exist in v1beta1 and are left out there.
import { crdSchema } from '../api/metallb-schemas.ts';
import { V1BETA1, V1BETA2 } from '../api/metallb.ts';

export interface ConversionRequest {
  readonly uid: string;
  readonly desiredAPIVersion: string;
  readonly objects: readonly unknown[];
}

export interface ConversionResponse {
  readonly uid: string;
  readonly convertedObjects: readonly unknown[];
  readonly result: { readonly status: 'Success' } | { readonly status: 'Failure'; readonly message: string };
}

const CONVERTIBLE = new Set([V1BETA1, V1BETA2]);

export function convertObjects(req: ConversionRequest): ConversionResponse {
  const fail = (message: string): ConversionResponse => ({ uid: req.uid, convertedObjects: [], result: { status: 'Failure', message } });
  if (!CONVERTIBLE.has(req.desiredAPIVersion)) return fail(`cannot convert to ${req.desiredAPIVersion}: only ${V1BETA1} and ${V1BETA2} BGPPeers`);
  const v1beta1Fields = new Set(Object.keys(crdSchema('BGPPeer', V1BETA1)?.properties?.spec?.properties ?? {}));
  const out: unknown[] = [];
  for (const [i, raw] of req.objects.entries()) {
    const o = raw as { apiVersion?: unknown; kind?: unknown; spec?: unknown } | null;
    if (typeof o !== 'object' || o === null || o.kind !== 'BGPPeer' || typeof o.apiVersion !== 'string' || !CONVERTIBLE.has(o.apiVersion)) {
      return fail(`objects[${i}] is not a ${V1BETA1} or ${V1BETA2} BGPPeer`);
    }
    const spec = typeof o.spec === 'object' && o.spec !== null && !Array.isArray(o.spec) ? (o.spec as Record<string, unknown>) : undefined;
    const converted: Record<string, unknown> = { ...o, apiVersion: req.desiredAPIVersion };
    if (spec && req.desiredAPIVersion === V1BETA1 && o.apiVersion === V1BETA2) {
      converted.spec = Object.fromEntries(Object.entries(spec).filter(([k]) => v1beta1Fields.has(k)));
    }
    out.push(converted);
  }
  return { uid: req.uid, convertedObjects: out, result: { status: 'Success' } };
}
