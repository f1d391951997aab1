import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { admit, type AdmissionRequest } from './admission.ts';
import type { KubeObject } from '../k8s/client.ts';
import { buildConfig } from '../config/build.ts';
import { objectDocuments } from '../config/load.ts';
import { formatConfigError } from '../config/errors.ts';

const errors = (objects: readonly KubeObject[]) => buildConfig(objectDocuments(objects), { namespace: 'metallb-system' }).errors.map(formatConfigError);

const NS = 'metallb-system';

function obj(kind: string, name: string, spec: Record<string, unknown>, namespace = NS): KubeObject {
  const apiVersion = kind === 'BGPPeer' ? 'metallb.io/v1beta2' : 'metallb.io/v1beta1';
  return { apiVersion, kind, metadata: { name, namespace }, spec } as KubeObject;
}

function request(operation: string, o: KubeObject): AdmissionRequest {
  const [group, version] = o.apiVersion!.split('/') as [string, string];
  return { uid: 'u1', kind: { group, version, kind: o.kind! }, namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '', operation, ...(operation === 'DELETE' ? { oldObject: o } : { object: o }) };
}

const poolA = obj('IPAddressPool', 'a', { addresses: ['198.18.0.0/24'] });
const bfd = obj('BFDProfile', 'fast', { receiveInterval: 300 });
const peer = obj('BGPPeer', 'router', { myASN: 64513, peerASN: 64512, peerAddress: '198.18.0.1', bfdProfile: 'fast' });

describe('webhook admission', () => {
  it('allows a valid new object and an update that keeps the configuration valid', () => {
    assert.deepEqual(admit(request('CREATE', obj('IPAddressPool', 'b', { addresses: ['198.18.1.0/24'] })), [poolA], NS), { allowed: true });
    assert.deepEqual(admit(request('UPDATE', obj('IPAddressPool', 'a', { addresses: ['198.18.0.0/25'] })), [poolA], NS), { allowed: true });
  });

  it('refuses a pool overlapping another pool, naming both', () => {
    const d = admit(request('CREATE', obj('IPAddressPool', 'b', { addresses: ['198.18.0.100-198.18.0.110'] })), [poolA], NS);
    assert.equal(d.allowed, false);
    assert.match(d.message!, /^creating IPAddressPool metallb-system\/b would make the metallb.io configuration invalid: /);
    assert.match(d.message!, /overlap/i);
    assert.match(d.message!, /\ba\b/);
  });

  it('refuses a malformed field with the field named', () => {
    const d = admit(request('CREATE', obj('IPAddressPool', 'b', { addresses: ['not-an-ip'] })), [], NS);
    assert.equal(d.allowed, false);
    assert.match(d.message!, /addresses/);
    assert.match(d.message!, /not-an-ip/);
  });

  it('refuses configuration objects outside the load balancer namespace (a tenant must not create a pool)', () => {
    const d = admit(request('CREATE', obj('IPAddressPool', 'evil', { addresses: ['198.18.1.0/24'] }, 'tenant')), [], NS);
    assert.deepEqual(d, { allowed: false, message: 'IPAddressPool tenant/evil: metallb.io configuration is read only from namespace metallb-system; this object would be ignored' });
    // Deleting such a stray object is always allowed: it cleans up.
    assert.equal(admit(request('DELETE', obj('IPAddressPool', 'evil', {}, 'tenant')), [], NS).allowed, true);
  });

  it('refuses deleting a BFDProfile a BGPPeer uses; allows it once the peer no longer does', () => {
    const d = admit(request('DELETE', bfd), [poolA, bfd, peer], NS);
    assert.equal(d.allowed, false);
    assert.match(d.message!, /^deleting BFDProfile metallb-system\/fast would make/);
    assert.match(d.message!, /fast/);
    const unused = obj('BGPPeer', 'router', { myASN: 64513, peerASN: 64512, peerAddress: '198.18.0.1' });
    assert.equal(admit(request('DELETE', bfd), [poolA, bfd, unused], NS).allowed, true);
  });

  it('errors already present do not block unrelated changes, but the broken object can be fixed', () => {
    const broken = obj('IPAddressPool', 'b', { addresses: ['198.18.0.5/32'] }); // overlaps a: stored before the webhook existed
    assert.equal(admit(request('CREATE', obj('L2Advertisement', 'l2', {})), [poolA, broken], NS).allowed, true);
    assert.equal(admit(request('UPDATE', obj('IPAddressPool', 'b', { addresses: ['198.18.5.0/32'] })), [poolA, broken], NS).allowed, true);
    assert.equal(admit(request('DELETE', broken), [poolA, broken], NS).allowed, true);
  });

  it('status kinds and other groups are not judged', () => {
    const status = { apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status', metadata: { name: 'x', namespace: 'elsewhere' } } as KubeObject;
    assert.equal(admit(request('CREATE', status), [], NS).allowed, true);
    assert.equal(admit({ uid: 'u', kind: { group: '', version: 'v1', kind: 'ConfigMap' }, operation: 'CREATE', namespace: 'x', name: 'y', object: {} }, [], NS).allowed, true);
  });

  it('property: whatever is stored, an allowed change never adds an error; a refused one always names one', () => {
    const addr = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 24, max: 32 })).map(([o, len]) => `198.18.${o}.0/${len}`);
    const pool = fc.tuple(fc.constantFrom('p1', 'p2', 'p3'), fc.array(addr, { minLength: 1, maxLength: 2 })).map(([n, a]) => obj('IPAddressPool', n, { addresses: a }));
    fc.assert(
      fc.property(fc.uniqueArray(pool, { selector: (p) => p.metadata?.name, maxLength: 3 }), pool, fc.constantFrom('CREATE', 'UPDATE', 'DELETE'), (stored, change, op) => {
        const d = admit(request(op, change), stored, NS);
        const others = stored.filter((p) => p.metadata?.name !== change.metadata?.name);
        const after = op === 'DELETE' ? others : [...others, change];
        const before = new Set(errors(stored));
        const added = errors(after).filter((e) => !before.has(e));
        assert.equal(d.allowed, added.length === 0, `${op} ${JSON.stringify((change as { spec?: unknown }).spec)} over ${JSON.stringify(stored.map((p) => (p as { spec?: unknown }).spec))}`);
        if (!d.allowed) assert.match(d.message!, /would make the metallb.io configuration invalid: .+/);
      }),
      { numRuns: 300 },
    );
  });
});
