import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { admit, type AdmissionRequest } from './admission.ts';
import type { KubeObject } from '../k8s/client.ts';
import { buildConfig } from '../config/build.ts';
import { objectDocuments } from '../config/documents.ts';
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

  it('order independence: an object may come before what it names, with an admission warning naming both', () => {
    // The tutorial's L2Advertisement before its pool (kubectl apply -f dir/ sorting it first).
    const l2 = obj('L2Advertisement', 'example', { ipAddressPools: ['first-pool'] });
    const d = admit(request('CREATE', l2), [], NS);
    assert.equal(d.allowed, true);
    assert.equal(d.warnings?.length, 1);
    assert.match(d.warnings![0]!, /^L2Advertisement metallb-system\/example: spec\.ipAddressPools\[0\]: no IPAddressPool named "first-pool"/);
    // A BGPPeer before its BFDProfile; then the profile, which clears the warning.
    const p = admit(request('CREATE', peer), [poolA], NS);
    assert.equal(p.allowed, true);
    assert.match(p.warnings!.join('\n'), /BGPPeer metallb-system\/router: spec\.bfdProfile: no BFDProfile named "fast"/);
    assert.deepEqual(admit(request('CREATE', bfd), [poolA, peer], NS), { allowed: true });
    // Re-applying an object repeats its own warnings (kubectl apply shows them each time).
    assert.match(admit(request('UPDATE', peer), [poolA, peer], NS).warnings!.join('\n'), /no BFDProfile named "fast"/);
    // A warning about another object, already there, is not repeated.
    assert.deepEqual(admit(request('CREATE', obj('IPAddressPool', 'b', { addresses: ['198.18.1.0/24'] })), [poolA, peer], NS), { allowed: true });
  });

  it('never refuses a deletion for being referenced: deleting a BFDProfile or pool in use is allowed, with the dangling reference as a warning', () => {
    const d = admit(request('DELETE', bfd), [poolA, bfd, peer], NS);
    assert.equal(d.allowed, true);
    assert.match(d.warnings!.join('\n'), /BGPPeer metallb-system\/router: spec\.bfdProfile: no BFDProfile named "fast"/);
    const l2 = obj('L2Advertisement', 'example', { ipAddressPools: ['a'] });
    const pool = admit(request('DELETE', poolA), [poolA, l2], NS);
    assert.equal(pool.allowed, true);
    assert.match(pool.warnings!.join('\n'), /L2Advertisement metallb-system\/example: .*no IPAddressPool named "a"/);
    const unused = obj('BGPPeer', 'router', { myASN: 64513, peerASN: 64512, peerAddress: '198.18.0.1' });
    assert.deepEqual(admit(request('DELETE', bfd), [poolA, bfd, unused], NS), { allowed: true });
  });

  it('every order of creating and of deleting a BGP set (pool, BFDProfile, peer, community, advertisement) is allowed', () => {
    const community = obj('Community', 'communities', { communities: [{ name: 'no-export', value: '65535:65281' }] });
    const adv = obj('BGPAdvertisement', 'adv', { ipAddressPools: ['a'], peers: ['router'], communities: ['no-export'] });
    const set = [poolA, bfd, peer, community, adv];
    const permutations = (xs: KubeObject[]): KubeObject[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest])));
    let orders = 0;
    for (const order of permutations(set)) {
      let stored: KubeObject[] = [];
      for (const o of order) {
        const d = admit(request('CREATE', o), stored, NS);
        assert.equal(d.allowed, true, `${order.map((x) => x.metadata?.name).join(',')}: ${d.message}`);
        stored = [...stored, o];
      }
      for (const o of order) {
        assert.equal(admit(request('DELETE', o), stored, NS).allowed, true);
        stored = stored.filter((x) => x !== o);
      }
      orders++;
    }
    assert.equal(orders, 120);
    // The complete set has no warning left.
    assert.deepEqual(buildConfig(objectDocuments(set), { namespace: NS }).warnings, []);
  });

  it('returns fields read but not acted on (BGPPeer vrf) as admission warnings, and allows the change', () => {
    const vrf = obj('BGPPeer', 'red', { myASN: 64513, peerASN: 64512, peerAddress: '198.18.0.9', vrf: 'red' });
    const d = admit(request('CREATE', vrf), [], NS);
    assert.equal(d.allowed, true);
    assert.deepEqual(d.warnings, ['BGPPeer metallb-system/red: spec.vrf: vrf "red" is not acted on yet: ferrolb opens this session in the default VRF (the host\'s main routing table)']);
  });

  it('still refuses what is wrong in combination, whatever the order: two peers opening one session', () => {
    const twin = obj('BGPPeer', 'twin', { myASN: 64513, peerASN: 64512, peerAddress: '198.18.0.1' });
    const d = admit(request('CREATE', twin), [peer], NS);
    assert.equal(d.allowed, false);
    assert.match(d.message!, /^creating BGPPeer metallb-system\/twin would make the metallb.io configuration invalid: .*already opens the session/);
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

  it('property: whatever is stored, a create or update is allowed exactly when it adds no error; a deletion always is', () => {
    const addr = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 24, max: 32 })).map(([o, len]) => `198.18.${o}.0/${len}`);
    const pool = fc.tuple(fc.constantFrom('p1', 'p2', 'p3'), fc.array(addr, { minLength: 1, maxLength: 2 })).map(([n, a]) => obj('IPAddressPool', n, { addresses: a }));
    fc.assert(
      fc.property(fc.uniqueArray(pool, { selector: (p) => p.metadata?.name, maxLength: 3 }), pool, fc.constantFrom('CREATE', 'UPDATE', 'DELETE'), (stored, change, op) => {
        const d = admit(request(op, change), stored, NS);
        const others = stored.filter((p) => p.metadata?.name !== change.metadata?.name);
        const after = op === 'DELETE' ? others : [...others, change];
        const before = new Set(errors(stored));
        const added = errors(after).filter((e) => !before.has(e));
        assert.equal(d.allowed, op === 'DELETE' || added.length === 0, `${op} ${JSON.stringify((change as { spec?: unknown }).spec)} over ${JSON.stringify(stored.map((p) => (p as { spec?: unknown }).spec))}`);
        if (!d.allowed) assert.match(d.message!, /would make the metallb.io configuration invalid: .+/);
      }),
      { numRuns: 300 },
    );
  });
});
