// MetalLB's configuration before v0.13: one ConfigMap (metallb-system/config) whose
// `config` key holds YAML with `peers`, `address-pools`, `bgp-communities` and
// `bfd-profiles`. MetalLB no longer reads it, nor does ferrolb; `ferrolb migrate-config`
// turns it into the metallb.io resources that MetalLB's own converter (configmaptocrs)
// writes, object for object, so a user migrating gets what MetalLB's documentation
// shows, and every field that does not convert is named (MetalLB's converter drops such
// fields without a word). Pure: text in, objects and findings out.
import { closest, formatPath, type FieldPath } from '../api/schema.ts';
import { durationNumberHint, formatGoSeconds, NANOS_PER_SECOND, parseGoDuration } from './duration.ts';
import type { ConfigError } from './errors.ts';
import { parseYAMLDocuments } from './load.ts';
import { isLegacyConfigData, TOP_KEYS } from './legacy-format.ts';

const DEFAULT_NAMESPACE = 'metallb-system';
// configmaptocrs: a name already fit for Kubernetes is kept as it is.
const K8S_NAME = /^[a-z][-a-z0-9]{0,61}[a-z0-9]$/;

export interface Migration {
  /** The metallb.io resources, in configmaptocrs' order; empty when an error prevents it. */
  readonly objects: Record<string, unknown>[];
  /** Errors (nothing converted) and warnings (a field not converted). */
  readonly findings: ConfigError[];
  /** Renamed objects and what was read. */
  readonly notes: string[];
}

type Obj = Record<string, unknown>;

/**
 * Converts a legacy configuration: a ConfigMap manifest (its `data.config`), or the bare
 * `config` data. The resources go to the ConfigMap's namespace (metallb-system when it
 * has none or for bare data), as configmaptocrs does.
 */
export function migrateLegacyConfig(text: string, file?: string): Migration {
  const source = legacyData(text, file);
  if ('findings' in source) return source;
  const r = new LegacyReader(source, file);
  const top = r.mapping([], source.data, TOP_KEYS)!;
  const bfdProfiles = convertBFDProfiles(r, top);
  const communities = convertCommunities(r, top);
  const peers = convertPeers(r, top);
  const { pools, bgpAdvertisements, l2Advertisements } = convertPools(r, top);
  if (r.errors() > 0) return { objects: [], findings: r.findings, notes: r.notes };
  return { objects: [...peers, ...pools, ...bgpAdvertisements, ...l2Advertisements, ...bfdProfiles, ...communities], findings: r.findings, notes: r.notes };
}

/** The legacy data found in the text, with where each of its fields sits. */
interface LegacySource {
  readonly data: Obj;
  readonly lineOf: (path: FieldPath) => number | undefined;
  readonly namespace: string;
}

function located(file: string | undefined, line: number | undefined): { file?: string; line?: number } {
  return { ...(file !== undefined ? { file } : {}), ...(line !== undefined ? { line } : {}) };
}

/** The `config` data of a ConfigMap manifest, or bare legacy data; a Migration with only findings when there is none. */
function legacyData(text: string, file: string | undefined): LegacySource | Migration {
  const fail = (findings: ConfigError[]): Migration => ({ objects: [], findings, notes: [] });
  const outer = parseYAMLDocuments(text, file);
  if (outer.errors.length > 0) return fail(outer.errors);
  const configMap = outer.documents.find((d) => d.value.kind === 'ConfigMap');
  if (!configMap) {
    const bare = outer.documents.filter((d) => isLegacyConfigData(d.value));
    if (bare.length !== 1 || outer.documents.length !== 1) {
      return fail([{
        code: 'ELEGACY',
        ...located(file, outer.documents[0]?.lineOf([])),
        message: `is neither a ConfigMap with a \`config\` key nor MetalLB's legacy \`config\` data (a mapping with ${TOP_KEYS.join(', ')})`,
      }]);
    }
    return { data: bare[0]!.value, lineOf: bare[0]!.lineOf, namespace: DEFAULT_NAMESPACE };
  }
  const meta = asRecord(configMap.value.metadata);
  const namespace = typeof meta?.namespace === 'string' && meta.namespace !== '' ? meta.namespace : DEFAULT_NAMESPACE;
  const config = asRecord(configMap.value.data)?.config;
  if (typeof config !== 'string' || config.trim() === '') {
    return fail([{ code: 'ELEGACY', ...located(file, configMap.lineOf(['data'])), path: 'data.config', message: 'this ConfigMap has no `config` data: there is nothing to convert' }]);
  }
  const inner = parseYAMLDocuments(config, file);
  // Lines inside the block scalar count from the line after the `config:` key.
  const base = configMap.lineOf(['data', 'config']) ?? 0;
  if (inner.errors.length > 0 || inner.documents.length !== 1) {
    const findings = inner.errors.map((e) => (e.line !== undefined ? { ...e, line: e.line + base } : e));
    if (inner.documents.length > 1) findings.push({ code: 'ELEGACY', ...located(file, base), path: 'data.config', message: 'holds more than one YAML document' });
    return fail(findings);
  }
  const doc = inner.documents[0]!;
  return {
    data: doc.value,
    lineOf: (p) => {
      const l = doc.lineOf(p);
      return l !== undefined ? l + base : undefined;
    },
    namespace,
  };
}

/**
 * Reads the legacy fields as configmaptocrs does, collecting every finding with its
 * line: a wrong type is an error (MetalLB's converter stops on it too), an unknown key a
 * warning (it drops those without a word).
 */
class LegacyReader {
  readonly findings: ConfigError[] = [];
  readonly notes: string[] = [];
  readonly #source: LegacySource;
  readonly #file: string | undefined;

  constructor(source: LegacySource, file: string | undefined) {
    this.#source = source;
    this.#file = file;
  }

  report(severity: 'error' | 'warning', path: FieldPath, message: string): void {
    this.findings.push({ code: 'ELEGACY', ...(severity === 'warning' ? { severity } : {}), ...located(this.#file, this.#source.lineOf(path)), path: formatPath(path), message });
  }

  typeError(path: FieldPath, expected: string, value: unknown): void {
    this.report('error', path, `must be ${expected}, not ${describe(value)} (MetalLB's converter stops on it too)`);
  }

  errors(): number {
    return this.findings.filter((f) => f.severity !== 'warning').length;
  }

  /** A metallb.io object's metadata, in the ConfigMap's namespace. */
  meta(name: string): Obj {
    return { name, namespace: this.#source.namespace };
  }

  /** The keys of a mapping that configmaptocrs reads; any other is named as not converted. */
  mapping(path: FieldPath, value: unknown, known: readonly string[]): Obj | undefined {
    if (value === undefined || value === null) return undefined;
    const m = asRecord(value);
    if (!m) {
      this.typeError(path, 'a mapping', value);
      return undefined;
    }
    for (const key of Object.keys(m)) {
      if (!known.includes(key)) {
        const near = closest(key, known);
        this.report('warning', [...path, key], `not a field of MetalLB's legacy format${near ? ` (did you mean ${near}?)` : ''}: not converted`);
      }
    }
    return m;
  }

  /** A mapping whose keys are names (any key is known). */
  names(path: FieldPath, value: unknown): Obj | undefined {
    return this.mapping(path, value, Object.keys(asRecord(value) ?? {}));
  }

  list(path: FieldPath, value: unknown): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.typeError(path, 'a list', value);
      return [];
    }
    return value;
  }

  str(path: FieldPath, value: unknown): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.typeError(path, 'a string', value);
      return undefined;
    }
    return value;
  }

  uint(path: FieldPath, value: unknown, max: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      this.typeError(path, `an integer 0..${max}`, value);
      return undefined;
    }
    return value;
  }

  int32(path: FieldPath, value: unknown): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
      this.typeError(path, 'a 32-bit integer', value);
      return undefined;
    }
    return value;
  }

  bool(path: FieldPath, value: unknown): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') {
      this.typeError(path, 'true or false', value);
      return undefined;
    }
    return value;
  }

  strings(path: FieldPath, value: unknown): string[] {
    return this.list(path, value).flatMap((v, i) => {
      const s = this.str([...path, i], v);
      return s === undefined ? [] : [s];
    });
  }

  /** A Go duration (`90s`, `1m30s`) as whole seconds (configmaptocrs truncates); empty or absent gives dflt. */
  seconds(path: FieldPath, value: unknown, dflt?: number): number | undefined {
    if (typeof value === 'number') {
      this.report('error', path, durationNumberHint(value));
      return undefined;
    }
    const text = this.str(path, value);
    if (text === undefined || text === '') return dflt;
    const parsed = parseGoDuration(text);
    if ('reason' in parsed) {
      this.report('error', path, parsed.reason);
      return undefined;
    }
    return Number(parsed.nanos / NANOS_PER_SECOND);
  }

  /** configmaptocrs' renaming of an object name, said in a note when it changes. */
  renamed(path: FieldPath, name: string | undefined, kind: string): string | undefined {
    if (name === undefined) return undefined;
    const converted = k8sName(name);
    if (converted === undefined) {
      this.report('error', path, `${kind} name "${name}" has no letter: it cannot be made a Kubernetes name`);
      return undefined;
    }
    if (converted !== name) this.notes.push(`${kind} "${name}" is named "${converted}" (Kubernetes names are lowercase DNS labels)`);
    return converted;
  }
}

function convertBFDProfiles(r: LegacyReader, top: Obj): Obj[] {
  return r.list(['bfd-profiles'], top['bfd-profiles']).flatMap((raw, i) => {
    const p: FieldPath = ['bfd-profiles', i];
    const b = r.mapping(p, raw, ['name', 'receive-interval', 'transmit-interval', 'detect-multiplier', 'echo-interval', 'echo-mode', 'passive-mode', 'minimum-ttl']);
    if (!b) return [];
    const name = r.renamed([...p, 'name'], r.str([...p, 'name'], b.name) ?? '', 'BFDProfile');
    const u32 = (key: string) => r.uint([...p, key], b[key], 0xffffffff);
    const [detectMultiplier, echoInterval, minimumTtl, receiveInterval, transmitInterval] = ['detect-multiplier', 'echo-interval', 'minimum-ttl', 'receive-interval', 'transmit-interval'].map(u32);
    return [resource('BFDProfile', 'metallb.io/v1beta1', r.meta(name ?? ''), {
      ...opt('detectMultiplier', detectMultiplier),
      ...opt('echoInterval', echoInterval),
      // configmaptocrs always writes these two, false when unset.
      echoMode: r.bool([...p, 'echo-mode'], b['echo-mode']) ?? false,
      ...opt('minimumTtl', minimumTtl),
      passiveMode: r.bool([...p, 'passive-mode'], b['passive-mode']) ?? false,
      ...opt('receiveInterval', receiveInterval),
      ...opt('transmitInterval', transmitInterval),
    }, {})];
  });
}

/** bgp-communities: one Community named "communities", aliases sorted by name. */
function convertCommunities(r: LegacyReader, top: Obj): Obj[] {
  const aliases = r.names(['bgp-communities'], top['bgp-communities']);
  if (!aliases || Object.keys(aliases).length === 0) return [];
  const entries = Object.keys(aliases)
    .sort(compare)
    .flatMap((name) => {
      const value = r.str(['bgp-communities', name], aliases[name]);
      return value === undefined ? [] : [{ name, value }];
    });
  return [resource('Community', 'metallb.io/v1beta1', r.meta('communities'), { communities: entries }, {})];
}

const PEER_KEYS = ['my-asn', 'peer-asn', 'peer-address', 'source-address', 'peer-port', 'hold-time', 'keepalive-time', 'router-id', 'node-selectors', 'password', 'bfd-profile', 'ebgp-multihop'];

/** peers: peer1, peer2, ... in order. */
function convertPeers(r: LegacyReader, top: Obj): Obj[] {
  return r.list(['peers'], top.peers).flatMap((raw, i) => {
    const p: FieldPath = ['peers', i];
    const x = r.mapping(p, raw, PEER_KEYS);
    if (!x) return [];
    const hold = r.seconds([...p, 'hold-time'], x['hold-time'], 90);
    if (hold !== undefined && hold !== 0 && hold < 3) r.report('error', [...p, 'hold-time'], `hold time ${hold}s must be 0 or at least 3s`);
    const keepalive = r.seconds([...p, 'keepalive-time'], x['keepalive-time']);
    const selectors = convertNodeSelectors(r, [...p, 'node-selectors'], x['node-selectors']);
    const bfdName = r.str([...p, 'bfd-profile'], x['bfd-profile']);
    const bfdProfile = bfdName ? r.renamed([...p, 'bfd-profile'], bfdName, 'BFDProfile') : undefined;
    const nonEmpty = (key: string): string | undefined => {
      const s = r.str([...p, key], x[key]);
      return s === '' ? undefined : s;
    };
    const peerPort = r.uint([...p, 'peer-port'], x['peer-port'], 0xffff);
    const peerASN = r.uint([...p, 'peer-asn'], x['peer-asn'], 0xffffffff);
    return [resource('BGPPeer', 'metallb.io/v1beta2', r.meta(`peer${i + 1}`), {
      ...opt('bfdProfile', bfdProfile),
      ...(r.bool([...p, 'ebgp-multihop'], x['ebgp-multihop']) === true ? { ebgpMultiHop: true } : {}),
      ...(hold !== undefined ? { holdTime: formatGoSeconds(hold) } : {}),
      ...(keepalive !== undefined ? { keepaliveTime: formatGoSeconds(keepalive) } : {}),
      myASN: r.uint([...p, 'my-asn'], x['my-asn'], 0xffffffff) ?? 0,
      ...(selectors.length > 0 ? { nodeSelectors: selectors } : {}),
      ...opt('password', nonEmpty('password')),
      // configmaptocrs writes an empty passwordSecret on every peer; MetalLB reads it as unset.
      passwordSecret: {},
      ...(peerASN ? { peerASN } : {}),
      ...opt('peerAddress', nonEmpty('peer-address')),
      ...(peerPort ? { peerPort } : {}),
      ...opt('routerID', nonEmpty('router-id')),
      ...opt('sourceAddress', nonEmpty('source-address')),
    }, {})];
  });
}

/** A peer's node-selectors, as Kubernetes label selectors. */
function convertNodeSelectors(r: LegacyReader, path: FieldPath, value: unknown): Obj[] {
  return r.list(path, value).flatMap((rawSel, j) => {
    const sp: FieldPath = [...path, j];
    const sel = r.mapping(sp, rawSel, ['match-labels', 'match-expressions']);
    if (!sel) return [];
    const matchLabels: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.names([...sp, 'match-labels'], sel['match-labels']) ?? {})) {
      const s = r.str([...sp, 'match-labels', k], v);
      if (s !== undefined) matchLabels[k] = s;
    }
    const expressions = r.list([...sp, 'match-expressions'], sel['match-expressions']).flatMap((rawReq, k) => {
      const rp: FieldPath = [...sp, 'match-expressions', k];
      const req = r.mapping(rp, rawReq, ['key', 'operator', 'values']);
      if (!req) return [];
      const values = r.strings([...rp, 'values'], req.values);
      return [{ key: r.str([...rp, 'key'], req.key) ?? '', operator: r.str([...rp, 'operator'], req.operator) ?? '', ...(values.length > 0 ? { values } : {}) }];
    });
    return [{ ...(expressions.length > 0 ? { matchExpressions: expressions } : {}), ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}) }];
  });
}

/** address-pools: IPAddressPools, then their advertisements (numbered across pools). */
function convertPools(r: LegacyReader, top: Obj): { pools: Obj[]; bgpAdvertisements: Obj[]; l2Advertisements: Obj[] } {
  const pools: Obj[] = [];
  const bgpAdvertisements: Obj[] = [];
  const l2Advertisements: Obj[] = [];
  const advertise = (kind: 'BGPAdvertisement' | 'L2Advertisement', spec: Obj): void => {
    const into = kind === 'BGPAdvertisement' ? bgpAdvertisements : l2Advertisements;
    into.push(resource(kind, 'metallb.io/v1beta1', r.meta(`${kind.toLowerCase()}${into.length + 1}`), spec, {}));
  };
  r.list(['address-pools'], top['address-pools']).forEach((raw, i) => {
    const p: FieldPath = ['address-pools', i];
    const x = r.mapping(p, raw, ['name', 'protocol', 'addresses', 'auto-assign', 'avoid-buggy-ips', 'bgp-advertisements']);
    if (!x) return;
    const name = r.renamed([...p, 'name'], r.str([...p, 'name'], x.name) ?? '', 'IPAddressPool') ?? '';
    const autoAssign = r.bool([...p, 'auto-assign'], x['auto-assign']);
    pools.push(resource('IPAddressPool', 'metallb.io/v1beta1', r.meta(name), {
      addresses: r.strings([...p, 'addresses'], x.addresses),
      ...opt('autoAssign', autoAssign),
      ...(r.bool([...p, 'avoid-buggy-ips'], x['avoid-buggy-ips']) === true ? { avoidBuggyIPs: true } : {}),
    }, { assignedIPv4: 0, assignedIPv6: 0, availableIPv4: 0, availableIPv6: 0 }));
    const protocol = r.str([...p, 'protocol'], x.protocol);
    const advertisements = r.list([...p, 'bgp-advertisements'], x['bgp-advertisements']);
    advertisements.forEach((rawAd, j) => {
      const ap: FieldPath = [...p, 'bgp-advertisements', j];
      const ad = r.mapping(ap, rawAd, ['aggregation-length', 'aggregation-length-v6', 'localpref', 'communities']);
      if (!ad) return;
      const adCommunities = r.strings([...ap, 'communities'], ad.communities);
      const localPref = r.uint([...ap, 'localpref'], ad.localpref, 0xffffffff);
      advertise('BGPAdvertisement', {
        ...opt('aggregationLength', r.int32([...ap, 'aggregation-length'], ad['aggregation-length'])),
        ...opt('aggregationLengthV6', r.int32([...ap, 'aggregation-length-v6'], ad['aggregation-length-v6'])),
        ...(adCommunities.length > 0 ? { communities: adCommunities } : {}),
        ipAddressPools: [name],
        ...(localPref ? { localPref } : {}),
      });
    });
    if (advertisements.length === 0 && protocol === 'bgp') advertise('BGPAdvertisement', { ipAddressPools: [name] });
    if (protocol === 'layer2') advertise('L2Advertisement', { ipAddressPools: [name] });
    else if (protocol !== 'bgp') {
      // configmaptocrs knows only "bgp" and "layer2"; any other pool gets no advertisement.
      r.report(
        'warning',
        [...p, protocol === undefined ? 'name' : 'protocol'],
        `${protocol === undefined ? 'no protocol' : `protocol "${protocol}" is neither bgp nor layer2`}: no advertisement is written for IPAddressPool ${name}` +
          `${advertisements.length > 0 ? ' other than its bgp-advertisements' : ''}, so ${advertisements.length > 0 ? 'it is not announced by L2' : 'its addresses are assigned but not announced'} (as MetalLB's converter does)`,
      );
    }
  });
  return { pools, bgpAdvertisements, l2Advertisements };
}

/** configmaptocrs' renaming: at most 63 characters, lowercase, '_' as '-', from the first letter on. */
function k8sName(name: string): string | undefined {
  if (K8S_NAME.test(name)) return name;
  const lower = name.slice(0, 63).toLowerCase().replaceAll('_', '-');
  const first = lower.search(/[a-z]/);
  return first < 0 ? undefined : lower.slice(first);
}

function resource(kind: string, apiVersion: string, metadata: Obj, spec: Obj, status: Obj): Obj {
  return { apiVersion, kind, metadata, spec, status };
}

function opt(key: string, value: unknown): Obj {
  return value === undefined ? {} : { [key]: value };
}

function asRecord(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
