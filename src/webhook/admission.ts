// The validating admission webhook's decision (admission.k8s.io/v1 AdmissionReview):
// a change to the metallb.io configuration is refused when it would make the
// configuration worse, i.e. when the configuration with the change has an error the
// configuration without it does not have. The same pure builder `validate`, the
// controller and the speakers use decides, so the webhook can never disagree with them.
//
// Judging the whole configuration, not the object alone, is what catches the mistakes
// that bite: a pool overlapping another pool, a BGPPeer naming a BFDProfile that does
// not exist, deleting a BFDProfile or Community still in use. Errors that were already
// there do not block unrelated changes (a broken configuration can still be repaired
// one object at a time).
//
// Objects of these kinds outside the load balancer's namespace are refused: they would
// be ignored, and a tenant must not be able to create a pool (REFERENCE.md "Resources").
import type { KubeObject } from '../k8s/client.ts';
import { buildConfig } from '../config/build.ts';
import { objectDocuments } from '../config/load.ts';
import { formatConfigError } from '../config/errors.ts';
import { CONFIGURATION_KINDS, type MetalLBKind } from '../api/metallb.ts';

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly namespace?: string;
  readonly name?: string;
  readonly operation: string;
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
}

export interface AdmissionDecision {
  readonly allowed: boolean;
  /** Why not, when refused: one line per error the change would introduce. */
  readonly message?: string;
  readonly warnings?: readonly string[];
}

export const METALLB_GROUP = 'metallb.io';

/** The errors of a configuration, as the webhook compares them. */
export function configurationErrors(objects: readonly unknown[], lbNamespace: string): Set<string> {
  return new Set(buildConfig(objectDocuments(objects), { namespace: lbNamespace }).errors.map(formatConfigError));
}

/**
 * `currentErrors`: configurationErrors(current), when the caller has it already (the
 * server keeps it until the configuration changes, halving the cost per request).
 */
export function admit(req: AdmissionRequest, current: readonly KubeObject[], lbNamespace: string, currentErrors?: ReadonlySet<string>): AdmissionDecision {
  if (req.kind.group !== METALLB_GROUP || !(CONFIGURATION_KINDS as readonly string[]).includes(req.kind.kind)) return { allowed: true };
  const kind = req.kind.kind as MetalLBKind;
  const name = req.name ?? nameOf(req.object) ?? '';
  const namespace = req.namespace ?? '';
  if (req.operation === 'CREATE' || req.operation === 'UPDATE') {
    if (namespace !== lbNamespace) {
      return { allowed: false, message: `${kind} ${namespace}/${name}: metallb.io configuration is read only from namespace ${lbNamespace}; this object would be ignored` };
    }
  } else if (req.operation !== 'DELETE' || namespace !== lbNamespace) {
    return { allowed: true };
  }

  const same = (o: KubeObject) => o.kind === kind && o.metadata?.name === name && (o.metadata?.namespace ?? lbNamespace) === namespace;
  const others = current.filter((o) => !same(o));
  const after: unknown[] = [...others];
  if (req.operation !== 'DELETE') {
    const obj = req.object as Record<string, unknown> | undefined;
    if (typeof obj !== 'object' || obj === null) return { allowed: false, message: `${kind} ${namespace}/${name}: the request carries no object` };
    after.push({ ...obj, apiVersion: `${req.kind.group}/${req.kind.version}`, kind });
  }
  const before = currentErrors ?? configurationErrors(current, lbNamespace);
  const introduced = [...configurationErrors(after, lbNamespace)].filter((e) => !before.has(e));
  if (introduced.length === 0) return { allowed: true };
  const verb = req.operation === 'DELETE' ? 'deleting' : req.operation === 'CREATE' ? 'creating' : 'updating';
  return { allowed: false, message: `${verb} ${kind} ${namespace}/${name} would make the metallb.io configuration invalid: ${introduced.join('; ')}` };
}

function nameOf(o: unknown): string | undefined {
  const meta = (o as { metadata?: { name?: unknown } } | undefined)?.metadata;
  return typeof meta?.name === 'string' ? meta.name : undefined;
}
