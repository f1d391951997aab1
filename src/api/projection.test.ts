import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { projectEndpointSlice, projectNamespace, projectNode, projectService, sliceServiceKey } from './projection.ts';
import { readService, type V1Service } from './service.ts';
import { nodeViewFromObject, serviceViewFromObjects, type EndpointSliceObject } from './cluster-view.ts';

/** Every field of V1Service set: a field added there and not to the projection fails the first test. */
type Full<T> = { [K in keyof T]-?: NonNullable<T[K]> extends readonly (infer E)[] ? Full<E>[] : NonNullable<T[K]> extends object ? Full<NonNullable<T[K]>> : NonNullable<T[K]> };
const everyField: Full<Pick<V1Service, 'spec' | 'status'>> = {
  spec: {
    type: 'LoadBalancer',
    loadBalancerClass: 'ferrolb',
    loadBalancerIP: '198.18.1.5',
    ipFamilyPolicy: 'PreferDualStack',
    ipFamilies: ['IPv4', 'IPv6'],
    clusterIP: '198.18.128.9',
    clusterIPs: ['198.18.128.9', '2001:db8::9'],
    externalTrafficPolicy: 'Local',
    selector: { app: 'web' },
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }],
  },
  status: { loadBalancer: { ingress: [{ ip: '198.18.1.5', hostname: 'web.example', ipMode: 'VIP' }] } },
};

/** What the API server adds that no reader reads. */
const apiNoise = {
  kind: 'Service',
  apiVersion: 'v1',
  metadata: {
    generation: 3,
    managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }],
    finalizers: ['service.kubernetes.io/load-balancer-cleanup'],
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Service"}' },
  },
  spec: { sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true },
};

describe('cache projections', () => {
  it('keep every field of V1Service, and of the annotations the metallb.io ones under both prefixes', () => {
    const svc = {
      ...apiNoise,
      metadata: {
        ...apiNoise.metadata,
        name: 'web',
        namespace: 'shop',
        uid: 'u-1',
        resourceVersion: '7',
        creationTimestamp: '2026-12-02T01:00:00Z',
        deletionTimestamp: '2026-12-02T02:00:00Z',
        labels: { app: 'web' },
        annotations: { ...apiNoise.metadata.annotations, 'metallb.io/ip-allocated-from-pool': 'l2', 'metallb.universe.tf/address-pool': 'l2' },
      },
      spec: { ...apiNoise.spec, ...everyField.spec },
      status: everyField.status,
    };
    assert.deepEqual(projectService(svc as V1Service), {
      metadata: {
        name: 'web',
        namespace: 'shop',
        uid: 'u-1',
        resourceVersion: '7',
        creationTimestamp: '2026-12-02T01:00:00Z',
        deletionTimestamp: '2026-12-02T02:00:00Z',
        labels: { app: 'web' },
        annotations: { 'metallb.io/ip-allocated-from-pool': 'l2', 'metallb.universe.tf/address-pool': 'l2' },
      },
      ...everyField,
    });
  });

  it('change nothing that readService or the speaker’s view reads (any Service, any slices)', () => {
    const label = fc.constantFrom('web', 'db', 'other');
    const service = fc.record(
      {
        metadata: fc.record(
          {
            name: label,
            namespace: fc.constantFrom('default', 'shop'),
            creationTimestamp: fc.constantFrom('2026-12-02T01:00:00Z', ''),
            labels: fc.dictionary(fc.constantFrom('app', 'tier'), label),
            annotations: fc.dictionary(
              fc.constantFrom('metallb.io/address-pool', 'metallb.universe.tf/address-pool', 'metallb.io/loadBalancerIPs', 'metallb.universe.tf/allow-shared-ip', 'metallb.io/ip-allocated-from-pool', 'example.com/other'),
              fc.constantFrom('l2', 'bgp', '198.18.1.1', '198.18.1.1, 2001:db8::1', 'key', 'not an ip'),
            ),
          },
          { requiredKeys: ['name'] },
        ),
        spec: fc.record(
          {
            type: fc.constantFrom('LoadBalancer', 'ClusterIP'),
            loadBalancerClass: fc.constantFrom('ferrolb', 'other'),
            loadBalancerIP: fc.constantFrom('198.18.1.2', '', 'x'),
            ipFamilyPolicy: fc.constantFrom('SingleStack', 'PreferDualStack', 'RequireDualStack', 'Bad'),
            ipFamilies: fc.subarray(['IPv4', 'IPv6', 'IPvX']),
            clusterIP: fc.constantFrom('198.18.128.1', '2001:db8::1', 'None'),
            externalTrafficPolicy: fc.constantFrom('Cluster', 'Local'),
            selector: fc.dictionary(fc.constantFrom('app', 'tier'), label),
            ports: fc.array(fc.record({ protocol: fc.constantFrom('TCP', 'UDP', 'ICMP'), port: fc.integer({ min: 0, max: 70000 }), targetPort: fc.constant(8080) }, { requiredKeys: ['port'] }), { maxLength: 3 }),
            sessionAffinity: fc.constant('None'),
          },
          { requiredKeys: [] },
        ),
        status: fc.record({ loadBalancer: fc.record({ ingress: fc.array(fc.record({ ip: fc.constantFrom('198.18.1.1', '2001:db8::1', '') }), { maxLength: 2 }) }, { requiredKeys: [] }) }, { requiredKeys: [] }),
      },
      { requiredKeys: ['metadata'] },
    );
    const slice = fc.record({
      metadata: fc.record({ name: fc.constantFrom('s-1', 's-2'), namespace: fc.constantFrom('default', 'shop'), labels: fc.record({ 'kubernetes.io/service-name': label, 'endpointslice.kubernetes.io/managed-by': fc.constant('endpointslice-controller.k8s.io') }, { requiredKeys: [] }) }, { requiredKeys: ['name', 'namespace'] }),
      addressType: fc.constantFrom('IPv4', 'IPv6'),
      endpoints: fc.option(
        fc.array(
          fc.record(
            {
              addresses: fc.constant(['198.18.2.1']),
              conditions: fc.record({ ready: fc.option(fc.boolean()), serving: fc.option(fc.boolean()), terminating: fc.option(fc.boolean()) }, { requiredKeys: [] }),
              nodeName: fc.constantFrom('node-1', 'node-2', ''),
              targetRef: fc.constant({ kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'u-p' }),
              zone: fc.constant('a'),
            },
            { requiredKeys: ['addresses'] },
          ),
          { maxLength: 3 },
        ),
      ),
    });
    fc.assert(
      fc.property(service, fc.array(slice, { maxLength: 3 }), fc.dictionary(fc.constantFrom('team'), label, { noNullPrototype: true }), (svc, slices, nsLabels) => {
        // As the API server sends them: JSON (fast-check's records have null prototypes).
        const s = JSON.parse(JSON.stringify(svc)) as V1Service;
        const ss = JSON.parse(JSON.stringify(slices)) as EndpointSliceObject[];
        const projected = projectService(structuredClone(s));
        assert.deepEqual(readService(projected, nsLabels), readService(s, nsLabels));
        assert.deepEqual(serviceViewFromObjects(projected, ss.map((x) => projectEndpointSlice(structuredClone(x)))), serviceViewFromObjects(s, ss));
        assert.deepEqual(projected.status?.loadBalancer?.ingress ?? [], s.status?.loadBalancer?.ingress ?? []);
        for (const x of ss) assert.equal(sliceServiceKey(projectEndpointSlice(structuredClone(x))), sliceServiceKey(x));
      }),
      { numRuns: 500 },
    );
  });

  it('keep of a slice its service label, address type and each endpoint’s addresses, conditions and node', () => {
    const slice = {
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc', namespace: 'default', resourceVersion: '3', labels: { 'kubernetes.io/service-name': 'web', app: 'web' }, ownerReferences: [{ kind: 'Service' }] },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['198.18.2.1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1', targetRef: { kind: 'Pod', name: 'web-1' }, zone: 'a' }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    };
    assert.deepEqual(projectEndpointSlice(slice), {
      metadata: { name: 'web-abc', namespace: 'default', resourceVersion: '3', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['198.18.2.1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1' }],
    });
    assert.deepEqual(projectEndpointSlice({ metadata: { name: 'e', namespace: 'default' }, addressType: 'IPv4', endpoints: null }).endpoints, null);
  });

  it('keep of a Node its labels, spec, conditions and addresses, not its images', () => {
    const node = {
      metadata: { name: 'node-1', uid: 'u-n', resourceVersion: '9', labels: { 'kubernetes.io/hostname': 'node-1' }, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
      spec: { unschedulable: true, taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }], podCIDR: '198.19.0.0/24' },
      status: {
        conditions: [{ type: 'NetworkUnavailable', status: 'True', reason: 'NoRoute', message: 'long text', lastHeartbeatTime: '2026-12-02T01:00:00Z' }],
        addresses: [{ type: 'InternalIP', address: '198.18.0.11' }],
        images: [{ names: ['registry.example/app@sha256:0123'], sizeBytes: 1 }],
        nodeInfo: { kubeletVersion: 'v1.34.0' },
      },
    };
    const projected = projectNode(node);
    assert.deepEqual(projected, {
      metadata: { name: 'node-1', uid: 'u-n', resourceVersion: '9', labels: { 'kubernetes.io/hostname': 'node-1' } },
      spec: node.spec,
      status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }], addresses: [{ type: 'InternalIP', address: '198.18.0.11' }] },
    });
    assert.deepEqual(nodeViewFromObject(projected), nodeViewFromObject(node));
  });

  it('keep of a Namespace its name, labels and deletion', () => {
    const ns = { metadata: { name: 'shop', uid: 'u', resourceVersion: '2', labels: { team: 'a' }, deletionTimestamp: '2026-12-02T01:00:00Z', managedFields: [{}] }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Terminating' } };
    assert.deepEqual(projectNamespace(ns), { metadata: { name: 'shop', uid: 'u', resourceVersion: '2', labels: { team: 'a' }, deletionTimestamp: '2026-12-02T01:00:00Z' } });
  });
});
