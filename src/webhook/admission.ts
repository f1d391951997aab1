// The validating admission webhook's decision (admission.k8s.io/v1 AdmissionReview):
// a change to the metallb.io configuration is refused when it would make the
// configuration worse, i.e. when the configuration with the change has an error the
// configuration without it does not have. The same pure builder `validate`, the
// controller and the speakers use decides, so the webhook can never disagree with them.
//
// Judging the whole configuration, not the object alone, is what catches the mistakes
// that bite: a pool overlapping another pool, two peers opening one session, a
// localPref conflict. Errors that were already there do not block unrelated changes (a
// broken configuration can still be repaired one object at a time).
//
// Order independence (RULES.md): a reference to an object that does not exist (yet) is
// a warning of the builder, not an error, so an advertisement may come before its pool
// and a BGPPeer before its BFDProfile, as `kubectl apply -f dir/` and Helm order them.
// Such warnings go back to kubectl as admission warnings, and the change is allowed. A
// deletion is never refused: it can only leave references dangling (warnings), and a
// refused deletion would block `kubectl delete -f` and namespace deletion.
//
// Objects of these kinds outside the load balancer's namespace are refused: they would
// be ignored, and a tenant must not be able to create a pool (docs/COMPATIBILITY.md "Where configuration lives").
import type { KubeObject } from '../k8s/client.ts';
import { buildConfig } from '../config/build.ts';
import { objectDocuments } from '../config/documents.ts';
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

/** What the builder finds in a configuration, as the webhook compares it: formatted lines. */
export interface Findings {
  readonly errors: ReadonlySet<string>;
  readonly warnings: ReadonlySet<string>;
}

function findings(objects: readonly unknown[], lbNamespace: string): Findings & { readonly warningsOf: (kind: string, name: string) => string[] } {
  const built = buildConfig(objectDocuments(objects), { namespace: lbNamespace });
  return {
    errors: new Set(built.errors.map(formatConfigError)),
    warnings: new Set(built.warnings.map(formatConfigError)),
    warningsOf: (kind, name) => built.warnings.filter((w) => w.kind === kind && w.name === name).map(formatConfigError),
  };
}

/** The errors and warnings of a configuration. */
export function configurationFindings(objects: readonly unknown[], lbNamespace: string): Findings {
  const { errors, warnings } = findings(objects, lbNamespace);
  return { errors, warnings };
}

/**
 * `currentFindings`: configurationFindings(current), when the caller has it already (the
 * server keeps it until the configuration changes, halving the cost per request).
 */
export function admit(req: AdmissionRequest, current: readonly KubeObject[], lbNamespace: string, currentFindings?: Findings): AdmissionDecision {
  if (req.kind.group !== METALLB_GROUP || !(CONFIGURATION_KINDS as readonly string[]).includes(req.kind.kind)) return { allowed: true };
  const kind = req.kind.kind as MetalLBKind;
  const name = req.name ?? nameOf(req.object) ?? '';
  const namespace = req.namespace ?? '';
  const deleting = req.operation === 'DELETE';
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
  const before = currentFindings ?? configurationFindings(current, lbNamespace);
  const result = findings(after, lbNamespace);
  // Warnings the change brings, and those of the object itself (repeated on every apply,
  // as long as they hold, so `kubectl apply` always shows them).
  const warnings = [...new Set([...[...result.warnings].filter((w) => !before.warnings.has(w)), ...result.warningsOf(kind, name)])];
  const introduced = [...result.errors].filter((e) => !before.errors.has(e));
  // A deletion is never refused (the header's "Order independence").
  if (introduced.length === 0 || deleting) return warnings.length > 0 ? { allowed: true, warnings } : { allowed: true };
  const verb = req.operation === 'CREATE' ? 'creating' : 'updating';
  return { allowed: false, message: `${verb} ${kind} ${namespace}/${name} would make the metallb.io configuration invalid: ${introduced.join('; ')}` };
}

function nameOf(o: unknown): string | undefined {
  const meta = (o as { metadata?: { name?: unknown } } | undefined)?.metadata;
  return typeof meta?.name === 'string' ? meta.name : undefined;
}
