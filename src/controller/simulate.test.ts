import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { simulate, assignmentOf } from './simulate.ts';
import { formatIP } from '../net/ip.ts';
import { allocation, pool } from '../ipam/fixtures.test-support.ts';
import { EMPTY_CONFIG, type Config, type Pool } from '../config/model.ts';
import type { V1Service } from '../api/service.ts';

const config = (...pools: Pool[]): Config => ({ ...EMPTY_CONFIG, pools });

function svc(name: string, extra: { ns?: string; annotations?: Record<string, string>; spec?: V1Service['spec']; status?: string[]; labels?: Record<string, string> } = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: extra.ns ?? 'default', annotations: extra.annotations ?? {}, labels: extra.labels ?? {} },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], ...extra.spec },
    ...(extra.status ? { status: { loadBalancer: { ingress: extra.status.map((ip) => ({ ip })) } } } : {}),
  };
}

function ipsOf(c: Config, services: V1Service[], ns = new Map()): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of simulate(c, services, ns).services) {
    const a = assignmentOf(p.outcome);
    const o = p.outcome;
    out[p.name] = o.kind === 'skipped' ? `skipped: ${o.reason}` : o.kind === 'failed' && !a ? `${o.reason}: ${o.message}` : a!.ips.map(formatIP).join(',');
  }
  return out;
}

const tutorial = config(pool('first-pool', ['10.0.0.3-10.0.0.254']));

describe('simulate: the tutorial and the controller rules', () => {
  it('the tutorial: my-nginx gets 10.0.0.3, hostname-deployment 10.0.0.4', () => {
    assert.deepEqual(ipsOf(tutorial, [svc('my-nginx'), svc('hostname-deployment')]), {
      'my-nginx': '10.0.0.3',
      'hostname-deployment': '10.0.0.4',
    });
  });

  it('without a pool the service stays pending with AllocationFailed', () => {
    const [p] = simulate(EMPTY_CONFIG, [svc('my-nginx')], new Map()).services;
    assert.equal(p!.outcome.kind, 'failed');
    assert.equal(p!.outcome.kind === 'failed' && p!.outcome.reason, 'AllocationFailed');
    assert.match(p!.outcome.kind === 'failed' ? p!.outcome.message : '', /no IPAddressPool serves default\/my-nginx/);
  });

  it('skips other types and other classes', () => {
    const r = ipsOf(tutorial, [svc('cip', { spec: { type: 'ClusterIP' } }), svc('classy', { spec: { type: 'LoadBalancer', loadBalancerClass: 'other' } })]);
    assert.equal(r.cip, 'skipped: type is ClusterIP');
    assert.match(r.classy!, /^skipped: loadBalancerClass is "other"/);
    const withClass = simulate(tutorial, [svc('classy', { spec: { type: 'LoadBalancer', loadBalancerClass: 'ferrolb' } }), svc('plain')], new Map(), { loadBalancerClass: 'ferrolb' });
    assert.deepEqual(withClass.services.map((s) => s.outcome.kind), ['assigned', 'skipped']);
  });

  it('restores status IPs before allocating anything new, whatever the order', () => {
    const r = ipsOf(tutorial, [svc('new'), svc('old', { status: ['10.0.0.3'] })]);
    assert.deepEqual(r, { new: '10.0.0.4', old: '10.0.0.3' });
  });

  it('restoring is idempotent: feeding the result back changes nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ status: fc.option(fc.integer({ min: 0, max: 12 })), shared: fc.boolean() }), { maxLength: 12 }), (specs) => {
        const c = config(pool('p', ['198.18.1.0/29']));
        const services = specs.map((s, i) =>
          svc(`s${i}`, {
            ...(s.status !== null ? { status: [`198.18.1.${s.status}`] } : {}),
            ...(s.shared ? { annotations: { 'metallb.io/allow-shared-ip': 'k' }, spec: { type: 'LoadBalancer', ports: [{ port: 1000 + i }] } } : {}),
          }),
        );
        const first = simulate(c, services, new Map());
        const again = services.map((s, i) => {
          const a = assignmentOf(first.services[i]!.outcome);
          return { ...s, status: { loadBalancer: { ingress: (a?.ips ?? []).map((ip) => ({ ip: formatIP(ip) })) } } };
        });
        const second = simulate(c, again, new Map());
        assert.deepEqual(second.services.map((p) => assignmentOf(p.outcome)?.ips.map(formatIP)), first.services.map((p) => assignmentOf(p.outcome)?.ips.map(formatIP)));
        assert.ok(second.services.every((p) => !p.events.some((e) => e.reason === 'ClearAssignment' || e.reason === 'IPAllocated')), 'nothing moves the second time');
      }),
      { numRuns: 200 },
    );
  });

  it('clears an IP that left the pools, and allocates anew', () => {
    const [p] = simulate(tutorial, [svc('moved', { status: ['198.18.9.9'] })], new Map()).services;
    assert.deepEqual(p!.events.map((e) => e.reason), ['ClearAssignment', 'IPAllocated']);
    assert.equal(formatIP(assignmentOf(p!.outcome)!.ips[0]!), '10.0.0.3');
  });

  it('a conflicting status IP goes to the first service; the second is cleared and reallocated', () => {
    const r = ipsOf(tutorial, [svc('a', { status: ['10.0.0.9'] }), svc('b', { status: ['10.0.0.9'] })]);
    assert.deepEqual(r, { a: '10.0.0.9', b: '10.0.0.3' });
  });

  it('requested IPs: annotation under both prefixes, spec.loadBalancerIP, and garbage', () => {
    const r = ipsOf(tutorial, [
      svc('new-prefix', { annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.100' } }),
      svc('old-prefix', { annotations: { 'metallb.universe.tf/loadBalancerIPs': '10.0.0.101' } }),
      svc('field', { spec: { type: 'LoadBalancer', loadBalancerIP: '10.0.0.102' } }),
      svc('garbage', { annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.999' } }),
      svc('three', { annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.5,10.0.0.6,10.0.0.7' } }),
      svc('both', { annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.5' }, spec: { type: 'LoadBalancer', loadBalancerIP: '10.0.0.5' } }),
      svc('family', { annotations: { 'metallb.io/loadBalancerIPs': '2001:db8::1' } }),
      svc('outside', { annotations: { 'metallb.io/loadBalancerIPs': '198.18.0.1' } }),
    ]);
    assert.equal(r['new-prefix'], '10.0.0.100');
    assert.equal(r['old-prefix'], '10.0.0.101');
    assert.equal(r.field, '10.0.0.102');
    assert.match(r.garbage!, /^LoadBalancerFailed: .*"10\.0\.0\.999" is not an IP address/);
    assert.match(r.three!, /^LoadBalancerFailed: .*3 addresses given/);
    assert.match(r.both!, /^LoadBalancerFailed: both the loadBalancerIPs annotation and spec.loadBalancerIP/);
    assert.match(r.family!, /^LoadBalancerFailed: .*IPv6 but the service is IPv4 SingleStack/);
    assert.match(r.outside!, /^AllocationFailed: .*198\.18\.0\.1 is not in any IPAddressPool/);
  });

  it('the legacy annotation prefix earns a deprecatedAnnotation warning', () => {
    const [p] = simulate(tutorial, [svc('old', { annotations: { 'metallb.universe.tf/address-pool': 'first-pool' } })], new Map()).services;
    assert.ok(p!.events.some((e) => e.reason === 'deprecatedAnnotation' && e.type === 'Warning'));
    assert.equal(assignmentOf(p!.outcome)!.pool, 'first-pool');
  });

  it('a garbage annotation on a service that holds an IP keeps that IP', () => {
    const [p] = simulate(tutorial, [svc('typo', { status: ['10.0.0.50'], annotations: { 'metallb.io/loadBalancerIPs': 'nope' } })], new Map()).services;
    assert.equal(p!.outcome.kind, 'failed');
    assert.equal(assignmentOf(p!.outcome), undefined, 'not restored: its spec cannot be read, so the status is left alone');
  });

  it('serviceAllocation with namespace labels from Namespace manifests', () => {
    const c = config(
      pool('general', ['198.18.1.0/30']),
      pool('team-a', ['198.18.2.0/30'], { serviceAllocation: allocation({ priority: 1, namespaceSelectors: [{ matchLabels: { team: 'a' } }] }) }),
    );
    const r = ipsOf(c, [svc('x', { ns: 'apps' }), svc('y', { ns: 'other' })], new Map([['apps', { team: 'a' }]]));
    assert.deepEqual(r, { x: '198.18.2.0', y: '198.18.1.0' });
  });

  it('dual stack policies from spec.ipFamilyPolicy and spec.ipFamilies', () => {
    const c = config(pool('dual', ['198.18.1.0/30', '2001:db8:1::/126']));
    const r = ipsOf(c, [
      svc('req', { spec: { type: 'LoadBalancer', ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] } }),
      svc('pref', { spec: { type: 'LoadBalancer', ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] } }),
      svc('v6', { spec: { type: 'LoadBalancer', ipFamilies: ['IPv6'] } }),
      svc('bycluster', { spec: { type: 'LoadBalancer', clusterIP: '2001:db8:ffff::5' } }),
    ]);
    assert.deepEqual(r, { req: '2001:db8:1::,198.18.1.0', pref: '198.18.1.1,2001:db8:1::1', v6: '2001:db8:1::2', bycluster: '2001:db8:1::3' });
  });

  it('a status IP that no longer fits is not restored, so an earlier pending service may take it', () => {
    const c = config(pool('p', ['198.18.1.0/32']));
    const r = ipsOf(c, [svc('waiting'), svc('leaving', { status: ['198.18.1.0'], spec: { type: 'LoadBalancer', ipFamilies: ['IPv6'] } })]);
    // leaving holds .0 in its status but is IPv6-only now: cleared; waiting then gets .0.
    assert.equal(r.waiting, '198.18.1.0');
    assert.match(r.leaving!, /^AllocationFailed/);
  });
});
