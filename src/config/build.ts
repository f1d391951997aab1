// Raw metallb.io documents → one validated, immutable Config, enforcing every rule of
// docs/COMPATIBILITY.md. Pure: no I/O, no clock. Every error is collected (never only the
// first) and names the file, line, kind, namespace/name and field at fault.
import {
  CONFIGURATION_KINDS,
  METALLB_GROUP,
  SERVED_VERSIONS,
  V1BETA1,
  isMetalLBKind,
  type MetalLBKind,
} from '../api/metallb.ts';
import { crdSchema, manifestSchema } from '../api/metallb-schemas.ts';
import { closest, formatPath, validateValue, type FieldPath } from '../api/schema.ts';
import { selectorMatches, type LabelSelector, type Labels } from '../api/selector.ts';
import { isAddressEntryError, isBuggyIP, parseAddressEntry, rangeToCidrs, unservableParts, type AddressRange } from '../net/range.ts';
import { parseIP, type Family } from '../net/ip.ts';
import { formatCommunity, parseCommunity } from './community.ts';
import { durationNumberHint, NANOS_PER_SECOND, parseGoDuration } from './duration.ts';
import { isWarning, type ConfigError, type ConfigErrorCode } from './errors.ts';
import type { SourceDocument } from './documents.ts';
import type {
  BFDProfile,
  BGPAdvertisement,
  BGPCommunity,
  BGPPeer,
  Config,
  L2Advertisement,
  Pool,
  PreferredNodeSelector,
  SecretReference,
  ServiceAllocation,
} from './model.ts';
import { checkDNSLabel, checkDNSSubdomain, checkInterfaceName, checkLabelKey, checkLabelValue, checkSelector, selectorKey, type SelectorProblem } from './names.ts';
import { findOverlaps, type Span } from './overlap.ts';
import { isLegacyConfigMap } from './legacy-format.ts';

export const DEFAULT_NAMESPACE = 'metallb-system';

/** What the builder needs to know of a Secret: enough to check a BGPPeer passwordSecret. */
export interface SecretInfo {
  readonly name: string;
  readonly namespace: string;
  readonly type?: string;
  /** Keys of `data` and `stringData`. */
  readonly keys: readonly string[];
}

export interface BuildOptions {
  /** The load balancer's namespace; configuration elsewhere is ignored. */
  readonly namespace?: string;
  /**
   * Secrets of the namespace, to check passwordSecret references. v1 Secret documents
   * among the inputs are added to these. When neither gives any, references are not
   * checked (a note says so).
   */
  readonly secrets?: readonly SecretInfo[];
}

/** An accepted metallb.io object. */
export interface ObjectRef {
  readonly kind: MetalLBKind;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly file?: string;
  readonly line?: number;
}

export interface BuildResult {
  /** Present only when there is no error (warnings do not prevent it). */
  readonly config?: Config;
  /** Severity error only; sorted by file (in input order) and line. */
  readonly errors: ConfigError[];
  /**
   * Severity warning, sorted as errors are: references to objects that do not exist
   * (yet), whose referrer does not take part until they do (RULES.md "Order
   * independence"), and what is read but not acted on.
   */
  readonly warnings: ConfigError[];
  readonly notes: string[];
  /** The metallb.io objects read from the load balancer's namespace, in input order. */
  readonly objects: ObjectRef[];
}

// Defaults of MetalLB's CRDs and of the BGP and BFD RFCs.
const DEFAULT_PEER_PORT = 179;
const DEFAULT_HOLD_SECONDS = 90; // MetalLB's default; RFC 4271 10 suggests 90 s too
const MAX_TIMER_SECONDS = 65535; // RFC 4271 4.2: the hold time is a 2-octet field
const BFD_DEFAULTS = { receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, echoInterval: 50, minimumTtl: 254 };
const BASIC_AUTH = 'kubernetes.io/basic-auth';
const DURATION_FIELDS = ['holdTime', 'keepaliveTime', 'connectTime'];

interface Entry {
  readonly doc: SourceDocument;
  readonly kind: MetalLBKind;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly spec: Readonly<Record<string, unknown>>;
}

interface AddressOwner {
  readonly pool: Entry;
  readonly index: number;
  readonly text: string;
}

export function buildConfig(documents: readonly SourceDocument[], options: BuildOptions = {}): BuildResult {
  const lbNamespace = options.namespace ?? DEFAULT_NAMESPACE;
  const errors: ConfigError[] = [];
  const notes: string[] = [];
  const objects: ObjectRef[] = [];
  const entries: Entry[] = [];
  const ignoredKinds = new Map<string, number>();
  const secrets: SecretInfo[] = [...(options.secrets ?? [])];
  const byKey = new Map<string, Entry>();

  const where = (doc: SourceDocument, path: FieldPath): { file?: string; line?: number } => {
    const line = doc.lineOf(path) ?? doc.line;
    return { ...(doc.file !== undefined ? { file: doc.file } : {}), ...(line !== undefined ? { line } : {}) };
  };
  // One error per field: a field the schema refused is not reported again by the
  // semantic checks (nor is a field reported twice by two of them).
  const faulted = new Set<string>();
  const firstAt = (kind: string, name: string, path: FieldPath): boolean => {
    const key = `${kind}\u0000${name}\u0000${formatPath(path)}`;
    if (faulted.has(key)) return false;
    faulted.add(key);
    return true;
  };
  const report = (severity: 'error' | 'warning', e: Entry, path: FieldPath, code: ConfigErrorCode, message: string): void => {
    // A warning does not take the field's one slot: an error found later is still reported.
    if (severity === 'warning' ? faulted.has(`${e.kind}\u0000${e.name}\u0000${formatPath(path)}`) : !firstAt(e.kind, e.name, path)) return;
    errors.push({
      code,
      ...(severity === 'warning' ? { severity } : {}),
      ...where(e.doc, path),
      kind: e.kind,
      namespace: e.namespace,
      name: e.name,
      path: formatPath(path),
      message,
    });
  };
  const fail = (e: Entry, path: FieldPath, code: ConfigErrorCode, message: string): void => report('error', e, path, code, message);
  const warn = (e: Entry, path: FieldPath, code: ConfigErrorCode, message: string): void => report('warning', e, path, code, message);
  // Objects that stay out of the Config until what they refer to exists (RULES.md
  // "Order independence"): a BGPPeer without its BFDProfile or Secret, a BGPAdvertisement
  // with an unknown Community alias. Used without it, they would do something else than
  // what was asked (a session without BFD, an announcement without its community).
  const dormant = new Set<Entry>();

  // --- 1. Sort documents: metallb.io objects of our namespace, Secrets, the rest. ---
  for (const doc of documents) {
    const group = doc.apiVersion.includes('/') ? doc.apiVersion.slice(0, doc.apiVersion.indexOf('/')) : '';
    const metadata = asRecord(doc.object.metadata);
    // An empty namespace is no namespace, as kubectl reads it.
    const declaredNamespace = nonEmpty(metadata?.namespace);
    if (doc.apiVersion === 'v1' && doc.kind === 'Secret') {
      const name = asString(metadata?.name);
      const namespace = declaredNamespace ?? lbNamespace;
      if (name !== undefined) {
        const keys = [...Object.keys(asRecord(doc.object.data) ?? {}), ...Object.keys(asRecord(doc.object.stringData) ?? {})];
        const type = asString(doc.object.type);
        secrets.push({ name, namespace, keys, ...(type !== undefined ? { type } : {}) });
      }
      continue;
    }
    if (doc.apiVersion === 'v1' && doc.kind === 'ConfigMap' && isLegacyConfigMap(doc.object)) {
      // MetalLB before v0.13 was configured by this ConfigMap; since then it is ignored,
      // which would leave a user migrating with no configuration and no word why.
      const name = asString(metadata?.name) ?? '';
      errors.push({
        code: 'ELEGACY',
        severity: 'warning',
        ...where(doc, ['data', 'config']),
        kind: 'ConfigMap',
        namespace: declaredNamespace ?? lbNamespace,
        name,
        path: 'data.config',
        message:
          "MetalLB's configuration format before v0.13, which MetalLB since v0.13 and ferrolb do not read: " +
          `convert it with \`ferrolb migrate-config ${doc.file ?? 'FILE'}\` and apply the resources it prints`,
      });
      continue;
    }
    if (group !== METALLB_GROUP) {
      const label = `${doc.apiVersion} ${doc.kind}`;
      ignoredKinds.set(label, (ignoredKinds.get(label) ?? 0) + 1);
      continue;
    }
    const name = asString(metadata?.name) ?? '';
    const namespace = declaredNamespace ?? lbNamespace;
    const typeError = (code: ConfigErrorCode, path: FieldPath, message: string): void => {
      if (name && !firstAt(doc.kind, name, path)) return;
      errors.push({
        code,
        ...where(doc, path),
        kind: doc.kind,
        ...(name ? { namespace, name } : {}),
        ...(path.length ? { path: formatPath(path) } : {}),
        message,
      });
    };
    if (!isMetalLBKind(doc.kind)) {
      const hint =
        doc.kind === 'AddressPool'
          ? ': AddressPool was removed in MetalLB v0.14; write an IPAddressPool and an L2Advertisement or BGPAdvertisement'
          : (() => {
              const near = closest(doc.kind, Object.keys(SERVED_VERSIONS));
              return near ? ` (did you mean ${near}?)` : '';
            })();
      typeError('ENOTSERVED', ['kind'], `${METALLB_GROUP} has no kind "${doc.kind}"${hint}`);
      continue;
    }
    const kind = doc.kind;
    if (!SERVED_VERSIONS[kind].includes(doc.apiVersion)) {
      typeError('ENOTSERVED', ['apiVersion'], `${kind} is served as ${SERVED_VERSIONS[kind].join(' and ')}, not ${doc.apiVersion}`);
      continue;
    }
    if (declaredNamespace !== undefined && declaredNamespace !== lbNamespace) {
      // Read only from the load balancer's namespace (a tenant must not be able to create
      // a pool; docs/COMPATIBILITY.md "Where configuration lives"); MetalLB's webhook
      // denies it.
      notes.push(
        `${doc.file !== undefined ? `${doc.file}${doc.line !== undefined ? `:${doc.line}` : ''}: ` : ''}${kind} ${declaredNamespace}/${name} ignored: ` +
          `configuration is read only from the namespace ${lbNamespace}`,
      );
      continue;
    }
    const schema = manifestSchema(kind, doc.apiVersion);
    if (schema) {
      for (const v of validateValue(doc.object, schema)) {
        // `keepaliveTime: 90`: the schema's "must be a string" hides the fix, the unit.
        const [top, field] = v.path;
        const raw = top === 'spec' && v.path.length === 2 ? asRecord(doc.object.spec)?.[String(field)] : undefined;
        const duration = kind === 'BGPPeer' && DURATION_FIELDS.includes(String(field)) && typeof raw === 'number';
        typeError(v.code, v.path, duration ? durationNumberHint(raw) : v.message);
      }
    }
    if (name === '') {
      typeError('ENAME', ['metadata', 'name'], 'metadata.name is required');
    } else {
      const problem = checkDNSSubdomain(name);
      if (problem) typeError('ENAME', ['metadata', 'name'], problem);
    }
    if (declaredNamespace !== undefined) {
      const problem = checkDNSLabel(declaredNamespace);
      if (problem) typeError('ENAMESPACE', ['metadata', 'namespace'], problem);
    }
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(asRecord(metadata?.labels) ?? {})) {
      const problem = checkLabelKey(k) ?? (typeof v === 'string' ? checkLabelValue(v) : undefined);
      if (problem) typeError('ELABEL', ['metadata', 'labels', k], problem);
      if (typeof v === 'string') labels[k] = v;
    }
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
    const first = byKey.get(key);
    if (first) {
      const at = first.doc.file !== undefined ? ` at ${first.doc.file}${first.doc.line !== undefined ? `:${first.doc.line}` : ''}` : '';
      fail(entry, ['metadata', 'name'], 'EDUPLICATE', `${kind} "${name}" is defined twice (first${at})`);
      continue;
    }
    byKey.set(key, entry);
    if (CONFIGURATION_KINDS.includes(kind)) entries.push(entry);
    else notes.push(`${kind} ${namespace}/${name}: status written by ferrolb, not configuration (checked against its schema only)`);
  }
  for (const [label, count] of [...ignoredKinds].sort(([a], [b]) => compare(a, b))) {
    notes.push(`ignored ${count} ${label}${count > 1 ? ' objects' : ''}: not MetalLB configuration`);
  }

  const ofKind = (kind: MetalLBKind): Entry[] =>
    entries.filter((e) => e.kind === kind).sort((a, b) => compare(a.name, b.name));

  // --- Shared field checks. ---
  const selectorList = (e: Entry, path: FieldPath, raw: unknown): LabelSelector[] => {
    if (!Array.isArray(raw)) return [];
    const out: LabelSelector[] = [];
    const seen = new Map<string, number>();
    raw.forEach((item, i) => {
      const problems: SelectorProblem[] = [];
      const selector = checkSelector(item, [...path, i], problems);
      for (const p of problems) fail(e, p.path, 'ESELECTOR', p.message);
      if (!selector) return;
      const key = selectorKey(selector);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        fail(e, [...path, i], 'EDUPLICATEENTRY', `the same selector as ${formatPath([...path, earlier])}`);
        return;
      }
      seen.set(key, i);
      out.push(selector);
    });
    return out;
  };
  const nameList = (e: Entry, path: FieldPath, raw: unknown): { name: string; index: number }[] => {
    if (!Array.isArray(raw)) return [];
    const out: { name: string; index: number }[] = [];
    const seen = new Map<string, number>();
    raw.forEach((item, i) => {
      if (typeof item !== 'string') return;
      const earlier = seen.get(item);
      if (earlier !== undefined) {
        fail(e, [...path, i], 'EDUPLICATEENTRY', `"${item}" is listed twice (also ${formatPath([...path, earlier])})`);
        return;
      }
      seen.set(item, i);
      out.push({ name: item, index: i });
    });
    return out;
  };
  const guard = (e: Entry, check: () => void): void => {
    try {
      check();
    } catch (err) {
      // A bug must not hide the other errors nor reach the user as a stack trace.
      fail(e, [], 'EINTERNAL', `internal error while checking this object: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  // --- 2. Community aliases. ---
  const aliases = new Map<string, { community: BGPCommunity; entry: Entry; index: number }>();
  for (const e of ofKind('Community')) {
    guard(e, () => {
      const list = e.spec.communities;
      if (!Array.isArray(list)) return;
      list.forEach((raw, i) => {
        const alias = asRecord(raw);
        if (!alias) return;
        const path = ['spec', 'communities', i];
        const name = asString(alias.name);
        const value = asString(alias.value);
        if (!name) fail(e, [...path, 'name'], 'ECOMMUNITY', 'the alias name is required');
        if (!value) fail(e, [...path, 'value'], 'ECOMMUNITY', 'the community value is required');
        if (!name || !value) return;
        const parsed = parseCommunity(value);
        if ('reason' in parsed) {
          fail(e, [...path, 'value'], 'ECOMMUNITY', parsed.reason);
          return;
        }
        const earlier = aliases.get(name);
        if (earlier) {
          fail(
            e,
            [...path, 'name'],
            'EDUPLICATEENTRY',
            `Community alias "${name}" is already defined (Community ${earlier.entry.name}, spec.communities[${earlier.index}])`,
          );
          return;
        }
        aliases.set(name, { community: parsed.community, entry: e, index: i });
      });
    });
  }

  // --- 3. BFD profiles. ---
  const bfdProfiles: BFDProfile[] = [];
  for (const e of ofKind('BFDProfile')) {
    const s = e.spec;
    bfdProfiles.push({
      name: e.name,
      receiveInterval: asInteger(s.receiveInterval) ?? BFD_DEFAULTS.receiveInterval,
      transmitInterval: asInteger(s.transmitInterval) ?? BFD_DEFAULTS.transmitInterval,
      detectMultiplier: asInteger(s.detectMultiplier) ?? BFD_DEFAULTS.detectMultiplier,
      echoInterval: asInteger(s.echoInterval) ?? BFD_DEFAULTS.echoInterval,
      echoMode: asBoolean(s.echoMode) ?? false,
      passiveMode: asBoolean(s.passiveMode) ?? false,
      minimumTtl: asInteger(s.minimumTtl) ?? BFD_DEFAULTS.minimumTtl,
    });
  }
  const bfdByName = new Map(bfdProfiles.map((p) => [p.name, p]));

  // --- 4. Pools, and overlaps between every address entry of every pool. ---
  const pools: Pool[] = [];
  const spans: Span<AddressOwner>[] = [];
  for (const e of ofKind('IPAddressPool')) {
    guard(e, () => {
      const s = e.spec;
      const ranges: AddressRange[] = [];
      if (Array.isArray(s.addresses)) {
        if (s.addresses.length === 0) {
          fail(e, ['spec', 'addresses'], 'EADDRESS', 'lists no address: give at least one CIDR or range');
        }
        s.addresses.forEach((text: unknown, i) => {
          if (typeof text !== 'string') return;
          const parsed = parseAddressEntry(text);
          if (isAddressEntryError(parsed)) {
            // `- 10.0.0.0/24` followed by a line `   - 10.0.1.0/24` indented one space
            // more is YAML for one string "10.0.0.0/24 - 10.0.1.0/24": say so.
            const parts = text.split(/\s+-\s+/);
            const joined = parts.length > 1 && parts.every((p) => !isAddressEntryError(parseAddressEntry(p)));
            fail(e, ['spec', 'addresses', i], 'EADDRESS', joined ? `${parsed.reason} (it reads as ${parts.length} entries joined: is the next line's "- " indented more than this one's?)` : parsed.reason);
            return;
          }
          // A warning, not an error: MetalLB accepts these, but no client can reach them.
          const unservable = unservableParts(parsed);
          if (unservable.length > 0) {
            warn(e, ['spec', 'addresses', i], 'EADDRESS',
              `"${text}" includes ${unservable.map((u) => `${u.what}, ${u.cidr}`).join('; and ')}: a Service given one can never be reached`);
          }
          ranges.push(parsed);
          spans.push({ family: parsed.family, first: parsed.first, last: parsed.last, owner: { pool: e, index: i, text } });
        });
      }
      let serviceAllocation: ServiceAllocation | undefined;
      const sa = asRecord(s.serviceAllocation);
      if (sa) {
        const path = ['spec', 'serviceAllocation'];
        const namespaces = nameList(e, [...path, 'namespaces'], sa.namespaces);
        for (const ns of namespaces) {
          const problem = checkDNSLabel(ns.name);
          if (problem) fail(e, [...path, 'namespaces', ns.index], 'ENAMESPACE', problem);
        }
        serviceAllocation = {
          priority: asInteger(sa.priority) ?? 0,
          namespaces: namespaces.map((n) => n.name),
          namespaceSelectors: selectorList(e, [...path, 'namespaceSelectors'], sa.namespaceSelectors),
          serviceSelectors: selectorList(e, [...path, 'serviceSelectors'], sa.serviceSelectors),
        };
      }
      if (asBoolean(s.avoidBuggyIPs) === true) {
        for (const r of ranges) {
          // Only a range of at most two IPv4 addresses (x.255, x+1.0) can be all "buggy".
          if (r.family === 'IPv4' && r.last - r.first < 2n && [r.first, r.last].every((v) => isBuggyIP({ family: 'IPv4', value: v }))) {
            notes.push(`IPAddressPool ${e.namespace}/${e.name}: avoidBuggyIPs leaves no usable address in "${r.text}"`);
          }
        }
      }
      pools.push({
        name: e.name,
        labels: e.labels,
        ranges,
        autoAssign: asBoolean(s.autoAssign) ?? true,
        avoidBuggyIPs: asBoolean(s.avoidBuggyIPs) ?? false,
        ...(serviceAllocation ? { serviceAllocation } : {}),
      });
    });
  }
  const ownerOrder = (a: AddressOwner, b: AddressOwner): number => compare(a.pool.name, b.pool.name) || a.index - b.index;
  for (const { later, earlier } of findOverlaps(spans, ownerOrder)) {
    const other =
      earlier.owner.pool === later.owner.pool
        ? `spec.addresses[${earlier.owner.index}] "${earlier.owner.text}" of the same pool`
        : `"${earlier.owner.text}" of IPAddressPool ${earlier.owner.pool.name} (spec.addresses[${earlier.owner.index}])`;
    fail(later.owner.pool, ['spec', 'addresses', later.owner.index], 'EOVERLAP', `"${later.owner.text}" overlaps ${other}: an address may belong to one pool only`);
  }
  const poolByName = new Map(pools.map((p) => [p.name, p]));

  // --- 5. BGP peers (v1beta1 read as v1beta2: same names, a subset of the fields). ---
  const peers: BGPPeer[] = [];
  let uncheckedSecrets = false;
  const v1beta1PeerFields = Object.keys(crdSchema('BGPPeer', V1BETA1)?.properties?.spec?.properties ?? {});
  for (const e of ofKind('BGPPeer')) {
    guard(e, () => {
      // v1beta1 → v1beta2: the v1beta1 fields keep their names and meaning; fields that
      // only v1beta2 has were refused by the v1beta1 schema and are not read.
      const s = e.apiVersion === V1BETA1 ? Object.fromEntries(Object.entries(e.spec).filter(([k]) => v1beta1PeerFields.includes(k))) : e.spec;
      const sp = (field: string): FieldPath => ['spec', field];
      const myASN = asInteger(s.myASN);
      const peerASN = asInteger(s.peerASN);
      const localASN = asInteger(s.localASN);
      const dynamicASN = s.dynamicASN === 'internal' || s.dynamicASN === 'external' ? s.dynamicASN : undefined;
      for (const [field, value] of [['myASN', myASN], ['localASN', localASN]] as const) {
        if (value === 0) fail(e, sp(field), 'EASN', `${field} must be 1..4294967295 (AS 0 is reserved, RFC 7607)`);
      }
      // peerASN 0 is how MetalLB's Go types (omitempty) spell "unset".
      const hasPeerASN = isPresent(s.peerASN);
      const hasDynamicASN = isPresent(s.dynamicASN);
      if (hasPeerASN && hasDynamicASN) {
        fail(e, sp('dynamicASN'), 'EPEER', 'peerASN and dynamicASN are mutually exclusive: set exactly one');
      } else if (!hasPeerASN && !hasDynamicASN && !isWrongType(s.peerASN, 'number') && !isWrongType(s.dynamicASN)) {
        fail(e, sp('peerASN'), 'EPEER', 'exactly one of peerASN (1..4294967295) or dynamicASN is required');
      }

      const peerAddressText = nonEmpty(s.peerAddress);
      const iface = nonEmpty(s.interface);
      if (peerAddressText !== undefined && iface !== undefined) {
        fail(e, sp('interface'), 'EPEER', 'peerAddress and interface are mutually exclusive: set exactly one');
      } else if (peerAddressText === undefined && iface === undefined && !isWrongType(s.peerAddress) && !isWrongType(s.interface)) {
        fail(e, sp('peerAddress'), 'EPEER', 'exactly one of peerAddress or interface (unnumbered BGP) is required');
      }
      if (iface !== undefined) {
        const problem = checkInterfaceName(iface);
        if (problem) fail(e, sp('interface'), 'EINTERFACE', problem);
      }
      const peerAddress = peerAddressText !== undefined ? parseIP(peerAddressText) : undefined;
      if (peerAddressText !== undefined && !peerAddress) {
        fail(e, sp('peerAddress'), 'EIP', `"${peerAddressText}" is not an IP address`);
      }
      const sourceText = nonEmpty(s.sourceAddress);
      if (sourceText !== undefined) {
        const source = parseIP(sourceText);
        if (!source) fail(e, sp('sourceAddress'), 'EIP', `"${sourceText}" is not an IP address`);
        else if (peerAddress && source.family !== peerAddress.family) {
          fail(e, sp('sourceAddress'), 'EIP', `${source.family} source address for the ${peerAddress.family} peer address "${peerAddressText}"`);
        }
      }
      const routerID = nonEmpty(s.routerID);
      if (routerID !== undefined && parseIP(routerID)?.family !== 'IPv4') {
        // RFC 4271 4.2 / RFC 6286: the BGP Identifier is a 4-octet value.
        fail(e, sp('routerID'), 'EIP', `"${routerID}" is not an IPv4 address (the BGP identifier is 4 octets, RFC 6286)`);
      }

      const timers = peerTimers(e, fail);

      const password = nonEmpty(s.password);
      const secretRef = asRecord(s.passwordSecret);
      let passwordSecret: SecretReference | undefined;
      // MetalLB reads a passwordSecret without a name as unset: its converter writes
      // `passwordSecret: {}` on every BGPPeer.
      if (secretRef && nonEmpty(secretRef.name) === undefined && nonEmpty(secretRef.namespace) !== undefined) {
        warn(e, ['spec', 'passwordSecret', 'namespace'], 'EPASSWORD', 'passwordSecret has a namespace but no name: it is ignored (no Secret is used)');
      }
      if (secretRef && nonEmpty(secretRef.name) !== undefined) {
        const name = nonEmpty(secretRef.name);
        const namespace = nonEmpty(secretRef.namespace);
        if (password !== undefined) {
          fail(e, sp('passwordSecret'), 'EPASSWORD', 'password and passwordSecret are mutually exclusive: set at most one');
        }
        if (namespace !== undefined && namespace !== lbNamespace) {
          fail(e, ['spec', 'passwordSecret', 'namespace'], 'ESECRET', `the Secret must be in the load balancer's namespace ${lbNamespace}, not ${namespace}`);
        }
        if (name !== undefined) {
          passwordSecret = { name, namespace: lbNamespace };
          const candidates = secrets.filter((x) => x.namespace === lbNamespace);
          if (secrets.length === 0) uncheckedSecrets = true;
          else {
            const secret = candidates.find((x) => x.name === name);
            if (!secret) {
              warn(e, ['spec', 'passwordSecret', 'name'], 'EREFERENCE', `no Secret ${lbNamespace}/${name}: this peer does not take part until it exists`);
              dormant.add(e);
            } else if (secret.type !== BASIC_AUTH) {
              fail(e, ['spec', 'passwordSecret', 'name'], 'ESECRET', `Secret ${lbNamespace}/${name} has type ${secret.type ?? 'Opaque'}; ${BASIC_AUTH} is required`);
            } else if (!secret.keys.includes('password')) {
              fail(e, ['spec', 'passwordSecret', 'name'], 'ESECRET', `Secret ${lbNamespace}/${name} has no "password" key`);
            }
          }
        }
      }

      const bfdProfile = nonEmpty(s.bfdProfile);
      if (bfdProfile !== undefined && !bfdByName.has(bfdProfile)) {
        warn(e, sp('bfdProfile'), 'EREFERENCE', `no BFDProfile named "${bfdProfile}" in ${lbNamespace}: this peer does not take part until it exists`);
        dormant.add(e);
      }
      const ebgpMultiHop = asBoolean(s.ebgpMultiHop) ?? false;
      const internal = dynamicASN === 'internal' || (peerASN !== undefined && peerASN === myASN);
      if (ebgpMultiHop && internal) {
        fail(e, sp('ebgpMultiHop'), 'EMULTIHOP', 'ebgpMultiHop applies to eBGP only, and this peer is iBGP (peer ASN = myASN)');
      }
      if (asBoolean(s.disableMP) === true) {
        notes.push(`BGPPeer ${e.namespace}/${e.name}: disableMP is deprecated and has no effect; see dualStackAddressFamily`);
      }
      const nodeSelectors = selectorList(e, sp('nodeSelectors'), s.nodeSelectors);
      const vrf = nonEmpty(s.vrf);
      // Read and checked but not acted on yet (the BGP issue): say so, never silence.
      if (vrf !== undefined) {
        warn(e, sp('vrf'), 'EUNSUPPORTED', `vrf "${vrf}" is not acted on yet: ferrolb opens this session in the default VRF (the host's main routing table)`);
      }
      if (iface !== undefined && peerAddressText === undefined) {
        warn(e, sp('interface'), 'EUNSUPPORTED', `unnumbered BGP (interface "${iface}") is not implemented yet: no session is opened for this peer`);
      }
      peers.push({
        name: e.name,
        myASN: myASN ?? 0,
        ...(peerASN !== undefined && peerASN !== 0 ? { peerASN } : {}),
        ...(dynamicASN !== undefined ? { dynamicASN } : {}),
        ...(localASN !== undefined ? { localASN } : {}),
        ...(peerAddressText !== undefined ? { peerAddress: peerAddressText } : {}),
        ...(iface !== undefined ? { interface: iface } : {}),
        ...(sourceText !== undefined ? { sourceAddress: sourceText } : {}),
        peerPort: asInteger(s.peerPort) ?? DEFAULT_PEER_PORT,
        ...(routerID !== undefined ? { routerID } : {}),
        holdTime: timers.hold,
        keepaliveTime: timers.keepalive,
        ...(timers.connect !== undefined ? { connectTime: timers.connect } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(passwordSecret ? { passwordSecret } : {}),
        ...(bfdProfile !== undefined ? { bfdProfile } : {}),
        ebgpMultiHop,
        enableGracefulRestart: asBoolean(s.enableGracefulRestart) ?? false,
        nodeSelectors,
        ...(vrf !== undefined ? { vrf } : {}),
        dualStackAddressFamily: asBoolean(s.dualStackAddressFamily) ?? false,
      });
    });
  }
  if (uncheckedSecrets) {
    notes.push(`passwordSecret references were not checked: no Secret of ${lbNamespace} was given`);
  }
  // Two peers that name one session (same address or interface, port and VRF) from the
  // same nodes would fight over it; MetalLB refuses such duplicates too. Nodes count as
  // disjoint by the rule of the localPref check below.
  const sessions = new Map<string, BGPPeer[]>();
  const peerEntryByName = new Map(ofKind('BGPPeer').map((e) => [e.name, e]));
  for (const p of peers) {
    const target = p.peerAddress !== undefined ? `address ${p.peerAddress}` : `interface ${p.interface ?? ''}`;
    const key = `${target}\u0000${p.peerPort}\u0000${p.vrf ?? ''}`;
    const same = sessions.get(key) ?? [];
    const clash = same.find((q) => !nodesDisjoint(q.nodeSelectors, p.nodeSelectors));
    const e = clash ? peerEntryByName.get(p.name) : undefined;
    if (clash && e) {
      const where = p.peerAddress !== undefined ? `${p.peerAddress} port ${p.peerPort}` : `interface ${p.interface} port ${p.peerPort}`;
      fail(e, ['spec', p.peerAddress !== undefined ? 'peerAddress' : 'interface'], 'EPEER',
        `BGPPeer ${clash.name} already opens the session to ${where}${p.vrf ? ` in VRF ${p.vrf}` : ''} from the same nodes (give them disjoint nodeSelectors)`);
    }
    sessions.set(key, [...same, p]);
  }
  const peerByName = new Map(peers.map((p) => [p.name, p]));

  // Pools an advertisement names or selects; naming none and selecting none = every pool.
  const selectPools = (e: Entry): { pools: Pool[]; names: string[]; selectors: LabelSelector[] } => {
    const names = nameList(e, ['spec', 'ipAddressPools'], e.spec.ipAddressPools);
    for (const n of names) {
      if (!poolByName.has(n.name)) {
        warn(e, ['spec', 'ipAddressPools', n.index], 'EREFERENCE', `no IPAddressPool named "${n.name}" in ${lbNamespace}: its addresses are announced once it exists`);
      }
    }
    const selectors = selectorList(e, ['spec', 'ipAddressPoolSelectors'], e.spec.ipAddressPoolSelectors);
    const rawSelectors = Array.isArray(e.spec.ipAddressPoolSelectors) ? e.spec.ipAddressPoolSelectors : [];
    const everyPool = names.length === 0 && rawSelectors.length === 0;
    const chosen = pools.filter(
      (p) => everyPool || names.some((n) => n.name === p.name) || selectors.some((s) => selectorMatches(s, p.labels)),
    );
    return { pools: chosen, names: names.map((n) => n.name), selectors };
  };

  // MetalLB main's L2Advertisement.preferredNodeSelectors: weights 1..100 (the schema's
  // range), each preference a label selector over nodes.
  const preferredNodeSelectors = (e: Entry, raw: unknown): PreferredNodeSelector[] => {
    if (!Array.isArray(raw)) return [];
    const out: PreferredNodeSelector[] = [];
    raw.forEach((item, i) => {
      const term = asRecord(item);
      const weight = asInteger(term?.weight);
      if (!term || weight === undefined || weight < 1 || weight > 100) return; // the schema reported it
      const problems: SelectorProblem[] = [];
      const preference = checkSelector(term.preference ?? {}, ['spec', 'preferredNodeSelectors', i, 'preference'], problems);
      for (const p of problems) fail(e, p.path, 'ESELECTOR', p.message);
      if (preference) out.push({ weight, preference });
    });
    if (out.length > 0) {
      notes.push(`L2Advertisement ${e.namespace}/${e.name}: preferredNodeSelectors is read and checked, but the L2 election does not use it yet`);
    }
    return out;
  };

  // --- 6. L2 advertisements. ---
  const l2Advertisements: L2Advertisement[] = [];
  for (const e of ofKind('L2Advertisement')) {
    guard(e, () => {
      const s = e.spec;
      const selected = selectPools(e);
      l2Advertisements.push({
        name: e.name,
        ipAddressPools: selected.names,
        ipAddressPoolSelectors: selected.selectors,
        nodeSelectors: selectorList(e, ['spec', 'nodeSelectors'], s.nodeSelectors),
        interfaces: nameList(e, ['spec', 'interfaces'], s.interfaces).map((n) => {
          const problem = checkInterfaceName(n.name);
          if (problem) fail(e, ['spec', 'interfaces', n.index], 'EINTERFACE', problem);
          return n.name;
        }),
        serviceSelectors: selectorList(e, ['spec', 'serviceSelectors'], s.serviceSelectors),
        preferredNodeSelectors: preferredNodeSelectors(e, s.preferredNodeSelectors),
      });
    });
  }

  // --- 7. BGP advertisements. ---
  interface BGPAdvertisementFacts {
    readonly entry: Entry;
    readonly advertisement: BGPAdvertisement;
    readonly pools: readonly Pool[];
  }
  const bgpFacts: BGPAdvertisementFacts[] = [];
  // The shortest prefix of an entry's CIDR cover, computed once per entry (many
  // advertisements may select one pool).
  const shortestPrefixes = new Map<AddressRange, number>();
  const shortestPrefix = (range: AddressRange): number => {
    let prefix = shortestPrefixes.get(range);
    if (prefix === undefined) {
      prefix = Math.min(...rangeToCidrs(range).map((c) => c.prefix));
      shortestPrefixes.set(range, prefix);
    }
    return prefix;
  };
  for (const e of ofKind('BGPAdvertisement')) {
    guard(e, () => {
      const s = e.spec;
      const aggregationLength = asInteger(s.aggregationLength) ?? 32;
      const aggregationLengthV6 = asInteger(s.aggregationLengthV6) ?? 128;
      const selected = selectPools(e);
      // MetalLB: the announced prefix (service IP masked to the aggregation length) may
      // not be shorter than the shortest prefix of an entry's CIDR cover, or it would
      // announce addresses outside the pool.
      for (const pool of selected.pools) {
        for (const range of pool.ranges) {
          const length = range.family === 'IPv4' ? aggregationLength : aggregationLengthV6;
          const field = range.family === 'IPv4' ? 'aggregationLength' : 'aggregationLengthV6';
          if (length < 1 || length > (range.family === 'IPv4' ? 32 : 128)) continue; // the schema reported it
          const shortest = shortestPrefix(range);
          if (length < shortest) {
            fail(
              e,
              ['spec', field],
              'EAGGREGATION',
              `${field} ${length} is shorter than the prefix /${shortest} of "${range.text}" in IPAddressPool ${pool.name}: ` +
                `a /${length} would announce addresses outside the pool`,
            );
          }
        }
      }
      const communities: BGPCommunity[] = [];
      const seenCommunities = new Map<string, number>();
      nameList(e, ['spec', 'communities'], s.communities).forEach(({ name: text, index }) => {
        const path = ['spec', 'communities', index];
        const alias = aliases.get(text);
        let community: BGPCommunity;
        if (alias) community = alias.community;
        else {
          const parsed = parseCommunity(text);
          if ('reason' in parsed) {
            // MetalLB's rule: a name without ':' can only be a Community alias, which
            // may be created later; with ':' it is a value, wrong in itself.
            if (!text.includes(':')) {
              warn(e, path, 'EREFERENCE', `no Community alias named "${text}" in ${lbNamespace}: this advertisement does not take part until it exists`);
              dormant.add(e);
            } else fail(e, path, 'ECOMMUNITY', parsed.reason);
            return;
          }
          community = parsed.community;
        }
        const key = formatCommunity(community);
        const earlier = seenCommunities.get(key);
        if (earlier !== undefined) {
          fail(e, path, 'EDUPLICATEENTRY', `community ${key} is listed twice (also spec.communities[${earlier}])`);
          return;
        }
        seenCommunities.set(key, index);
        communities.push(community);
      });
      const peerNames = nameList(e, ['spec', 'peers'], s.peers);
      for (const p of peerNames) {
        if (!peerByName.has(p.name)) {
          warn(e, ['spec', 'peers', p.index], 'EREFERENCE', `no BGPPeer named "${p.name}" in ${lbNamespace}: nothing is announced to it until it exists`);
        }
      }
      const localPref = asInteger(s.localPref);
      const advertisement: BGPAdvertisement = {
        name: e.name,
        aggregationLength,
        aggregationLengthV6,
        ...(localPref !== undefined ? { localPref } : {}),
        communities,
        ipAddressPools: selected.names,
        ipAddressPoolSelectors: selected.selectors,
        nodeSelectors: selectorList(e, ['spec', 'nodeSelectors'], s.nodeSelectors),
        peers: peerNames.map((p) => p.name),
        serviceSelectors: selectorList(e, ['spec', 'serviceSelectors'], s.serviceSelectors),
      };
      bgpFacts.push({ entry: e, advertisement, pools: selected.pools });
    });
  }

  // --- 8. localPref conflicts. ---
  // Two advertisements of one pool with different localPref (unset = 0, as MetalLB sends
  // it) would announce one prefix with two LOCAL_PREFs, unless they cannot announce the
  // same prefix over the same session. ferrolb's rule, decided from configuration alone:
  //   - aggregation lengths disjoint: for every family present in the pool, the two
  //     advertisements use different lengths (so the prefixes differ);
  //   - peers disjoint: both list peers and no peer is in both lists;
  //   - nodes disjoint: both have nodeSelectors and no selector of one is identical
  //     (same requirements) to a selector of the other. Selectors that differ may still
  //     both match some node; that case is accepted, as the nodes are not known here.
  const reported = new Set<string>();
  const advertisementsOf = new Map<Pool, BGPAdvertisementFacts[]>();
  for (const f of bgpFacts) for (const p of f.pools) advertisementsOf.set(p, [...(advertisementsOf.get(p) ?? []), f]);
  for (const pool of pools) {
    const using = advertisementsOf.get(pool) ?? [];
    const families = new Set<Family>(pool.ranges.map((r) => r.family));
    for (let j = 0; j < using.length; j++) {
      for (let i = 0; i < j; i++) {
        const a = using[i]!;
        const b = using[j]!;
        const prefA = a.advertisement.localPref ?? 0;
        const prefB = b.advertisement.localPref ?? 0;
        if (prefA === prefB) continue;
        const pairKey = `${a.entry.name}\u0000${b.entry.name}`;
        if (reported.has(pairKey)) continue;
        if (localPrefSeparated(a.advertisement, b.advertisement, families)) continue;
        reported.add(pairKey);
        fail(
          b.entry,
          ['spec', 'localPref'],
          'ELOCALPREF',
          `localPref ${prefB} conflicts with localPref ${prefA} of BGPAdvertisement ${a.entry.name} for IPAddressPool ${pool.name}: ` +
            `both would announce the same prefixes to the same peers from the same nodes ` +
            `(make their aggregation lengths, peers or nodeSelectors disjoint)`,
        );
      }
    }
  }

  // --- 9. BFD echo mode carries IPv4 only. ---
  // FRR's bfdd (and RFC 5880's echo function as deployed) supports echo for IPv4
  // single-hop sessions only; a peer with an echo-mode profile must neither be an IPv6
  // peer nor be sent an IPv6 pool.
  for (const peer of peers) {
    const profile = peer.bfdProfile !== undefined ? bfdByName.get(peer.bfdProfile) : undefined;
    if (!profile?.echoMode) continue;
    const e = peerEntryByName.get(peer.name);
    if (!e) continue;
    if (peer.peerAddress !== undefined && parseIP(peer.peerAddress)?.family === 'IPv6') {
      fail(e, ['spec', 'bfdProfile'], 'EECHO', `BFDProfile ${profile.name} enables echoMode, which works with IPv4 only, and this peer is IPv6`);
      continue;
    }
    const v6 = bgpFacts
      .filter((f) => f.advertisement.peers.length === 0 || f.advertisement.peers.includes(peer.name))
      .flatMap((f) => f.pools.filter((p) => p.ranges.some((r) => r.family === 'IPv6')).map((p) => ({ f, p })))[0];
    if (v6) {
      fail(
        e,
        ['spec', 'bfdProfile'],
        'EECHO',
        `BFDProfile ${profile.name} enables echoMode, which works with IPv4 only, and BGPAdvertisement ${v6.f.entry.name} ` +
          `announces the IPv6 addresses of IPAddressPool ${v6.p.name} to this peer`,
      );
    }
  }

  // Errors in reading order: files in input order, then by line.
  const fileRank = new Map<string, number>();
  for (const doc of documents) if (doc.file !== undefined && !fileRank.has(doc.file)) fileRank.set(doc.file, fileRank.size);
  const rank = (x: ConfigError): number => (x.file !== undefined ? (fileRank.get(x.file) ?? fileRank.size) : fileRank.size + 1);
  const sorted = errors
    .map((x, i) => ({ x, i }))
    .sort((a, b) => rank(a.x) - rank(b.x) || (a.x.line ?? 0) - (b.x.line ?? 0) || a.i - b.i)
    .map(({ x }) => x);
  const warnings = sorted.filter(isWarning);
  const failures = sorted.filter((x) => !isWarning(x));

  if (failures.length > 0) return { errors: failures, warnings, notes, objects };
  const byName = <T extends { name: string }>(xs: T[]): T[] => xs.sort((a, b) => compare(a.name, b.name));
  const dormantNames = (kind: MetalLBKind): Set<string> => new Set([...dormant].filter((d) => d.kind === kind).map((d) => d.name));
  const dormantPeers = dormantNames('BGPPeer');
  const dormantAdvertisements = dormantNames('BGPAdvertisement');
  const config: Config = deepFreeze({
    pools: byName(pools),
    l2Advertisements: byName(l2Advertisements),
    bgpAdvertisements: byName(bgpFacts.map((f) => f.advertisement).filter((a) => !dormantAdvertisements.has(a.name))),
    bgpPeers: byName(peers.filter((p) => !dormantPeers.has(p.name))),
    bfdProfiles: byName(bfdProfiles),
  });
  return { config, errors: [], warnings, notes, objects };
}

function localPrefSeparated(a: BGPAdvertisement, b: BGPAdvertisement, families: ReadonlySet<Family>): boolean {
  const lengthsDiffer = [...families].every((f) =>
    f === 'IPv4' ? a.aggregationLength !== b.aggregationLength : a.aggregationLengthV6 !== b.aggregationLengthV6,
  );
  if (families.size > 0 && lengthsDiffer) return true;
  if (a.peers.length > 0 && b.peers.length > 0 && !a.peers.some((p) => b.peers.includes(p))) return true;
  return nodesDisjoint(a.nodeSelectors, b.nodeSelectors);
}

/**
 * Whether two node selector lists are taken to select disjoint nodes, from
 * configuration alone: both are set and no selector of one is identical (same
 * requirements) to a selector of the other. An empty list selects every node.
 */
function nodesDisjoint(a: readonly LabelSelector[], b: readonly LabelSelector[]): boolean {
  if (a.length === 0 || b.length === 0) return false;
  const keys = new Set(a.map(selectorKey));
  return !b.some((s) => keys.has(selectorKey(s)));
}

/**
 * BGP timers of a peer, in whole seconds. MetalLB's rules: a missing hold time is
 * derived as 3 × keepalive, a missing keepalive as hold / 3, neither given = 90 s / 30 s;
 * the hold time is 0 (no keepalives, RFC 4271 4.4) or at least 3 s (RFC 4271 4.2);
 * keepalive <= hold. Fractions of a second are dropped, as MetalLB truncates them.
 */
function peerTimers(
  e: Entry,
  fail: (e: Entry, path: FieldPath, code: ConfigErrorCode, message: string) => void,
): { hold: number; keepalive: number; connect?: number } {
  const seconds = (field: 'holdTime' | 'keepaliveTime' | 'connectTime'): { whole: number; nanos: bigint } | undefined => {
    const text = nonEmpty(e.spec[field]);
    if (text === undefined) return undefined;
    const parsed = parseGoDuration(text);
    if ('reason' in parsed) {
      fail(e, ['spec', field], 'EDURATION', parsed.reason);
      return undefined;
    }
    if (parsed.nanos < 0n) {
      fail(e, ['spec', field], 'ETIMER', `"${text}" is negative`);
      return undefined;
    }
    return { whole: Number(parsed.nanos / NANOS_PER_SECOND), nanos: parsed.nanos };
  };
  const holdGiven = seconds('holdTime');
  const keepaliveGiven = seconds('keepaliveTime');
  const connectGiven = seconds('connectTime');
  let hold = holdGiven?.whole;
  let keepalive = keepaliveGiven?.whole;
  if (hold === undefined && keepalive === undefined) {
    hold = DEFAULT_HOLD_SECONDS;
    keepalive = DEFAULT_HOLD_SECONDS / 3;
  } else if (hold === undefined) {
    hold = 3 * keepalive!;
  } else if (keepalive === undefined) {
    keepalive = Math.floor(hold / 3);
  }
  const holdField = holdGiven ? 'holdTime' : 'keepaliveTime';
  let ok = true;
  if (hold !== 0 && hold < 3) {
    fail(e, ['spec', holdField], 'ETIMER', `hold time ${hold}s must be 0 (no keepalives) or at least 3s (RFC 4271 4.2)`);
    ok = false;
  } else if (hold > MAX_TIMER_SECONDS) {
    fail(e, ['spec', holdField], 'ETIMER', `hold time ${hold}s exceeds ${MAX_TIMER_SECONDS}s (RFC 4271 4.2: a 2-octet field)`);
    ok = false;
  }
  if (ok && keepaliveGiven && keepalive! > hold!) {
    fail(e, ['spec', 'keepaliveTime'], 'ETIMER', `keepalive time ${keepalive}s is longer than the hold time ${hold}s`);
  }
  let connect: number | undefined;
  if (connectGiven) {
    if (connectGiven.nanos % NANOS_PER_SECOND !== 0n) {
      fail(e, ['spec', 'connectTime'], 'ETIMER', 'connect time must be a whole number of seconds');
    } else if (connectGiven.whole < 1 || connectGiven.whole > MAX_TIMER_SECONDS) {
      fail(e, ['spec', 'connectTime'], 'ETIMER', `connect time ${connectGiven.whole}s must be 1s..${MAX_TIMER_SECONDS}s`);
    } else connect = connectGiven.whole;
  }
  return { hold: hold!, keepalive: keepalive!, ...(connect !== undefined ? { connect } : {}) };
}

// --- Small readers of raw values. A value of the wrong type reads as absent: the
// schema check has reported it already. ---

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
function asInteger(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}
function asBoolean(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}
function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && v !== 0;
}
/** Present but not of the expected type (the schema check reported it). */
function isWrongType(v: unknown, type: 'string' | 'number' = 'string'): boolean {
  return v !== undefined && v !== null && typeof v !== type;
}

/** Code-point order, independent of locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
