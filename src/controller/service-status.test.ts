import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serviceWrites } from './service-status.ts';
import { POOL_ANNOTATION } from '../api/service.ts';
import { ip } from '../ipam/fixtures.test-support.ts';
import type { V1Service } from '../api/service.ts';

const svc = (ips: string[], pool?: string): V1Service => ({
  metadata: { name: 's', namespace: 'default', annotations: pool ? { [POOL_ANNOTATION]: pool } : {} },
  spec: { type: 'LoadBalancer' },
  status: { loadBalancer: { ingress: ips.map((i) => ({ ip: i })) } },
});
const assigned = (pool: string, ...ips: string[]) => ({ kind: 'assigned' as const, assignment: { pool, ips: ips.map(ip) }, events: [] });

describe('serviceWrites', () => {
  it('writes status and annotation only when they differ', () => {
    assert.deepEqual(serviceWrites(svc([]), assigned('p', '198.18.1.1')), { ingress: [{ ip: '198.18.1.1' }], poolAnnotation: 'p' });
    assert.deepEqual(serviceWrites(svc(['198.18.1.1'], 'p'), assigned('p', '198.18.1.1')), {});
    assert.deepEqual(serviceWrites(svc(['198.18.1.1'], 'p'), assigned('q', '198.18.1.1')), { poolAnnotation: 'q' });
    assert.deepEqual(serviceWrites(svc(['198.18.1.1'], 'p'), assigned('p', '198.18.1.1', '2001:db8::1')), { ingress: [{ ip: '198.18.1.1' }, { ip: '2001:db8::1' }] });
  });

  it('clears after a failed allocation, but leaves a service with an unusable spec alone', () => {
    assert.deepEqual(serviceWrites(svc(['198.18.1.1'], 'p'), { kind: 'failed', reason: 'AllocationFailed', message: 'x', events: [] }), { ingress: [], poolAnnotation: null });
    assert.deepEqual(serviceWrites(svc(['198.18.1.1'], 'p'), { kind: 'failed', reason: 'LoadBalancerFailed', message: 'x', events: [] }), {});
  });

  it('a service that stopped being a LoadBalancer loses what we gave it; another class is not touched', () => {
    assert.deepEqual(serviceWrites(svc(['198.18.1.1'], 'p'), { kind: 'skipped', reason: 'type is ClusterIP', events: [] }), { ingress: [], poolAnnotation: null });
    assert.deepEqual(serviceWrites(svc(['198.18.1.1']), { kind: 'skipped', reason: 'type is ClusterIP', events: [] }), {});
    assert.deepEqual(serviceWrites(svc(['198.18.1.1'], 'p'), { kind: 'skipped', reason: 'loadBalancerClass is "x"', events: [] }), {});
  });
});
