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
  const findings: ConfigError[] = [];
  const notes: string[] = [];
  const none = (): Migration => ({ objects: [], findings, notes });
  const at = (line: number | undefined) => ({ ...(file !== undefined ? { file } : {}), ...(line !== undefined ? { line } : {}) });

  const outer = parseYAMLDocuments(text, file);
  if (outer.errors.length > 0) return { objects: [], findings: outer.errors, notes };
  let data: Obj;
  let lineOf: (path: FieldPath) => number | undefined;
  let namespace = DEFAULT_NAMESPACE;
  const configMap = outer.documents.find((d) => d.value.kind === 'ConfigMap');
  if (configMap) {
    const meta = asRecord(configMap.value.metadata);
    if (typeof meta?.namespace === 'string' && meta.namespace !== '') namespace = meta.namespace;
    const config = asRecord(configMap.value.data)?.config;
    if (typeof config !== 'string' || config.trim() === '') {
      findings.push({ code: 'ELEGACY', ...at(configMap.lineOf(['data'])), path: 'data.config', message: 'this ConfigMap has no `config` data: there is nothing to convert' });
      return none();
    }
    const inner = parseYAMLDocuments(config, file);
    // Lines inside the block scalar count from the line after the `config:` key.
    const base = configMap.lineOf(['data', 'config']) ?? 0;
    const shift = (e: ConfigError): ConfigError => (e.line !== undefined ? { ...e, line: e.line + base } : e);
    if (inner.errors.length > 0 || inner.documents.length !== 1) {
      findings.push(...inner.errors.map(shift));
      if (inner.documents.length > 1) findings.push({ code: 'ELEGACY', ...at(base), path: 'data.config', message: 'holds more than one YAML document' });
      return none();
    }
    const doc = inner.documents[0]!;
    data = doc.value;
    lineOf = (p) => {
      const l = doc.lineOf(p);
      return l !== undefined ? l + base : undefined;
    };
  } else {
    const bare = outer.documents.filter((d) => isLegacyConfigData(d.value));
    if (bare.length !== 1 || outer.documents.length !== 1) {
      findings.push({
        code: 'ELEGACY',
        ...at(outer.documents[0]?.lineOf([])),
        message: `is neither a ConfigMap with a \`config\` key nor MetalLB's legacy \`config\` data (a mapping with ${TOP_KEYS.join(', ')})`,
      });
      return none();
    }
    data = bare[0]!.value;
    lineOf = bare[0]!.lineOf;
  }

  // --- Reading, with every finding located. ---
  const report = (severity: 'error' | 'warning', path: FieldPath, message: string): void => {
    findings.push({ code: 'ELEGACY', ...(severity === 'warning' ? { severity } : {}), ...at(lineOf(path)), path: formatPath(path), message });
  };
  const typeError = (path: FieldPath, expected: string, value: unknown): void =>
    report('error', path, `must be ${expected}, not ${describe(value)} (MetalLB's converter stops on it too)`);
  /** The keys of a mapping that configmaptocrs reads; any other is named as not converted. */
  const mapping = (path: FieldPath, value: unknown, known: readonly string[]): Obj | undefined => {
    if (value === undefined || value === null) return undefined;
    const m = asRecord(value);
    if (!m) {
      typeError(path, 'a mapping', value);
      return undefined;
    }
    for (const key of Object.keys(m)) {
      if (!known.includes(key)) {
        const near = closest(key, known);
        report('warning', [...path, key], `not a field of MetalLB's legacy format${near ? ` (did you mean ${near}?)` : ''}: not converted`);
      }
    }
    return m;
  };
  const list = (path: FieldPath, value: unknown): unknown[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      typeError(path, 'a list', value);
      return [];
    }
    return value;
  };
  const str = (path: FieldPath, value: unknown): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      typeError(path, 'a string', value);
      return undefined;
    }
    return value;
  };
  const uint = (path: FieldPath, value: unknown, max: number): number | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      typeError(path, `an integer 0..${max}`, value);
      return undefined;
    }
    return value;
  };
  const bool = (path: FieldPath, value: unknown): boolean | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') {
      typeError(path, 'true or false', value);
      return undefined;
    }
    return value;
  };
  const strings = (path: FieldPath, value: unknown): string[] =>
    list(path, value).flatMap((v, i) => {
      const s = str([...path, i], v);
      return s === undefined ? [] : [s];
    });
  const errorsBefore = (): number => findings.filter((f) => f.severity !== 'warning').length;

  const top = mapping([], data, TOP_KEYS)!;
  const renamed = (path: FieldPath, name: string | undefined, kind: string): string | undefined => {
    if (name === undefined) return undefined;
    const converted = k8sName(name);
    if (converted === undefined) {
      report('error', path, `${kind} name "${name}" has no letter: it cannot be made a Kubernetes name`);
      return undefined;
    }
    if (converted !== name) notes.push(`${kind} "${name}" is named "${converted}" (Kubernetes names are lowercase DNS labels)`);
    return converted;
  };
  const meta = (name: string): Obj => ({ name, namespace });

  // bfd-profiles
  const bfdProfiles: Obj[] = [];
  list(['bfd-profiles'], top['bfd-profiles']).forEach((raw, i) => {
    const p: FieldPath = ['bfd-profiles', i];
    const b = mapping(p, raw, ['name', 'receive-interval', 'transmit-interval', 'detect-multiplier', 'echo-interval', 'echo-mode', 'passive-mode', 'minimum-ttl']);
    if (!b) return;
    const name = renamed([...p, 'name'], str([...p, 'name'], b.name) ?? '', 'BFDProfile');
    const u32 = (key: string) => uint([...p, key], b[key], 0xffffffff);
    const [detectMultiplier, echoInterval, minimumTtl, receiveInterval, transmitInterval] = ['detect-multiplier', 'echo-interval', 'minimum-ttl', 'receive-interval', 'transmit-interval'].map(u32);
    bfdProfiles.push(resource('BFDProfile', 'metallb.io/v1beta1', meta(name ?? ''), {
      ...opt('detectMultiplier', detectMultiplier),
      ...opt('echoInterval', echoInterval),
      // configmaptocrs always writes these two, false when unset.
      echoMode: bool([...p, 'echo-mode'], b['echo-mode']) ?? false,
      ...opt('minimumTtl', minimumTtl),
      passiveMode: bool([...p, 'passive-mode'], b['passive-mode']) ?? false,
      ...opt('receiveInterval', receiveInterval),
      ...opt('transmitInterval', transmitInterval),
    }, {}));
  });

  // bgp-communities: one Community named "communities", aliases sorted by name.
  const communities: Obj[] = [];
  const aliases = mapping(['bgp-communities'], top['bgp-communities'], Object.keys(asRecord(top['bgp-communities']) ?? {}));
  if (aliases && Object.keys(aliases).length > 0) {
    const entries = Object.keys(aliases)
      .sort(compare)
      .flatMap((name) => {
        const value = str(['bgp-communities', name], aliases[name]);
        return value === undefined ? [] : [{ name, value }];
      });
    communities.push(resource('Community', 'metallb.io/v1beta1', meta('communities'), { communities: entries }, {}));
  }

  // peers: peer1, peer2, ... in order.
  const peers: Obj[] = [];
  list(['peers'], top.peers).forEach((raw, i) => {
    const p: FieldPath = ['peers', i];
    const known = ['my-asn', 'peer-asn', 'peer-address', 'source-address', 'peer-port', 'hold-time', 'keepalive-time', 'router-id', 'node-selectors', 'password', 'bfd-profile', 'ebgp-multihop'];
    const x = mapping(p, raw, known);
    if (!x) return;
    const seconds = (key: string, dflt?: number): number | undefined => {
      if (typeof x[key] === 'number') {
        report('error', [...p, key], durationNumberHint(x[key]));
        return undefined;
      }
      const text = str([...p, key], x[key]);
      if (text === undefined || text === '') return dflt;
      const parsed = parseGoDuration(text);
      if ('reason' in parsed) {
        report('error', [...p, key], parsed.reason);
        return undefined;
      }
      // configmaptocrs truncates to whole seconds.
      return Number(parsed.nanos / NANOS_PER_SECOND);
    };
    const hold = seconds('hold-time', 90);
    if (hold !== undefined && hold !== 0 && hold < 3) report('error', [...p, 'hold-time'], `hold time ${hold}s must be 0 or at least 3s`);
    const keepalive = seconds('keepalive-time');
    const selectors = list([...p, 'node-selectors'], x['node-selectors']).flatMap((rawSel, j) => {
      const sp: FieldPath = [...p, 'node-selectors', j];
      const sel = mapping(sp, rawSel, ['match-labels', 'match-expressions']);
      if (!sel) return [];
      const labels = mapping([...sp, 'match-labels'], sel['match-labels'], Object.keys(asRecord(sel['match-labels']) ?? {}));
      const matchLabels: Record<string, string> = {};
      for (const [k, v] of Object.entries(labels ?? {})) {
        const s = str([...sp, 'match-labels', k], v);
        if (s !== undefined) matchLabels[k] = s;
      }
      const expressions = list([...sp, 'match-expressions'], sel['match-expressions']).flatMap((rawReq, k) => {
        const rp: FieldPath = [...sp, 'match-expressions', k];
        const req = mapping(rp, rawReq, ['key', 'operator', 'values']);
        if (!req) return [];
        const values = strings([...rp, 'values'], req.values);
        return [{ key: str([...rp, 'key'], req.key) ?? '', operator: str([...rp, 'operator'], req.operator) ?? '', ...(values.length > 0 ? { values } : {}) }];
      });
      return [{ ...(expressions.length > 0 ? { matchExpressions: expressions } : {}), ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}) }];
    });
    const bfdName = str([...p, 'bfd-profile'], x['bfd-profile']);
    const bfdProfile = bfdName ? renamed([...p, 'bfd-profile'], bfdName, 'BFDProfile') : undefined;
    const nonEmpty = (key: string): string | undefined => {
      const s = str([...p, key], x[key]);
      return s === '' ? undefined : s;
    };
    const peerPort = uint([...p, 'peer-port'], x['peer-port'], 0xffff);
    const peerASN = uint([...p, 'peer-asn'], x['peer-asn'], 0xffffffff);
    peers.push(resource('BGPPeer', 'metallb.io/v1beta2', meta(`peer${i + 1}`), {
      ...opt('bfdProfile', bfdProfile),
      ...(bool([...p, 'ebgp-multihop'], x['ebgp-multihop']) === true ? { ebgpMultiHop: true } : {}),
      ...(hold !== undefined ? { holdTime: formatGoSeconds(hold) } : {}),
      ...(keepalive !== undefined ? { keepaliveTime: formatGoSeconds(keepalive) } : {}),
      myASN: uint([...p, 'my-asn'], x['my-asn'], 0xffffffff) ?? 0,
      ...(selectors.length > 0 ? { nodeSelectors: selectors } : {}),
      ...opt('password', nonEmpty('password')),
      // configmaptocrs writes an empty passwordSecret on every peer; MetalLB reads it as unset.
      passwordSecret: {},
      ...(peerASN ? { peerASN } : {}),
      ...opt('peerAddress', nonEmpty('peer-address')),
      ...(peerPort ? { peerPort } : {}),
      ...opt('routerID', nonEmpty('router-id')),
      ...opt('sourceAddress', nonEmpty('source-address')),
    }, {}));
  });

  // address-pools → IPAddressPools, then their advertisements (numbered across pools).
  const pools: Obj[] = [];
  const bgpAdvertisements: Obj[] = [];
  const l2Advertisements: Obj[] = [];
  list(['address-pools'], top['address-pools']).forEach((raw, i) => {
    const p: FieldPath = ['address-pools', i];
    const x = mapping(p, raw, ['name', 'protocol', 'addresses', 'auto-assign', 'avoid-buggy-ips', 'bgp-advertisements']);
    if (!x) return;
    const name = renamed([...p, 'name'], str([...p, 'name'], x.name) ?? '', 'IPAddressPool') ?? '';
    const autoAssign = bool([...p, 'auto-assign'], x['auto-assign']);
    pools.push(resource('IPAddressPool', 'metallb.io/v1beta1', meta(name), {
      addresses: strings([...p, 'addresses'], x.addresses),
      ...opt('autoAssign', autoAssign),
      ...(bool([...p, 'avoid-buggy-ips'], x['avoid-buggy-ips']) === true ? { avoidBuggyIPs: true } : {}),
    }, { assignedIPv4: 0, assignedIPv6: 0, availableIPv4: 0, availableIPv6: 0 }));
    const protocol = str([...p, 'protocol'], x.protocol);
    const advertisements = list([...p, 'bgp-advertisements'], x['bgp-advertisements']);
    advertisements.forEach((rawAd, j) => {
      const ap: FieldPath = [...p, 'bgp-advertisements', j];
      const ad = mapping(ap, rawAd, ['aggregation-length', 'aggregation-length-v6', 'localpref', 'communities']);
      if (!ad) return;
      const int32 = (key: string) => {
        const v = ad[key];
        if (v === undefined || v === null) return undefined;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
          typeError([...ap, key], 'a 32-bit integer', v);
          return undefined;
        }
        return v;
      };
      const adCommunities = strings([...ap, 'communities'], ad.communities);
      const localPref = uint([...ap, 'localpref'], ad.localpref, 0xffffffff);
      bgpAdvertisements.push(resource('BGPAdvertisement', 'metallb.io/v1beta1', meta(`bgpadvertisement${bgpAdvertisements.length + 1}`), {
        ...opt('aggregationLength', int32('aggregation-length')),
        ...opt('aggregationLengthV6', int32('aggregation-length-v6')),
        ...(adCommunities.length > 0 ? { communities: adCommunities } : {}),
        ipAddressPools: [name],
        ...(localPref ? { localPref } : {}),
      }, {}));
    });
    if (advertisements.length === 0 && protocol === 'bgp') {
      bgpAdvertisements.push(resource('BGPAdvertisement', 'metallb.io/v1beta1', meta(`bgpadvertisement${bgpAdvertisements.length + 1}`), { ipAddressPools: [name] }, {}));
    }
    if (protocol === 'layer2') {
      l2Advertisements.push(resource('L2Advertisement', 'metallb.io/v1beta1', meta(`l2advertisement${l2Advertisements.length + 1}`), { ipAddressPools: [name] }, {}));
    } else if (protocol !== 'bgp') {
      // configmaptocrs knows only "bgp" and "layer2"; any other pool gets no advertisement.
      report(
        'warning',
        [...p, protocol === undefined ? 'name' : 'protocol'],
        `${protocol === undefined ? 'no protocol' : `protocol "${protocol}" is neither bgp nor layer2`}: no advertisement is written for IPAddressPool ${name}` +
          `${advertisements.length > 0 ? ' other than its bgp-advertisements' : ''}, so ${advertisements.length > 0 ? 'it is not announced by L2' : 'its addresses are assigned but not announced'} (as MetalLB's converter does)`,
      );
    }
  });

  if (errorsBefore() > 0) return none();
  return { objects: [...peers, ...pools, ...bgpAdvertisements, ...l2Advertisements, ...bfdProfiles, ...communities], findings, notes };
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
