// The first step of a build: sorts the input documents into the metallb.io objects of
// the load balancer's namespace (checked against their schema, names and labels),
// Secrets (for passwordSecret checks), legacy ConfigMaps (a warning) and the rest
// (counted in a note).
import { CONFIGURATION_KINDS, METALLB_GROUP, SERVED_VERSIONS, isMetalLBKind, type MetalLBKind } from '../api/metallb.ts';
import { manifestSchema } from '../api/metallb-schemas.ts';
import { closest, validateValue, type FieldPath } from '../api/schema.ts';
import type { ObjectRef, SecretInfo } from './build.ts';
import type { Entry, ErrorCollector } from './collector.ts';
import type { SourceDocument } from './documents.ts';
import { durationNumberHint } from './duration.ts';
import type { ConfigErrorCode } from './errors.ts';
import { isLegacyConfigMap } from './legacy-format.ts';
import { checkDNSLabel, checkDNSSubdomain, checkLabelKey, checkLabelValue } from './names.ts';
import { asRecord, asString, compare, nonEmpty } from './raw.ts';

const DURATION_FIELDS = ['holdTime', 'keepaliveTime', 'connectTime'];

export interface ReadDocuments {
  /** Configuration objects (not the status kinds), one per kind and name. */
  readonly entries: Entry[];
  /** Every metallb.io object of the namespace, in input order. */
  readonly objects: ObjectRef[];
  /** The Secrets given as options, then those among the documents. */
  readonly secrets: SecretInfo[];
}

export function readDocuments(c: ErrorCollector, documents: readonly SourceDocument[], lbNamespace: string, givenSecrets: readonly SecretInfo[]): ReadDocuments {
  const objects: ObjectRef[] = [];
  const entries: Entry[] = [];
  const ignoredKinds = new Map<string, number>();
  const secrets: SecretInfo[] = [...givenSecrets];
  const byKey = new Map<string, Entry>();
  for (const doc of documents) {
    const group = doc.apiVersion.includes('/') ? doc.apiVersion.slice(0, doc.apiVersion.indexOf('/')) : '';
    const metadata = asRecord(doc.object.metadata);
    // An empty namespace is no namespace, as kubectl reads it.
    const declaredNamespace = nonEmpty(metadata?.namespace);
    if (doc.apiVersion === 'v1' && doc.kind === 'Secret') {
      const secret = secretOf(doc, metadata, declaredNamespace ?? lbNamespace);
      if (secret) secrets.push(secret);
      continue;
    }
    if (doc.apiVersion === 'v1' && doc.kind === 'ConfigMap' && isLegacyConfigMap(doc.object)) {
      // MetalLB before v0.13 was configured by this ConfigMap; since then it is ignored,
      // which would leave a user migrating with no configuration and no word why.
      c.warnDocument(doc, 'ConfigMap', { namespace: declaredNamespace ?? lbNamespace, name: asString(metadata?.name) ?? '' }, ['data', 'config'], 'ELEGACY',
        "MetalLB's configuration format before v0.13, which MetalLB since v0.13 and ferrolb do not read: " +
          `convert it with \`ferrolb migrate-config ${doc.file ?? 'FILE'}\` and apply the resources it prints`);
      continue;
    }
    if (group !== METALLB_GROUP) {
      const label = `${doc.apiVersion} ${doc.kind}`;
      ignoredKinds.set(label, (ignoredKinds.get(label) ?? 0) + 1);
      continue;
    }
    const name = asString(metadata?.name) ?? '';
    const namespace = declaredNamespace ?? lbNamespace;
    const fail = (code: ConfigErrorCode, path: FieldPath, message: string): void =>
      c.failDocument(doc, doc.kind, name ? { namespace, name } : undefined, path, code, message);
    const kind = servedKind(doc, fail);
    if (kind === undefined) continue;
    if (declaredNamespace !== undefined && declaredNamespace !== lbNamespace) {
      // Read only from the load balancer's namespace (a tenant must not be able to create
      // a pool; docs/COMPATIBILITY.md "Where configuration lives"); MetalLB's webhook
      // denies it.
      c.notes.push(
        `${doc.file !== undefined ? `${doc.file}${doc.line !== undefined ? `:${doc.line}` : ''}: ` : ''}${kind} ${declaredNamespace}/${name} ignored: ` +
          `configuration is read only from the namespace ${lbNamespace}`,
      );
      continue;
    }
    const labels = checkObject(doc, kind, name, declaredNamespace, metadata, fail);
    objects.push({
      kind,
      apiVersion: doc.apiVersion,
      namespace,
      name,
      ...(doc.file !== undefined ? { file: doc.file } : {}),
      ...(doc.line !== undefined ? { line: doc.line } : {}),
    });
    if (name === '') continue;
    const entry: Entry = { doc, kind, apiVersion: doc.apiVersion, namespace, name, labels, spec: asRecord(doc.object.spec) ?? {} };
    const key = `${kind}/${name}`;
    // One name is one object in the cluster: `kubectl apply -f` applies both definitions
    // in order (a directory's files by name, as they are read here), and the later one is
    // what stays. So it replaces the earlier here too, with a warning (an error under
    // `validate --complete`); MetalLB's webhook judges each apply the same way.
    const first = byKey.get(key);
    if (first) {
      const at = first.doc.file !== undefined ? ` at ${first.doc.file}${first.doc.line !== undefined ? `:${first.doc.line}` : ''}` : '';
      c.warn(entry, ['metadata', 'name'], 'EDUPLICATE', `${kind} "${name}" is defined twice (first${at}): this later definition replaces it, as kubectl apply would`);
      const i = entries.indexOf(first);
      if (i >= 0) entries.splice(i, 1);
    }
    byKey.set(key, entry);
    if (CONFIGURATION_KINDS.includes(kind)) entries.push(entry);
    else c.notes.push(`${kind} ${namespace}/${name}: status written by ferrolb, not configuration (checked against its schema only)`);
  }
  for (const [label, count] of [...ignoredKinds].sort(([a], [b]) => compare(a, b))) {
    c.notes.push(`ignored ${count} ${label}${count > 1 ? ' objects' : ''}: not MetalLB configuration`);
  }
  return { entries, objects, secrets };
}

type Fail = (code: ConfigErrorCode, path: FieldPath, message: string) => void;

/** What a passwordSecret check needs of a Secret: its name, namespace, keys and type. */
function secretOf(doc: SourceDocument, metadata: Record<string, unknown> | undefined, namespace: string): SecretInfo | undefined {
  const name = asString(metadata?.name);
  if (name === undefined) return undefined;
  const keys = [...Object.keys(asRecord(doc.object.data) ?? {}), ...Object.keys(asRecord(doc.object.stringData) ?? {})];
  const type = asString(doc.object.type);
  return { name, namespace, keys, ...(type !== undefined ? { type } : {}) };
}

/** The metallb.io kind of a document, when ferrolb serves it at that version; otherwise why not, and undefined. */
function servedKind(doc: SourceDocument, fail: Fail): MetalLBKind | undefined {
  if (!isMetalLBKind(doc.kind)) {
    const near = closest(doc.kind, Object.keys(SERVED_VERSIONS));
    const hint =
      doc.kind === 'AddressPool' ? ': AddressPool was removed in MetalLB v0.14; write an IPAddressPool and an L2Advertisement or BGPAdvertisement' : near ? ` (did you mean ${near}?)` : '';
    fail('ENOTSERVED', ['kind'], `${METALLB_GROUP} has no kind "${doc.kind}"${hint}`);
    return undefined;
  }
  if (!SERVED_VERSIONS[doc.kind].includes(doc.apiVersion)) {
    fail('ENOTSERVED', ['apiVersion'], `${doc.kind} is served as ${SERVED_VERSIONS[doc.kind].join(' and ')}, not ${doc.apiVersion}`);
    return undefined;
  }
  return doc.kind;
}

/** The object against its schema, its name, namespace and labels; its string labels. */
function checkObject(doc: SourceDocument, kind: MetalLBKind, name: string, declaredNamespace: string | undefined, metadata: Record<string, unknown> | undefined, fail: Fail): Record<string, string> {
  const schema = manifestSchema(kind, doc.apiVersion);
  if (schema) {
    for (const v of validateValue(doc.object, schema)) {
      // `keepaliveTime: 90`: the schema's "must be a string" hides the fix, the unit.
      const [top, field] = v.path;
      const raw = top === 'spec' && v.path.length === 2 ? asRecord(doc.object.spec)?.[String(field)] : undefined;
      const duration = kind === 'BGPPeer' && DURATION_FIELDS.includes(String(field)) && typeof raw === 'number';
      fail(v.code, v.path, duration ? durationNumberHint(raw) : v.message);
    }
  }
  if (name === '') {
    fail('ENAME', ['metadata', 'name'], 'metadata.name is required');
  } else {
    const problem = checkDNSSubdomain(name);
    if (problem) fail('ENAME', ['metadata', 'name'], problem);
  }
  if (declaredNamespace !== undefined) {
    const problem = checkDNSLabel(declaredNamespace);
    if (problem) fail('ENAMESPACE', ['metadata', 'namespace'], problem);
  }
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(asRecord(metadata?.labels) ?? {})) {
    const problem = checkLabelKey(k) ?? (typeof v === 'string' ? checkLabelValue(v) : undefined);
    if (problem) fail('ELABEL', ['metadata', 'labels', k], problem);
    if (typeof v === 'string') labels[k] = v;
  }
  return labels;
}
