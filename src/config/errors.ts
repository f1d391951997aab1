// Configuration errors: data, not exceptions, so that every error in a set of files is
// collected and reported at once. Each carries a stable `code` (for tests, metrics and
// ConfigurationState) and the exact place at fault.
import { formatPath, type FieldPath } from '../api/schema.ts';

export type ConfigErrorCode =
  // Reading and parsing files (src/config/load.ts).
  | 'ENOENT' // a path given does not exist
  | 'EREAD' // a file or directory could not be read
  | 'EYAML' // malformed YAML or JSON
  | 'EEMPTY' // a file without any document
  | 'ENOTMAPPING' // a document that is not a mapping
  | 'ETYPEMETA' // apiVersion or kind missing or not a string
  // Schema (src/api/schema.ts), as `kubectl apply --validate=strict` reports.
  | 'ETYPE'
  | 'EREQUIRED'
  | 'EENUM'
  | 'ERANGE'
  | 'EPATTERN'
  | 'EUNKNOWNFIELD'
  | 'ENOTSERVED' // a metallb.io kind or apiVersion that MetalLB does not serve
  // Semantics (src/config/build.ts).
  | 'ENAME' // metadata.name missing or not a DNS subdomain
  | 'EDUPLICATE' // two objects of one kind with one name
  | 'EDUPLICATEENTRY' // one value twice in a list that must not repeat
  | 'ELABEL' // a label key or value that Kubernetes would refuse
  | 'ESELECTOR' // a label selector that Kubernetes would refuse
  | 'EADDRESS' // an address entry that is not a CIDR or range
  | 'EOVERLAP' // an address in two pools, or twice in one
  | 'EIP' // an IP address field that is not an IP address
  | 'EASN'
  | 'EPEER' // exactly-one-of rules of BGPPeer; two peers opening one session
  | 'EINTERFACE' // not a possible Linux interface name
  | 'EDURATION' // not a Go duration
  | 'ETIMER' // hold, keepalive or connect time out of range
  | 'EPASSWORD'
  | 'ESECRET'
  | 'EMULTIHOP'
  | 'EECHO'
  | 'EREFERENCE' // a name that refers to no object
  | 'ECOMMUNITY'
  | 'EAGGREGATION'
  | 'ELOCALPREF'
  | 'ENAMESPACE'
  | 'EUNSUPPORTED' // a field read and checked but not acted on yet (a warning)
  // MetalLB's configuration format before v0.13 (src/config/legacy.ts).
  | 'ELEGACY' // a legacy ConfigMap where resources are expected; a legacy field that cannot be converted
  | 'EINTERNAL'; // a bug in ferrolb, reported rather than thrown

/**
 * An error makes the configuration invalid. A warning does not: the configuration is
 * used, and what the warning names does not take part (a reference to an object that
 * does not exist yet, RULES.md "Order independence") or is not acted on.
 */
export type Severity = 'error' | 'warning';

export interface ConfigError {
  readonly code: ConfigErrorCode;
  /** Absent: 'error'. */
  readonly severity?: Severity;
  /** The file as the user named it, when the object was read from one. */
  readonly file?: string;
  /** 1-based line of the field at fault (or of its object, or of the YAML error). */
  readonly line?: number;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  /** The field at fault, `spec.addresses[1]`. */
  readonly path?: string;
  /** The reason, without the location. */
  readonly message: string;
}

/**
 * One line: `routing.yaml:7: IPAddressPool metallb-system/first-pool: spec.addresses[1]: reason`.
 * Parts that are unknown are left out.
 */
export function formatConfigError(e: ConfigError): string {
  const parts: string[] = [];
  if (e.file !== undefined) parts.push(e.line !== undefined ? `${e.file}:${e.line}` : e.file);
  if (e.kind !== undefined) {
    const id = e.name !== undefined ? ` ${e.namespace !== undefined ? `${e.namespace}/` : ''}${e.name}` : '';
    parts.push(`${e.kind}${id}`);
  }
  if (e.path !== undefined && e.path !== '') parts.push(e.path);
  parts.push(e.message);
  return parts.join(': ');
}

export function isWarning(e: ConfigError): boolean {
  return e.severity === 'warning';
}

export { formatPath, type FieldPath };
