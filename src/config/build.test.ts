import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { buildConfig, type BuildOptions, type BuildResult } from './build.ts';
import { parseDocuments } from './load.ts';
import { formatConfigError, type ConfigErrorCode } from './errors.ts';
import type { Config } from './model.ts';

type Obj = Record<string, unknown>;
const NS = 'metallb-system';

const resource = (kind: string, name: string, spec?: Obj, apiVersion = 'metallb.io/v1beta1'): Obj => ({
  apiVersion,
  kind,
  metadata: { name, namespace: NS },
  ...(spec !== undefined ? { spec } : {}),
});
const pool = (name: string, addresses: unknown, spec: Obj = {}) => resource('IPAddressPool', name, { addresses, ...spec });
const peer = (name: string, spec: Obj = {}) =>
  resource('BGPPeer', name, { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', ...spec }, 'metallb.io/v1beta2');
const bgpAdv = (name: string, spec: Obj = {}) => resource('BGPAdvertisement', name, spec);
const l2Adv = (name: string, spec: Obj = {}) => resource('L2Advertisement', name, spec);
const bfd = (name: string, spec: Obj = {}) => resource('BFDProfile', name, spec);
const community = (name: string, communities: Obj[]) => resource('Community', name, { communities });
const withLabels = (o: Obj, labels: Obj): Obj => ({ ...o, metadata: { ...(o.metadata as Obj), labels } });

function build(objects: Obj[], options?: BuildOptions): BuildResult {
  const text = objects.map((o) => stringify(o)).join('---\n');
  const loaded = parseDocuments(text, 'test.yaml');
  assert.deepEqual(loaded.errors, []);
  return buildConfig(loaded.documents, options);
}
function valid(objects: Obj[], options?: BuildOptions): Config {
  const r = build(objects, options);
  assert.deepEqual(r.errors.map(formatConfigError), []);
  assert.ok(r.config);
  return r.config;
}
/** Asserts that the objects give exactly the errors of these codes, and returns their lines. */
function invalid(objects: Obj[], code: ConfigErrorCode | ConfigErrorCode[], options?: BuildOptions): string[] {
  const r = build(objects, options);
  const lines = r.errors.map(formatConfigError);
  assert.deepEqual(r.errors.map((e) => e.code), Array.isArray(code) ? code : [code], lines.join('\n'));
  assert.equal(r.config, undefined);
  return lines;
}

/**
 * Asserts that the objects build (no error) with exactly the warnings of these codes;
 * returns the Config and the warning lines.
 */
function warned(objects: Obj[], code: ConfigErrorCode | ConfigErrorCode[], options?: BuildOptions): { config: Config; lines: string[] } {
  const r = build(objects, options);
  assert.deepEqual(r.errors.map(formatConfigError), []);
  const lines = r.warnings.map(formatConfigError);
  assert.deepEqual(r.warnings.map((e) => e.code), Array.isArray(code) ? code : [code], lines.join('\n'));
  assert.ok(r.warnings.every((w) => w.severity === 'warning'));
  assert.ok(r.config);
  return { config: r.config, lines };
}

const P = pool('p', ['10.0.0.0/24']);

describe('buildConfig: the tutorial', () => {
  it('accepts examples/tutorial/routing-config.yaml', () => {
    const text = readFileSync(new URL('../../examples/tutorial/routing-config.yaml', import.meta.url), 'utf8');
    const r = buildConfig(parseDocuments(text, 'routing-config.yaml').documents);
    assert.deepEqual(r.errors, []);
    const cfg = r.config!;
    assert.equal(cfg.pools.length, 1);
    const [p] = cfg.pools;
    assert.equal(p!.name, 'first-pool');
    assert.equal(p!.autoAssign, true);
    assert.equal(p!.avoidBuggyIPs, false);
    assert.deepEqual(p!.ranges.map((x) => [x.first, x.last]), [[0x0a000003n, 0x0a0000fen]]);
    assert.deepEqual(cfg.l2Advertisements.map((a) => [a.name, a.ipAddressPools]), [['example', ['first-pool']]]);
    assert.deepEqual(r.objects.map((o) => o.kind), ['IPAddressPool', 'L2Advertisement']);
  });
});

describe('buildConfig: error reports', () => {
  it('names file, line, kind, namespace/name, field and reason', () => {
    const [line] = invalid([pool('first-pool', ['10.0.0.0/24', '10.0.0.300/24'])], 'EADDRESS');
    assert.equal(line, 'test.yaml:9: IPAddressPool metallb-system/first-pool: spec.addresses[1]: "10.0.0.300/24" is not a CIDR: "10.0.0.300" is not an IP address');
  });
  it('reports every error at once, in file order', () => {
    const lines = invalid(
      [pool('a', ['10.0.0.1']), peer('x', { myASN: 0 }), bgpAdv('ad', { communities: ['1:65536'] }), pool('b', ['1.2.3.4/33'])],
      ['EADDRESS', 'EASN', 'ECOMMUNITY', 'EADDRESS'],
    );
    const numbers = lines.map((l) => Number(l.split(':')[1]));
    assert.deepEqual(numbers, [...numbers].sort((x, y) => x - y));
  });
  it('is pure: the same input gives the same result, and the input is not changed', () => {
    const text = [P, peer('x'), bgpAdv('a')].map((o) => stringify(o)).join('---\n');
    const docs = parseDocuments(text, 't.yaml').documents;
    const before = JSON.stringify(docs.map((d) => d.object));
    assert.deepEqual(buildConfig(docs), buildConfig(docs));
    assert.equal(JSON.stringify(docs.map((d) => d.object)), before);
  });
  it('sorts config arrays by name and freezes them', () => {
    const cfg = valid([pool('zeta', ['10.0.1.0/24']), pool('alpha', ['10.0.2.0/24']), peer('b'), peer('a', { peerAddress: '10.0.0.2' }), bfd('bfd-y'), bfd('bfd-x')]);
    assert.deepEqual(cfg.pools.map((p) => p.name), ['alpha', 'zeta']);
    assert.deepEqual(cfg.bgpPeers.map((p) => p.name), ['a', 'b']);
    assert.deepEqual(cfg.bfdProfiles.map((p) => p.name), ['bfd-x', 'bfd-y']);
    assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.pools) && Object.isFrozen(cfg.pools[0]));
  });
});

describe('buildConfig: objects, kinds and namespaces', () => {
  it('ignores kinds it does not know, with a note', () => {
    const r = build([P, { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 't' } }]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.notes, ['ignored 2 v1 Service objects: not MetalLB configuration']);
  });
  it('ignores metallb.io objects of other namespaces, even invalid ones, with a note', () => {
    const tenant = { ...pool('evil', ['nonsense']), metadata: { name: 'evil', namespace: 'tenant' } };
    const r = build([P, tenant]);
    assert.deepEqual(r.errors, []);
    assert.equal(r.config!.pools.length, 1);
    assert.match(r.notes[0]!, /IPAddressPool tenant\/evil ignored: configuration is read only from the namespace metallb-system/);
  });
  it('places objects without a namespace in the load balancer namespace, and honours another one', () => {
    const bare = { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'bare' }, spec: { addresses: ['10.1.0.0/24'] } };
    assert.equal(valid([bare]).pools.length, 1);
    const r = build([bare, P], { namespace: 'lb' });
    assert.deepEqual(r.config!.pools.map((p) => p.name), ['bare']);
    assert.deepEqual(r.objects.map((o) => o.namespace), ['lb']);
  });
  it('two objects of one kind with one name: the later replaces the earlier, as kubectl apply leaves it, with a warning naming the first', () => {
    const { config, lines } = warned([P, pool('p', ['10.9.0.0/24'])], 'EDUPLICATE');
    assert.match(lines[0]!, /IPAddressPool "p" is defined twice \(first at test\.yaml:1\): this later definition replaces it/);
    assert.deepEqual(config.pools.map((p) => [p.name, p.ranges.map((r) => r.text)]), [['p', ['10.9.0.0/24']]]);
    valid([P, l2Adv('p')]);
    warned([peer('x'), { ...peer('x'), apiVersion: 'metallb.io/v1beta1' }], 'EDUPLICATE');
    // Only the one that stays is checked against the others: the earlier one's overlap is gone.
    warned([P, pool('q', ['10.0.0.0/24']), pool('q', ['10.1.0.0/24'])], 'EDUPLICATE');
  });
  it('refuses metallb.io kinds and versions MetalLB does not serve', () => {
    assert.match(invalid([resource('AddressPool', 'old', { protocol: 'layer2', addresses: ['10.0.0.0/24'] })], 'ENOTSERVED')[0]!, /removed in MetalLB v0\.14/);
    assert.match(invalid([resource('IPAddresspool', 'x', {})], 'ENOTSERVED')[0]!, /did you mean IPAddressPool/);
    assert.match(invalid([resource('IPAdressPool', 'x', {})], 'ENOTSERVED')[0]!, /did you mean IPAddressPool\?/);
    assert.match(invalid([resource('L2Advertisment', 'x', {})], 'ENOTSERVED')[0]!, /did you mean L2Advertisement\?/);
    assert.match(invalid([{ ...P, apiVersion: 'metallb.io/v1alpha1' }], 'ENOTSERVED')[0]!, /served as metallb\.io\/v1beta1, not metallb\.io\/v1alpha1/);
  });
  it('checks metadata: name, labels, unknown fields', () => {
    invalid([{ ...P, metadata: { namespace: NS } }], 'ENAME');
    invalid([pool('First_Pool', ['10.0.0.0/24'])], 'ENAME');
    invalid([withLabels(P, { 'bad key': 'x' })], 'ELABEL');
    invalid([withLabels(P, { zone: 'not valid' })], 'ELABEL');
    invalid([{ ...P, metadata: { name: 'p', namespace: NS, lables: {} } }], 'EUNKNOWNFIELD');
  });
  it('refuses unknown and mistyped spec fields as strict validation does', () => {
    const [line] = invalid([pool('p', ['10.0.0.0/24'], { autoassign: false })], 'EUNKNOWNFIELD');
    assert.match(line!, /spec\.autoassign: unknown field "autoassign" \(did you mean "autoAssign"\?\)/);
    assert.match(invalid([pool('p', ['10.0.0.0/24'], { autoAssign: 'maybe' })], 'ETYPE')[0]!, /spec\.autoAssign: expected a boolean/);
    invalid([pool('p', '10.0.0.0/24')], 'ETYPE');
    invalid([resource('IPAddressPool', 'p')], 'EREQUIRED');
    invalid([resource('IPAddressPool', 'p', {})], 'EREQUIRED');
  });
  it('checks status kinds against their schema and notes they are not configuration', () => {
    const state = { apiVersion: 'metallb.io/v1beta1', kind: 'ConfigurationState', metadata: { name: 'controller', namespace: NS }, status: { result: 'Valid' } };
    const r = build([P, state]);
    assert.deepEqual(r.errors, []);
    assert.match(r.notes.join('\n'), /ConfigurationState metallb-system\/controller: status written by ferrolb/);
    invalid([{ ...state, status: { result: 'Great' } }], 'EENUM');
  });
});

describe('IPAddressPool', () => {
  it('says when an entry is two list items joined by a misindented line', () => {
    const r = buildConfig(parseDocuments('apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec:\n  addresses:\n  - 10.0.0.0/24\n   - 10.0.1.0/24\n', 'f.yaml').documents);
    assert.deepEqual(r.errors.map(formatConfigError), ['f.yaml:6: IPAddressPool metallb-system/p: spec.addresses[0]: "10.0.0.0/24 - 10.0.1.0/24" is not a CIDR (it reads as 2 entries joined: is the next line\'s "- " indented more than this one\'s?)']);
    // A real range with spaces stays a range.
    const range = valid([pool('p', ['10.0.0.1 - 10.0.0.9'])]).pools[0]!.ranges[0]!;
    assert.equal(range.last - range.first, 8n);
  });
  it('warns of addresses that can never serve (0.0.0.0/0, loopback, multicast, link-local, IPv4-mapped), and still checks them', () => {
    for (const [entry, what] of [
      ['0.0.0.0/0', /"this network" addresses .*loopback addresses .*multicast addresses/],
      ['127.0.0.1/32', /loopback addresses \(RFC 1122\), 127\.0\.0\.0\/8/],
      ['224.0.0.10-224.0.0.20', /multicast addresses \(RFC 5771\), 224\.0\.0\.0\/4/],
      ['169.254.1.0/24', /link-local addresses \(RFC 3927\)/],
      ['fe80::/64', /link-local addresses \(RFC 4291\), fe80::\/10/],
      ['ff02::1/128', /multicast addresses \(RFC 4291\)/],
      ['::ffff:10.0.0.0/120', /IPv4-mapped addresses/],
    ] as const) {
      const r = warned([pool('p', [entry])], 'EADDRESS');
      assert.match(r.lines[0]!, /IPAddressPool metallb-system\/p: spec\.addresses\[0\]: /);
      assert.match(r.lines[0]!, what);
      assert.match(r.lines[0]!, /can never be reached$/);
    }
    assert.deepEqual(build([pool('p', ['10.0.0.0/8', '2001:db8::/64', '223.255.255.0/24', '169.253.0.0/16'])]).warnings, []);
    // The warning does not hide an error on the same entry.
    invalid([pool('p', ['127.0.0.0/8']), pool('q', ['127.0.0.1/32'])], 'EOVERLAP');
  });

  it('accepts IPv4 and IPv6 CIDRs, ranges with spaces, single addresses and dual-stack pools', () => {
    const cfg = valid([
      pool('v4', ['192.168.10.0/24', '192.168.9.1/32', '192.168.11.1 - 192.168.11.9']),
      pool('v6', ['2001:db8::/64', '2001:db8:1::1-2001:db8:1::ff', '2001:db8:2::1/128']),
      pool('dual', ['10.1.0.0/16', 'fd00::/120'], { autoAssign: false, avoidBuggyIPs: true }),
    ]);
    const dual = cfg.pools.find((p) => p.name === 'dual')!;
    assert.deepEqual(dual.ranges.map((r) => r.family), ['IPv4', 'IPv6']);
    assert.equal(dual.autoAssign, false);
    assert.equal(dual.avoidBuggyIPs, true);
  });
  it('refuses bad addresses, reversed and mixed-family ranges', () => {
    assert.match(invalid([pool('p', ['10.0.0.0/33'])], 'EADDRESS')[0]!, /prefix length 33 exceeds 32/);
    assert.match(invalid([pool('p', ['10.0.0.9-10.0.0.1'])], 'EADDRESS')[0]!, /reversed/);
    assert.match(invalid([pool('p', ['10.0.0.1-2001:db8::1'])], 'EADDRESS')[0]!, /mixes IPv4 and IPv6/);
    assert.match(invalid([pool('p', ['10.0.0.1'])], 'EADDRESS')[0]!, /single address is written as \/32/);
    assert.match(invalid([pool('p', ['2001:db8::/129'])], 'EADDRESS')[0]!, /exceeds 128/);
    assert.match(invalid([pool('p', [])], 'EADDRESS')[0]!, /lists no address/);
    invalid([pool('p', ['10.0.0.0/24', 42])], 'ETYPE');
  });
  it('refuses overlaps between pools, naming both', () => {
    const [line] = invalid([pool('a', ['10.0.0.0/24']), pool('b', ['10.0.0.128-10.0.0.130'])], 'EOVERLAP');
    assert.match(line!, /IPAddressPool metallb-system\/b: spec\.addresses\[0\]: "10\.0\.0\.128-10\.0\.0\.130" overlaps "10\.0\.0\.0\/24" of IPAddressPool a/);
    invalid([pool('a', ['2001:db8::/64']), pool('b', ['2001:db8::ffff/128'])], 'EOVERLAP');
    invalid([pool('a', ['10.0.0.0/8']), pool('b', ['10.255.255.255/32'])], 'EOVERLAP');
  });
  it('refuses overlaps within one pool, including a repeated entry', () => {
    assert.match(invalid([pool('a', ['10.0.0.0/24', '10.0.0.5-10.0.0.6'])], 'EOVERLAP')[0]!, /of the same pool/);
    invalid([pool('a', ['10.0.0.0/24', '10.0.0.0/24'])], 'EOVERLAP');
  });
  it('accepts adjacent ranges and the same numbers in two families', () => {
    valid([pool('a', ['10.0.0.0/25']), pool('b', ['10.0.0.128/25']), pool('c', ['::a00:0/120'])]);
  });
  it('reports the same overlap whatever the input order', () => {
    const objs = [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.0.0/25']), pool('c', ['10.0.0.200/29'])];
    const who = (os: Obj[]) => build(os).errors.map((e) => `${e.name} ${e.path}`).sort();
    assert.deepEqual(who(objs), who([...objs].reverse()));
  });
  it('reads serviceAllocation', () => {
    const cfg = valid([
      pool('p', ['10.0.0.0/24'], {
        serviceAllocation: { priority: 10, namespaces: ['team-a'], namespaceSelectors: [{ matchLabels: { tier: 'gold' } }], serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }] },
      }),
    ]);
    assert.deepEqual(cfg.pools[0]!.serviceAllocation, {
      priority: 10,
      namespaces: ['team-a'],
      namespaceSelectors: [{ matchLabels: { tier: 'gold' } }],
      serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }],
    });
    assert.equal(valid([P]).pools[0]!.serviceAllocation, undefined);
  });
  it('refuses a negative priority, bad or repeated namespaces and bad selectors', () => {
    const sa = (serviceAllocation: Obj) => [pool('p', ['10.0.0.0/24'], { serviceAllocation })];
    assert.match(invalid(sa({ priority: -1 }), 'ERANGE')[0]!, /serviceAllocation\.priority: -1 is less than the minimum 0/);
    assert.match(invalid(sa({ namespaces: ['Team_A'] }), 'ENAMESPACE')[0]!, /serviceAllocation\.namespaces\[0\]/);
    invalid(sa({ namespaces: ['a', 'a'] }), 'EDUPLICATEENTRY');
    assert.match(invalid(sa({ serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In' }] }] }), 'ESELECTOR')[0]!, /serviceSelectors\[0\]\.matchExpressions\[0\]\.values: operator In needs at least one value/);
    invalid(sa({ namespaceSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] }), 'EDUPLICATEENTRY');
  });
});

describe('BGPPeer', () => {
  it('reads a v1beta2 peer with MetalLB defaults', () => {
    const [p] = valid([peer('r1')]).bgpPeers;
    assert.deepEqual(p, {
      name: 'r1', myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', peerPort: 179, holdTime: 90, keepaliveTime: 30,
      ebgpMultiHop: false, enableGracefulRestart: false, nodeSelectors: [], dualStackAddressFamily: false,
    });
  });
  it('reads a v1beta1 peer with the v1beta2 meaning', () => {
    const v1 = resource('BGPPeer', 'r1', { myASN: 64500, peerASN: 64501, peerAddress: '10.0.0.1', holdTime: '30s', nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['a'] }] }] });
    const v2 = peer('r1', { holdTime: '30s', nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['a'] }] }] });
    assert.deepEqual(valid([v1]).bgpPeers, valid([v2]).bgpPeers);
    invalid([resource('BGPPeer', 'r1', { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1', dynamicASN: 'external' })], 'EUNKNOWNFIELD');
    invalid([resource('BGPPeer', 'r1', { myASN: 1, peerAddress: '10.0.0.1' })], 'EREQUIRED');
  });
  it('checks ASNs: 1..4294967295', () => {
    assert.equal(valid([peer('r', { myASN: 4294967295, peerASN: 1 })]).bgpPeers[0]!.myASN, 4294967295);
    assert.match(invalid([peer('r', { myASN: 0 })], 'EASN')[0]!, /spec\.myASN: myASN must be 1\.\.4294967295/);
    invalid([peer('r', { peerASN: 4294967296 })], 'ERANGE');
    invalid([peer('r', { localASN: 0 })], 'EASN');
    assert.equal(valid([peer('r', { localASN: 65000 })]).bgpPeers[0]!.localASN, 65000);
  });
  it('requires exactly one of peerASN and dynamicASN', () => {
    const { peerASN: _, ...spec } = peer('r').spec as Obj;
    assert.equal(valid([resource('BGPPeer', 'r', { ...spec, dynamicASN: 'external' }, 'metallb.io/v1beta2')]).bgpPeers[0]!.dynamicASN, 'external');
    assert.match(invalid([resource('BGPPeer', 'r', spec, 'metallb.io/v1beta2')], 'EPEER')[0]!, /exactly one of peerASN/);
    assert.match(invalid([peer('r', { dynamicASN: 'internal' })], 'EPEER')[0]!, /mutually exclusive/);
    invalid([resource('BGPPeer', 'r', { ...spec, dynamicASN: 'sometimes' }, 'metallb.io/v1beta2')], 'EENUM');
  });
  it('requires exactly one of peerAddress and interface, and IP addresses where IPs go', () => {
    const { peerAddress: _, ...spec } = peer('r').spec as Obj;
    assert.equal(valid([resource('BGPPeer', 'r', { ...spec, interface: 'eth1' }, 'metallb.io/v1beta2')]).bgpPeers[0]!.interface, 'eth1');
    invalid([resource('BGPPeer', 'r', spec, 'metallb.io/v1beta2')], 'EPEER');
    invalid([peer('r', { interface: 'eth1' })], 'EPEER');
    assert.match(invalid([peer('r', { peerAddress: '1.1.1' })], 'EIP')[0]!, /"1\.1\.1" is not an IP address/);
    invalid([peer('r', { sourceAddress: 'ten' })], 'EIP');
    invalid([peer('r', { sourceAddress: '2001:db8::1' })], 'EIP');
    valid([peer('r', { peerAddress: '2001:db8::2', sourceAddress: '2001:db8::1' })]);
    invalid([peer('r', { routerID: '2001:db8::1' })], 'EIP');
    valid([peer('r', { routerID: '10.10.10.10' })]);
  });
  it('checks peerPort 1..16384, default 179', () => {
    assert.equal(valid([peer('r', { peerPort: 16384 })]).bgpPeers[0]!.peerPort, 16384);
    invalid([peer('r', { peerPort: 0 })], 'ERANGE');
    invalid([peer('r', { peerPort: 16385 })], 'ERANGE');
  });
  it('derives the missing timer: keepalive = hold/3, hold = 3 × keepalive', () => {
    const t = (spec: Obj) => {
      const [p] = valid([peer('r', spec)]).bgpPeers;
      return [p!.holdTime, p!.keepaliveTime];
    };
    assert.deepEqual(t({}), [90, 30]);
    assert.deepEqual(t({ holdTime: '30s' }), [30, 10]);
    assert.deepEqual(t({ holdTime: '1m30s' }), [90, 30]);
    assert.deepEqual(t({ keepaliveTime: '20s' }), [60, 20]);
    assert.deepEqual(t({ keepaliveTime: '1s' }), [3, 1]);
    assert.deepEqual(t({ holdTime: '0s' }), [0, 0]);
    assert.deepEqual(t({ holdTime: '9s', keepaliveTime: '9s' }), [9, 9]);
  });
  it('refuses hold times under 3 s, keepalive above hold, and non-durations', () => {
    assert.match(invalid([peer('r', { holdTime: '2s' })], 'ETIMER')[0]!, /spec\.holdTime: hold time 2s must be 0 \(no keepalives\) or at least 3s/);
    assert.match(invalid([peer('r', { holdTime: '30s', keepaliveTime: '31s' })], 'ETIMER')[0]!, /spec\.keepaliveTime: keepalive time 31s is longer than the hold time 30s/);
    invalid([peer('r', { holdTime: '0s', keepaliveTime: '10s' })], 'ETIMER');
    invalid([peer('r', { holdTime: '70000s' })], 'ETIMER');
    invalid([peer('r', { holdTime: '-90s' })], 'ETIMER');
    assert.match(invalid([peer('r', { holdTime: '90' })], 'EDURATION')[0]!, /without a unit/);
    invalid([peer('r', { keepaliveTime: 30 })], 'ETYPE');
  });
  it('checks connectTime: 1..65535 whole seconds', () => {
    assert.equal(valid([peer('r', { connectTime: '1m' })]).bgpPeers[0]!.connectTime, 60);
    assert.equal(valid([peer('r')]).bgpPeers[0]!.connectTime, undefined);
    invalid([peer('r', { connectTime: '0s' })], 'ETIMER');
    invalid([peer('r', { connectTime: '65536s' })], 'ETIMER');
    assert.match(invalid([peer('r', { connectTime: '1500ms' })], 'ETIMER')[0]!, /whole number of seconds/);
  });
  it('allows password or passwordSecret, not both', () => {
    assert.equal(valid([peer('r', { password: 'x' })]).bgpPeers[0]!.password, 'x');
    invalid([peer('r', { password: 'x', passwordSecret: { name: 's' } })], 'EPASSWORD');
    invalid([peer('r', { passwordSecret: { name: 's', namespace: 'default' } })], 'ESECRET');
  });
  it('warns that vrf and interface (unnumbered BGP) are read but not acted on yet', () => {
    const vrf = warned([peer('r', { vrf: 'red' })], 'EUNSUPPORTED');
    assert.match(vrf.lines[0]!, /BGPPeer metallb-system\/r: spec\.vrf: vrf "red" is not acted on yet: ferrolb opens this session in the default VRF/);
    assert.equal(vrf.config.bgpPeers[0]!.vrf, 'red');
    const { peerAddress: _, ...spec } = peer('r').spec as Obj;
    const unnumbered = warned([resource('BGPPeer', 'r', { ...spec, interface: 'eth1' }, 'metallb.io/v1beta2')], 'EUNSUPPORTED');
    assert.match(unnumbered.lines[0]!, /spec\.interface: unnumbered BGP \(interface "eth1"\) is not implemented yet: no session is opened/);
    assert.deepEqual(build([peer('r')]).warnings, []);
  });
  it('tells a bare number in a duration field to carry its unit', () => {
    assert.match(invalid([peer('r', { keepaliveTime: 90 })], 'ETYPE')[0]!, /spec\.keepaliveTime: 90 is a number, not a duration: write "90s" for 90 seconds/);
    assert.match(invalid([peer('r', { holdTime: 180 })], 'ETYPE')[0]!, /write "180s"/);
  });
  it('reads passwordSecret without a name as unset, as MetalLB (its converter writes passwordSecret: {})', () => {
    const r = build([peer('r', { passwordSecret: {} })]);
    assert.deepEqual([r.errors, r.warnings], [[], []]);
    assert.equal(r.config!.bgpPeers[0]!.passwordSecret, undefined);
    assert.doesNotMatch(r.notes.join('\n'), /passwordSecret/);
    // A password with an empty passwordSecret is not "both".
    assert.equal(valid([peer('r', { password: 'x', passwordSecret: {} })]).bgpPeers[0]!.password, 'x');
    // A namespace without a name is ignored, but said.
    const ns = warned([peer('r', { passwordSecret: { namespace: NS } })], 'EPASSWORD');
    assert.match(ns.lines[0]!, /spec\.passwordSecret\.namespace: .*no name: it is ignored/);
    assert.equal(ns.config.bgpPeers[0]!.passwordSecret, undefined);
  });
  it('checks passwordSecret against the Secrets it is given', () => {
    const ref = [peer('r', { passwordSecret: { name: 'bgp' } })];
    const unchecked = build(ref);
    assert.deepEqual(unchecked.errors, []);
    assert.deepEqual(unchecked.config!.bgpPeers[0]!.passwordSecret, { name: 'bgp', namespace: NS });
    assert.match(unchecked.notes.join('\n'), /passwordSecret references were not checked/);
    const secret = (type: string, keys: string[]) => ({ secrets: [{ name: 'bgp', namespace: NS, type, keys }] });
    valid(ref, secret('kubernetes.io/basic-auth', ['password']));
    // A missing Secret may be created later: a warning, and the peer waits for it.
    const missing = warned(ref, 'EREFERENCE', { secrets: [{ name: 'other', namespace: NS, keys: [] }] });
    assert.match(missing.lines[0]!, /BGPPeer metallb-system\/r: spec\.passwordSecret\.name: no Secret metallb-system\/bgp: this peer does not take part until it exists/);
    assert.deepEqual(missing.config.bgpPeers, []);
    assert.match(invalid(ref, 'ESECRET', secret('Opaque', ['password']))[0]!, /kubernetes\.io\/basic-auth is required/);
    assert.match(invalid(ref, 'ESECRET', secret('kubernetes.io/basic-auth', ['username']))[0]!, /no "password" key/);
    const secretDoc = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bgp', namespace: NS }, type: 'kubernetes.io/basic-auth', stringData: { password: 'p' } };
    valid([...ref, secretDoc]);
  });
  it('refuses ebgpMultiHop on an iBGP peer', () => {
    assert.match(invalid([peer('r', { peerASN: 64500, ebgpMultiHop: true })], 'EMULTIHOP')[0]!, /spec\.ebgpMultiHop: .*iBGP/);
    const { peerASN: _, ...spec } = peer('r').spec as Obj;
    invalid([resource('BGPPeer', 'r', { ...spec, dynamicASN: 'internal', ebgpMultiHop: true }, 'metallb.io/v1beta2')], 'EMULTIHOP');
    assert.equal(valid([peer('r', { ebgpMultiHop: true })]).bgpPeers[0]!.ebgpMultiHop, true);
  });
  it('a peer naming a BFD profile that does not exist (yet) is a warning, and the peer waits for it', () => {
    const r = warned([peer('r', { bfdProfile: 'fast' }), peer('other', { peerAddress: '10.0.0.2' })], 'EREFERENCE');
    assert.match(r.lines[0]!, /BGPPeer metallb-system\/r: spec\.bfdProfile: no BFDProfile named "fast" in metallb-system: this peer does not take part until it exists/);
    // Without BFD the session would not be what was asked for: the peer is left out.
    assert.deepEqual(r.config.bgpPeers.map((p) => p.name), ['other']);
    assert.equal(valid([peer('r', { bfdProfile: 'fast' }), bfd('fast')]).bgpPeers[0]!.bfdProfile, 'fast');
  });
  it('checks node selectors and reads the remaining fields', () => {
    invalid([peer('r', { nodeSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }] })], 'ESELECTOR');
    const [p] = valid([peer('r', { vrf: 'red', enableGracefulRestart: true, dualStackAddressFamily: true, nodeSelectors: [{ matchLabels: { rack: 'a' } }] })]).bgpPeers;
    assert.equal(p!.vrf, 'red');
    assert.equal(p!.enableGracefulRestart, true);
    assert.equal(p!.dualStackAddressFamily, true);
    assert.deepEqual(p!.nodeSelectors, [{ matchLabels: { rack: 'a' } }]);
    assert.match(build([peer('r', { disableMP: true })]).notes.join(), /disableMP is deprecated/);
  });
});

describe('BFDProfile', () => {
  it('fills MetalLB defaults', () => {
    assert.deepEqual(valid([bfd('b')]).bfdProfiles[0], {
      name: 'b', receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, echoInterval: 50, echoMode: false, passiveMode: false, minimumTtl: 254,
    });
  });
  it('accepts the bounds and refuses values beyond them', () => {
    valid([bfd('lo', { receiveInterval: 10, transmitInterval: 10, detectMultiplier: 2, echoInterval: 10, minimumTtl: 1 }), bfd('hi', { receiveInterval: 60000, transmitInterval: 60000, detectMultiplier: 255, echoInterval: 60000, minimumTtl: 254 })]);
    for (const [field, value] of [['receiveInterval', 9], ['transmitInterval', 60001], ['detectMultiplier', 1], ['detectMultiplier', 256], ['echoInterval', 9], ['minimumTtl', 0], ['minimumTtl', 255]] as const) {
      assert.match(invalid([bfd('b', { [field]: value })], 'ERANGE')[0]!, new RegExp(`spec\\.${field}: ${value} is (less|greater)`));
    }
  });
  it('refuses echo mode for a peer that carries IPv6', () => {
    const echo = bfd('echo', { echoMode: true });
    valid([echo, peer('r', { bfdProfile: 'echo' }), P, bgpAdv('a')]);
    assert.match(invalid([echo, peer('r', { bfdProfile: 'echo', peerAddress: '2001:db8::1' })], 'EECHO')[0]!, /this peer is IPv6/);
    const v6pool = pool('v6', ['2001:db8::/64']);
    assert.match(invalid([echo, peer('r', { bfdProfile: 'echo' }), v6pool, bgpAdv('a')], 'EECHO')[0]!, /BGPAdvertisement a announces the IPv6 addresses of IPAddressPool v6/);
    valid([echo, peer('r', { bfdProfile: 'echo' }), peer('r6', { peerAddress: '10.0.0.9' }), v6pool, bgpAdv('a', { peers: ['r6'] })]);
    valid([bfd('plain'), peer('r', { bfdProfile: 'plain', peerAddress: '2001:db8::1' })]);
  });
});

describe('Community and BGPAdvertisement.communities', () => {
  it('resolves aliases, standard and large values', () => {
    const cfg = valid([community('c', [{ name: 'no-advertise', value: '65535:65282' }]), P, bgpAdv('a', { communities: ['no-advertise', '64512:1', 'large:64512:1:2'] })]);
    assert.deepEqual(cfg.bgpAdvertisements[0]!.communities, [
      { kind: 'standard', value: 65535 * 65536 + 65282 },
      { kind: 'standard', value: 64512 * 65536 + 1 },
      { kind: 'large', globalAdmin: 64512, localData1: 1, localData2: 2 },
    ]);
  });
  it('refuses duplicate alias names, in one Community or across two', () => {
    invalid([community('c', [{ name: 'x', value: '1:1' }, { name: 'x', value: '1:2' }])], 'EDUPLICATEENTRY');
    assert.match(invalid([community('c1', [{ name: 'x', value: '1:1' }]), community('c2', [{ name: 'x', value: '1:2' }])], 'EDUPLICATEENTRY')[0]!, /Community metallb-system\/c2: spec\.communities\[0\]\.name: Community alias "x" is already defined \(Community c1/);
  });
  it('refuses bad values in Community and in advertisements', () => {
    assert.match(invalid([community('c', [{ name: 'x', value: '70000:1' }])], 'ECOMMUNITY')[0]!, /spec\.communities\[0\]\.value: community "70000:1"/);
    invalid([community('c', [{ name: 'x' }])], 'ECOMMUNITY');
    invalid([P, bgpAdv('a', { communities: ['1:65536'] })], 'ECOMMUNITY');
    invalid([P, bgpAdv('a', { communities: ['large:1:2'] })], 'ECOMMUNITY');
    assert.match(warned([P, bgpAdv('a', { communities: ['gold'] })], 'EREFERENCE').lines[0]!, /no Community alias named "gold"/);
    invalid([community('c', [{ name: 'x', value: '1:1' }]), P, bgpAdv('a', { communities: ['x', '1:1'] })], 'EDUPLICATEENTRY');
  });
});

describe('BGPAdvertisement', () => {
  it('reads defaults and references', () => {
    const [a] = valid([P, peer('r'), bgpAdv('a', { ipAddressPools: ['p'], peers: ['r'], localPref: 100 })]).bgpAdvertisements;
    assert.equal(a!.aggregationLength, 32);
    assert.equal(a!.aggregationLengthV6, 128);
    assert.equal(a!.localPref, 100);
    assert.deepEqual(a!.peers, ['r']);
  });
  it('warns of references to unknown pools, peers and Community aliases; refuses repeated names', () => {
    const pools = warned([P, bgpAdv('a', { ipAddressPools: ['q', 'p'] })], 'EREFERENCE');
    assert.match(pools.lines[0]!, /spec\.ipAddressPools\[0\]: no IPAddressPool named "q"/);
    // The name stays: the advertisement covers p now and q once it exists, never "every pool".
    assert.deepEqual(pools.config.bgpAdvertisements[0]!.ipAddressPools, ['q', 'p']);
    const peers = warned([P, bgpAdv('a', { peers: ['r'] })], 'EREFERENCE');
    assert.match(peers.lines[0]!, /spec\.peers\[0\]: no BGPPeer named "r"/);
    assert.deepEqual(peers.config.bgpAdvertisements[0]!.peers, ['r']);
    // An alias (no ':') may be created later; the advertisement waits for it.
    const alias = warned([P, bgpAdv('a', { communities: ['no-export'] }), bgpAdv('b')], 'EREFERENCE');
    assert.match(alias.lines[0]!, /BGPAdvertisement metallb-system\/a: spec\.communities\[0\]: no Community alias named "no-export"/);
    assert.deepEqual(alias.config.bgpAdvertisements.map((x) => x.name), ['b']);
    // A value with ':' is wrong in itself.
    invalid([P, bgpAdv('a', { communities: ['65536:1'] })], 'ECOMMUNITY');
    invalid([P, bgpAdv('a', { ipAddressPools: ['p', 'p'] })], 'EDUPLICATEENTRY');
  });
  it('checks aggregation length ranges', () => {
    invalid([P, bgpAdv('a', { aggregationLength: 33 })], 'ERANGE');
    invalid([P, bgpAdv('a', { aggregationLength: 0 })], 'ERANGE');
    invalid([P, bgpAdv('a', { aggregationLengthV6: 129 })], 'ERANGE');
  });
  it('refuses an aggregation length shorter than a prefix of the pool', () => {
    valid([P, bgpAdv('a', { aggregationLength: 24 })]);
    const tutorial = pool('first-pool', ['10.0.0.3-10.0.0.254']);
    assert.match(
      invalid([tutorial, bgpAdv('a', { aggregationLength: 24 })], 'EAGGREGATION')[0]!,
      /spec\.aggregationLength: aggregationLength 24 is shorter than the prefix \/26 of "10\.0\.0\.3-10\.0\.0\.254" in IPAddressPool first-pool/,
    );
    valid([tutorial, bgpAdv('a', { aggregationLength: 26 })]);
    invalid([tutorial, bgpAdv('a', { aggregationLength: 25 })], 'EAGGREGATION');
    valid([pool('v6', ['2001:db8::/64']), bgpAdv('a', { aggregationLengthV6: 64 })]);
    invalid([pool('v6', ['2001:db8::/64']), bgpAdv('a', { aggregationLengthV6: 48 })], 'EAGGREGATION');
    // Only the pools the advertisement selects are checked, by name or by label.
    valid([P, pool('other', ['10.1.0.0/28']), bgpAdv('a', { aggregationLength: 24, ipAddressPools: ['p'] })]);
    invalid([P, withLabels(pool('other', ['10.1.0.0/28']), { agg: 'short' }), bgpAdv('a', { aggregationLength: 24, ipAddressPoolSelectors: [{ matchLabels: { agg: 'short' } }] })], 'EAGGREGATION');
  });
  it('refuses different localPref for one pool unless lengths, peers or nodes are disjoint', () => {
    const peers = [peer('r1'), peer('r2', { peerAddress: '10.0.0.2' })];
    const pair = (a: Obj, b: Obj) => [P, ...peers, bgpAdv('a', { localPref: 100, ...a }), bgpAdv('b', { localPref: 200, ...b })];
    assert.match(invalid(pair({}, {}), 'ELOCALPREF')[0]!, /BGPAdvertisement metallb-system\/b: spec\.localPref: localPref 200 conflicts with localPref 100 of BGPAdvertisement a for IPAddressPool p/);
    invalid(pair({ localPref: undefined }, {}), 'ELOCALPREF');
    valid(pair({}, { localPref: 100 }));
    valid(pair({}, { aggregationLength: 24 }));
    valid(pair({ peers: ['r1'] }, { peers: ['r2'] }));
    invalid(pair({ peers: ['r1'] }, { peers: ['r1', 'r2'] }), 'ELOCALPREF');
    invalid(pair({ peers: ['r1'] }, {}), 'ELOCALPREF');
    valid(pair({ nodeSelectors: [{ matchLabels: { rack: 'a' } }] }, { nodeSelectors: [{ matchLabels: { rack: 'b' } }] }));
    invalid(pair({ nodeSelectors: [{ matchLabels: { rack: 'a' } }] }, { nodeSelectors: [{ matchLabels: { rack: 'a' } }] }), 'ELOCALPREF');
    invalid(pair({ nodeSelectors: [{ matchLabels: { rack: 'a' } }] }, {}), 'ELOCALPREF');
    // Different pools never conflict.
    valid([P, pool('q', ['10.1.0.0/24']), bgpAdv('a', { localPref: 100, ipAddressPools: ['p'] }), bgpAdv('b', { localPref: 200, ipAddressPools: ['q'] })]);
    // A dual-stack pool: lengths must differ in both families.
    const dual = pool('p', ['10.0.0.0/24', '2001:db8::/64']);
    invalid([dual, bgpAdv('a', { localPref: 100 }), bgpAdv('b', { localPref: 200, aggregationLength: 24 })], 'ELOCALPREF');
    valid([dual, bgpAdv('a', { localPref: 100 }), bgpAdv('b', { localPref: 200, aggregationLength: 24, aggregationLengthV6: 64 })]);
  });
});

describe('L2Advertisement', () => {
  it('reads pools, selectors, nodes and interfaces', () => {
    const [a] = valid([withLabels(P, { tier: 'web' }), l2Adv('l', { ipAddressPools: ['p'], ipAddressPoolSelectors: [{ matchLabels: { tier: 'web' } }], nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'n1' } }], interfaces: ['eth0', 'eth1'], serviceSelectors: [{ matchLabels: { app: 'x' } }] })]).l2Advertisements;
    assert.deepEqual(a!.interfaces, ['eth0', 'eth1']);
    assert.deepEqual(a!.ipAddressPoolSelectors, [{ matchLabels: { tier: 'web' } }]);
    assert.equal(a!.serviceSelectors.length, 1);
    assert.deepEqual(valid([P, l2Adv('all')]).l2Advertisements[0]!.ipAddressPools, []);
  });
  it('reads preferredNodeSelectors (MetalLB main): weights 1..100, label selector preferences, with no note (the election uses them)', () => {
    const r = build([P, l2Adv('l', { preferredNodeSelectors: [{ weight: 100, preference: { matchLabels: { zone: 'primary' } } }, { weight: 50, preference: {} }] })]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config!.l2Advertisements[0]!.preferredNodeSelectors, [
      { weight: 100, preference: { matchLabels: { zone: 'primary' } } },
      { weight: 50, preference: {} },
    ]);
    assert.doesNotMatch(r.notes.join('\n'), /preferredNodeSelectors/);
    assert.deepEqual(valid([P, l2Adv('l')]).l2Advertisements[0]!.preferredNodeSelectors, []);
    invalid([P, l2Adv('l', { preferredNodeSelectors: [{ weight: 0, preference: {} }] })], 'ERANGE');
    invalid([P, l2Adv('l', { preferredNodeSelectors: [{ weight: 101, preference: {} }] })], 'ERANGE');
    invalid([P, l2Adv('l', { preferredNodeSelectors: [{ preference: {} }] })], 'EREQUIRED');
    invalid([P, l2Adv('l', { preferredNodeSelectors: [{ weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: [] }] } }] })], 'ESELECTOR');
    invalid([P, l2Adv('l', { preferredNodeSelectors: [{ weight: 1, preference: {}, extra: 1 }] })], 'EUNKNOWNFIELD');
  });
  it('refuses unknown pools, bad selectors and repeated interfaces', () => {
    assert.deepEqual(warned([P, l2Adv('l', { ipAddressPools: ['nope'] })], 'EREFERENCE').config.l2Advertisements[0]!.ipAddressPools, ['nope']);
    invalid([P, l2Adv('l', { nodeSelectors: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: [] }] }] })], 'ESELECTOR');
    invalid([P, l2Adv('l', { ipAddressPoolSelectors: [{ matchLabels: { '-x': 'v' } }] })], 'ESELECTOR');
    invalid([P, l2Adv('l', { interfaces: ['eth0', 'eth0'] })], 'EDUPLICATEENTRY');
    invalid([P, l2Adv('l', { nodeSelectors: [{ matchExpressions: [{ key: 'zone', operator: 'Near', values: ['a'] }] }] })], 'ESELECTOR');
  });
});

describe('sessions and interfaces', () => {
  it('refuses two peers that open one session from the same nodes', () => {
    assert.match(invalid([peer('a'), peer('b')], 'EPEER')[0]!, /BGPPeer metallb-system\/b: spec\.peerAddress: BGPPeer a already opens the session to 10\.0\.0\.1 port 179/);
    valid([peer('a'), peer('b', { peerPort: 1179 })]);
    valid([peer('a'), peer('b', { vrf: 'red' })]);
    valid([peer('a', { nodeSelectors: [{ matchLabels: { rack: '1' } }] }), peer('b', { nodeSelectors: [{ matchLabels: { rack: '2' } }] })]);
    invalid([peer('a', { nodeSelectors: [{ matchLabels: { rack: '1' } }] }), peer('b')], 'EPEER');
  });
  it('checks interface names', () => {
    const { peerAddress: _, ...spec } = peer('r').spec as Obj;
    const unnumbered = (iface: string) => resource('BGPPeer', 'r', { ...spec, interface: iface }, 'metallb.io/v1beta2');
    valid([unnumbered('enp1s0f0.100')]);
    invalid([unnumbered('a-very-long-interface')], 'EINTERFACE');
    invalid([unnumbered('eth0/1')], 'EINTERFACE');
    invalid([P, l2Adv('l', { interfaces: ['eth 0'] })], 'EINTERFACE');
  });
});

describe('buildConfig never throws', () => {
  it('on random objects of every kind (property)', async () => {
    const fc = (await import('fast-check')).default;
    const kinds = ['IPAddressPool', 'L2Advertisement', 'BGPAdvertisement', 'BGPPeer', 'BFDProfile', 'Community', 'ServiceL2Status', 'ConfigurationState', 'Service'];
    const fields = ['addresses', 'autoAssign', 'serviceAllocation', 'ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'interfaces', 'aggregationLength',
      'aggregationLengthV6', 'localPref', 'communities', 'peers', 'myASN', 'peerASN', 'dynamicASN', 'peerAddress', 'interface', 'holdTime', 'keepaliveTime',
      'connectTime', 'password', 'passwordSecret', 'bfdProfile', 'ebgpMultiHop', 'echoMode', 'detectMultiplier', 'routerID', 'sourceAddress'];
    const value = fc.oneof(
      fc.anything({ maxDepth: 3 }),
      fc.constantFrom('10.0.0.0/24', '10.0.0.1-10.0.0.9', '2001:db8::/64', '90s', '1:2', 'large:1:2:3', 'p', 'r', 64500, 0, -1, true),
      fc.array(fc.constantFrom('10.0.0.0/24', '10.0.0.0/25', 'p', 'r', '1:1', { matchLabels: { a: 'b' } }, { matchExpressions: [{ key: 'a', operator: 'In' }] }, 7), { maxLength: 4 }),
    );
    const object = fc.record({
      kind: fc.constantFrom(...kinds),
      apiVersion: fc.constantFrom('metallb.io/v1beta1', 'metallb.io/v1beta2', 'v1'),
      name: fc.constantFrom('p', 'q', 'r', 'Bad Name'),
      spec: fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 6 }),
    });
    fc.assert(
      fc.property(fc.array(object, { maxLength: 6 }), (raw) => {
        const docs = raw.map((o, i) => ({
          file: 'fuzz.yaml',
          line: i + 1,
          apiVersion: o.apiVersion,
          kind: o.kind,
          object: { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name }, spec: o.spec },
          lineOf: () => i + 1,
        }));
        const r = buildConfig(docs);
        assert.ok(!r.errors.some((e) => e.code === 'EINTERNAL'), r.errors.map(formatConfigError).join('\n'));
        for (const e of r.errors) assert.ok(!formatConfigError(e).includes('\n'));
        assert.equal(r.config === undefined, r.errors.length > 0);
      }),
      { numRuns: 400 },
    );
  });
});

describe('buildConfig on API objects', () => {
  it('reports errors without file or line', async () => {
    const { objectDocuments } = await import('./documents.ts');
    const r = buildConfig(objectDocuments([pool('p', ['10.0.0.0/24', 'bad'])]));
    assert.deepEqual(r.errors.map(formatConfigError), ['IPAddressPool metallb-system/p: spec.addresses[1]: "bad" is neither a CIDR nor a range (a single address is written as /32 or /128)']);
  });
});

describe('MetalLB documentation-style configurations', () => {
  it('accepts a full BGP setup unchanged', () => {
    const text = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: bgp-pool
  namespace: metallb-system
  labels:
    zone: east
spec:
  addresses:
  - 198.51.100.0/24
  - 2001:db8:cafe::/64
  serviceAllocation:
    priority: 50
    namespaces: [team-a, team-b]
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: communities
  namespace: metallb-system
spec:
  communities:
  - name: NO_ADVERTISE
    value: 65535:65282
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata:
  name: testbfdprofile
  namespace: metallb-system
spec:
  receiveInterval: 380
  transmitInterval: 270
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: sample
  namespace: metallb-system
spec:
  myASN: 64500
  peerASN: 64501
  peerAddress: 10.0.0.1
  holdTime: "10s"
  bfdProfile: testbfdprofile
  nodeSelectors:
  - matchExpressions:
    - key: kubernetes.io/hostname
      operator: In
      values: [hostA, hostB]
---
apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata:
  name: legacy
  namespace: metallb-system
spec:
  myASN: 64500
  peerASN: 64500
  peerAddress: 10.0.0.2
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: local
  namespace: metallb-system
spec:
  ipAddressPools:
  - bgp-pool
  aggregationLength: 32
  localPref: 100
  communities:
  - NO_ADVERTISE
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: external
  namespace: metallb-system
spec:
  ipAddressPoolSelectors:
  - matchLabels:
      zone: east
  aggregationLength: 24
  aggregationLengthV6: 64
  localPref: 200
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: host-a
  namespace: metallb-system
spec:
  ipAddressPools: [bgp-pool]
  aggregationLength: 30
  aggregationLengthV6: 120
  localPref: 50
  nodeSelectors:
  - matchLabels:
      kubernetes.io/hostname: hostA
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: host-b
  namespace: metallb-system
spec:
  ipAddressPools: [bgp-pool]
  aggregationLength: 30
  aggregationLengthV6: 120
  localPref: 150
  nodeSelectors:
  - matchLabels:
      kubernetes.io/hostname: hostB
`;
    const r = buildConfig(parseDocuments(text, 'bgp.yaml').documents);
    assert.deepEqual(r.errors.map(formatConfigError), []);
    const cfg = r.config!;
    assert.deepEqual(cfg.bgpAdvertisements.map((a) => a.name), ['external', 'host-a', 'host-b', 'local']);
    assert.deepEqual(cfg.bgpPeers.map((p) => [p.name, p.holdTime, p.keepaliveTime]), [['legacy', 90, 30], ['sample', 10, 3]]);
    assert.deepEqual(cfg.bgpAdvertisements.find((a) => a.name === 'local')!.communities, [{ kind: 'standard', value: 65535 * 65536 + 65282 }]);
  });
  it('treats an empty namespace as none, and notes pools that avoidBuggyIPs empties', () => {
    const r = build([{ ...pool('p', ['10.0.0.255/32', '10.0.1.0/24'], { avoidBuggyIPs: true }), metadata: { name: 'p', namespace: '' } }]);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.notes, ['IPAddressPool metallb-system/p: avoidBuggyIPs leaves no usable address in "10.0.0.255/32"']);
  });
});

describe('overlaps through buildConfig (property)', () => {
  it('reports an overlap exactly when two entries share an address', async () => {
    const fc = (await import('fast-check')).default;
    const entry = fc.oneof(
      fc.record({ a: fc.integer({ min: 0, max: 63 }), b: fc.integer({ min: 0, max: 63 }) }).map(({ a, b }) => ({ text: `10.0.0.${Math.min(a, b)}-10.0.0.${Math.max(a, b)}`, first: Math.min(a, b), last: Math.max(a, b) })),
      fc.record({ base: fc.integer({ min: 0, max: 63 }), len: fc.integer({ min: 27, max: 32 }) }).map(({ base, len }) => {
        const size = 2 ** (32 - len);
        const first = Math.floor(base / size) * size;
        return { text: `10.0.0.${first}/${len}`, first, last: first + size - 1 };
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.array(entry, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }), (poolsEntries) => {
        const objs = poolsEntries.map((es, i) => pool(`p${i}`, es.map((e) => e.text)));
        const flat = poolsEntries.flat();
        const shared = flat.some((a, i) => flat.some((b, j) => i < j && a.first <= b.last && b.first <= a.last));
        const r = build(objs);
        assert.equal(r.errors.some((e) => e.code === 'EOVERLAP'), shared);
        assert.ok(r.errors.every((e) => e.code === 'EOVERLAP'));
      }),
      { numRuns: 300 },
    );
  });
});
