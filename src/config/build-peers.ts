// BGPPeer objects (docs/COMPATIBILITY.md "BGPPeer"): v1beta1 read as v1beta2 (same
// names, a subset of the fields), ASNs, addresses, timers, the TCP MD5 password or its
// Secret, and the check that no two peers open the same session.
import { V1BETA1 } from '../api/metallb.ts';
import { crdSchema } from '../api/metallb-schemas.ts';
import type { FieldPath } from '../api/schema.ts';
import { parseIP } from '../net/ip.ts';
import type { BFDProfile, BGPPeer, SecretReference } from './model.ts';
import type { SecretInfo } from './build.ts';
import { selectorList, type Entry, type ErrorCollector } from './collector.ts';
import { NANOS_PER_SECOND, parseGoDuration } from './duration.ts';
import { checkInterfaceName, nodesDisjoint } from './names.ts';
import { asBoolean, asInteger, asRecord, isPresent, isWrongType, nonEmpty } from './raw.ts';

// Defaults of MetalLB's CRDs and of the BGP RFC.
const DEFAULT_PEER_PORT = 179;
const DEFAULT_HOLD_SECONDS = 90; // MetalLB's default; RFC 4271 10 suggests 90 s too
const MAX_TIMER_SECONDS = 65535; // RFC 4271 4.2: the hold time is a 2-octet field
const BASIC_AUTH = 'kubernetes.io/basic-auth';

export interface PeerContext {
  readonly lbNamespace: string;
  /** Secrets known to the build; none = passwordSecret references are not checked. */
  readonly secrets: readonly SecretInfo[];
  readonly bfdByName: ReadonlyMap<string, BFDProfile>;
}

export function buildPeers(c: ErrorCollector, entries: readonly Entry[], ctx: PeerContext): BGPPeer[] {
  const peers: BGPPeer[] = [];
  let uncheckedSecrets = false;
  const v1beta1PeerFields = Object.keys(crdSchema('BGPPeer', V1BETA1)?.properties?.spec?.properties ?? {});
  for (const e of entries) {
    c.guard(e, () => {
      // v1beta1 → v1beta2: the v1beta1 fields keep their names and meaning; fields that
      // only v1beta2 has were refused by the v1beta1 schema and are not read.
      const s = e.apiVersion === V1BETA1 ? Object.fromEntries(Object.entries(e.spec).filter(([k]) => v1beta1PeerFields.includes(k))) : e.spec;
      peers.push(buildPeer(c, e, s, ctx, () => (uncheckedSecrets = true)));
    });
  }
  if (uncheckedSecrets) {
    c.notes.push(`passwordSecret references were not checked: no Secret of ${ctx.lbNamespace} was given`);
  }
  checkSessions(c, peers, entries);
  return peers;
}

type Spec = Readonly<Record<string, unknown>>;

const sp = (field: string): FieldPath => ['spec', field];

function buildPeer(c: ErrorCollector, e: Entry, s: Spec, { lbNamespace, secrets, bfdByName }: PeerContext, unchecked: () => void): BGPPeer {
  const asns = peerASNs(c, e, s);
  const where = peerAddresses(c, e, s);
  const timers = peerTimers(c, e);
  const password = nonEmpty(s.password);
  const passwordSecret = passwordSecretOf(c, e, s, password !== undefined, { lbNamespace, secrets }, unchecked);
  const bfdProfile = nonEmpty(s.bfdProfile);
  if (bfdProfile !== undefined && !bfdByName.has(bfdProfile)) {
    c.warn(e, sp('bfdProfile'), 'EREFERENCE', `no BFDProfile named "${bfdProfile}" in ${lbNamespace}: this peer does not take part until it exists`);
    c.dormant.add(e);
  }
  const ebgpMultiHop = asBoolean(s.ebgpMultiHop) ?? false;
  const internal = asns.dynamicASN === 'internal' || (asns.peerASN !== undefined && asns.peerASN === asns.myASN);
  if (ebgpMultiHop && internal) {
    c.fail(e, sp('ebgpMultiHop'), 'EMULTIHOP', 'ebgpMultiHop applies to eBGP only, and this peer is iBGP (peer ASN = myASN)');
  }
  if (asBoolean(s.disableMP) === true) {
    c.notes.push(`BGPPeer ${e.namespace}/${e.name}: disableMP is deprecated and has no effect; see dualStackAddressFamily`);
  }
  const nodeSelectors = selectorList(c, e, sp('nodeSelectors'), s.nodeSelectors);
  const vrf = nonEmpty(s.vrf);
  // Read and checked but not acted on yet (the BGP issue): say so, never silence.
  if (vrf !== undefined) {
    c.warn(e, sp('vrf'), 'EUNSUPPORTED', `vrf "${vrf}" is not acted on yet: ferrolb opens this session in the default VRF (the host's main routing table)`);
  }
  if (where.iface !== undefined && where.peerAddress === undefined) {
    c.warn(e, sp('interface'), 'EUNSUPPORTED', `unnumbered BGP (interface "${where.iface}") is not implemented yet: no session is opened for this peer`);
  }
  return {
    name: e.name,
    myASN: asns.myASN ?? 0,
    ...(asns.peerASN !== undefined && asns.peerASN !== 0 ? { peerASN: asns.peerASN } : {}),
    ...(asns.dynamicASN !== undefined ? { dynamicASN: asns.dynamicASN } : {}),
    ...(asns.localASN !== undefined ? { localASN: asns.localASN } : {}),
    ...(where.peerAddress !== undefined ? { peerAddress: where.peerAddress } : {}),
    ...(where.iface !== undefined ? { interface: where.iface } : {}),
    ...(where.sourceAddress !== undefined ? { sourceAddress: where.sourceAddress } : {}),
    peerPort: asInteger(s.peerPort) ?? DEFAULT_PEER_PORT,
    ...(where.routerID !== undefined ? { routerID: where.routerID } : {}),
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
  };
}

/** myASN, peerASN or dynamicASN (exactly one of the two), localASN. */
function peerASNs(c: ErrorCollector, e: Entry, s: Spec) {
  const myASN = asInteger(s.myASN);
  const peerASN = asInteger(s.peerASN);
  const localASN = asInteger(s.localASN);
  const dynamicASN: 'internal' | 'external' | undefined = s.dynamicASN === 'internal' || s.dynamicASN === 'external' ? s.dynamicASN : undefined;
  for (const [field, value] of [['myASN', myASN], ['localASN', localASN]] as const) {
    if (value === 0) c.fail(e, sp(field), 'EASN', `${field} must be 1..4294967295 (AS 0 is reserved, RFC 7607)`);
  }
  // peerASN 0 is how MetalLB's Go types (omitempty) spell "unset".
  const hasPeerASN = isPresent(s.peerASN);
  const hasDynamicASN = isPresent(s.dynamicASN);
  if (hasPeerASN && hasDynamicASN) {
    c.fail(e, sp('dynamicASN'), 'EPEER', 'peerASN and dynamicASN are mutually exclusive: set exactly one');
  } else if (!hasPeerASN && !hasDynamicASN && !isWrongType(s.peerASN, 'number') && !isWrongType(s.dynamicASN)) {
    c.fail(e, sp('peerASN'), 'EPEER', 'exactly one of peerASN (1..4294967295) or dynamicASN is required');
  }
  return { myASN, peerASN, localASN, dynamicASN };
}

/** Where the session goes: peerAddress or interface (exactly one), sourceAddress of the same family, routerID. */
function peerAddresses(c: ErrorCollector, e: Entry, s: Spec) {
  const peerAddressText = nonEmpty(s.peerAddress);
  const iface = nonEmpty(s.interface);
  if (peerAddressText !== undefined && iface !== undefined) {
    c.fail(e, sp('interface'), 'EPEER', 'peerAddress and interface are mutually exclusive: set exactly one');
  } else if (peerAddressText === undefined && iface === undefined && !isWrongType(s.peerAddress) && !isWrongType(s.interface)) {
    c.fail(e, sp('peerAddress'), 'EPEER', 'exactly one of peerAddress or interface (unnumbered BGP) is required');
  }
  if (iface !== undefined) {
    const problem = checkInterfaceName(iface);
    if (problem) c.fail(e, sp('interface'), 'EINTERFACE', problem);
  }
  const peerAddress = peerAddressText !== undefined ? parseIP(peerAddressText) : undefined;
  if (peerAddressText !== undefined && !peerAddress) {
    c.fail(e, sp('peerAddress'), 'EIP', `"${peerAddressText}" is not an IP address`);
  }
  const sourceText = nonEmpty(s.sourceAddress);
  if (sourceText !== undefined) {
    const source = parseIP(sourceText);
    if (!source) c.fail(e, sp('sourceAddress'), 'EIP', `"${sourceText}" is not an IP address`);
    else if (peerAddress && source.family !== peerAddress.family) {
      c.fail(e, sp('sourceAddress'), 'EIP', `${source.family} source address for the ${peerAddress.family} peer address "${peerAddressText}"`);
    }
  }
  const routerID = nonEmpty(s.routerID);
  if (routerID !== undefined && parseIP(routerID)?.family !== 'IPv4') {
    // RFC 4271 4.2 / RFC 6286: the BGP Identifier is a 4-octet value.
    c.fail(e, sp('routerID'), 'EIP', `"${routerID}" is not an IPv4 address (the BGP identifier is 4 octets, RFC 6286)`);
  }
  return { peerAddress: peerAddressText, iface, sourceAddress: sourceText, routerID };
}

/**
 * The Secret a peer's TCP MD5 password comes from (docs/COMPATIBILITY.md "BGPPeer"),
 * checked against the Secrets known to the build; `unchecked` is called when none are.
 */
function passwordSecretOf(
  c: ErrorCollector,
  e: Entry,
  s: Spec,
  hasPassword: boolean,
  { lbNamespace, secrets }: Pick<PeerContext, 'lbNamespace' | 'secrets'>,
  unchecked: () => void,
): SecretReference | undefined {
  const secretRef = asRecord(s.passwordSecret);
  let passwordSecret: SecretReference | undefined;
  // MetalLB reads a passwordSecret without a name as unset: its converter writes
  // `passwordSecret: {}` on every BGPPeer.
  if (secretRef && nonEmpty(secretRef.name) === undefined && nonEmpty(secretRef.namespace) !== undefined) {
    c.warn(e, ['spec', 'passwordSecret', 'namespace'], 'EPASSWORD', 'passwordSecret has a namespace but no name: it is ignored (no Secret is used)');
  }
  if (secretRef && nonEmpty(secretRef.name) !== undefined) {
    const name = nonEmpty(secretRef.name);
    const namespace = nonEmpty(secretRef.namespace);
    if (hasPassword) {
      c.fail(e, ['spec', 'passwordSecret'], 'EPASSWORD', 'password and passwordSecret are mutually exclusive: set at most one');
    }
    if (namespace !== undefined && namespace !== lbNamespace) {
      c.fail(e, ['spec', 'passwordSecret', 'namespace'], 'ESECRET', `the Secret must be in the load balancer's namespace ${lbNamespace}, not ${namespace}`);
    }
    if (name !== undefined) {
      passwordSecret = { name, namespace: lbNamespace };
      const candidates = secrets.filter((x) => x.namespace === lbNamespace);
      if (secrets.length === 0) unchecked();
      else {
        const secret = candidates.find((x) => x.name === name);
        if (!secret) {
          c.warn(e, ['spec', 'passwordSecret', 'name'], 'EREFERENCE', `no Secret ${lbNamespace}/${name}: this peer does not take part until it exists`);
          c.dormant.add(e);
        } else if (secret.type !== BASIC_AUTH) {
          c.fail(e, ['spec', 'passwordSecret', 'name'], 'ESECRET', `Secret ${lbNamespace}/${name} has type ${secret.type ?? 'Opaque'}; ${BASIC_AUTH} is required`);
        } else if (!secret.keys.includes('password')) {
          c.fail(e, ['spec', 'passwordSecret', 'name'], 'ESECRET', `Secret ${lbNamespace}/${name} has no "password" key`);
        }
      }
    }
  }
  return passwordSecret;
}
/**
 * Two peers that name one session (same address or interface, port and VRF) from the
 * same nodes would fight over it; MetalLB refuses such duplicates too. Nodes count as
 * disjoint by nodesDisjoint (names.ts), the rule of the localPref check.
 */
function checkSessions(c: ErrorCollector, peers: readonly BGPPeer[], entries: readonly Entry[]): void {
  const sessions = new Map<string, BGPPeer[]>();
  const peerEntryByName = new Map(entries.map((e) => [e.name, e]));
  for (const p of peers) {
    const target = p.peerAddress !== undefined ? `address ${p.peerAddress}` : `interface ${p.interface ?? ''}`;
    const key = `${target}\u0000${p.peerPort}\u0000${p.vrf ?? ''}`;
    const same = sessions.get(key) ?? [];
    const clash = same.find((q) => !nodesDisjoint(q.nodeSelectors, p.nodeSelectors));
    const e = clash ? peerEntryByName.get(p.name) : undefined;
    if (clash && e) {
      const where = p.peerAddress !== undefined ? `${p.peerAddress} port ${p.peerPort}` : `interface ${p.interface} port ${p.peerPort}`;
      c.fail(e, ['spec', p.peerAddress !== undefined ? 'peerAddress' : 'interface'], 'EPEER',
        `BGPPeer ${clash.name} already opens the session to ${where}${p.vrf ? ` in VRF ${p.vrf}` : ''} from the same nodes (give them disjoint nodeSelectors)`);
    }
    sessions.set(key, [...same, p]);
  }
}

/**
 * BGP timers of a peer, in whole seconds. MetalLB's rules: a missing hold time is
 * derived as 3 × keepalive, a missing keepalive as hold / 3, neither given = 90 s / 30 s;
 * the hold time is 0 (no keepalives, RFC 4271 4.4) or at least 3 s (RFC 4271 4.2);
 * keepalive <= hold. Fractions of a second are dropped, as MetalLB truncates them.
 */
function peerTimers(c: ErrorCollector, e: Entry): { hold: number; keepalive: number; connect?: number } {
  const seconds = (field: 'holdTime' | 'keepaliveTime' | 'connectTime'): { whole: number; nanos: bigint } | undefined => {
    const text = nonEmpty(e.spec[field]);
    if (text === undefined) return undefined;
    const parsed = parseGoDuration(text);
    if ('reason' in parsed) {
      c.fail(e, ['spec', field], 'EDURATION', parsed.reason);
      return undefined;
    }
    if (parsed.nanos < 0n) {
      c.fail(e, ['spec', field], 'ETIMER', `"${text}" is negative`);
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
    c.fail(e, ['spec', holdField], 'ETIMER', `hold time ${hold}s must be 0 (no keepalives) or at least 3s (RFC 4271 4.2)`);
    ok = false;
  } else if (hold > MAX_TIMER_SECONDS) {
    c.fail(e, ['spec', holdField], 'ETIMER', `hold time ${hold}s exceeds ${MAX_TIMER_SECONDS}s (RFC 4271 4.2: a 2-octet field)`);
    ok = false;
  }
  if (ok && keepaliveGiven && keepalive! > hold!) {
    c.fail(e, ['spec', 'keepaliveTime'], 'ETIMER', `keepalive time ${keepalive}s is longer than the hold time ${hold}s`);
  }
  let connect: number | undefined;
  if (connectGiven) {
    if (connectGiven.nanos % NANOS_PER_SECOND !== 0n) {
      c.fail(e, ['spec', 'connectTime'], 'ETIMER', 'connect time must be a whole number of seconds');
    } else if (connectGiven.whole < 1 || connectGiven.whole > MAX_TIMER_SECONDS) {
      c.fail(e, ['spec', 'connectTime'], 'ETIMER', `connect time ${connectGiven.whole}s must be 1s..${MAX_TIMER_SECONDS}s`);
    } else connect = connectGiven.whole;
  }
  return { hold: hold!, keepalive: keepalive!, ...(connect !== undefined ? { connect } : {}) };
}
