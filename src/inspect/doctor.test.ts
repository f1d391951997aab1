import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, kubeProxyView } from './analyze.ts';
import { diagnose, formatFindings, type Finding } from './doctor.ts';
import { announcedBy, formatStatus } from './status.ts';
import type { Snapshot, StatusObject } from './snapshot.ts';
import type { KubeObject } from '../k8s/client.ts';

const NS = 'metallb-system';

function pool(name: string, addresses: string[], extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: NS }, spec: { addresses, ...extra } } as KubeObject;
}
function l2ad(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name, namespace: NS }, spec } as KubeObject;
}
function bgpad(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name, namespace: NS }, spec } as KubeObject;
}
function peer(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name, namespace: NS }, spec: { myASN: 64513, peerASN: 64512, peerAddress: '198.18.0.1', ...spec } } as KubeObject;
}
function node(name: string, labels: Record<string, string> = {}): Snapshot['nodes'][number] {
  return { metadata: { name, labels } } as Snapshot['nodes'][number];
}
function service(name: string, ip: string | undefined, extra: { pool?: string; cls?: string } = {}): Snapshot['services'][number] {
  return {
    metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z', ...(extra.pool ? { annotations: { 'metallb.io/ip-allocated-from-pool': extra.pool } } : {}) },
    spec: { type: 'LoadBalancer', ...(extra.cls ? { loadBalancerClass: extra.cls } : {}) },
    status: { loadBalancer: { ingress: ip ? [{ ip }] : [] } },
  } as Snapshot['services'][number];
}
function readySlice(svc: string, nodeName: string): Snapshot['slices'][number] {
  return { metadata: { name: `${svc}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4', endpoints: [{ addresses: ['198.18.64.2'], nodeName, conditions: { ready: true, serving: true } }] } as Snapshot['slices'][number];
}
function l2status(svc: string, nodeName: string): StatusObject {
  return { metadata: { name: `l2-${svc}-${nodeName}` }, status: { node: nodeName, serviceName: svc, serviceNamespace: 'default', interfaces: [{ name: 'eth0' }] } } as StatusObject;
}
function states(...names: string[]): Snapshot['configurationStates'] {
  return names.map((name) => ({ metadata: { name }, status: { result: 'Valid', lastError: '' } }));
}

function snapshot(s: Partial<Snapshot>): Snapshot {
  const configObjects = s.configObjects ?? [];
  return {
    namespace: NS,
    crdsInstalled: true,
    configObjects,
    pools: configObjects.filter((o) => o.kind === 'IPAddressPool'),
    services: [],
    slices: [],
    nodes: [node('node-1'), node('node-2')],
    configurationStates: states('controller', 'speaker-node-1', 'speaker-node-2'),
    l2Statuses: [],
    bgpStatuses: [],
    events: [],
    takenAt: 0,
    ...s,
  };
}

const find = (fs: readonly Finding[], check: string, severity?: string) => fs.filter((f) => f.check === check && (severity === undefined || f.severity === severity));

describe('doctor', () => {
  const base = [pool('first-pool', ['198.18.0.200-198.18.0.201']), l2ad('example', { ipAddressPools: ['first-pool'] })];

  it('a healthy cluster: every check ok, no problem', () => {
    const fs = diagnose(analyze(snapshot({
      configObjects: base,
      services: [service('web', '198.18.0.200', { pool: 'first-pool' })],
      slices: [readySlice('web', 'node-1')],
      l2Statuses: [l2status('web', 'node-2')],
      kubeProxyConfigMap: { 'config.conf': 'mode: nftables\n' },
    })));
    assert.deepEqual(fs.filter((f) => f.severity === 'fail' || f.severity === 'warn'), []);
    assert.match(formatFindings(fs), /no problem found\n$/);
    assert.equal(find(fs, 'services', 'ok').length, 1);
  });

  it('kube-proxy in IPVS mode without strictARP fails when L2 is configured, with the tutorial\'s fix', () => {
    const fs = diagnose(analyze(snapshot({ configObjects: base, kubeProxyConfigMap: { 'config.conf': 'mode: ipvs\nipvs:\n  strictARP: false\n' } })));
    const [f] = find(fs, 'kube-proxy');
    assert.equal(f?.severity, 'fail');
    assert.match(f!.fix!, /s\/strictARP: false\/strictARP: true\//);
    // Only BGP: still worth a warning, not a failure.
    const bgpOnly = diagnose(analyze(snapshot({ configObjects: [base[0]!, bgpad('b'), peer('p')], kubeProxyConfigMap: { 'config.conf': 'mode: ipvs\n' } })));
    assert.equal(find(bgpOnly, 'kube-proxy')[0]?.severity, 'warn');
    const strict = diagnose(analyze(snapshot({ configObjects: base, kubeProxyConfigMap: { 'config.conf': 'mode: ipvs\nipvs:\n  strictARP: true\n' } })));
    assert.equal(find(strict, 'kube-proxy')[0]?.severity, 'ok');
  });

  it('kube-proxy ConfigMap: absent, unreadable, default mode', () => {
    assert.equal(find(diagnose(analyze(snapshot({ configObjects: base }))), 'kube-proxy')[0]?.severity, 'info');
    assert.deepEqual(kubeProxyView({ 'config.conf': 'mode: [' }).mode, '');
    assert.match(kubeProxyView({ 'config.conf': 'mode: [' }).error!, /not YAML/);
    assert.match(kubeProxyView({}).error!, /no config\.conf/);
    assert.deepEqual(kubeProxyView({ 'config.conf': 'mode: ""\n' }), { mode: '', strictARP: false });
    const fs = diagnose(analyze(snapshot({ configObjects: base, kubeProxyConfigMap: { 'config.conf': 'mode: ""\n' } })));
    assert.match(find(fs, 'kube-proxy')[0]!.message, /default \(iptables\)/);
  });

  it('no CRDs: one failure that says so, and nothing else about metallb.io', () => {
    const fs = diagnose(analyze(snapshot({ crdsInstalled: false })));
    assert.deepEqual(fs.map((f) => `${f.check}:${f.severity}`), ['kube-proxy:info', 'crds:fail']);
  });

  it('an invalid configuration names each error; a component rejecting it is a failure', () => {
    const fs = diagnose(analyze(snapshot({
      configObjects: [pool('a', ['198.18.0.0/24']), pool('b', ['198.18.0.10/32'])],
      configurationStates: [{ metadata: { name: 'controller' }, status: { result: 'Invalid', lastError: 'overlap' } }, ...states('speaker-node-1', 'speaker-node-2')],
    })));
    assert.ok(find(fs, 'configuration', 'fail').length >= 1);
    assert.match(find(fs, 'configuration', 'fail')[0]!.message, /overlap/i);
    assert.match(find(fs, 'controller', 'fail')[0]!.message, /rejects the configuration: overlap/);
  });

  it('no pools; a silent controller; nodes without a speaker', () => {
    const fs = diagnose(analyze(snapshot({ configurationStates: states('speaker-node-1') })));
    assert.match(find(fs, 'configuration', 'warn')[0]!.message, /no IPAddressPool/);
    assert.match(find(fs, 'controller', 'warn')[0]!.message, /has not reported/);
    assert.match(find(fs, 'speakers', 'warn')[0]!.message, /from node-2 /);
  });

  it('a pool no advertisement covers, a BGP-only pool with no peer, selectors matching no node', () => {
    const fs = diagnose(analyze(snapshot({
      configObjects: [
        pool('lonely', ['198.18.1.0/28']),
        pool('bgp', ['198.18.1.64/28']),
        bgpad('b', { ipAddressPools: ['bgp'], nodeSelectors: [{ matchLabels: { rack: 'r9' } }] }),
        pool('first-pool', ['198.18.0.200/32']),
        l2ad('example', { ipAddressPools: ['first-pool'], nodeSelectors: [{ matchLabels: { zone: 'nowhere' } }] }),
      ],
    })));
    const pools = find(fs, 'pools', 'warn').map((f) => f.message);
    assert.equal(pools.length, 2);
    assert.ok(pools.some((m) => /pool lonely: no L2Advertisement or BGPAdvertisement/.test(m)));
    assert.ok(pools.some((m) => /pool bgp is advertised only over BGP, but there is no BGPPeer/.test(m)));
    const sel = find(fs, 'selectors', 'warn').map((f) => f.message).sort();
    assert.deepEqual(sel, ['BGPAdvertisement b: its nodeSelectors match no node', 'L2Advertisement example: its nodeSelectors match no node']);
  });

  it('services: pending with the controller\'s reason; announced by nobody with the election\'s reason; not ours is skipped', () => {
    const fs = diagnose(analyze(snapshot({
      configObjects: [...base, pool('lonely', ['198.18.1.0/28'])],
      services: [service('full', undefined), service('lonely', '198.18.1.0', { pool: 'lonely' }), service('idle', '198.18.0.201'), service('other', undefined, { cls: 'acme' })],
      events: [
        { reason: 'AllocationFailed', message: 'old', involvedObject: { namespace: 'default', name: 'full' }, lastTimestamp: '2026-01-01T00:00:00Z' },
        { reason: 'AllocationFailed', message: 'no available IPv4 address in pool "first-pool"', involvedObject: { namespace: 'default', name: 'full' }, lastTimestamp: '2026-01-01T00:01:00Z' },
      ],
    })));
    const msgs = find(fs, 'services').map((f) => `${f.severity} ${f.message}`);
    assert.deepEqual(msgs, [
      'fail default/full has no IP: no available IPv4 address in pool "first-pool"',
      'warn default/idle (198.18.0.201) is announced by no node: no ready endpoints',
      'fail default/lonely (198.18.1.0) is announced by no node: no L2Advertisement selects pool lonely',
    ]);
  });

  it('a service the election gives a node that reports nothing: the speaker there is named', () => {
    const fs = diagnose(analyze(snapshot({ configObjects: base, services: [service('web', '198.18.0.200')], slices: [readySlice('web', 'node-1')] })));
    const [f] = find(fs, 'services', 'fail');
    assert.match(f!.message, /should be announced in L2 mode from node-[12], but no speaker reports announcing it/);
  });

  it('BGP: planned from every node but carried by no established session', () => {
    const objs = [pool('bgp', ['198.18.1.0/24']), bgpad('b'), peer('router')];
    const carried = { metadata: { name: 'x' }, status: { node: 'node-1', serviceName: 'web', serviceNamespace: 'default', peers: ['router'] } };
    const down = { ...carried, status: { ...carried.status, peers: [] } };
    const svc = [service('web', '198.18.1.7')];
    const slices = [readySlice('web', 'node-1')];
    const bad = diagnose(analyze(snapshot({ configObjects: objs, services: svc, slices, bgpStatuses: [down] })));
    assert.match(find(bad, 'services', 'fail')[0]!.message, /over BGP from node-1, node-2, but no established BGP session carries it/);
    const good = analyze(snapshot({ configObjects: objs, services: svc, slices, bgpStatuses: [carried] }));
    assert.deepEqual(find(diagnose(good), 'services', 'fail'), []);
    assert.equal(announcedBy(good.services[0]!), 'BGP node-1 -> router');
  });

  describe('runtime failures told in Events carry their code', () => {
    const failure = (reason: string, kind: string, name: string, message: string, extra: Record<string, unknown> = {}) => ({
      reason, type: 'Warning', message, count: 2, lastTimestamp: '2026-12-02T01:00:00Z', involvedObject: { kind, namespace: kind === 'Service' ? 'default' : NS, name }, ...extra,
    });
    const bgpObjs = [pool('bgp', ['198.18.1.0/24']), bgpad('b'), peer('router')];
    const sessionFailed = (node: string, at: string, message: string) => failure('BGPSessionFailed', 'BGPPeer', 'router', message, { reportingInstance: node, lastTimestamp: at });

    it('a refused write: fails when it leaves the Service without its IP, with the code; an unparsable message is no runtime failure', () => {
      const refused = failure('WriteFailed', 'Service', 'web', 'EAPIREFUSED: the assignment was not written: PATCH /api/v1/namespaces/default/services/web/status: 403 forbidden');
      const fs = diagnose(analyze(snapshot({ configObjects: base, services: [service('web', undefined)], events: [refused, failure('WriteFailed', 'Service', 'other', 'no code here')] })));
      const [w, ...rest] = find(fs, 'writes');
      assert.deepEqual(rest, []);
      assert.equal(w!.severity, 'fail');
      assert.equal(w!.code, 'EAPIREFUSED');
      assert.match(w!.message, /refuses the controller's writes to Service default\/web \(2 time\(s\), last 2026-12-02T01:00:00Z\): EAPIREFUSED: the assignment was not written: PATCH .*403 forbidden$/);
      assert.match(w!.fix!, /RBAC on services and services\/status/);
      // The Service shows its IP: the refusal is a warning (a pool status, an annotation).
      const kept = diagnose(analyze(snapshot({ configObjects: base, services: [service('web', '198.18.0.200')], events: [refused] })));
      assert.equal(find(kept, 'writes')[0]!.severity, 'warn');
    });

    it('a BGP session failure per node and peer, newest first; it is the cause named when a BGP service is carried by no session', () => {
      const svc = [service('web', '198.18.1.7')];
      const slices = [readySlice('web', 'node-1')];
      const events = [
        sessionFailed('node-1', '2026-12-02T01:00:00Z', 'EBGPCONNECTION: connect ECONNREFUSED 198.18.0.1:179'),
        sessionFailed('node-1', '2026-12-02T01:05:00Z', 'EBGPRECEIVED: the peer sent NOTIFICATION 2/2 (bad peer AS)'),
        sessionFailed('node-2', '2026-12-02T01:02:00Z', 'EBGPSENT: hold timer expired'),
      ];
      const fs = diagnose(analyze(snapshot({ configObjects: bgpObjs, services: svc, slices, events })));
      assert.deepEqual(find(fs, 'bgp').map((f) => [f.severity, f.code, f.message.replace(/ \(\d+ time\(s\), last [^)]*\)/, '')]), [
        ['warn', 'EBGPRECEIVED', 'the BGP session from node-1 to BGPPeer metallb-system/router failed: EBGPRECEIVED: the peer sent NOTIFICATION 2/2 (bad peer AS)'],
        ['warn', 'EBGPSENT', 'the BGP session from node-2 to BGPPeer metallb-system/router failed: EBGPSENT: hold timer expired'],
      ]);
      const [s] = find(fs, 'services', 'fail');
      assert.equal(s!.code, 'EBGPRECEIVED');
      assert.match(s!.message, /carries it; the last session failure, node-1 to BGPPeer router at 2026-12-02T01:05:00Z: EBGPRECEIVED: /);
      // Carrying routes again: told as info, the past failure no problem.
      const carried = { metadata: { name: 'x' }, status: { node: 'node-1', serviceName: 'web', serviceNamespace: 'default', peers: ['router'] } };
      const good = diagnose(analyze(snapshot({ configObjects: bgpObjs, services: svc, slices, bgpStatuses: [carried], events: [events[1]!] })));
      assert.deepEqual(find(good, 'bgp').map((f) => f.severity), ['info']);
      assert.match(find(good, 'bgp')[0]!.message, /; it carries routes now$/);
      assert.deepEqual(find(good, 'services', 'fail'), []);
    });
  });

  it('several nodes reporting one L2 service is flagged, naming the elected node', () => {
    const fs = diagnose(analyze(snapshot({
      configObjects: base,
      services: [service('web', '198.18.0.200')],
      slices: [readySlice('web', 'node-1')],
      l2Statuses: [l2status('web', 'node-1'), l2status('web', 'node-2')],
    })));
    assert.match(find(fs, 'services', 'warn')[0]!.message, /by several nodes \(node-1, node-2\); with every speaker up, node-[12] is elected/);
  });

  it('address conflicts are failures, newest event per service', () => {
    const fs = diagnose(analyze(snapshot({
      configObjects: base,
      events: [{ reason: 'AddressConflict', message: '198.18.0.200 is also claimed by 02:00:00:00:00:99', count: 3, involvedObject: { namespace: 'default', name: 'web' }, lastTimestamp: '2026-01-01T00:00:00Z' }],
    })));
    assert.match(find(fs, 'conflicts', 'fail')[0]!.message, /^default\/web: 198\.18\.0\.200 is also claimed by 02:00:00:00:00:99 \(seen 3 time\(s\)/);
  });
});

describe('status', () => {
  it('prints components, pools and services with who announces them', () => {
    const text = formatStatus(analyze(snapshot({
      configObjects: [pool('first-pool', ['198.18.0.200-198.18.0.201']), l2ad('example')],
      services: [service('web', '198.18.0.200', { pool: 'first-pool' }), service('new', undefined)],
      l2Statuses: [l2status('web', 'node-2')],
    })));
    assert.match(text, /speaker-node-2\s+Valid/);
    assert.match(text, /first-pool\s+198\.18\.0\.200-198\.18\.0\.201\s+0\s+0\s+L2:example/);
    assert.match(text, /default\s+web\s+198\.18\.0\.200\s+first-pool\s+L2 node-2 \(eth0\)/);
    assert.match(text, /default\s+new\s+<pending>\s+pending/);
    assert.equal(formatStatus(analyze(snapshot({ crdsInstalled: false }))), 'the metallb.io CRDs are not installed (kubectl apply -f deploy/crds)\n');
  });

  describe('membership: a dead speaker is told from a live one', () => {
    const T = '2026-12-01T23:40:00Z';
    const speaker = (node: string, unreachable: string[]) => ({
      metadata: { name: `speaker-${node}` },
      status: { result: 'Valid', lastError: '', conditions: [{ type: 'MembersReachable', status: unreachable.length > 0 ? 'False' : 'True', message: unreachable.map((n) => `${n} since ${T}`).join(', ') }] },
    });
    const three = { nodes: [node('node-1'), node('node-2'), node('node-3')] };
    const membership = (speakers: Snapshot['configurationStates']) => diagnose(analyze(snapshot({ ...three, configurationStates: [...states('controller'), ...speakers] }))).filter((f) => f.check === 'membership');

    it('all hearing each other: ok', () => {
      assert.deepEqual(membership([speaker('node-1', []), speaker('node-2', []), speaker('node-3', [])]).map((f) => f.severity), ['ok']);
    });

    it('node-2 heard by nobody, its own report still "all reachable": it is dead, its objects stale', () => {
      const f = membership([speaker('node-1', ['node-2']), speaker('node-2', []), speaker('node-3', ['node-2'])]);
      assert.equal(f.length, 1);
      assert.equal(f[0]!.severity, 'fail');
      assert.match(f[0]!.message, /the speaker on node-2 is not heard by node-1, node-3 since 2026-12-01T23:40:00Z: it is dead, frozen or cut off/);
      assert.match(f[0]!.fix ?? '', /spec\.nodeName=node-2/);
    });

    it('two sides deaf to each other: a partition, not a death', () => {
      const f = membership([speaker('node-1', ['node-3']), speaker('node-2', []), speaker('node-3', ['node-1'])]);
      assert.deepEqual(f.map((x) => x.severity), ['warn', 'warn']);
      assert.match(f[0]!.message, /node-1 and on node-3 do not hear each other/);
      assert.match(f[0]!.fix ?? '', /UDP 7946/);
    });

    it('status shows what each speaker does not hear', () => {
      const text = formatStatus(analyze(snapshot({ ...three, configurationStates: [...states('controller'), speaker('node-1', ['node-2']), speaker('node-2', []), speaker('node-3', ['node-2'])] })));
      assert.match(text, /COMPONENT\s+STATE\s+NOT HEARD/);
      assert.match(text, /speaker-node-1\s+Valid\s+node-2/);
      assert.match(text, /speaker-node-2\s+Valid\s+-/);
    });

    it('speakers that do not report membership (older ones) give no finding', () => {
      assert.deepEqual(membership([{ metadata: { name: 'speaker-node-1' }, status: { result: 'Valid', lastError: '' } }]), []);
    });
  });
});
